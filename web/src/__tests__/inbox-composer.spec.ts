import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount, type VueWrapper } from '@vue/test-utils'
import { createPinia, setActivePinia, type Pinia } from 'pinia'
import Composer from '@/views/inbox/Composer.vue'
import { applyLocale, i18n } from '@/i18n'
import { useAuthStore } from '@/stores/auth'
import { resetClientConfig } from '@/api/client'
import type { CheckResult, Finding } from '@/api/inbox'
import { apiError, json, mockFetch, sampleMe, type Call } from './helpers'
import { byTestId, click, settle, until } from './customers-helpers'
import { inquiry } from './inbox-helpers'

const FORBIDDEN: Finding = {
  rule_id: 'r1',
  kind: 'forbidden',
  severity: 'block',
  start: 3,
  end: 7,
  match: '你懂不懂',
  message: '“你懂不懂”属于禁止用语（辱骂、挑衅或威胁），请修改后再发送',
  suggestion: '',
}
const JARGON: Finding = { rule_id: 'r2', kind: 'jargon', severity: 'warn', start: 0, end: 3, match: 'SLA', message: '“SLA”是专业术语，客户可能看不懂', suggestion: '服务时限' }

describe('the composer', { timeout: 120_000 }, () => {
  let wrapper: VueWrapper
  let pinia: Pinia
  let calls: Call[]
  let check: CheckResult
  let post: (c: Call) => Response

  beforeEach(() => {
    localStorage.clear()
    applyLocale('zh-CN')
    pinia = createPinia()
    setActivePinia(pinia)
    check = { verdict: 'ok', findings: [], rules_version: 1 }
    post = (c) => json(201, { id: 'm9', ...(c.body as object) })
    ;({ calls } = mockFetch((c) => {
      if (c.url === '/api/v1/standards/check') return json(200, check)
      if (c.url === '/api/v1/inquiries/i1/messages' && c.method === 'POST') return post(c)
      if (c.url.startsWith('/api/v1/canned-answers?') || c.url === '/api/v1/canned-answers')
        return json(200, {
          items: [
            { id: 'k1', kind: 'answer', scope: 'personal', owner_id: 'u1', department_id: null, title: '报价说明', shortcut: 'bj', body: '{{customer_name}}您好，报价单今天发您。', version: 1 },
            { id: 'k2', kind: 'fact', scope: 'global', owner_id: 'u9', department_id: null, title: '交期', shortcut: 'jq', body: '标准交期四周。', version: 1 },
          ],
          next_cursor: null,
          total: 2,
        })
      if (c.url === '/api/v1/canned-answers/k1/render') return json(200, { text: '周敏您好，报价单今天发您。', missing: [] })
      if (c.url === '/api/v1/canned-answers/k2/render') return json(200, { text: '标准交期四周。', missing: ['product'] })
      return json(404, {})
    }))
    useAuthStore().me = { ...sampleMe, id: 'u1', permissions: ['inquiries.read', 'inquiries.update'] } as never
  })
  afterEach(() => {
    wrapper?.unmount()
    vi.unstubAllGlobals()
    resetClientConfig()
    document.body.innerHTML = ''
  })

  function mountComposer(over: Parameters<typeof inquiry>[0] = {}) {
    const people = [
      { id: 'u1', display_name: '张三', department_id: 'd1' },
      { id: 'u2', display_name: '李四', department_id: 'd1' },
    ]
    wrapper = mount(Composer, { props: { inquiry: inquiry(over), people }, global: { plugins: [pinia, i18n] }, attachTo: document.body })
  }
  const area = () => byTestId<HTMLTextAreaElement>('composer-text')!.querySelector('textarea') ?? byTestId<HTMLTextAreaElement>('composer-text')!
  async function type(text: string) {
    const el = area()
    el.value = text
    el.setSelectionRange(text.length, text.length)
    el.dispatchEvent(new Event('input', { bubbles: true }))
    await settle(2)
  }
  function keydown(key: string, opts: KeyboardEventInit = {}) {
    area().dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true, ...opts }))
  }
  const checks = () => calls.filter((c) => c.url === '/api/v1/standards/check')
  const sendButton = () => byTestId<HTMLButtonElement>('composer-send')!

  it('checks the reply as the agent types and blocks forbidden language with a clear message', async () => {
    check = { verdict: 'block', findings: [JARGON, FORBIDDEN], rules_version: 3 }
    mountComposer()
    await type('SLA你懂不懂？')
    await until(() => checks().length === 1, 2000)
    // the first reply of the conversation is checked as such
    expect(checks()[0].body).toEqual({ text: 'SLA你懂不懂？', first_reply: true, closing: false })
    await until(() => byTestId('composer-verdict')?.textContent?.includes('不能发送'))
    expect(byTestId('composer-blocked')!.textContent).toContain('包含禁止使用的用语，修改后才能发送')
    expect(byTestId('finding-forbidden')!.textContent).toContain('“你懂不懂”属于禁止用语')
    expect(byTestId('finding-jargon')!.textContent).toContain('建议：服务时限')
    const marks = byTestId('composer-marked')!.querySelectorAll('mark')
    expect([...marks].map((m) => [m.textContent, m.className])).toEqual([
      ['SLA', 'sev-warn'],
      ['你懂不懂', 'sev-block'],
    ])
    expect(sendButton().disabled).toBe(true)
    sendButton().click()
    await settle(2)
    expect(calls.some((c) => c.method === 'POST' && c.url.endsWith('/messages'))).toBe(false)
  })

  it('a reply the server refuses (422 standards_blocked) shows its message, and nothing is cleared', async () => {
    post = () =>
      new Response(
        JSON.stringify({ error: { code: 'standards_blocked', message: '回复不符合沟通标准，未发送：请修改标出的内容', fields: { body: '含有禁止使用的用语' }, details: { findings: { verdict: 'block', findings: [FORBIDDEN], rules_version: 4 } } } }),
        { status: 422, headers: { 'Content-Type': 'application/json' } },
      )
    mountComposer({ sla: { ...inquiry().sla, first_response_at: '2026-12-07T01:00:00Z' } })
    await type('您好，你懂不懂？')
    await until(() => checks().length === 1, 2000)
    expect(checks()[0].body).toMatchObject({ first_reply: false })
    await click('composer-send')
    await until(() => byTestId('composer-refusal'))
    expect(byTestId('composer-refusal')!.textContent).toContain('回复不符合沟通标准，未发送')
    expect(byTestId('finding-forbidden')).not.toBeNull()
    expect(sendButton().disabled).toBe(true)
    expect(area().value).toBe('您好，你懂不懂？')
  })

  it('sends a clean reply with its options and clears the draft', async () => {
    mountComposer()
    await type('您好，报价单已发送，请查收。')
    await until(() => byTestId('composer-check')?.getAttribute('data-verdict') === 'ok', 2000)
    await click('composer-wait')
    keydown('Enter', { ctrlKey: true })
    const sent = await until(() => calls.find((c) => c.method === 'POST' && c.url === '/api/v1/inquiries/i1/messages'))
    expect(sent.body).toEqual({ direction: 'out', body: '您好，报价单已发送，请查收。', wait_for_customer: true, last: false })
    expect(sent.headers['idempotency-key']).toBeTruthy()
    await until(() => area().value === '')
    expect(wrapper.emitted('sent')).toHaveLength(1)
  })

  it('inserts a canned answer typed as "/bj" with its variables filled', async () => {
    mountComposer()
    await type('/bj')
    await until(() => byTestId('picker-canned'))
    await until(() => byTestId('picker-option-报价说明'))
    // the fact does not match "bj"
    expect(byTestId('picker-option-交期')).toBeNull()
    keydown('Enter')
    await until(() => area().value === '周敏您好，报价单今天发您。')
    expect(calls.some((c) => c.url === '/api/v1/canned-answers/k1/render' && (c.body as { inquiry_id: string }).inquiry_id === 'i1')).toBe(true)
    expect(byTestId('picker-canned')).toBeNull()
  })

  it('Ctrl+K opens a searchable picker; arrows choose; a variable without a value is pointed out', async () => {
    mountComposer()
    await type('您好，')
    keydown('k', { ctrlKey: true })
    await until(() => byTestId('picker-search'))
    await until(() => byTestId('picker-option-交期'))
    const search = byTestId<HTMLInputElement>('picker-search')!.querySelector('input') ?? byTestId<HTMLInputElement>('picker-search')!
    search.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowDown', bubbles: true }))
    await settle(1)
    expect(document.querySelector('.picker__item.is-active')?.getAttribute('data-testid')).toBe('picker-option-交期')
    search.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }))
    await until(() => area().value === '您好，标准交期四周。')
    await until(() => document.body.textContent?.includes('以下变量没有可用的值，请手动补全：product'))
  })

  it('an internal note mentions a colleague with "@" and is not checked against the standards', async () => {
    mountComposer()
    await click('composer-mode-note')
    await type('请 @李')
    await until(() => byTestId('picker-mention'))
    expect(byTestId('picker-option-张三')).toBeNull() // not oneself
    keydown('Enter')
    await until(() => area().value === '请 @李四 ')
    await type('请 @李四 帮忙确认交期')
    await click('composer-send')
    const sent = await until(() => calls.find((c) => c.method === 'POST' && c.url === '/api/v1/inquiries/i1/messages'))
    expect(sent.body).toEqual({ direction: 'note', body: '请 @李四 帮忙确认交期', mentions: ['u2'] })
    expect(checks()).toHaveLength(0)
  })

  it('a closed inquiry only takes internal notes', async () => {
    mountComposer({ status: 'closed' })
    await settle(2)
    expect(byTestId('composer')!.className).toContain('composer--note')
    expect(document.body.textContent).toContain('咨询已关闭，只能添加内部备注')
  })

  it('a failed request that is not a refusal is shown as a message', async () => {
    post = () => apiError(409, 'inquiry_closed', '咨询已关闭')
    mountComposer()
    await type('您好，稍后回复您。')
    await click('composer-send')
    await until(() => document.body.textContent?.includes('咨询已关闭'))
    expect(byTestId('composer-refusal')).toBeNull()
  })
})
