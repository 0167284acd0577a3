import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount, type VueWrapper } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import NotificationsTab from '@/views/account/NotificationsTab.vue'
import CalendarFeedTab from '@/views/account/CalendarFeedTab.vue'
import { applyLocale, i18n } from '@/i18n'
import { resetClientConfig } from '@/api/client'
import { apiError, json, mockFetch, type Call } from './helpers'
import { byTestId, click, settle, typeInto, until } from './customers-helpers'

const channel = (over: Record<string, unknown> = {}) => ({
  id: 'c1',
  kind: 'dingtalk',
  target: 'https://oapi.dingtalk.com/robot/send?access_token=abc',
  has_secret: true,
  events: [],
  enabled: true,
  version: 3,
  created_at: '2026-03-01T00:00:00Z',
  ...over,
})

describe('notification settings and calendar feed', { timeout: 120_000 }, () => {
  let wrapper: VueWrapper
  let calls: Call[]
  let handler: (c: Call) => Response | null

  beforeEach(() => {
    localStorage.clear()
    applyLocale('zh-CN')
    setActivePinia(createPinia())
    handler = () => null
    ;({ calls } = mockFetch((c) => {
      const h = handler(c)
      if (h) return h
      if (c.url === '/api/v1/me/channels' && c.method === 'GET') return json(200, { items: [channel()], next_cursor: null, total: 1 })
      if (c.url.startsWith('/api/v1/me/deliveries')) {
        return json(200, {
          items: [
            { id: 'd1', notification_id: 'n1', channel_id: 'c1', channel_kind: 'dingtalk', title: '任务已逾期：回电', status: 'failed', attempts: 8, last_error: 'dingtalk: HTTP 500', delivered_at: null, created_at: '2026-03-01T00:00:00Z' },
          ],
          next_cursor: null,
          total: 1,
        })
      }
      return json(404, {})
    }))
  })
  afterEach(() => {
    wrapper?.unmount()
    vi.unstubAllGlobals()
    resetClientConfig()
    document.body.innerHTML = ''
  })

  async function open(component: object) {
    wrapper = mount(component, { global: { plugins: [i18n] }, attachTo: document.body })
    await settle()
  }

  it('lists channels without their secret and shows failed deliveries with the error', async () => {
    await open(NotificationsTab)
    const table = byTestId('channel-table')!.textContent!
    expect(table).toContain('钉钉')
    expect(table).toContain('已设置签名密钥')
    expect(table).toContain('全部事件')
    const deliveries = byTestId('delivery-table')!.textContent!
    expect(deliveries).toContain('发送失败')
    expect(deliveries).toContain('dingtalk: HTTP 500')
  })

  it('adds a signed robot for chosen events; changing it keeps the secret unless a new one is typed; 412 reloads', async () => {
    handler = (c) => (c.method === 'POST' && c.url === '/api/v1/me/channels' ? json(201, channel({ id: 'c2', kind: 'feishu' })) : null)
    await open(NotificationsTab)
    await click('channel-add')
    await click('channel-kind-feishu')
    await typeInto('channel-target', 'https://open.feishu.cn/open-apis/bot/v2/hook/x')
    await typeInto('channel-secret', 'SECfeishu')
    const boxes = byTestId('channel-events')!.querySelectorAll<HTMLInputElement>('input[type=checkbox]')
    boxes[3].click() // promise_broken
    await settle(2)
    await click('channel-save')
    const post = await until(() => calls.find((c) => c.method === 'POST' && c.url === '/api/v1/me/channels'))
    expect(post.body).toEqual({ kind: 'feishu', target: 'https://open.feishu.cn/open-apis/bot/v2/hook/x', secret: 'SECfeishu', events: ['promise_broken'], enabled: true })
    expect(post.headers['idempotency-key']).toBeTruthy()

    let stale = false
    handler = (c) => (c.method === 'PUT' ? (stale ? apiError(412, 'version_mismatch', 'x') : json(200, channel({ version: 4 }))) : null)
    await click('channel-edit-dingtalk')
    const secret = byTestId<HTMLInputElement>('channel-secret')!
    expect(secret.value).toBe('')
    expect(secret.placeholder).toContain('不填则保留')
    await click('channel-save')
    const put = await until(() => calls.find((c) => c.method === 'PUT'))
    expect(put.url).toBe('/api/v1/me/channels/c1')
    expect(put.headers['if-match']).toBe('"3"')
    expect(put.body).toMatchObject({ target: 'https://oapi.dingtalk.com/robot/send?access_token=abc', secret: '', events: [] })

    stale = true
    const loads = calls.filter((c) => c.method === 'GET' && c.url === '/api/v1/me/channels').length
    await click('channel-edit-dingtalk')
    await click('channel-save')
    await until(() => document.body.textContent?.includes('这个通知渠道刚被修改过'))
    await until(() => calls.filter((c) => c.method === 'GET' && c.url === '/api/v1/me/channels').length > loads)
  })

  it('the calendar feed address is shown once after creating it', async () => {
    handler = (c) => (c.method === 'POST' && c.url === '/api/v1/me/calendar-feed' ? json(201, { url: 'http://prelude.local/api/v1/public/calendar/cal_x.ics' }) : null)
    await open(CalendarFeedTab)
    expect(byTestId('feed-url')).toBeNull()
    await click('feed-create')
    const input = await until(() => byTestId<HTMLInputElement>('feed-url'))
    expect(input.value).toBe('http://prelude.local/api/v1/public/calendar/cal_x.ics')
    expect(document.body.textContent).toContain('地址只显示这一次')
  })
})
