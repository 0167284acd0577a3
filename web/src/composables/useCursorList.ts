import { computed, ref, shallowRef } from 'vue'
import type { ListResponse } from '@/api/types'

/**
 * Cursor pagination (prev/next) over a `{items, next_cursor, total}` list endpoint.
 * The cursors of the pages already visited are kept so "previous" works.
 */
export function useCursorList<T>(fetchPage: (p: { limit: number; cursor: string | null }) => Promise<ListResponse<T>>, pageSize = 20) {
  const items = shallowRef<T[]>([])
  const total = ref(0)
  const loading = ref(false)
  const limit = ref(pageSize)
  const cursors = ref<(string | null)[]>([null]) // cursor used for each visited page
  const page = ref(0)
  const nextCursor = ref<string | null>(null)
  let seq = 0

  async function load(index: number): Promise<void> {
    const mine = ++seq
    loading.value = true
    try {
      const res = await fetchPage({ limit: limit.value, cursor: cursors.value[index] ?? null })
      if (mine !== seq) return
      items.value = res.items ?? []
      total.value = typeof res.total === 'number' ? res.total : items.value.length
      nextCursor.value = res.next_cursor ?? null
      page.value = index
      cursors.value = cursors.value.slice(0, index + 1)
      if (nextCursor.value) cursors.value.push(nextCursor.value)
    } finally {
      if (mine === seq) loading.value = false
    }
  }

  /** Back to page 1 (after a filter change). */
  const reload = () => {
    cursors.value = [null]
    return load(0).catch(() => {})
  }
  /** Reload the current page (after an edit). */
  const refresh = () => load(page.value).catch(() => {})
  const next = () => (nextCursor.value ? load(page.value + 1).catch(() => {}) : Promise.resolve())
  const prev = () => (page.value > 0 ? load(page.value - 1).catch(() => {}) : Promise.resolve())
  const setLimit = (n: number) => {
    limit.value = n
    return reload()
  }
  /** Replace one row in place (after an update that returned the new row). */
  const replace = (pred: (x: T) => boolean, row: T) => {
    items.value = items.value.map((x) => (pred(x) ? row : x))
  }

  return {
    items,
    total,
    loading,
    limit,
    page: computed(() => page.value + 1),
    hasNext: computed(() => nextCursor.value !== null),
    hasPrev: computed(() => page.value > 0),
    reload,
    refresh,
    next,
    prev,
    setLimit,
    replace,
  }
}
