import { describe, expect, it } from 'vitest'
import { ApiError } from '@/api/client'
import type { Board, Opportunity } from '@/api/pipeline'
import { MAX_FEN, fenToYuanInput, formatFen, formatFenShort, parseYuan } from '@/utils/money'
import { applyMove, daysUntil, durationParts, gateBlock, monthRange, parseRequirementLines, pivotForecast, requirementLines } from '@/utils/pipeline'
import { opp } from './pipeline-helpers'

describe('money: yuan typed, fen stored', () => {
  it('parses what people type into integer fen without floating point', () => {
    expect(parseYuan('12500')).toEqual({ ok: true, fen: 1250000 })
    expect(parseYuan('12,500.5')).toEqual({ ok: true, fen: 1250050 })
    expect(parseYuan(' ¥1,280,000.50 ')).toEqual({ ok: true, fen: 128000050 })
    expect(parseYuan('0.1')).toEqual({ ok: true, fen: 10 })
    // 0.1 + 0.2 style errors: 1.15 yuan is exactly 115 fen, 4.35 exactly 435
    expect(parseYuan('1.15')).toEqual({ ok: true, fen: 115 })
    expect(parseYuan('4.35')).toEqual({ ok: true, fen: 435 })
    expect(parseYuan('\uff13\uff10\uff10')).toEqual({ ok: true, fen: 30000 }) // full-width digits
    expect(parseYuan('.5')).toEqual({ ok: true, fen: 50 })
    expect(parseYuan('007')).toEqual({ ok: true, fen: 700 })
  })

  it('refuses negatives, extra decimals, non-numbers and overflow with the reason', () => {
    expect(parseYuan('')).toEqual({ ok: false, error: 'empty' })
    expect(parseYuan('-5')).toEqual({ ok: false, error: 'negative' })
    expect(parseYuan('1.234')).toEqual({ ok: false, error: 'decimals' })
    expect(parseYuan('12a')).toEqual({ ok: false, error: 'format' })
    expect(parseYuan('1e5')).toEqual({ ok: false, error: 'format' })
    expect(parseYuan('.')).toEqual({ ok: false, error: 'format' })
    expect(parseYuan('1000000000000')).toEqual({ ok: true, fen: MAX_FEN }) // one trillion yuan is the cap
    expect(parseYuan('1000000000000.01')).toEqual({ ok: false, error: 'tooLarge' })
    expect(parseYuan('99999999999999999999')).toEqual({ ok: false, error: 'tooLarge' })
  })

  it('formats fen for display and for editing, round-tripping', () => {
    expect(formatFen(1250050)).toBe('¥12,500.50')
    expect(formatFen(0)).toBe('¥0.00')
    expect(formatFen(5)).toBe('¥0.05')
    expect(formatFen(MAX_FEN)).toBe('¥1,000,000,000,000.00')
    expect(formatFen(123456, 'USD')).toBe('US$1,234.56')
    expect(formatFen(null)).toBe('—')
    expect(fenToYuanInput(1250050)).toBe('12500.50')
    expect(fenToYuanInput(1250000)).toBe('12500')
    expect(fenToYuanInput(7)).toBe('0.07')
    for (const fen of [0, 1, 99, 100, 101, 1250050, 98765432101, MAX_FEN]) {
      expect(parseYuan(fenToYuanInput(fen))).toEqual({ ok: true, fen })
    }
  })

  it('shortens amounts with Chinese or English units', () => {
    const zh: [number, string][] = [
      [1e8, '亿'],
      [1e4, '万'],
    ]
    const en: [number, string][] = [
      [1e9, 'B'],
      [1e6, 'M'],
      [1e3, 'K'],
    ]
    expect(formatFenShort(243000000, zh)).toBe('¥243万')
    expect(formatFenShort(1250000, zh)).toBe('¥1.25万')
    expect(formatFenShort(32000000000, zh)).toBe('¥3.2亿')
    expect(formatFenShort(980000, zh)).toBe('¥9,800')
    expect(formatFenShort(1250000, en)).toBe('¥12.5K')
    expect(formatFenShort(243000000, en)).toBe('¥2.43M')
  })
})

describe('gates, board moves and the forecast', () => {
  it('reads a blocked gate into the missing items in the server’s order', () => {
    const e = new ApiError(
      422,
      'stage_gate_blocked',
      '不能进入“报价及谈判”阶段：还缺 2 项准入条件，请先补齐',
      {
        'gates.min_requirements_analysed': '至少需要 1 条已完成可行性分析的需求（目前 0 条）',
        'gates.approved_solution': '需要一份已审批通过的方案',
      },
      { stage_id: 's4', missing: ['min_requirements_analysed', 'approved_solution'] },
    )
    const b = gateBlock(e)!
    expect(b.stageId).toBe('s4')
    expect(b.message).toContain('报价及谈判')
    expect(b.items.map((i) => i.condition)).toEqual(['min_requirements_analysed', 'approved_solution'])
    expect(b.items[0].message).toBe('至少需要 1 条已完成可行性分析的需求（目前 0 条）')
    expect(gateBlock(new ApiError(422, 'validation_failed', 'x', { amount: 'bad' }))).toBeNull()
    expect(gateBlock(new ApiError(412, 'version_conflict', 'x'))).toBeNull()
    expect(gateBlock(new Error('x'))).toBeNull()
  })

  it('moves a card to the top of the new column and carries the totals', () => {
    const a = opp({ id: 'a', stage_id: 's1', amount: 100000, weighted_amount: 10000 })
    const b = opp({ id: 'b', stage_id: 's1', amount: 50000, weighted_amount: 5000 })
    const c = opp({ id: 'c', stage_id: 's2', amount: 30000, weighted_amount: 6000 })
    const stage = (id: string) => ({ id, pipeline_id: 'p', name: id, name_en: '', position: 1, probability: 10, gates: [], version: 1 })
    const board: Board = {
      pipeline_id: 'p',
      count: 3,
      amount: 180000,
      columns: [
        { stage: stage('s1'), count: 2, amount: 150000, weighted_amount: 15000, cards: [a, b] },
        { stage: stage('s2'), count: 1, amount: 30000, weighted_amount: 6000, cards: [c] },
      ],
    }
    const moved = { ...a, stage_id: 's2', weighted_amount: 20000, version: a.version + 1 } as Opportunity
    const next = applyMove(board, a, moved)
    expect(next.columns[0].cards.map((x) => x.id)).toEqual(['b'])
    expect(next.columns[0]).toMatchObject({ count: 1, amount: 50000, weighted_amount: 5000 })
    expect(next.columns[1].cards.map((x) => x.id)).toEqual(['a', 'c'])
    expect(next.columns[1]).toMatchObject({ count: 2, amount: 130000, weighted_amount: 26000 })
    expect(board.columns[0].cards).toHaveLength(2) // the input is not mutated
  })

  it('previews requirement lines as the server splits them', () => {
    const text = '您好，需求如下：\n1. 工业网关 | 20 | 台 | 支持 Modbus | OPC UA\n\n2、边缘服务器 | 2 | 台\n- 42U 机柜\n2.5 套 UPS'
    expect(requirementLines(text)).toHaveLength(5)
    expect(parseRequirementLines(text)).toEqual([
      { product: '您好，需求如下：', quantity: '', unit: '', specification: '' },
      { product: '工业网关', quantity: '20', unit: '台', specification: '支持 Modbus | OPC UA' },
      { product: '边缘服务器', quantity: '2', unit: '台', specification: '' },
      { product: '42U 机柜', quantity: '', unit: '', specification: '' },
      { product: '2.5 套 UPS', quantity: '', unit: '', specification: '' },
    ])
  })

  it('pivots the forecast by month and group, filling the months of the range', () => {
    const rows = [
      { month: '2027-01', group_id: 'u1', group_name: '刘洋', count: 2, amount: 150000, weighted_amount: 70000 },
      { month: '2027-03', group_id: 'u1', group_name: '刘洋', count: 1, amount: 30000, weighted_amount: 3000 },
      { month: '2027-03', group_id: '', group_name: '', count: 1, amount: 10000, weighted_amount: 1000 },
    ]
    const p = pivotForecast(rows, '（未分配部门）', monthRange('2027-01', '2027-04'))
    expect(p.months).toEqual(['2027-01', '2027-02', '2027-03', '2027-04'])
    expect(p.groups.map((g) => g.name).sort()).toEqual(['刘洋', '（未分配部门）'].sort())
    expect(p.weighted.get('u1')?.get('2027-03')).toBe(3000)
    expect(p.monthTotals.get('2027-03')).toEqual({ count: 2, amount: 40000, weighted: 4000 })
    expect(p.total).toEqual({ count: 4, amount: 190000, weighted: 74000 })
    expect(monthRange('2026-11', '2027-02')).toEqual(['2026-11', '2026-12', '2027-01', '2027-02'])
    expect(monthRange('bad', '2027-02')).toEqual([])
  })

  it('counts days to a date and splits durations', () => {
    const now = new Date(2027, 0, 10, 15, 0)
    expect(daysUntil('2027-01-10', now)).toBe(0)
    expect(daysUntil('2027-01-13', now)).toBe(3)
    expect(daysUntil('2027-01-01', now)).toBe(-9)
    expect(daysUntil('', now)).toBeNull()
    expect(durationParts(3 * 86400 + 4 * 3600 + 120)).toEqual({ d: 3, h: 4, m: 2 })
  })
})
