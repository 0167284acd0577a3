// Shared fixtures of the inbox tests.
import type { Inquiry, Message } from '@/api/inbox'

export function inquiry(over: Partial<Inquiry> = {}): Inquiry {
  return {
    id: 'i1',
    subject: '咨询光模块报价',
    channel: 'email',
    priority: 'normal',
    status: 'new',
    account_id: 'a1',
    account_name: '星河电子有限公司',
    contact_id: 'c1',
    contact_name: '周敏',
    customer_name: '周敏',
    customer_email: 'z***@xinghe.example',
    customer_phone: '',
    assignee_id: null,
    assignee_name: '',
    department_id: 'd1',
    message_count: 1,
    unread: true,
    last_message_at: new Date().toISOString(),
    last_inbound_at: new Date().toISOString(),
    sla: {
      policy_id: 'p1',
      first_response_due: new Date(Date.now() + 3600_000).toISOString(),
      first_response_at: null,
      next_response_due: null,
      resolution_due: null,
      resolved_at: null,
      due_at: new Date(Date.now() + 3600_000).toISOString(),
      due_kind: 'first_response',
      seconds_left: 3600,
      paused: false,
      paused_seconds: 0,
      warn_before_seconds: 1800,
      breached: false,
    },
    consultation: null,
    version: 3,
    created_at: new Date().toISOString(),
    updated_at: new Date().toISOString(),
    closed_at: null,
    ...over,
  }
}

export function message(over: Partial<Message> = {}): Message {
  return {
    id: 'm1',
    inquiry_id: 'i1',
    kind: 'message',
    direction: 'in',
    author_id: '',
    author_name: '周敏',
    body: '请问 100G 光模块的批量报价？',
    html: '',
    attachments: [],
    mentions: [],
    created_at: new Date().toISOString(),
    ...over,
  }
}

/** A stand-in for the browser's EventSource: tests push events through `emit`. */
export class FakeEventSource {
  static instances: FakeEventSource[] = []
  url: string
  onopen: (() => void) | null = null
  onerror: (() => void) | null = null
  closed = false
  private listeners = new Map<string, ((e: MessageEvent) => void)[]>()
  constructor(url: string) {
    this.url = url
    FakeEventSource.instances.push(this)
  }
  addEventListener(type: string, fn: (e: MessageEvent) => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), fn])
  }
  close() {
    this.closed = true
  }
  emit(type: string, data: unknown) {
    for (const fn of this.listeners.get(type) ?? []) fn(new MessageEvent(type, { data: JSON.stringify(data) }))
  }
  static last(): FakeEventSource {
    return FakeEventSource.instances[FakeEventSource.instances.length - 1]
  }
}
