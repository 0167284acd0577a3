import { beforeEach, describe, expect, it } from 'vitest'
import { ref } from 'vue'
import { builtinViews, columnsKey, useSavedViews, viewsKey, viewState } from '@/composables/useSavedViews'
import { emptyListState, filtersOf, stateFromQuery, stateToQuery } from '@/utils/customers'

const DEFAULT_COLUMNS = ['level', 'status', 'owner']

describe('saved views', () => {
  beforeEach(() => localStorage.clear())

  it('saves a named filter + sort + columns combination per user and finds it again', () => {
    const a = useSavedViews(() => 'u1', DEFAULT_COLUMNS)
    const state = { ...emptyListState(), status: 'active', level: 'B', sort: 'name' as const, q: '  腾云 ' }
    const v = a.save(' 华南重点 ', state, ['level', 'tags'])
    expect(v.name).toBe('华南重点')
    expect(v.state.q).toBe('腾云')

    const stored = JSON.parse(localStorage.getItem(viewsKey('u1'))!)
    expect(stored).toHaveLength(1)
    expect(stored[0]).toMatchObject({ name: '华南重点', state: { status: 'active', level: 'B', sort: 'name' }, columns: ['level', 'tags'] })

    // a new page load for the same user sees it; another user does not
    const again = useSavedViews(() => 'u1', DEFAULT_COLUMNS)
    expect(again.custom.value.map((x) => x.name)).toEqual(['华南重点'])
    expect(again.matching({ ...state, q: '腾云' })?.id).toBe(v.id)
    expect(viewState(again.custom.value[0])).toMatchObject({ status: 'active', level: 'B', sort: 'name', source: '' })
    expect(useSavedViews(() => 'u2', DEFAULT_COLUMNS).custom.value).toEqual([])
  })

  it('replaces a view saved under the same name and removes views', () => {
    const a = useSavedViews(() => 'u1', DEFAULT_COLUMNS)
    const first = a.save('周报', { ...emptyListState(), level: 'A' }, DEFAULT_COLUMNS)
    const second = a.save('周报', { ...emptyListState(), level: 'C' }, DEFAULT_COLUMNS)
    expect(second.id).toBe(first.id)
    expect(a.custom.value).toHaveLength(1)
    expect(a.custom.value[0].state.level).toBe('C')
    a.remove(first.id)
    expect(JSON.parse(localStorage.getItem(viewsKey('u1'))!)).toEqual([])
  })

  it('offers the built-in views and recognises them', () => {
    const a = useSavedViews(() => 'me', DEFAULT_COLUMNS)
    expect(a.views.value.slice(0, 4).map((v) => v.nameKey)).toEqual([
      'customers.views.all',
      'customers.views.mine',
      'customers.views.levelA',
      'customers.views.noContact30',
    ])
    expect(builtinViews('me')[1].state).toEqual({ owner_id: 'me' })
    expect(a.matching({ ...emptyListState(), owner_id: 'me' })?.id).toBe('builtin:mine')
    expect(a.matching({ ...emptyListState(), no_contact_days: 30, sort: 'last_contact_at' })?.id).toBe('builtin:noContact30')
    expect(a.matching(emptyListState())?.id).toBe('builtin:all')
    expect(a.matching({ ...emptyListState(), tag: 'x' })).toBeUndefined()
  })

  it('keeps the chosen columns per user', async () => {
    const user = ref('u1')
    const a = useSavedViews(() => user.value, DEFAULT_COLUMNS)
    expect(a.columns.value).toEqual(DEFAULT_COLUMNS)
    a.columns.value = ['tags', 'uscc']
    await Promise.resolve()
    expect(JSON.parse(localStorage.getItem(columnsKey('u1'))!)).toEqual(['tags', 'uscc'])
    expect(useSavedViews(() => 'u1', DEFAULT_COLUMNS).columns.value).toEqual(['tags', 'uscc'])
    expect(useSavedViews(() => 'u2', DEFAULT_COLUMNS).columns.value).toEqual(DEFAULT_COLUMNS)
    a.resetColumns()
    expect(a.columns.value).toEqual(DEFAULT_COLUMNS)
  })

  it('survives garbage in localStorage', () => {
    localStorage.setItem(viewsKey('u1'), '{not json')
    localStorage.setItem(columnsKey('u1'), '"oops"')
    const a = useSavedViews(() => 'u1', DEFAULT_COLUMNS)
    expect(a.custom.value).toEqual([])
    expect(a.columns.value).toEqual(DEFAULT_COLUMNS)
  })
})

describe('list state', () => {
  it('turns into API filters and a route query and back', () => {
    const s = { ...emptyListState(), q: ' 报价 ', region: ['440000', '440300'], no_contact_days: 30, archived: true, sort: 'name' as const }
    expect(filtersOf(s)).toEqual({ q: '报价', province_code: '440000', city_code: '440300', no_contact_days: 30, archived: true, sort: 'name' })
    const q = stateToQuery(s)
    expect(q).toEqual({ q: '报价', province_code: '440000', city_code: '440300', no_contact_days: '30', archived: 'true', sort: 'name' })
    expect(stateFromQuery(q)).toEqual({ ...s, q: '报价' })
    expect(filtersOf(emptyListState())).toEqual({})
    expect(stateFromQuery({ sort: 'bogus', no_contact_days: '-3' })).toEqual(emptyListState())
  })
})
