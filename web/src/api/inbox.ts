// The inquiry inbox (咨询工作台) and its administration: inquiries and their
// messages, counts and the live stream, calls and meetings, canned answers,
// response-time policies (SLA), assignment rules, the work calendar, the
// communication standards and the connected mailboxes. Shapes mirror
// internal/inquiries, internal/standards, internal/platform/workcal and
// internal/mail.
import { download, http, type RequestOptions } from './client'
import type { ListParams, ListResponse } from './types'

export const CHANNELS = ['phone', 'email', 'web_chat', 'meeting', 'visit', 'ecommerce_im', 'other'] as const
export const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const
export const STATUSES = ['new', 'assigned', 'in_progress', 'waiting_customer', 'resolved', 'closed'] as const
export const OUTCOMES = ['answered', 'lead_created', 'passed_to_tech', 'complaint', 'other'] as const
export const VIEWS = ['mine', 'unassigned', 'team', 'breaching', 'waiting', 'all'] as const
/** Channels staff enter by hand (email and web chat arrive by themselves). */
export const MANUAL_CHANNELS = ['phone', 'meeting', 'visit', 'ecommerce_im', 'other'] as const

export type Channel = (typeof CHANNELS)[number]
export type Priority = (typeof PRIORITIES)[number]
export type Status = (typeof STATUSES)[number]
export type Outcome = (typeof OUTCOMES)[number]
export type InboxView = (typeof VIEWS)[number]

export interface SLAView {
  policy_id: string
  first_response_due: string | null
  first_response_at: string | null
  next_response_due: string | null
  resolution_due: string | null
  resolved_at: string | null
  due_at: string | null
  due_kind: '' | 'first_response' | 'next_response' | 'resolution'
  /** business seconds until due_at (negative once breached); null when no target runs */
  seconds_left: number | null
  paused: boolean
  paused_seconds: number
  /** the policy's warning window: amber when less business time is left */
  warn_before_seconds: number
  breached: boolean
}

export interface Consultation {
  question: string
  answer: string
  outcome: Outcome | string
  follow_up_at: string | null
  follow_up_task_id: string | null
  closed_by: string
}

export interface Inquiry {
  id: string
  subject: string
  channel: Channel | string
  priority: Priority | string
  status: Status | string
  account_id: string | null
  account_name: string
  contact_id: string | null
  contact_name: string
  customer_name: string
  /** masked (z***@example.com) until revealed */
  customer_email: string
  customer_phone: string
  assignee_id: string | null
  assignee_name: string
  department_id: string | null
  mailbox_id?: string
  message_count: number
  unread: boolean
  last_message_at: string
  last_inbound_at: string | null
  sla: SLAView
  consultation: Consultation | null
  version: number
  created_at: string
  updated_at: string
  closed_at: string | null
}

export interface Attachment {
  id: string
  filename: string
  content_type: string
  size: number
}

export interface Finding {
  rule_id: string
  kind: 'forbidden' | 'jargon' | 'greeting' | 'closing' | 'time_promise' | string
  severity: 'hint' | 'warn' | 'block' | string
  start: number
  end: number
  match: string
  message: string
  suggestion: string
}

export interface CheckResult {
  verdict: 'ok' | 'hint' | 'warn' | 'block' | string
  findings: Finding[]
  rules_version: number
}

export type MessageKind = 'message' | 'note' | 'call' | 'meeting' | 'assignment'

export interface Message {
  id: string
  inquiry_id: string
  kind: MessageKind | string
  direction: 'in' | 'out' | 'internal' | string
  author_id: string
  author_name: string
  body: string
  /** sanitised email HTML (shown in a sandboxed frame) */
  html: string
  attachments: Attachment[]
  mentions: string[]
  data?: Record<string, unknown>
  message_id?: string
  in_reply_to?: string
  check?: { blocked: boolean; findings: CheckResult | null }
  created_at: string
}

export interface InquiryQuery extends ListParams {
  view?: InboxView | ''
  status?: string
  channel?: string
  priority?: string
  q?: string
  account_id?: string
  assignee_id?: string
  unread?: boolean
}

export interface CustomerInput {
  account_id?: string
  contact_id?: string
  name?: string
  email?: string
  mobile?: string
  company?: string
  create_account?: boolean
}

export interface InquiryInput {
  subject?: string
  channel: string
  priority?: string
  customer: CustomerInput
  body: string
  assignee_id?: string
  received_at?: string
}

export interface InquiryPatch {
  subject?: string
  priority?: string
  account_id?: string
  contact_id?: string
}

export interface MessageInput {
  direction?: 'out' | 'in' | 'note'
  body: string
  mentions?: string[]
  wait_for_customer?: boolean
  last?: boolean
}

export interface CloseInput {
  question: string
  answer: string
  outcome: string
  follow_up_at?: string | null
  follow_up_note?: string
}

export interface CallInput {
  inquiry_id?: string
  direction: 'in' | 'out'
  number?: string
  duration_sec: number
  summary: string
  subject?: string
  name?: string
  company?: string
  create_account?: boolean
}

export interface CallResult {
  inquiry: Inquiry
  message: Message
}

export interface Attendee {
  name: string
  email: string
}

export interface MeetingInput {
  title: string
  starts_at: string
  ends_at?: string
  place?: string
  agenda?: string
  attendees: Attendee[]
  send?: boolean
}

export interface Breach {
  id: string
  inquiry_id: string
  target: string
  due_at: string
  breached_at: string
  assignee_id: string
  escalated_to: string
}

export type Counts = Partial<Record<InboxView, number>>

export interface Agent {
  user_id: string
  available: boolean
  signature: string
  version: number
  updated_at: string
}

export interface Canned {
  id: string
  kind: 'answer' | 'fact'
  scope: 'personal' | 'team' | 'global'
  owner_id: string
  department_id: string | null
  title: string
  shortcut: string
  body: string
  version: number
  created_at: string
  updated_at: string
}

export type CannedInput = Pick<Canned, 'kind' | 'scope' | 'title' | 'shortcut' | 'body'>

export interface Rendered {
  text: string
  missing: string[]
}

export interface Opportunity {
  id: string
  name: string
  version: number
}

export interface OpportunityInput {
  name?: string
  amount?: number
  currency?: string
  expected_close?: string
  next_step?: string
}

/* ---- administration ---- */

export interface Policy {
  id: string
  name: string
  channel: string
  priority: string
  first_response_min: number
  next_response_min: number
  resolution_min: number
  warn_before_min: number
  enabled: boolean
  version: number
  created_at: string
  updated_at: string
}

export type PolicyInput = Omit<Policy, 'id' | 'version' | 'created_at' | 'updated_at'>

export const STRATEGIES = ['team', 'round_robin', 'user'] as const

export interface AssignRule {
  id: string
  name: string
  position: number
  channel: string
  priority: string
  department_id: string
  strategy: (typeof STRATEGIES)[number] | string
  user_id: string | null
  enabled: boolean
  version: number
  created_at: string
  updated_at: string
}

export interface AssignRuleInput {
  name: string
  position: number
  channel: string
  priority: string
  department_id: string
  strategy: string
  user_id: string
  enabled: boolean
}

export const RULE_KINDS = ['forbidden', 'jargon', 'greeting', 'closing', 'time_promise'] as const
export const SEVERITIES = ['hint', 'warn', 'block'] as const

export interface StandardRule {
  id: string
  kind: (typeof RULE_KINDS)[number] | string
  pattern: string
  lang: '' | 'zh-CN' | 'en' | string
  severity: (typeof SEVERITIES)[number] | string
  suggestion: string
  exceptions: string[]
  note: string
  enabled: boolean
  version: number
  created_at: string
  updated_at: string
}

export type StandardRuleInput = Omit<StandardRule, 'id' | 'version' | 'created_at' | 'updated_at'>

export interface CheckInput {
  text: string
  first_reply?: boolean
  closing?: boolean
  has_follow_up?: boolean
  lang?: string
}

export interface CalendarDay {
  date: string
  kind: 'holiday' | 'workday'
  name: string
  source: 'seed' | 'admin' | 'ics' | string
  version: number
  updated_at: string
}

export interface Span {
  start: string
  end: string
}

export interface CalendarSettings {
  zone: string
  weekdays: number[]
  hours: Span[]
  version: number
  updated_at: string
}

export interface ImportResult {
  holidays: number
  workdays: number
  skipped: number
  dry_run: boolean
  days: { date: string; kind: string; name: string }[]
}

export interface Mailbox {
  id: string
  address: string
  display_name: string
  imap_host: string
  imap_port: number
  imap_tls: 'tls' | 'starttls' | 'plain' | string
  imap_username: string
  imap_password_set: boolean
  folder: string
  smtp_host: string
  smtp_port: number
  smtp_tls: 'tls' | 'starttls' | 'plain' | string
  smtp_username: string
  smtp_password_set: boolean
  enabled: boolean
  poll_interval_seconds: number
  last_uid: number
  last_fetch_at: string | null
  last_error: string
  version: number
  created_at: string
  updated_at: string
}

/** Passwords are write-only: omitted = unchanged. */
export type MailboxInput = Partial<Omit<Mailbox, 'id' | 'imap_password_set' | 'smtp_password_set' | 'last_uid' | 'last_fetch_at' | 'last_error' | 'version' | 'created_at' | 'updated_at'>> & {
  imap_password?: string
  smtp_password?: string
}

export interface MailTest {
  imap: { ok: boolean; message: string }
  smtp: { ok: boolean; message: string }
}

export interface IncomingMail {
  id: string
  message_id: string
  kind: 'delivered' | 'bounce' | 'auto_reply' | 'rejected' | string
  reason: string
  from: string
  subject: string
  size: number
  created_at: string
}

export interface OutgoingMail {
  id: string
  message_id: string
  to: { name: string; email: string }[]
  subject: string
  status: 'queued' | 'sent' | 'failed' | string
  attempts: number
  last_error: string
  sent_at: string | null
  created_at: string
}

const enc = encodeURIComponent
const silent = { silent: true }

export const inquiriesApi = {
  list: (q: InquiryQuery, opts?: RequestOptions) => http.get<ListResponse<Inquiry>>('/inquiries', { ...q }, opts),
  get: (id: string, opts: { silent?: boolean } = {}) => http.get<Inquiry>(`/inquiries/${enc(id)}`, undefined, opts),
  /** silent: the dialog shows field errors. */
  create: (body: InquiryInput) => http.create<Inquiry>('/inquiries', body, silent),
  /** If-Match: a 412 means someone changed the inquiry meanwhile; silent, the caller explains. */
  update: (id: string, patch: InquiryPatch, version: number) => http.patch<Inquiry>(`/inquiries/${enc(id)}`, patch, version, silent),
  status: (id: string, status: string, version: number) =>
    http.post<Inquiry>(`/inquiries/${enc(id)}/status`, { status }, { silent: true, version }),
  assign: (id: string, body: { assignee_id?: string; department_id?: string; reason?: string }, version: number) =>
    http.post<Inquiry>(`/inquiries/${enc(id)}/assign`, body, { silent: true, version }),
  close: (id: string, body: CloseInput, version: number) => http.post<Inquiry>(`/inquiries/${enc(id)}/close`, body, { silent: true, version }),
  reopen: (id: string, reason: string, version: number) =>
    http.post<Inquiry>(`/inquiries/${enc(id)}/reopen`, { reason }, { silent: true, version }),
  reveal: (id: string) => http.post<{ customer_email: string; customer_phone: string }>(`/inquiries/${enc(id)}/reveal`),
  read: (id: string) => http.post<void>(`/inquiries/${enc(id)}/read`, {}, silent),
  /** "I am writing": shown live to colleagues and, on a web chat, to the visitor. */
  typing: (id: string) => http.post<void>(`/inquiries/${enc(id)}/typing`, {}, silent),
  messages: (id: string, q: ListParams = {}) => http.get<ListResponse<Message>>(`/inquiries/${enc(id)}/messages`, { limit: 200, ...q }),
  /** silent: a refused reply (422 standards_blocked) is shown in the composer. */
  post: (id: string, body: MessageInput) => http.create<Message>(`/inquiries/${enc(id)}/messages`, body, silent),
  breaches: (id: string) => http.get<ListResponse<Breach>>(`/inquiries/${enc(id)}/breaches`),
  meeting: (id: string, body: MeetingInput) => http.create<Message>(`/inquiries/${enc(id)}/meetings`, body, silent),
  inviteIcs: (id: string, messageId: string, fallbackName: string) =>
    download(`/inquiries/${enc(id)}/meetings/${enc(messageId)}/invite.ics`, undefined, fallbackName),
  attachment: (id: string, a: Attachment) => download(`/inquiries/${enc(id)}/attachments/${enc(a.id)}`, undefined, a.filename),
  opportunity: (id: string, body: OpportunityInput) => http.create<Opportunity>(`/inquiries/${enc(id)}/opportunity`, body, silent),
  counts: () => http.get<Counts>('/inbox/counts', undefined, silent),
}

export const callsApi = {
  log: (body: CallInput) => http.create<CallResult>('/calls', body, silent),
}

export const agentsApi = {
  get: (userId = 'me') => http.get<Agent>(`/inbox-agents/${enc(userId)}`),
  update: (userId: string, body: { available?: boolean; signature?: string }, version: number) =>
    http.patch<Agent>(`/inbox-agents/${enc(userId)}`, body, version, silent),
}

export const cannedApi = {
  list: (q: { kind?: string; q?: string } = {}) => http.get<ListResponse<Canned>>('/canned-answers', { ...q }),
  create: (body: CannedInput) => http.create<Canned>('/canned-answers', body, silent),
  update: (id: string, body: CannedInput, version: number) => http.patch<Canned>(`/canned-answers/${enc(id)}`, body, version, silent),
  remove: (id: string) => http.del(`/canned-answers/${enc(id)}`),
  render: (id: string, inquiryId: string) => http.post<Rendered>(`/canned-answers/${enc(id)}/render`, { inquiry_id: inquiryId }),
}

export const slaApi = {
  list: () => http.get<ListResponse<Policy>>('/sla-policies'),
  create: (body: PolicyInput) => http.create<Policy>('/sla-policies', body, silent),
  update: (id: string, body: PolicyInput, version: number) => http.patch<Policy>(`/sla-policies/${enc(id)}`, body, version, silent),
  remove: (id: string) => http.del(`/sla-policies/${enc(id)}`),
}

export const assignRulesApi = {
  list: () => http.get<ListResponse<AssignRule>>('/inquiry-rules'),
  create: (body: AssignRuleInput) => http.create<AssignRule>('/inquiry-rules', body, silent),
  update: (id: string, body: AssignRuleInput, version: number) => http.patch<AssignRule>(`/inquiry-rules/${enc(id)}`, body, version, silent),
  remove: (id: string) => http.del(`/inquiry-rules/${enc(id)}`),
}

export const standardsApi = {
  /** Checks a draft as the agent types; silent (a failed check must not interrupt typing). */
  check: (body: CheckInput, signal?: AbortSignal) => http.post<CheckResult>('/standards/check', body, { silent: true, signal }),
  rules: (q: ListParams & { kind?: string; q?: string }) => http.get<ListResponse<StandardRule>>('/standards/rules', { ...q }),
  create: (body: StandardRuleInput) => http.create<StandardRule>('/standards/rules', body, silent),
  update: (id: string, body: Partial<StandardRuleInput>, version: number) =>
    http.patch<StandardRule>(`/standards/rules/${enc(id)}`, body, version, silent),
  remove: (id: string, version: number) => http.del(`/standards/rules/${enc(id)}`, version),
}

export const workCalendarApi = {
  days: (year: number) => http.get<{ items: CalendarDay[]; year: number }>('/work-calendar/days', { year }),
  /** version: If-Match of an existing date (412 when changed meanwhile). */
  setDay: (date: string, body: { kind: string; name: string }, version?: number) =>
    http.put<CalendarDay>(`/work-calendar/days/${enc(date)}`, body, { silent: true, version }),
  removeDay: (date: string) => http.del(`/work-calendar/days/${enc(date)}`),
  settings: () => http.get<CalendarSettings>('/work-calendar/settings'),
  updateSettings: (body: Partial<Pick<CalendarSettings, 'zone' | 'weekdays' | 'hours'>>, version: number) =>
    http.patch<CalendarSettings>('/work-calendar/settings', body, version, silent),
  importIcs: (file: Blob, dryRun: boolean) =>
    http.upload<ImportResult>('/work-calendar/import', file, { dry_run: dryRun }, { silent: true, contentType: 'text/calendar' }),
  due: (from: string, minutes: number) => http.get<{ due: string }>('/work-calendar/due', { from, minutes }),
}

export const mailboxesApi = {
  list: () => http.get<{ items: Mailbox[] }>('/mailboxes'),
  create: (body: MailboxInput) => http.create<Mailbox>('/mailboxes', body, silent),
  update: (id: string, body: MailboxInput, version: number) => http.patch<Mailbox>(`/mailboxes/${enc(id)}`, body, version, silent),
  remove: (id: string, version: number) => http.del(`/mailboxes/${enc(id)}`, version),
  test: (id: string) => http.post<MailTest>(`/mailboxes/${enc(id)}/test`),
  incoming: (id: string, q: ListParams & { kind?: string } = {}) => http.get<ListResponse<IncomingMail>>(`/mailboxes/${enc(id)}/incoming`, { limit: 20, ...q }),
  outgoing: (id: string, q: ListParams & { status?: string } = {}) => http.get<ListResponse<OutgoingMail>>(`/mailboxes/${enc(id)}/outgoing`, { limit: 20, ...q }),
}

/** The live inbox stream (Server-Sent Events, session cookie). */
export const INBOX_STREAM_URL = '/api/v1/inbox/stream'
