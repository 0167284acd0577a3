// Shared fixtures of the pipeline tests.
import type { Opportunity, Pipeline } from '@/api/pipeline'
import { json, type Call } from './helpers'

export const STAGES = [
  { id: 's1', name: '市场调研', name_en: 'Market research', probability: 10, gates: [] },
  { id: 's2', name: '需求分析', name_en: 'Needs analysis', probability: 20, gates: [{ condition: 'has_research_note', n: 1 }] },
  { id: 's3', name: '方案设计', name_en: 'Solution design', probability: 40, gates: [{ condition: 'min_requirements_analysed', n: 1 }] },
].map((s, i) => ({ ...s, pipeline_id: 'p1', position: i + 1, version: 1 }))

export const PIPELINE: Pipeline = { id: 'p1', name: '售前流程', name_en: 'Presales process', is_default: true, sort_order: 0, stages: STAGES, version: 1 }

export function opp(over: Partial<Opportunity> = {}): Opportunity {
  return {
    id: 'o1',
    account_id: 'a1',
    account_name: '深圳云帆智能制造有限公司',
    pipeline_id: 'p1',
    stage_id: 's1',
    stage_name: '市场调研',
    stage_name_en: 'Market research',
    name: '云帆数据采集项目',
    amount: 186000000,
    currency: 'CNY',
    weighted_amount: 18600000,
    expected_close: '2027-02-28',
    probability: 10,
    probability_overridden: false,
    source: 'inquiry',
    source_inquiry_id: 'i1',
    owner_id: 'u1',
    owner_name: '张三',
    department_id: 'd1',
    next_step: '',
    status: 'open',
    close_reason: '',
    lost_to_id: null,
    lost_to_name: '',
    closed_at: null,
    stage_entered_at: new Date().toISOString(),
    competitors: [],
    collaborator_ids: [],
    version: 3,
    created_at: '2026-12-01T00:00:00Z',
    updated_at: '2026-12-01T00:00:00Z',
    ...over,
  }
}

/** The board of PIPELINE with the given cards in their stages' columns. */
export function board(cards: Opportunity[]) {
  return {
    pipeline_id: 'p1',
    count: cards.length,
    amount: cards.reduce((n, c) => n + c.amount, 0),
    columns: STAGES.map((s) => {
      const mine = cards.filter((c) => c.stage_id === s.id)
      return {
        stage: s,
        count: mine.length,
        amount: mine.reduce((n, c) => n + c.amount, 0),
        weighted_amount: mine.reduce((n, c) => n + c.weighted_amount, 0),
        cards: mine,
      }
    }),
  }
}

/** Answers the lookups every pipeline screen makes. */
export function pipelineMeta(c: Call): Response | null {
  if (c.url === '/api/v1/pipelines') return json(200, { items: [PIPELINE], next_cursor: null, total: 1 })
  if (c.url.startsWith('/api/v1/pipeline-conditions')) {
    return json(200, {
      items: [
        { key: 'has_research_note', counted: true, pending: false, description: 'x' },
        { key: 'min_requirements_analysed', counted: true, pending: false, description: 'y' },
      ],
    })
  }
  if (c.url.startsWith('/api/v1/directory')) return json(200, { items: [{ id: 'u1', display_name: '张三', department_id: 'd1' }], next_cursor: null, total: 1 })
  if (c.url.startsWith('/api/v1/departments')) return json(200, { items: [{ id: 'd1', name: '售前一部', parent_id: null, manager_id: null, version: 1 }] })
  if (c.url.startsWith('/api/v1/competitors')) return json(200, { items: [{ id: 'c1', name: '星河科技' }], next_cursor: null, total: 1 })
  return null
}
