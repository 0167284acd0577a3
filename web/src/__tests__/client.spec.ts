import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiError, configureClient, http, request, resetClientConfig, uuid } from '@/api/client'
import { meApi, usersApi, authApi, departmentsApi } from '@/api'
import { apiError, json, mockFetch } from './helpers'

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe('api client', () => {
  let onError: ReturnType<typeof vi.fn>
  let onUnauthorized: ReturnType<typeof vi.fn>
  let locale = 'zh-CN'

  beforeEach(() => {
    onError = vi.fn()
    onUnauthorized = vi.fn()
    locale = 'zh-CN'
    configureClient({ onError, onUnauthorized, getLocale: () => locale, httpErrorMessage: (s) => `failed ${s}` })
  })
  afterEach(() => {
    resetClientConfig()
    vi.unstubAllGlobals()
  })

  it('parses the error body into an ApiError and shows its message', async () => {
    mockFetch(() => apiError(422, 'validation_failed', '请检查输入', { email: '邮箱格式不正确' }))
    const err = await usersApi.get('u1').catch((e) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err.status).toBe(422)
    expect(err.code).toBe('validation_failed')
    expect(err.message).toBe('请检查输入')
    expect(err.fields).toEqual({ email: '邮箱格式不正确' })
    expect(onError).toHaveBeenCalledTimes(1)
    expect(onError.mock.calls[0][0]).toBe('请检查输入')
  })

  it('falls back to a generic message when the error body is not JSON', async () => {
    mockFetch(() => new Response('<html>bad gateway</html>', { status: 502 }))
    const err = (await request('/users').catch((e) => e)) as ApiError
    expect(err.status).toBe(502)
    expect(err.code).toBe('http_502')
    expect(err.message).toBe('failed 502')
    expect(err.fields).toEqual({})
  })

  it('does not show the message for silent calls', async () => {
    mockFetch(() => apiError(409, 'conflict', 'x'))
    await expect(request('/x', { silent: true })).rejects.toMatchObject({ code: 'conflict' })
    expect(onError).not.toHaveBeenCalled()
  })

  it('turns a network failure into an ApiError with status 0', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => { throw new TypeError('Failed to fetch') }))
    const err = (await request('/me/tokens').catch((e) => e)) as ApiError
    expect(err).toBeInstanceOf(ApiError)
    expect(err.status).toBe(0)
    expect(err.code).toBe('network_error')
    expect(onError).toHaveBeenCalledTimes(1)
  })

  it('sends JSON, same-origin credentials and Accept-Language of the current locale', async () => {
    const { calls } = mockFetch(() => json(200, { items: [], next_cursor: null, total: 0 }))
    locale = 'en'
    await usersApi.list({ q: '张', role: 'sales', active: false, department_id: '', limit: 20, cursor: null })
    expect(calls).toHaveLength(1)
    const c = calls[0]
    expect(c.method).toBe('GET')
    expect(c.credentials).toBe('same-origin')
    expect(c.headers['accept-language']).toBe('en')
    const u = new URL(c.url, 'http://x')
    expect(u.pathname).toBe('/api/v1/users')
    expect(Object.fromEntries(u.searchParams)).toEqual({ q: '张', role: 'sales', active: 'false', limit: '20' })
  })

  it('sends If-Match with the quoted version', async () => {
    const { calls } = mockFetch(() => json(200, { id: 'u1', version: 8 }))
    await meApi.update({ locale: 'en' }, 7)
    expect(calls[0].method).toBe('PATCH')
    expect(calls[0].headers['if-match']).toBe('"7"')
    expect(calls[0].headers['content-type']).toBe('application/json')
    expect(calls[0].body).toEqual({ locale: 'en' })

    await usersApi.update('u9', { display_name: 'x' }, 12)
    expect(calls[1].url).toBe('/api/v1/users/u9')
    expect(calls[1].headers['if-match']).toBe('"12"')
  })

  it('omits If-Match when no version is given', async () => {
    const { calls } = mockFetch(() => new Response(null, { status: 204 }))
    await departmentsApi.remove('d1')
    expect(calls[0].method).toBe('DELETE')
    expect(calls[0].headers['if-match']).toBeUndefined()
  })

  it('sends a fresh Idempotency-Key on creating POSTs only', async () => {
    const { calls } = mockFetch((c) => (c.url.endsWith('/users') ? json(201, { id: 'n' }) : new Response(null, { status: 204 })))
    await usersApi.create({ username: 'a', display_name: 'A', email: '', mobile: '', department_id: null, roles: ['sales'], password: 'x'.repeat(10) })
    await usersApi.create({ username: 'b', display_name: 'B', email: '', mobile: '', department_id: null, roles: ['sales'], password: 'x'.repeat(10) })
    await meApi.changePassword('old-password', 'new-password')
    const k1 = calls[0].headers['idempotency-key']
    const k2 = calls[1].headers['idempotency-key']
    expect(k1).toMatch(UUID_RE)
    expect(k2).toMatch(UUID_RE)
    expect(k1).not.toBe(k2)
    expect(calls[2].headers['idempotency-key']).toBeUndefined()
  })

  it('redirects to the login page on 401 from a normal call', async () => {
    mockFetch(() => apiError(401, 'unauthenticated', '请先登录'))
    await expect(usersApi.list({})).rejects.toMatchObject({ status: 401 })
    expect(onUnauthorized).toHaveBeenCalledTimes(1)
    expect(onError).not.toHaveBeenCalled()
  })

  it('does not redirect on 401 from auth calls', async () => {
    mockFetch(() => apiError(401, 'totp_required', '请输入动态码'))
    const err = (await authApi.login({ username: 'a', password: 'b' }).catch((e) => e)) as ApiError
    expect(err.code).toBe('totp_required')
    expect(onUnauthorized).not.toHaveBeenCalled()
  })

  it('does not redirect when asking who is signed in', async () => {
    mockFetch(() => apiError(401, 'unauthenticated', 'x'))
    await expect(meApi.get()).rejects.toBeInstanceOf(ApiError)
    expect(onUnauthorized).not.toHaveBeenCalled()
  })

  it('returns undefined for 204 and parsed JSON otherwise', async () => {
    mockFetch((c) => (c.method === 'DELETE' ? new Response(null, { status: 204 }) : json(200, { needed: true })))
    await expect(http.del('/me/tokens/t1')).resolves.toBeUndefined()
    await expect(http.get('/setup')).resolves.toEqual({ needed: true })
  })

  it('makes v4 UUIDs even without crypto.randomUUID (plain-http hosts)', () => {
    const orig = crypto.randomUUID
    try {
      Object.defineProperty(crypto, 'randomUUID', { value: undefined, configurable: true })
      const a = uuid()
      const b = uuid()
      expect(a).toMatch(UUID_RE)
      expect(a).not.toBe(b)
    } finally {
      Object.defineProperty(crypto, 'randomUUID', { value: orig, configurable: true })
    }
  })
})
