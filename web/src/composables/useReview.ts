import { useI18n } from 'vue-i18n'
import { ElMessageBox } from 'element-plus'

/**
 * Asks the reviewer for their comment: optional when approving, required
 * when rejecting (the requester must learn why). Resolves to null when the
 * reviewer cancels.
 */
export function useReviewPrompt() {
  const { t } = useI18n()
  return async (approve: boolean, title: string): Promise<string | null> => {
    try {
      const res = (await ElMessageBox.prompt(t('pipeline.approvals.commentPlaceholder'), title, {
        confirmButtonText: approve ? t('pipeline.solutions.approve') : t('pipeline.solutions.reject'),
        cancelButtonText: t('common.cancel'),
        confirmButtonClass: approve ? '' : 'el-button--danger',
        inputType: 'textarea',
        inputPlaceholder: t('pipeline.approvals.comment'),
        inputValidator: (v: string) => approve || !!(v && v.trim()) || t('pipeline.solutions.rejectRequired'),
        customClass: 'review-prompt',
      })) as { value: string }
      return (res.value ?? '').trim()
    } catch {
      return null
    }
  }
}
