import { useI18n } from 'vue-i18n'
import { ElMessage, ElMessageBox } from 'element-plus'
import { tasksApi, type Task } from '@/api/followups'
import { isApiError } from '@/api/client'
import { snoozeUntil, type SnoozeOption } from '@/utils/followups'
import { useWorkCalendar } from './useWorkCalendar'

/**
 * Reschedule, snooze and cancel, shared by "my day", the calendar, the
 * account's tasks and the task page. Every change carries the task's version:
 * a 412 means someone else changed the task, which is said plainly and the
 * caller reloads (onStale) rather than overwriting their change. Snoozing
 * skips weekends and the public holidays of the work calendar.
 */
export function useTaskActions(onChanged: (t: Task) => void, onStale: () => void) {
  const { t } = useI18n()
  const { calendar } = useWorkCalendar()

  function fail(e: unknown): void {
    if (!isApiError(e)) return
    if (e.status === 412) {
      ElMessage.warning(t('followups.stale'))
      onStale()
      return
    }
    const field = Object.values(e.fields)[0]
    ElMessage.error(field ? `${e.message} ${field}` : e.message)
  }

  async function reschedule(task: Task, due: Date, msgKey = 'followups.rescheduled'): Promise<Task | null> {
    try {
      const x = await tasksApi.update(task.id, { due_at: due.toISOString() }, task.version)
      ElMessage.success(t(msgKey, { title: x.title }))
      onChanged(x)
      return x
    } catch (e) {
      fail(e)
      return null
    }
  }

  function snooze(task: Task, opt: SnoozeOption) {
    return reschedule(task, snoozeUntil(opt, new Date(), calendar.value), 'followups.snoozed')
  }

  async function cancel(task: Task): Promise<Task | null> {
    let reason = ''
    try {
      const res = await ElMessageBox.prompt(
        task.is_promise ? t('followups.cancelPromisePrompt') : t('followups.cancelPrompt'),
        t('followups.cancelTitle', { title: task.title }),
        {
          confirmButtonText: t('followups.actions.cancelTask'),
          cancelButtonText: t('common.cancel'),
          inputValidator: (v: string) => !task.is_promise || !!(v ?? '').trim() || t('followups.reasonRequired'),
        },
      )
      reason = (res as { value: string }).value ?? ''
    } catch {
      return null
    }
    try {
      const x = await tasksApi.cancel(task.id, reason.trim())
      ElMessage.success(t('followups.cancelled', { title: x.title }))
      onChanged(x)
      return x
    } catch (e) {
      fail(e)
      return null
    }
  }

  return { reschedule, snooze, cancel, fail }
}
