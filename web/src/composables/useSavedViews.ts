import { computed, ref, watch } from 'vue'
import { emptyListState, type ListState } from '@/utils/customers'

/** A named combination of filters, sort and columns of the customer list. */
export interface SavedView {
  id: string
  /** the user's name for it (custom views) */
  name: string
  /** i18n key of the name (built-in views) */
  nameKey?: string
  builtin?: boolean
  state: Partial<ListState>
  /** visible columns; absent = leave the columns as they are */
  columns?: string[]
}

export const viewsKey = (userId: string) => `prelude.customers.views.${userId || 'anonymous'}`
export const columnsKey = (userId: string) => `prelude.customers.columns.${userId || 'anonymous'}`

/** A few views everyone has: my accounts, A-level accounts, not contacted for 30 days. */
export function builtinViews(meId: string): SavedView[] {
  return [
    { id: 'builtin:all', name: '', nameKey: 'customers.views.all', builtin: true, state: {} },
    { id: 'builtin:mine', name: '', nameKey: 'customers.views.mine', builtin: true, state: { owner_id: meId } },
    { id: 'builtin:levelA', name: '', nameKey: 'customers.views.levelA', builtin: true, state: { level: 'A' } },
    {
      id: 'builtin:noContact30',
      name: '',
      nameKey: 'customers.views.noContact30',
      builtin: true,
      state: { no_contact_days: 30, sort: 'last_contact_at' },
    },
  ]
}

function read<T>(key: string, fallback: T): T {
  try {
    const raw = localStorage.getItem(key)
    return raw ? (JSON.parse(raw) as T) : fallback
  } catch {
    return fallback
  }
}

function write(key: string, v: unknown): void {
  try {
    localStorage.setItem(key, JSON.stringify(v))
  } catch {
    /* storage full or disabled: the view lives until the page is left */
  }
}

export function loadCustomViews(userId: string): SavedView[] {
  const list = read<unknown>(viewsKey(userId), [])
  if (!Array.isArray(list)) return []
  return list.filter(
    (v): v is SavedView => !!v && typeof v === 'object' && typeof (v as SavedView).id === 'string' && typeof (v as SavedView).name === 'string',
  )
}

/** The full list state a view stands for (unset filters empty). */
export function viewState(v: SavedView): ListState {
  return { ...emptyListState(), ...v.state }
}

function sameState(a: ListState, b: ListState): boolean {
  return JSON.stringify({ ...a, q: a.q.trim(), tag: a.tag.trim() }) === JSON.stringify({ ...b, q: b.q.trim(), tag: b.tag.trim() })
}

/**
 * The list's saved views (built-in ones plus the user's, kept in localStorage
 * per user) and the chosen columns (also per user).
 */
export function useSavedViews(userId: () => string, defaultColumns: string[]) {
  const custom = ref<SavedView[]>(loadCustomViews(userId()))
  const columns = ref<string[]>(read<string[] | null>(columnsKey(userId()), null) ?? [...defaultColumns])
  if (!Array.isArray(columns.value)) columns.value = [...defaultColumns]

  watch(userId, (id) => {
    custom.value = loadCustomViews(id)
    columns.value = read<string[] | null>(columnsKey(id), null) ?? [...defaultColumns]
  })
  watch(columns, (c) => write(columnsKey(userId()), c), { deep: true })

  const views = computed(() => [...builtinViews(userId()), ...custom.value])

  /** Saves the current state under a name (replacing a view of the same name). */
  function save(name: string, state: ListState, cols: string[]): SavedView {
    const clean = name.trim()
    const existing = custom.value.find((v) => v.name === clean)
    const view: SavedView = {
      id: existing?.id ?? `view:${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`,
      name: clean,
      state: { ...state, q: state.q.trim(), tag: state.tag.trim() },
      columns: [...cols],
    }
    custom.value = existing ? custom.value.map((v) => (v.id === view.id ? view : v)) : [...custom.value, view]
    write(viewsKey(userId()), custom.value)
    return view
  }

  function remove(id: string): void {
    custom.value = custom.value.filter((v) => v.id !== id)
    write(viewsKey(userId()), custom.value)
  }

  /** The view whose filters and sort are exactly the given state, if any. */
  function matching(state: ListState): SavedView | undefined {
    return views.value.find((v) => sameState(viewState(v), state))
  }

  function resetColumns() {
    columns.value = [...defaultColumns]
  }

  return { views, custom, columns, save, remove, matching, resetColumns }
}
