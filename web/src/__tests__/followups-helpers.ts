// Shared fixtures of the follow-up tests.
import type { Task } from '@/api/followups'

/** A task as the server returns it. */
export function task(over: Partial<Task> = {}): Task {
  return {
    id: 't1',
    title: '回电',
    kind: 'call',
    priority: 'normal',
    status: 'open',
    due_at: '2026-03-10T02:00:00Z',
    remind_before_min: 30,
    owner_id: 'u1',
    owner_name: '张三',
    account_id: 'a1',
    account_name: '深圳腾云科技有限公司',
    ref_type: '',
    ref_id: '',
    notes: '',
    result: '',
    source: 'manual',
    is_promise: false,
    promise_text: '',
    promised_to: '',
    promise_state: '',
    met_at: null,
    evidence: '',
    completed_at: null,
    overdue: false,
    version: 1,
    created_at: '2026-03-01T00:00:00Z',
    updated_at: '2026-03-01T00:00:00Z',
    ...over,
  }
}
