import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount, type VueWrapper } from '@vue/test-utils'
import { createPinia, setActivePinia, type Pinia } from 'pinia'
import { createMemoryHistory, createRouter, type Router } from 'vue-router'
import PipelineBoardView from '@/views/pipeline/PipelineBoardView.vue'
import OpportunityFormDialog from '@/views/pipeline/OpportunityFormDialog.vue'
import CloseDialog from '@/views/pipeline/CloseDialog.vue'
import { applyLocale, i18n } from '@/i18n'
import { useAuthStore } from '@/stores/auth'
import { resetClientConfig } from '@/api/client'
import { resetPipelineMeta } from '@/composables/usePipeline'
import { resetCustomerMeta } from '@/composables/useCustomerMeta'
import { apiError, json, mockFetch, sampleMe, type Call } from './helpers'
import { byTestId, click, settle, typeInto, until } from './customers-helpers'
import { board, opp, pipelineMeta } from './pipeline-helpers'

const Stub = { template: '<div />' }

/** Fires an HTML5 drag from a card onto a column the way the browser does. */
async function drag(card: string, column: string) {
  const from = byTestId(`card-${card}`)!
  const to = byTestId(`column-${column}`)!
  from.dispatchEvent(new Event('dragstart', { bubbles: true }))
  to.dispatchEvent(new Event('dragover', { bubbles: true, cancelable: true }))
  to.dispatchEvent(new Event('drop', { bubbles: true, cancelable: true }))
  from.dispatchEvent(new Event('dragend', { bubbles: true }))
  await settle()
}

// Mounting Element Plus views in happy-dom takes seconds (more on a busy machine).
describe('pipeline screens', { timeout: 120_000 }, () => {
  let wrapper: VueWrapper
  let pinia: Pinia
  let router: Router
  let calls: Call[]
  let handler: (c: Call) => Response | null
  let cards = [opp()]

  beforeEach(() => {
    localStorage.clear()
    applyLocale('zh-CN')
    resetPipelineMeta()
    resetCustomerMeta()
    pinia = createPinia()
    setActivePinia(pinia)
    cards = [opp()]
    handler = () => null
    ;({ calls } = mockFetch((c) => {
      const h = handler(c)
      if (h) return h
      if (c.url.startsWith('/api/v1/pipelines/p1/board')) return json(200, board(cards))
      return pipelineMeta(c) ?? json(404, {})
    }))
    router = createRouter({
      history: createMemoryHistory(),
      routes: [
        { path: '/pipeline', name: 'pipeline-board', component: PipelineBoardView },
        { path: '/pipeline/list', name: 'pipeline-list', component: Stub },
        { path: '/pipeline/forecast', name: 'pipeline-forecast', component: Stub },
        { path: '/opportunities/:id', name: 'opportunity-detail', component: Stub },
        { path: '/customers/:id', name: 'customer-detail', component: Stub },
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

  async function open(path: string, permissions: string[], component?: object, props: Record<string, unknown> = {}) {
    useAuthStore().me = { ...sampleMe, id: 'u1', permissions } as never
    await router.push(path)
    await router.isReady()
    const Root = component ? { components: { C: component }, data: () => ({ props }), template: '<C v-bind="props" />' } : { template: '<router-view />' }
    wrapper = mount(Root, { global: { plugins: [pinia, i18n, router] }, attachTo: document.body })
    await settle()
  }
  const boardLoads = () => calls.filter((c) => c.url.startsWith('/api/v1/pipelines/p1/board')).length
  const moves = () => calls.filter((c) => c.url.endsWith('/move'))
  const SALES = ['opportunities.read', 'opportunities.create', 'opportunities.update']

  it('shows each column with its count and amounts and the card in its stage', async () => {
    await open('/pipeline', SALES)
    await until(() => byTestId('card-云帆数据采集项目'))
    expect(byTestId('column-市场调研')!.textContent).toContain('云帆数据采集项目')
    expect(byTestId('column-count-市场调研')!.textContent).toBe('1')
    expect(byTestId('column-amount-市场调研')!.textContent).toBe('¥186万')
    expect(byTestId('board-total-amount')!.textContent).toBe('¥1,860,000.00')
    expect(byTestId('board-total-weighted')!.textContent).toBe('¥186,000.00')
  })

  it('dropping a card sends the move with the card’s version and puts it in the new column', async () => {
    handler = (c) => {
      if (c.url === '/api/v1/opportunities/o1/move') {
        cards = [opp({ stage_id: 's2', stage_name: '需求分析', probability: 20, weighted_amount: 37200000, version: 4 })]
        return json(200, cards[0])
      }
      return null
    }
    await open('/pipeline', SALES)
    await until(() => byTestId('card-云帆数据采集项目'))
    await drag('云帆数据采集项目', '需求分析')
    const move = await until(() => moves()[0])
    expect(move.method).toBe('POST')
    expect(move.headers['if-match']).toBe('"3"')
    expect(move.body).toEqual({ stage_id: 's2' })
    await until(() => byTestId('column-需求分析')!.textContent?.includes('云帆数据采集项目'))
    expect(byTestId('column-市场调研')!.textContent).not.toContain('云帆数据采集项目')
    await until(() => document.body.textContent?.includes('已将「云帆数据采集项目」移到「需求分析」'))
    // dropping it where it is changes nothing
    const before = moves().length
    await drag('云帆数据采集项目', '需求分析')
    expect(moves().length).toBe(before)
  })

  it('a blocked gate shows exactly what is missing; a salesperson gets no override', async () => {
    handler = (c) =>
      c.url === '/api/v1/opportunities/o1/move'
        ? json(422, {
            error: {
              code: 'stage_gate_blocked',
              message: '不能进入“需求分析”阶段：还缺 1 项准入条件，请先补齐',
              fields: { 'gates.has_research_note': '至少需要 1 条市场调研记录（目前 0 条）' },
              details: { stage_id: 's2', missing: ['has_research_note'] },
            },
          })
        : null
    await open('/pipeline', SALES)
    await until(() => byTestId('card-云帆数据采集项目'))
    await drag('云帆数据采集项目', '需求分析')
    const dialog = await until(() => byTestId('gate-dialog'))
    expect(dialog.textContent).toContain('还不能进入「需求分析」')
    expect(byTestId('gate-message')!.textContent).toContain('还缺 1 项准入条件')
    expect(byTestId('gate-missing-has_research_note')!.textContent).toContain('至少需要 1 条市场调研记录（目前 0 条）')
    expect(byTestId('gate-no-override')).not.toBeNull()
    expect(byTestId('gate-override-reason')).toBeNull()
    // the card stays where it was
    expect(byTestId('column-市场调研')!.textContent).toContain('云帆数据采集项目')
    // "fix it" opens the deal on the tab where the evidence is added
    await click('gate-fix-has_research_note')
    await until(() => router.currentRoute.value.name === 'opportunity-detail')
    expect(router.currentRoute.value.params.id).toBe('o1')
    expect(router.currentRoute.value.query.tab).toBe('research')
  })

  it('a department head overrides the gate with a reason, which is sent with the move', async () => {
    let attempt = 0
    handler = (c) => {
      if (c.url !== '/api/v1/opportunities/o1/move') return null
      attempt++
      if (attempt === 1) {
        return json(422, {
          error: {
            code: 'stage_gate_blocked',
            message: '不能进入“方案设计”阶段：还缺 2 项准入条件，请先补齐',
            fields: { 'gates.has_research_note': '至少需要 1 条市场调研记录（目前 0 条）', 'gates.min_requirements_analysed': '至少需要 1 条已完成可行性分析的需求（目前 0 条）' },
            details: { stage_id: 's3', missing: ['has_research_note', 'min_requirements_analysed'] },
          },
        })
      }
      cards = [opp({ stage_id: 's3', stage_name: '方案设计', version: 4 })]
      return json(200, cards[0])
    }
    await open('/pipeline', [...SALES, 'pipeline.stage_override'])
    await until(() => byTestId('card-云帆数据采集项目'))
    await drag('云帆数据采集项目', '方案设计')
    await until(() => byTestId('gate-override'))
    expect(byTestId('gate-missing')!.querySelectorAll('li')).toHaveLength(2)
    await click('gate-override-submit')
    await until(() => byTestId('gate-dialog')!.textContent?.includes('请填写越过理由'))
    expect(moves()).toHaveLength(1)
    await typeInto('gate-override-reason', '框架协议客户，总经理特批')
    await click('gate-override-submit')
    const second = await until(() => moves()[1])
    expect(second.body).toEqual({ stage_id: 's3', override_reason: '框架协议客户，总经理特批' })
    expect(second.headers['if-match']).toBe('"3"')
    await until(() => byTestId('gate-dialog') === null)
    await until(() => byTestId('column-方案设计')!.textContent?.includes('云帆数据采集项目'))
  })

  it('a card someone else moved first: 412 is reported and the board reloads instead of overwriting', async () => {
    handler = (c) => (c.url === '/api/v1/opportunities/o1/move' ? apiError(412, 'version_conflict', '该记录已被他人修改') : null)
    await open('/pipeline', SALES)
    await until(() => byTestId('card-云帆数据采集项目'))
    const before = boardLoads()
    cards = [opp({ stage_id: 's2', stage_name: '需求分析', version: 5 })] // what the colleague did
    await drag('云帆数据采集项目', '方案设计')
    await until(() => document.body.textContent?.includes('刚被其他人移动或修改过，已刷新为最新状态'))
    await until(() => boardLoads() > before)
    await until(() => byTestId('column-需求分析')!.textContent?.includes('云帆数据采集项目'))
  })

  it('the board’s filters go to the server: mine, department, close range, name', async () => {
    await open('/pipeline?mine=1&from=2027-01-01&to=2027-03-31&q=云帆', SALES)
    const last = await until(() => calls.filter((c) => c.url.startsWith('/api/v1/pipelines/p1/board')).at(-1))
    const q = new URL(last.url, 'http://x').searchParams
    expect(q.get('owner_id')).toBe('u1')
    expect(q.get('close_from')).toBe('2027-01-01')
    expect(q.get('close_to')).toBe('2027-03-31')
    expect(q.get('q')).toBe('云帆')
  })

  it('the opportunity form takes yuan, refuses a negative amount in place and sends integer fen', async () => {
    handler = (c) => {
      if (c.url.startsWith('/api/v1/accounts?')) return json(200, { items: [{ id: 'a1', name: '深圳云帆智能制造有限公司' }], next_cursor: null, total: 1 })
      if (c.method === 'POST' && c.url === '/api/v1/opportunities') {
        const body = c.body as { name: string }
        if (body.name === '重复') return apiError(422, 'validation_failed', '输入有误', { name: '名称不能重复' })
        return json(201, opp({ ...(c.body as object), id: 'o9' }))
      }
      return null
    }
    await open('/panel', SALES, OpportunityFormDialog, { modelValue: true, accountId: 'a1', accountName: '深圳云帆智能制造有限公司' })
    await until(() => byTestId('opp-name'))
    await typeInto('opp-name', '云帆二期 MES 项目')
    await typeInto('opp-amount', '-5')
    await click('opp-save')
    await until(() => document.body.textContent?.includes('金额不能为负数'))
    await typeInto('opp-amount', '1.234')
    await click('opp-save')
    await until(() => document.body.textContent?.includes('金额最多保留两位小数'))
    await typeInto('opp-amount', '10000000000000')
    await click('opp-save')
    await until(() => document.body.textContent?.includes('金额不能超过 1 万亿元'))
    expect(calls.some((c) => c.method === 'POST' && c.url === '/api/v1/opportunities')).toBe(false)

    await typeInto('opp-amount', '1,280,000.50')
    await click('opp-save')
    const post = await until(() => calls.find((c) => c.method === 'POST' && c.url === '/api/v1/opportunities'))
    expect(post.body).toMatchObject({ account_id: 'a1', name: '云帆二期 MES 项目', amount: 128000050, currency: 'CNY', probability: null })
    expect(post.headers['idempotency-key']).toBeTruthy()

    // the server's field error shows at its field
    wrapper.unmount()
    await open('/panel', SALES, OpportunityFormDialog, { modelValue: true, accountId: 'a1', accountName: 'x' })
    await until(() => byTestId('opp-name'))
    await typeInto('opp-name', '重复')
    await click('opp-save')
    await until(() => document.body.textContent?.includes('名称不能重复'))
  })

  it('marking lost needs the competitor and the reason; a typed new competitor is created first', async () => {
    handler = (c) => {
      if (c.method === 'POST' && c.url === '/api/v1/competitors') return json(201, { id: 'c9', name: (c.body as { name: string }).name })
      if (c.url === '/api/v1/opportunities/o1/lose') return json(200, opp({ status: 'lost', lost_to_id: 'c9', lost_to_name: '蓝海智造', version: 4 }))
      return null
    }
    const done = vi.fn()
    await open('/panel', SALES, CloseDialog, { opportunity: opp(), mode: 'lost', onDone: done })
    await until(() => byTestId('close-submit'))
    await click('close-submit')
    await until(() => document.body.textContent?.includes('请选择输给了哪个竞争对手'))
    await until(() => document.body.textContent?.includes('请填写原因'))
    expect(calls.some((c) => c.url.endsWith('/lose'))).toBe(false)

    // what el-select's allow-create puts in the model for a typed name
    const select = wrapper.findComponent({ name: 'ElSelect' })
    select.vm.$emit('update:modelValue', '蓝海智造')
    await settle()
    await typeInto('close-reason', '对方报价低 18%')
    await click('close-submit')
    const lose = await until(() => calls.find((c) => c.url === '/api/v1/opportunities/o1/lose'))
    const created = calls.find((c) => c.method === 'POST' && c.url === '/api/v1/competitors')
    expect(created?.body).toEqual({ name: '蓝海智造' })
    expect(lose.body).toEqual({ reason: '对方报价低 18%', lost_to_id: 'c9' })
    expect(lose.headers['if-match']).toBe('"3"')
    await until(() => done.mock.calls.length === 1)
  })

  it('winning into a gate lists what is missing inside the dialog', async () => {
    handler = (c) =>
      c.url === '/api/v1/opportunities/o1/win'
        ? json(422, {
            error: {
              code: 'stage_gate_blocked',
              message: '不能进入“签约”阶段：还缺 1 项准入条件，请先补齐',
              fields: { 'gates.has_negotiation_record': '至少需要 1 条谈判记录（目前 0 条）' },
              details: { stage_id: 's5', missing: ['has_negotiation_record'] },
            },
          })
        : null
    await open('/panel', SALES, CloseDialog, { opportunity: opp(), mode: 'won' })
    await until(() => byTestId('close-reason'))
    await typeInto('close-reason', '方案与价格均优')
    await click('close-submit')
    await until(() => byTestId('close-gate-has_negotiation_record'))
    expect(byTestId('close-gate-has_negotiation_record')!.textContent).toContain('至少需要 1 条谈判记录（目前 0 条）')
    expect((byTestId('close-submit') as HTMLButtonElement).disabled).toBe(true)
  })
})
