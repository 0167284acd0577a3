import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { useAuthStore } from '@/stores/auth'
import { i18n } from '@/i18n'
import { resetClientConfig } from '@/api/client'
import { useCursorList } from '@/composables/useCursorList'
import { apiError, json, mockFetch, sampleMe } from './helpers'

describe('language preference', () => {
  beforeEach(() => {
    setActivePinia(createPinia())
    localStorage.clear()
    i18n.global.locale.value = 'zh-CN'
  })
  afterEach(() => {
    vi.unstubAllGlobals()
    resetClientConfig()
    i18n.global.locale.value = 'zh-CN'
  })

  it('before sign-in only stores the choice locally', async () => {
    const { calls } = mockFetch(() => json(200, {}))
    await useAuthStore().setLocale('en')
    expect(calls).toHaveLength(0)
    expect(i18n.global.locale.value).toBe('en')
    expect(localStorage.getItem('prelude.locale')).toBe('en')
  })

  it('when signed in PATCHes /me with If-Match and keeps the new version', async () => {
    const { calls } = mockFetch((c) => json(200, { ...sampleMe, locale: (c.body as { locale: string }).locale, version: 4 }))
    const auth = useAuthStore()
    auth.setMe({ ...sampleMe } as never)
    await auth.setLocale('en')
    expect(calls).toHaveLength(1)
    expect(calls[0].method).toBe('PATCH')
    expect(calls[0].url).toBe('/api/v1/me')
    expect(calls[0].headers['if-match']).toBe('"3"')
    expect(calls[0].headers['accept-language']).toBe('en')
    expect(calls[0].body).toEqual({ locale: 'en' })
    expect(auth.me?.version).toBe(4)
    expect(auth.me?.locale).toBe('en')
    expect(localStorage.getItem('prelude.locale')).toBe('en')
  })

  it('retries once with the fresh version after 412', async () => {
    const { calls } = mockFetch((c) => {
      if (c.method === 'GET') return json(200, { ...sampleMe, version: 9 })
      if (c.headers['if-match'] === '"3"') return apiError(412, 'precondition_failed', '该记录已被他人修改，请刷新后重试')
      return json(200, { ...sampleMe, locale: 'en', version: 10 })
    })
    const auth = useAuthStore()
    auth.setMe({ ...sampleMe } as never)
    await auth.setLocale('en')
    expect(calls.map((c) => `${c.method} ${c.headers['if-match'] ?? ''}`)).toEqual(['PATCH "3"', 'GET ', 'PATCH "9"'])
    expect(auth.me?.version).toBe(10)
  })

  it("applies the signed-in user's language", () => {
    useAuthStore().setMe({ ...sampleMe, locale: 'en' } as never)
    expect(i18n.global.locale.value).toBe('en')
  })
})

describe('cursor pagination', () => {
  it('walks forward with next_cursor and back with the remembered cursors', async () => {
    const pages: Record<string, { items: number[]; next_cursor: string | null; total: number }> = {
      '': { items: [1, 2], next_cursor: 'c2', total: 5 },
      c2: { items: [3, 4], next_cursor: 'c3', total: 5 },
      c3: { items: [5], next_cursor: null, total: 5 },
    }
    const seen: (string | null)[] = []
    const list = useCursorList<number>(async ({ cursor, limit }) => {
      expect(limit).toBe(2)
      seen.push(cursor)
      return pages[cursor ?? '']
    }, 2)
    await list.reload()
    expect(list.items.value).toEqual([1, 2])
    expect(list.hasPrev.value).toBe(false)
    await list.next()
    await list.next()
    expect(list.items.value).toEqual([5])
    expect(list.page.value).toBe(3)
    expect(list.hasNext.value).toBe(false)
    await list.prev()
    expect(list.items.value).toEqual([3, 4])
    expect(list.total.value).toBe(5)
    expect(seen).toEqual([null, 'c2', 'c3', 'c2'])
  })
})
