import { computed, ref, shallowRef } from 'vue'
import { useI18n } from 'vue-i18n'
import { ElMessage } from 'element-plus'
import { isApiError } from '@/api/client'
import { opportunitiesApi, type Opportunity, type Stage } from '@/api/pipeline'
import { useAuthStore } from '@/stores/auth'
import { gateBlock, stageName, type GateBlock } from '@/utils/pipeline'

export interface PendingGate {
  block: GateBlock
  deal: Opportunity
  stage: Stage
}

/**
 * Moving a deal to another stage, shared by the board (drag and drop, the
 * card menu) and the opportunity page (the stage bar). The move carries the
 * deal's version (If-Match): a 412 means someone moved or changed it first —
 * the user is told and the caller reloads instead of overwriting. A blocked
 * gate opens the gate dialog (pending), from which a holder of
 * pipeline.stage_override can override with a reason.
 */
export function useStageMove(handlers: { moved: (after: Opportunity, before: Opportunity) => void; stale: (before: Opportunity) => void }) {
  const { t, locale } = useI18n()
  const auth = useAuthStore()
  const pending = shallowRef<PendingGate | null>(null)
  const busy = ref(false)
  const canOverride = computed(() => auth.can('pipeline.stage_override'))

  async function move(deal: Opportunity, stage: Stage, overrideReason?: string): Promise<boolean> {
    if (deal.status !== 'open') {
      ElMessage.warning(t('pipeline.board.closedCard'))
      return false
    }
    if (deal.stage_id === stage.id) return false
    busy.value = true
    try {
      const after = await opportunitiesApi.move(
        deal.id,
        overrideReason ? { stage_id: stage.id, override_reason: overrideReason } : { stage_id: stage.id },
        deal.version,
        { silent: true },
      )
      pending.value = null
      const label = stageName(stage, locale.value)
      ElMessage.success(t(overrideReason ? 'pipeline.gate.overridden' : 'pipeline.board.moved', { name: deal.name, stage: label }))
      handlers.moved(after, deal)
      return true
    } catch (e) {
      const block = gateBlock(e)
      if (block) {
        pending.value = { block, deal, stage }
        return false
      }
      pending.value = null
      if (isApiError(e) && e.status === 412) {
        ElMessage.warning(t('pipeline.board.stale', { name: deal.name }))
        handlers.stale(deal)
      } else if (isApiError(e) && e.status === 409) {
        ElMessage.warning(e.message)
        handlers.stale(deal)
      } else if (isApiError(e)) {
        ElMessage.error(e.message)
      }
      return false
    } finally {
      busy.value = false
    }
  }

  /** Retries the pending move with the override reason. */
  function override(reason: string) {
    const p = pending.value
    if (p) return move(p.deal, p.stage, reason)
    return Promise.resolve(false)
  }

  const dismiss = () => (pending.value = null)
  const pendingStage = computed(() => (pending.value ? stageName(pending.value.stage, locale.value) : ''))

  return { pending, pendingStage, busy, canOverride, move, override, dismiss }
}
