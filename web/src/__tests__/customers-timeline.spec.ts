import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount, type VueWrapper } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import TimelinePanel from '@/views/customers/TimelinePanel.vue'
import { applyLocale, i18n } from '@/i18n'
import { resetClientConfig } from '@/api/client'
import { describeEvent, KNOWN_TIMELINE_KINDS } from '@/utils/customers'
import type { TimelineEvent } from '@/api/types'
import zhCN from '@/locales/zh-CN'
import en from '@/locales/en'
import { CUSTOMER_ENUMS } from '@/constants'
import { json, mockFetch, type Call } from './helpers'
import { settle } from './customers-helpers'

const ev = (over: Partial<TimelineEvent>): TimelineEvent => ({
  id: 'e1',
  account_id: 'a1',
  kind: 'note',
  ref_type: 'account',
  ref_id: 'a1',
  actor_id: 'u1',
  actor_name: '张三',
  occurred_at: '2025-03-01T02:00:00Z',
  title: '',
  body: '',
  data: null,
  ...over,
})

const CALL = ev({
  id: 'e-call',
  kind: 'call',
  ref_type: 'activity',
  ref_id: 'act1',
  title: '客户询问报价',
  body: '客户询问报价',
  data: { direction: 'outbound', duration_min: 15, outcome: '需要报价', next_step: '发送报价单', next_step_at: '2025-03-03T02:00:00Z', contact_id: 'c1' },
})
const FUTURE = ev({ id: 'e-quote', kind: 'survey_sent', ref_type: 'survey', ref_id: 's1', title: '满意度调查 S-2025-001', body: '季度回访问卷' })
const STATUS = ev({ id: 'e-status', kind: 'account_status_changed', body: 'active', data: { from: 'prospect', to: 'active' } })
const TRANSFER = ev({
  id: 'e-transfer',
  kind: 'account_transferred',
  body: '区域调整',
  data: { from_owner_name: '张三', to_owner_name: '李四', reason: '区域调整' },
})

describe('timeline rendering', () => {
  it('describes known kinds with icon, colour and details', () => {
    const d = describeEvent(CALL)
    expect(d).toMatchObject({ known: true, icon: 'phone', kindKey: 'customers.timeline.kinds.call', title: '客户询问报价', activityId: 'act1' })
    expect(d.body).toBe('') // the title already is the summary's first line
    expect(d.meta.map((m) => m.label)).toEqual([
      'customers.activity.direction',
      'customers.activity.duration',
      'customers.activity.outcome',
      'customers.activity.nextStep',
    ])
    expect(describeEvent(TRANSFER).meta).toEqual([
      { label: 'customers.timeline.owner', value: '张三 → 李四' },
      { label: 'customers.timeline.reason', value: '区域调整' },
    ])
  })

  it('falls back to a generic entry with title and body for kinds it does not know', () => {
    const d = describeEvent(FUTURE)
    expect(d).toMatchObject({ known: false, icon: 'generic', kindKey: null, title: '满意度调查 S-2025-001', body: '季度回访问卷', meta: [], activityId: null })
    expect(describeEvent(ev({ kind: 'x', data: { anything: 1 } })).known).toBe(false)
    // a change of a field added later still reads as a change
    expect(describeEvent(ev({ kind: 'account_budget_changed', body: '50 万', data: { from: '', to: '50 万' } }))).toMatchObject({
      icon: 'change',
      kindKey: null,
      body: '50 万',
    })
  })

  it('labels every enumeration value in both languages', () => {
    type Tree = Record<string, Record<string, string>>
    for (const [group, values] of Object.entries(CUSTOMER_ENUMS)) {
      for (const v of values) {
        expect((zhCN.customers.enums as unknown as Tree)[group]?.[v], `zh-CN ${group}.${v}`).toBeTruthy()
        expect((en.customers.enums as unknown as Tree)[group]?.[v], `en ${group}.${v}`).toBeTruthy()
      }
    }
  })

  it('labels every known kind in both languages', () => {
    for (const k of KNOWN_TIMELINE_KINDS) {
      expect((zhCN.customers.timeline.kinds as Record<string, string>)[k], k).toBeTruthy()
      expect((en.customers.timeline.kinds as Record<string, string>)[k], k).toBeTruthy()
    }
  })
})

describe('TimelinePanel', () => {
  let wrapper: VueWrapper
  let calls: Call[]

  beforeEach(() => {
    applyLocale('zh-CN')
    setActivePinia(createPinia())
    ;({ calls } = mockFetch((c) => {
      if (c.url.startsWith('/api/v1/accounts/a1/timeline')) {
        const more = c.url.includes('cursor=')
        return json(200, { items: more ? [TRANSFER] : [FUTURE, CALL, STATUS], next_cursor: more ? null : 'CUR1', total: -1 })
      }
      return json(404, {})
    }))
  })
  afterEach(() => {
    wrapper?.unmount()
    vi.unstubAllGlobals()
    resetClientConfig()
  })

  async function mountPanel() {
    const contacts = [{ id: 'c1', name: '王强', accounts: [] }] as never
    wrapper = mount(TimelinePanel, { props: { accountId: 'a1', contacts }, global: { plugins: [i18n] } })
    await settle()
  }

  it('renders known kinds nicely and unknown ones generically, newest first', async () => {
    await mountPanel()
    const items = wrapper.findAll('.timeline__item')
    expect(items).toHaveLength(3)

    // a kind no capability has labelled yet (a future survey): shown generically
    const generic = wrapper.find('[data-testid="timeline-item-survey_sent"]')
    expect(generic.classes()).toContain('timeline__item--generic')
    expect(generic.text()).toContain('survey_sent') // raw kind as its label
    expect(generic.text()).toContain('满意度调查 S-2025-001')
    expect(generic.text()).toContain('季度回访问卷')

    const call = wrapper.find('[data-testid="timeline-item-call"]')
    expect(call.classes()).toContain('timeline__item--call')
    expect(call.text()).toContain('通话')
    expect(call.text()).toContain('呼出')
    expect(call.text()).toContain('15 分钟')
    expect(call.text()).toContain('发送报价单')
    expect(call.text()).toContain('王强') // contact name from the account's contacts

    expect(wrapper.find('[data-testid="timeline-item-account_status_changed"]').text()).toContain('客户状态：潜在客户 → 合作中')
  })

  it('loads more with the cursor and filters by kind', async () => {
    await mountPanel()
    await wrapper.find('[data-testid="timeline-more"]').trigger('click')
    await settle()
    expect(calls.at(-1)!.url).toContain('cursor=CUR1')
    expect(wrapper.findAll('.timeline__item')).toHaveLength(4)
    expect(wrapper.find('[data-testid="timeline-more"]').exists()).toBe(false)

    await wrapper.find('[data-testid="timeline-filter-call"]').trigger('click')
    await settle()
    expect(decodeURIComponent(calls.at(-1)!.url)).toContain('kind=call')
    await wrapper.find('[data-testid="timeline-filter-changes"]').trigger('click')
    await settle()
    expect(decodeURIComponent(calls.at(-1)!.url)).toContain('kind=account_created,account_transferred,account_merged,account_archived,account_needs_changed')
  })
})
