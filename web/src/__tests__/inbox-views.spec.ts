import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount, type VueWrapper } from '@vue/test-utils'
import { createPinia, setActivePinia, type Pinia } from 'pinia'
import { createMemoryHistory, createRouter, type Router } from 'vue-router'
import InboxView from '@/views/inbox/InboxView.vue'
import { applyLocale, i18n } from '@/i18n'
import { useAuthStore } from '@/stores/auth'
import { resetClientConfig } from '@/api/client'
import { resetBusinessCalendar } from '@/composables/useBusinessCalendar'
import { json, mockFetch, sampleMe, type Call } from './helpers'
import { byTestId, settle, typeInto, until } from './customers-helpers'
import { FakeEventSource, inquiry, message } from './inbox-helpers'

const Stub = { template: '<div />' }

// Mounting Element Plus views in happy-dom takes seconds (more on a busy machine).
describe('the inquiry inbox', { timeout: 120_000 }, () => {
  let wrapper: VueWrapper
  let pinia: Pinia
  let router: Router
  let calls: Call[]
  let counts: Record<string, number>
  let rows: ReturnType<typeof inquiry>[]

  beforeEach(() => {
    localStorage.clear()
    applyLocale('zh-CN')
    resetBusinessCalendar()
    pinia = createPinia()
    setActivePinia(pinia)
    FakeEventSource.instances = []
    vi.stubGlobal('EventSource', FakeEventSource)
    counts = { mine: 2, unassigned: 1, team: 3, breaching: 1, waiting: 0 }
    rows = [
      inquiry({ id: 'i1' }),
      inquiry({
        id: 'i2',
        subject: '国庆前的询价',
        channel: 'phone',
        status: 'assigned',
        assignee_id: 'u1',
        assignee_name: '张三',
        account_name: '远景重工有限公司',
        unread: false,
        sla: { ...inquiry().sla, seconds_left: -720, breached: true },
      }),
      inquiry({ id: 'i3', subject: '部署方式', channel: 'web_chat', account_name: '', contact_name: '', customer_name: '钱先生', unread: false }),
    ]
    ;({ calls } = mockFetch((c) => {
      if (c.url.startsWith('/api/v1/inquiries?')) return json(200, { items: rows, next_cursor: null, total: rows.length })
      if (c.url === '/api/v1/inbox/counts') return json(200, counts)
      if (c.url.startsWith('/api/v1/work-calendar/settings')) return json(200, { zone: 'Asia/Shanghai', weekdays: [1, 2, 3, 4, 5, 6, 7], hours: [{ start: '00:00', end: '23:59' }], version: 1 })
      if (c.url.startsWith('/api/v1/work-calendar/days')) return json(200, { items: [], year: 2026 })
      if (c.url.startsWith('/api/v1/directory'))
        return json(200, { items: [{ id: 'u1', display_name: '张三', department_id: 'd1' }, { id: 'u7', display_name: '李四', department_id: 'd1' }] })
      const one = /^\/api\/v1\/inquiries\/(i\d)$/.exec(c.url)
      if (one) return json(200, rows.find((r) => r.id === one[1]))
      if (/^\/api\/v1\/inquiries\/i\d\/messages/.test(c.url)) return json(200, { items: [message()], next_cursor: null, total: 1 })
      if (/^\/api\/v1\/inquiries\/i\d\/read$/.test(c.url)) return new Response(null, { status: 204 })
      if (c.url.startsWith('/api/v1/accounts/')) return json(404, { error: { code: 'not_found', message: 'x' } })
      return json(404, {})
    }))
    router = createRouter({
      history: createMemoryHistory(),
      routes: [
        { path: '/inbox/:id?', name: 'inbox', component: InboxView },
        { path: '/customers/:id', name: 'customer-detail', component: Stub },
        { path: '/tasks/:id', name: 'task-detail', component: Stub },
        { path: '/:p(.*)*', name: 'not-found', component: Stub },
      ],
    })
  })
  afterEach(() => {
    wrapper?.unmount()
    vi.unstubAllGlobals()
    resetClientConfig()
    document.body.innerHTML = ''
  })

  async function open(path = '/inbox', permissions = ['inquiries.read', 'inquiries.create', 'inquiries.update', 'inquiries.assign']) {
    useAuthStore().me = { ...sampleMe, id: 'u1', data_scope: 'department', permissions } as never
    await router.push(path)
    await router.isReady()
    wrapper = mount({ template: '<router-view />' }, { global: { plugins: [pinia, i18n, router] }, attachTo: document.body })
    await until(() => wrapper.findAll('[data-testid^="inquiry-row-"]').length === 3)
  }
  const listCalls = () => calls.filter((c) => c.url.startsWith('/api/v1/inquiries?'))
  const countCalls = () => calls.filter((c) => c.url === '/api/v1/inbox/counts')
  const key = (k: string, target: EventTarget = document.body) => {
    const e = new KeyboardEvent('keydown', { key: k, bubbles: true })
    Object.defineProperty(e, 'target', { value: target })
    window.dispatchEvent(e)
  }

  it('shows the views with unread counts and each row with customer, subject, channel, status, assignee and time left', async () => {
    await open()
    expect(listCalls()[0].url).toContain('view=mine')
    expect(byTestId('inbox-count-mine')?.textContent?.trim()).toBe('2')
    expect(byTestId('inbox-count-breaching')?.textContent?.trim()).toBe('1')
    expect(byTestId('inbox-count-waiting')).toBeNull()
    // a manager sees "all" too
    expect(byTestId('inbox-view-all')).not.toBeNull()

    const r1 = wrapper.find('[data-testid="inquiry-row-i1"]')
    expect(r1.text()).toContain('星河电子有限公司')
    expect(r1.text()).toContain('咨询光模块报价')
    expect(r1.find('[data-channel="email"]').exists()).toBe(true)
    expect(r1.find('[data-testid="row-status"]').text()).toBe('新咨询')
    expect(r1.find('[data-testid="row-assignee"]').text()).toBe('未分配')
    expect(r1.find('[data-testid="row-unread"]').exists()).toBe(true)
    const ok = r1.find('[data-testid="sla-badge"]')
    expect(ok.attributes('data-level')).toBe('ok')
    expect(ok.text()).toMatch(/^剩 (1 小时 00 分|59 分钟)$/)

    const r2 = wrapper.find('[data-testid="inquiry-row-i2"]')
    expect(r2.find('[data-testid="row-assignee"]').text()).toBe('张三')
    expect(r2.find('[data-testid="sla-badge"]').attributes('data-level')).toBe('breached')
    expect(r2.find('[data-testid="sla-badge"]').text()).toContain('超时 12 分钟')
    // no account: the customer's own name
    expect(wrapper.find('[data-testid="inquiry-row-i3"]').text()).toContain('钱先生')
  })

  it('without "inquiries.assign" and with own scope there is no "all" view', async () => {
    useAuthStore().me = { ...sampleMe, id: 'u1', data_scope: 'own', permissions: ['inquiries.read'] } as never
    await router.push('/inbox')
    wrapper = mount({ template: '<router-view />' }, { global: { plugins: [pinia, i18n, router] }, attachTo: document.body })
    await until(() => byTestId('inbox-view-mine'))
    expect(byTestId('inbox-view-all')).toBeNull()
    expect(byTestId('inbox-new')).toBeNull()
  })

  it('switching view and searching ask the API with those filters', async () => {
    await open()
    byTestId('inbox-view-breaching')!.click()
    await until(() => listCalls().some((c) => c.url.includes('view=breaching')))
    expect(router.currentRoute.value.query.view).toBe('breaching')
    await typeInto('inbox-search', '光模块')
    await until(() => listCalls().some((c) => c.url.includes(`q=${encodeURIComponent('光模块')}`)), 3000)
  })

  it('j/k move the cursor, Enter opens, keys typed in the search box do nothing, ? shows the help', async () => {
    await open()
    const selected = () => wrapper.find('.row--selected').attributes('data-testid')
    expect(selected()).toBe('inquiry-row-i1')
    key('j')
    await settle(2)
    expect(selected()).toBe('inquiry-row-i2')
    key('j')
    key('j')
    await settle(2)
    expect(selected()).toBe('inquiry-row-i3')
    key('k')
    await settle(2)
    expect(selected()).toBe('inquiry-row-i2')
    // typing "j" in the search box is text, not a command
    key('j', byTestId('inbox-search')!)
    await settle(2)
    expect(selected()).toBe('inquiry-row-i2')
    key('Enter')
    await until(() => router.currentRoute.value.params.id === 'i2')
    await until(() => byTestId('conversation'))
    // opening marks it read
    await until(() => calls.some((c) => c.method === 'POST' && c.url === '/api/v1/inquiries/i2/read'))
    key('?')
    await until(() => byTestId('shortcut-help'))
    expect(byTestId('shortcut-help')!.textContent).toContain('下一条咨询')
  })

  it('live events reload the list and the counts without a reload; a resync reloads too; a dropped stream reconnects', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true })
    try {
      await open()
      const es = FakeEventSource.last()
      expect(es.url).toBe('/api/v1/inbox/stream')
      es.onopen?.()
      await settle(2)
      expect(byTestId('inbox-live')!.getAttribute('data-live')).toBe('1')

      const lists = listCalls().length
      const cnts = countCalls().length
      counts = { ...counts, mine: 3 }
      rows = [inquiry({ id: 'i9', subject: '新来的咨询' }), ...rows]
      es.emit('inquiry_created', { type: 'inquiry_created', inquiry_id: 'i9', status: 'new' })
      es.emit('message_added', { type: 'message_added', inquiry_id: 'i1', direction: 'in' })
      await vi.advanceTimersByTimeAsync(400)
      await until(() => wrapper.find('[data-testid="inquiry-row-i9"]').exists())
      expect(listCalls().length).toBe(lists + 1) // two events, one reload
      expect(countCalls().length).toBe(cnts + 1)
      await until(() => byTestId('inbox-count-mine')?.textContent?.trim() === '3')
      expect(wrapper.find('[data-testid="inquiry-row-i9"]').classes()).toContain('row--flash')

      es.emit('resync', {})
      await vi.advanceTimersByTimeAsync(400)
      await until(() => listCalls().length === lists + 2)

      // the connection drops: it is closed and opened again after a pause
      es.onerror?.()
      expect(es.closed).toBe(true)
      await settle(1)
      expect(byTestId('inbox-live')!.getAttribute('data-live')).toBe('0')
      await vi.advanceTimersByTimeAsync(1500)
      expect(FakeEventSource.instances.length).toBe(2)
    } finally {
      vi.useRealTimers()
    }
  })

  it('someone typing on the open conversation is shown under it for a few seconds, not for my own typing, and without reloading anything', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true })
    try {
      await open('/inbox/i2')
      await until(() => byTestId('conversation'))
      const es = FakeEventSource.last()
      es.onopen?.()
      await settle(2)
      const lists = listCalls().length
      const me = useAuthStore().me!.id
      es.emit('typing', { type: 'typing', inquiry_id: 'i2', direction: 'out', actor_id: me })
      await settle(2)
      expect(byTestId('conv-typing')!.textContent!.trim()).toBe('')
      es.emit('typing', { type: 'typing', inquiry_id: 'i2', direction: 'in' })
      es.emit('typing', { type: 'typing', inquiry_id: 'i2', direction: 'out', actor_id: 'u7' })
      es.emit('typing', { type: 'typing', inquiry_id: 'i1', direction: 'in' }) // another conversation
      await until(() => byTestId('conv-typing')!.textContent!.includes('正在输入'))
      expect(byTestId('conv-typing')!.textContent!.trim()).toBe('客户、李四 正在输入…')
      await vi.advanceTimersByTimeAsync(400)
      expect(listCalls().length).toBe(lists) // typing reloads nothing
      await vi.advanceTimersByTimeAsync(7000)
      await until(() => byTestId('conv-typing')!.textContent!.trim() === '')
    } finally {
      vi.useRealTimers()
    }
  })

  it('the open conversation shows the messages oldest first, the response target and the customer', async () => {
    await open('/inbox/i2')
    await until(() => byTestId('conversation'))
    await until(() => byTestId('conv-first-due'))
    expect(byTestId('conv-subject')!.textContent).toBe('国庆前的询价')
    expect(byTestId('conv-messages')!.textContent).toContain('批量报价')
    expect(byTestId('conv-account-link')!.textContent).toContain('远景重工有限公司')
    expect(byTestId('conv-assignee')!.textContent).toContain('张三')
    // the open row is marked in the list
    expect(wrapper.find('[data-testid="inquiry-row-i2"]').classes()).toContain('row--open')
  })
})
