import { computed, shallowRef } from 'vue'
import { useI18n } from 'vue-i18n'
import { competitorsApi, pipelinesApi, supportApi, type Assignee, type Competitor, type ConditionInfo, type Gate, type Pipeline, type Stage } from '@/api/pipeline'
import { formatFen, formatFenShort, type ShortUnits } from '@/utils/money'
import { durationParts, stageName } from '@/utils/pipeline'

// Lists every pipeline screen needs and that change rarely: loaded once per
// page load and shared (the administrator's stage editor resets them).
let pipelinesP: Promise<Pipeline[]> | null = null
let conditionsP: Promise<ConditionInfo[]> | null = null
let assigneesP: Promise<Assignee[]> | null = null

export function loadPipelines(): Promise<Pipeline[]> {
  pipelinesP ??= pipelinesApi
    .list()
    .then((r) => r.items ?? [])
    .catch(() => {
      pipelinesP = null
      return []
    })
  return pipelinesP
}

export function loadConditions(): Promise<ConditionInfo[]> {
  conditionsP ??= pipelinesApi
    .conditions()
    .then((r) => r.items ?? [])
    .catch(() => {
      conditionsP = null
      return []
    })
  return conditionsP
}

export function loadAssignees(): Promise<Assignee[]> {
  assigneesP ??= supportApi
    .assignees()
    .then((r) => r.items ?? [])
    .catch(() => {
      assigneesP = null
      return []
    })
  return assigneesP
}

/** Forgets the cached lists (after the stage editor saved; tests). */
export function resetPipelineMeta(): void {
  pipelinesP = null
  conditionsP = null
  assigneesP = null
}

/** Reactive pipelines and the gate catalogue; call load() in onMounted. */
export function usePipelineMeta() {
  const { t, te, locale } = useI18n()
  const pipelines = shallowRef<Pipeline[]>([])
  const conditions = shallowRef<ConditionInfo[]>([])
  async function load(parts: { conditions?: boolean } = {}) {
    const jobs: Promise<unknown>[] = [loadPipelines().then((p) => (pipelines.value = p))]
    if (parts.conditions) jobs.push(loadConditions().then((c) => (conditions.value = c)))
    await Promise.all(jobs)
  }
  const stagesById = computed(() => {
    const m = new Map<string, Stage>()
    for (const p of pipelines.value) for (const s of p.stages) m.set(s.id, s)
    return m
  })
  const conditionText = (key: string) => conditions.value.find((c) => c.key === key)?.description ?? key
  /** What a stage's gate asks for ("至少 1 条市场调研记录"); the server's words for conditions this UI does not know. */
  const gateText = (g: Gate) => (te(`pipeline.conditions.${g.condition}`) ? t(`pipeline.conditions.${g.condition}`, { n: g.n || 1 }) : conditionText(g.condition))
  const nameOf = (s: Stage | null | undefined) => stageName(s, locale.value)
  const pipelineName = (p: Pipeline | null | undefined) => (p ? (locale.value === 'en' && p.name_en ? p.name_en : p.name) : '')
  return { pipelines, conditions, stagesById, conditionText, gateText, stageName: nameOf, pipelineName, load }
}

/** Competitor profiles (for pickers); reload() after adding one. */
export function useCompetitors() {
  const competitors = shallowRef<Competitor[]>([])
  const loading = shallowRef(false)
  async function reload() {
    loading.value = true
    try {
      competitors.value = (await competitorsApi.list()).items ?? []
    } catch {
      /* message shown by the client */
    } finally {
      loading.value = false
    }
  }
  return { competitors, loading, reload }
}

/** Money display in the UI language: full ("¥12,500.00") and short ("¥1.25万" / "¥12.5K"). */
export function useMoney() {
  const { t, locale } = useI18n()
  const units = computed<ShortUnits>(() =>
    locale.value === 'en'
      ? [
          [1e9, t('pipeline.money.billion')],
          [1e6, t('pipeline.money.million')],
          [1e3, t('pipeline.money.thousand')],
        ]
      : [
          [1e8, t('pipeline.money.yi')],
          [1e4, t('pipeline.money.wan')],
        ],
  )
  return {
    money: (fen: number | null | undefined, currency = 'CNY') => formatFen(fen, currency),
    short: (fen: number | null | undefined, currency = 'CNY') => formatFenShort(fen, units.value, currency),
  }
}

/** "3 天 4 小时" / "2 小时 5 分钟" / "12 分钟": the two largest units of a duration. */
export function useDuration() {
  const { t } = useI18n()
  return (seconds: number | null | undefined) => {
    if (seconds === null || seconds === undefined) return '—'
    const { d, h, m } = durationParts(seconds)
    if (d > 0) return t('pipeline.duration.days', { d, h })
    if (h > 0) return t('pipeline.duration.hours', { h, m })
    if (m > 0) return t('pipeline.duration.minutes', { m })
    return t('pipeline.duration.seconds', { s: Math.max(0, Math.floor(seconds)) })
  }
}
