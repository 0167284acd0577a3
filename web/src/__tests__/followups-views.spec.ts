import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount, type VueWrapper } from '@vue/test-utils'
import { createPinia, setActivePinia, type Pinia } from 'pinia'
import { createMemoryHistory, createRouter, type Router } from 'vue-router'
import MyDayView from '@/views/followups/MyDayView.vue'
import CalendarView from '@/views/followups/CalendarView.vue'
import TasksPanel from '@/views/customers/TasksPanel.vue'
import NotificationBell from '@/components/NotificationBell.vue'
import { applyLocale, i18n } from '@/i18n'
import { useAuthStore } from '@/stores/auth'
import { useNotificationsStore } from '@/stores/notifications'
import { resetClientConfig } from '@/api/client'
import { dayKey } from '@/utils/followups'
import { apiError, json, mockFetch, sampleMe, type Call } from './helpers'
import { byTestId, click, settle, typeInto, until } from './customers-helpers'
import { task } from './followups-helpers'

const Stub = { template: '<div />' }
const HOUR = 3600_000

// Mounting Element Plus views in happy-dom takes seconds (more on a busy machine).
describe('follow-up screens', { timeout: 120_000 }, () => {
  let wrapper: VueWrapper
  let pinia: Pinia
  let router: Router
  let calls: Call[]
  let handler: (c: Call) => Response | null

  const late = () =>
    task({
      id: 'p1',
      title: '发送报价',
      is_promise: true,
      promise_state: 'broken',
      promise_text: '周三前发送正式报价单',
      promised_to: '王强',
      overdue: true,
      due_at: new Date(Date.now() - 3 * HOUR).toISOString(),
      version: 4,
    })
  const today = () => task({ id: 't2', title: '电话回访', due_at: new Date(Date.now() + HOUR).toISOString(), version: 2 })

  beforeEach(() => {
    localStorage.clear()
    applyLocale('zh-CN')
    pinia = createPinia()
    setActivePinia(pinia)
    handler = () => null
    ;({ calls } = mockFetch((c) => {
      const h = handler(c)
      if (h) return h
      if (c.url.startsWith('/api/v1/my-day')) {
        return json(200, { date: dayKey(new Date()), overdue: [late()], today: [today()], upcoming: [], promises: [late()], counts: { overdue: 1, today: 1, promises: 1 } })
      }
      if (c.url.startsWith('/api/v1/promise-stats')) {
        return json(200, { total: { due: 4, kept: 3, late: 0, broken: 1, pending: 0, kept_on_time_rate: 0.75, fulfilled_rate: 0.75 }, people: [], from: '', to: '' })
      }
      if (c.url.startsWith('/api/v1/me/notifications?') || c.url === '/api/v1/me/notifications') {
        return json(200, { items: [{ id: 'n1', event: 'promise_broken', title: '对客户的承诺未按时履行：发送报价', body: '', link: '/tasks/p1', read_at: null, created_at: new Date().toISOString() }], unread: 1 })
      }
      return json(404, {})
    }))
    router = createRouter({
      history: createMemoryHistory(),
      routes: [
        { path: '/my-day', name: 'myday', component: MyDayView },
        { path: '/calendar', name: 'calendar', component: CalendarView },
        { path: '/tasks/:id', name: 'task-detail', component: Stub },
        { path: '/customers/:id', name: 'customer-detail', component: Stub },
        { path: '/promise-stats', name: 'promise-stats', component: Stub },
        { path: '/account', name: 'account', component: Stub },
        { path: '/panel', name: 'panel', component: Stub },
      ],
    })
  })
  afterEach(() => {
    wrapper?.unmount()
    vi.unstubAllGlobals()
    resetClientConfig()
    document.body.innerHTML = ''
  })

  async function open(path: string, component?: object, props: Record<string, unknown> = {}) {
    useAuthStore().me = { ...sampleMe, id: 'u1', permissions: ['customers.read', 'customers.update'] } as never
    await router.push(path)
    await router.isReady()
    const Root = component ? { components: { C: component }, data: () => ({ props }), template: '<C v-bind="props" />' } : { template: '<router-view />' }
    wrapper = mount(Root, { global: { plugins: [pinia, i18n, router] }, attachTo: document.body })
    await settle()
  }
  const tid = (id: string) => wrapper.find(`[data-testid="${id}"]`)
  const myDayLoads = () => calls.filter((c) => c.url.startsWith('/api/v1/my-day')).length

  it('my day puts the overdue promise first, in red, saying what was promised to whom', async () => {
    await open('/my-day')
    const overdue = tid('myday-overdue')
    expect(overdue.exists()).toBe(true)
    const item = overdue.find('[data-testid="task-p1"]')
    expect(item.classes()).toContain('task--overdue-promise')
    expect(item.find('[data-testid="overdue-promise-label"]').text()).toBe('已逾期承诺')
    expect(item.text()).toContain('承诺王强：周三前发送正式报价单')
    expect(item.text()).toMatch(/逾期 3 小时/)
    // the plain task due today is not flagged
    const plain = tid('myday-today').find('[data-testid="task-t2"]')
    expect(plain.classes()).not.toContain('task--overdue-promise')
    expect(plain.find('[data-testid="overdue-promise-label"]').exists()).toBe(false)
    expect(tid('myday-count-overdue').text()).toContain('1')
    expect(tid('myday-kept-rate').text()).toContain('75%')
  })

  it('completing a promise needs evidence, then posts result and evidence and reloads', async () => {
    handler = (c) => (c.url === '/api/v1/tasks/p1/complete' ? json(200, { ...late(), status: 'done', promise_state: 'late' }) : null)
    await open('/my-day')
    await click('task-complete-p1')
    await until(() => byTestId('complete-save'))
    await click('complete-save')
    await until(() => document.body.textContent?.includes('请输入兑现依据'))
    expect(calls.some((c) => c.url.endsWith('/complete'))).toBe(false)

    const before = myDayLoads()
    await typeInto('complete-result', '客户已收到')
    await typeInto('complete-evidence', '电话致歉并发送邮件')
    await click('complete-save')
    const post = await until(() => calls.find((c) => c.url === '/api/v1/tasks/p1/complete'))
    expect(post.method).toBe('POST')
    expect(post.body).toEqual({ result: '客户已收到', evidence: '电话致歉并发送邮件' })
    await until(() => myDayLoads() > before)
    await until(() => document.body.textContent?.includes('已兑现（逾期）'))
  })

  it('snooze moves the task to the next working day with If-Match; a 412 says someone changed it and reloads', async () => {
    let status = 200
    handler = (c) =>
      c.method === 'PATCH' && c.url === '/api/v1/tasks/t2'
        ? status === 200
          ? json(200, { ...today(), due_at: (c.body as { due_at: string }).due_at, version: 3 })
          : apiError(412, 'version_mismatch', '记录已被他人修改')
        : null
    await open('/my-day')
    await click('task-snooze-t2')
    await click('snooze-tomorrow-t2')
    const patch = await until(() => calls.find((c) => c.method === 'PATCH'))
    expect(patch.headers['if-match']).toBe('"2"')
    const due = new Date((patch.body as { due_at: string }).due_at)
    expect(due.getHours()).toBe(9)
    expect([1, 2, 3, 4, 5]).toContain(due.getDay())
    expect(due.getTime()).toBeGreaterThan(Date.now())

    status = 412
    const before = myDayLoads()
    await click('task-snooze-t2')
    await click('snooze-hour-t2')
    await until(() => document.body.textContent?.includes('该任务刚被其他人修改过'))
    await until(() => myDayLoads() > before)
  })

  it('the account tab creates a promise with what, to whom and when; server field errors show at the field', async () => {
    let reject = true
    handler = (c) => {
      if (c.url.startsWith('/api/v1/tasks?')) return json(200, { items: [], next_cursor: null, total: 0 })
      if (c.method === 'POST' && c.url === '/api/v1/tasks') {
        if (reject) return apiError(422, 'validation_failed', '输入有误', { due_at: '必须是将来的时间' })
        return json(201, task({ id: 'new', is_promise: true, promise_state: 'pending', ...(c.body as object) }))
      }
      return null
    }
    await open('/panel', TasksPanel, { accountId: 'a1', accountName: '深圳腾云科技有限公司', contacts: [], people: [], canEdit: true })
    const list = calls.find((c) => c.url.startsWith('/api/v1/tasks?'))!
    expect(list.url).toContain('account_id=a1')
    await click('tasks-new-promise')
    await until(() => byTestId('task-title'))
    expect(document.body.textContent).toContain('为「深圳腾云科技有限公司」新建跟进')
    await typeInto('task-title', '提供 POC 方案')
    await typeInto('task-promise-text', '下周一前提供 POC 方案')
    await typeInto('task-promised-to', '李丽')
    await click('task-save')
    await until(() => document.body.textContent?.includes('必须是将来的时间'))
    expect(byTestId('task-dialog')).not.toBeNull()

    reject = false
    await click('task-save')
    await until(() => calls.filter((c) => c.method === 'POST' && c.url === '/api/v1/tasks').length === 2)
    const body = calls.filter((c) => c.method === 'POST' && c.url === '/api/v1/tasks')[1].body as Record<string, unknown>
    expect(body).toMatchObject({ title: '提供 POC 方案', account_id: 'a1', is_promise: true, promise_text: '下周一前提供 POC 方案', promised_to: '李丽' })
    expect(new Date(body.due_at as string).getTime()).toBeGreaterThan(Date.now())
    expect(calls.filter((c) => c.method === 'POST' && c.url === '/api/v1/tasks')[1].headers['idempotency-key']).toBeTruthy()
  })

  it('the bell shows the live unread count, lists notifications and opens the record', async () => {
    await open('/panel', NotificationBell)
    const store = useNotificationsStore()
    store.apply('{"unread":3,"latest":null}')
    await settle(2)
    expect(tid('bell-count').text()).toContain('3')
    store.apply('not json')
    await settle(1)
    expect(tid('bell-count').text()).toContain('3')

    handler = (c) => (c.url === '/api/v1/me/notifications/n1/read' ? new Response(null, { status: 204 }) : null)
    await click('bell')
    const item = await until(() => byTestId('bell-item-n1'))
    expect(item.textContent).toContain('对客户的承诺未按时履行')
    item.click()
    await until(() => calls.find((c) => c.url === '/api/v1/me/notifications/n1/read' && c.method === 'POST'))
    await until(() => router.currentRoute.value.fullPath === '/tasks/p1')
  })

  it('dropping a task on another day of the month reschedules it (same time) with If-Match', async () => {
    const due = new Date()
    due.setDate(due.getDate() + 1)
    due.setHours(10, 30, 0, 0)
    const t = task({ id: 'c1', title: '拜访客户', due_at: due.toISOString(), version: 7 })
    handler = (c) => {
      if (c.method === 'GET' && c.url.startsWith('/api/v1/tasks?')) return json(200, { items: [t], next_cursor: null, total: 1 })
      if (c.method === 'PATCH') return json(200, { ...t, due_at: (c.body as { due_at: string }).due_at, version: 8 })
      return null
    }
    await open(`/calendar?view=month&date=${dayKey(due)}`)
    const list = calls.find((c) => c.url.startsWith('/api/v1/tasks?'))!
    expect(list.url).toContain('owner_id=u1')
    expect(tid(`cal-day-${dayKey(due)}`).text()).toContain('拜访客户')

    const target = new Date(due)
    target.setDate(target.getDate() + 2)
    const data = new Map<string, string>()
    const dt = { setData: (k: string, v: string) => data.set(k, v), getData: (k: string) => data.get(k) ?? '', effectAllowed: '' }
    const fire = (el: Element, type: string) => {
      const ev = new Event(type, { bubbles: true, cancelable: true }) as Event & { dataTransfer: unknown }
      ev.dataTransfer = dt
      el.dispatchEvent(ev)
    }
    fire(byTestId('cal-task-c1')!, 'dragstart')
    fire(byTestId(`cal-day-${dayKey(target)}`)!, 'dragover')
    fire(byTestId(`cal-day-${dayKey(target)}`)!, 'drop')
    const patch = await until(() => calls.find((c) => c.method === 'PATCH'))
    expect(patch.url).toBe('/api/v1/tasks/c1')
    expect(patch.headers['if-match']).toBe('"7"')
    const moved = new Date((patch.body as { due_at: string }).due_at)
    expect(dayKey(moved)).toBe(dayKey(target))
    expect([moved.getHours(), moved.getMinutes()]).toEqual([10, 30])
  })
})
