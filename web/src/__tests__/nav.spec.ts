import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { createMemoryHistory } from 'vue-router'
import { NAV_ITEMS, filterNav, allowed, type NavItem } from '@/nav'
import { createAppRouter, safeRedirect } from '@/router'
import { resetClientConfig } from '@/api/client'
import { apiError, json, mockFetch, sampleMe } from './helpers'

const keys = (items: NavItem[]): string[] => items.flatMap((i) => [i.key, ...(i.children ? keys(i.children) : [])])
/** Follow-ups are every signed-in user's own work: no permission needed. */
const FU = ['myday', 'followups', 'calendar', 'promise-stats', 'revisits']

describe('permission-based navigation', () => {
  it('shows only home and account without admin permissions', () => {
    expect(keys(filterNav(NAV_ITEMS, []))).toEqual(['home', ...FU, 'account'])
    expect(keys(filterNav(NAV_ITEMS, ['tokens.manage']))).toEqual(['home', ...FU, 'account'])
  })

  it('shows the admin group with just the allowed pages', () => {
    expect(keys(filterNav(NAV_ITEMS, ['audit.read']))).toEqual(['home', ...FU, 'account', 'admin', 'audit'])
    expect(keys(filterNav(NAV_ITEMS, ['users.read']))).toEqual(['home', ...FU, 'account', 'admin', 'users', 'departments'])
    expect(keys(filterNav(NAV_ITEMS, ['jobs.manage', 'roles.manage']))).toEqual(['home', ...FU, 'account', 'admin', 'roles', 'jobs'])
    expect(keys(filterNav(NAV_ITEMS, ['chat_sites.manage']))).toEqual(['home', ...FU, 'account', 'admin', 'chat-sites'])
  })

  it('shows everything to a full administrator', () => {
    const all = ['users.read', 'users.manage', 'users.reveal', 'departments.manage', 'roles.manage', 'audit.read', 'jobs.manage', 'tokens.manage']
    expect(keys(filterNav(NAV_ITEMS, new Set(all)))).toEqual(['home', ...FU, 'account', 'admin', 'users', 'departments', 'roles', 'audit', 'jobs'])
  })

  it('does not mutate the source tree', () => {
    filterNav(NAV_ITEMS, ['audit.read'])
    expect(NAV_ITEMS.find((i) => i.key === 'admin')!.children).toHaveLength(13)
  })

  it('allowed() needs any one of the permissions', () => {
    expect(allowed(undefined, [])).toBe(true)
    expect(allowed(['a', 'b'], ['b'])).toBe(true)
    expect(allowed(['a'], ['b'])).toBe(false)
  })

  it('safeRedirect keeps same-site paths only', () => {
    expect(safeRedirect('/admin/users?q=1')).toBe('/admin/users?q=1')
    expect(safeRedirect('//evil.example')).toBe('/')
    expect(safeRedirect('https://evil.example')).toBe('/')
    expect(safeRedirect('/login')).toBe('/')
    expect(safeRedirect(undefined)).toBe('/')
  })
})

describe('route guards', () => {
  beforeEach(() => {
    setActivePinia(createPinia())
    localStorage.clear()
  })
  afterEach(() => {
    vi.unstubAllGlobals()
    resetClientConfig()
  })

  function backend(opts: { setupNeeded?: boolean; me?: typeof sampleMe | null }) {
    return mockFetch((c) => {
      if (c.url.startsWith('/api/v1/setup')) return json(200, { needed: !!opts.setupNeeded })
      if (c.url === '/api/v1/me') return opts.me ? json(200, opts.me) : apiError(401, 'unauthenticated', 'x')
      return json(200, { items: [], next_cursor: null, total: 0 })
    })
  }

  it('sends everyone to /setup while setup is needed, keeping the token', async () => {
    backend({ setupNeeded: true })
    const router = createAppRouter(createMemoryHistory())
    await router.push('/?token=abc')
    expect(router.currentRoute.value.name).toBe('setup')
    expect(router.currentRoute.value.query.token).toBe('abc')
  })

  it('sends signed-out users to /login with a redirect back', async () => {
    backend({ me: null })
    const router = createAppRouter(createMemoryHistory())
    await router.push('/admin/audit')
    expect(router.currentRoute.value.name).toBe('login')
    expect(router.currentRoute.value.query.redirect).toBe('/admin/audit')
  })

  it('blocks pages the user has no permission for', async () => {
    backend({ me: { ...sampleMe, permissions: ['users.read'] } })
    const router = createAppRouter(createMemoryHistory())
    await router.push('/admin/audit')
    expect(router.currentRoute.value.name).toBe('forbidden')
    await router.push('/admin/users')
    expect(router.currentRoute.value.name).toBe('users')
  })

  it('takes the language from the signed-in user', async () => {
    backend({ me: { ...sampleMe, locale: 'en' } })
    const router = createAppRouter(createMemoryHistory())
    await router.push('/account')
    expect(router.currentRoute.value.name).toBe('account')
    const { i18n } = await import('@/i18n')
    expect(i18n.global.locale.value).toBe('en')
    expect(localStorage.getItem('prelude.locale')).toBe('en')
    i18n.global.locale.value = 'zh-CN'
  })

  it('keeps signed-in users away from /login and /setup', async () => {
    backend({ me: sampleMe })
    const router = createAppRouter(createMemoryHistory())
    await router.push('/login')
    expect(router.currentRoute.value.name).toBe('home')
    await router.push('/setup')
    expect(router.currentRoute.value.name).toBe('home')
  })
})
