// Follow-ups (跟进/承诺): tasks and promises, my day, promise stats, revisit
// plans, in-app notifications, notification channels and the calendar feed.
// Shapes mirror internal/followups/model.go.
import { http } from './client'
import type { ListParams, ListResponse } from './types'

export const TASK_KINDS = ['call', 'visit', 'email', 'send_material', 'meeting', 'internal', 'revisit'] as const
export const TASK_PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const
export const NOTIFY_EVENTS = ['task_reminder', 'task_overdue', 'task_escalated', 'promise_broken', 'task_assigned'] as const
export const CHANNEL_KINDS = ['email', 'wecom', 'dingtalk', 'feishu'] as const

export type TaskKind = (typeof TASK_KINDS)[number]
export type TaskPriority = (typeof TASK_PRIORITIES)[number]
export type TaskStatus = 'open' | 'done' | 'cancelled'
export type PromiseState = '' | 'pending' | 'kept' | 'late' | 'broken'
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number]
export type ChannelKind = (typeof CHANNEL_KINDS)[number]

export interface Task {
  id: string
  title: string
  kind: TaskKind | string
  priority: TaskPriority | string
  status: TaskStatus
  due_at: string
  remind_before_min: number
  owner_id: string
  owner_name: string
  account_id: string | null
  account_name: string
  ref_type: string
  ref_id: string
  notes: string
  result: string
  source: string
  is_promise: boolean
  promise_text: string
  promised_to: string
  promise_state: PromiseState
  met_at: string | null
  evidence: string
  completed_at: string | null
  overdue: boolean
  version: number
  created_at: string
  updated_at: string
}

export interface TaskInput {
  title: string
  kind?: string
  priority?: string
  due_at: string
  remind_before_min?: number
  owner_id?: string
  account_id?: string
  notes?: string
  is_promise?: boolean
  promise_text?: string
  promised_to?: string
}

export type TaskPatch = Partial<Pick<TaskInput, 'title' | 'kind' | 'priority' | 'due_at' | 'remind_before_min' | 'owner_id' | 'notes' | 'promise_text' | 'promised_to'>>

export interface TaskQuery extends ListParams {
  owner_id?: string
  account_id?: string
  status?: TaskStatus | ''
  promise?: boolean
  from?: string
  to?: string
  overdue?: boolean
}

export interface MyDay {
  date: string
  overdue: Task[]
  today: Task[]
  upcoming: Task[]
  promises: Task[]
  counts: { overdue: number; today: number; promises: number }
}

export interface PromiseStats {
  owner_id?: string
  owner_name?: string
  due: number
  kept: number
  late: number
  broken: number
  pending: number
  kept_on_time_rate: number
  fulfilled_rate: number
  broken_tasks?: Task[]
}

export interface PromiseStatsResult {
  total: PromiseStats
  people: PromiseStats[]
  from: string
  to: string
}

export interface RevisitPlan {
  level: string
  interval_days: number
  enabled: boolean
  version: number
  updated_at: string
}

export interface Notification {
  id: string
  event: string
  title: string
  body: string
  link: string
  read_at: string | null
  created_at: string
}

export interface Channel {
  id: string
  kind: ChannelKind
  target: string
  has_secret: boolean
  events: string[]
  enabled: boolean
  version: number
  created_at: string
}

export interface ChannelInput {
  kind: ChannelKind
  target: string
  /** write-only: never returned by the server */
  secret?: string
  /** none = every event */
  events: string[]
  enabled?: boolean
}

export interface Delivery {
  id: string
  notification_id: string
  channel_id: string
  channel_kind: ChannelKind
  title: string
  status: 'pending' | 'delivered' | 'failed'
  attempts: number
  last_error: string
  delivered_at: string | null
  created_at: string
}

/** What the live stream (/me/stream, Server-Sent Events "notifications") sends. */
export interface StreamState {
  unread: number
  latest: Notification | null
}

const enc = encodeURIComponent

export const tasksApi = {
  myDay: () => http.get<MyDay>('/my-day'),
  list: (q: TaskQuery) => http.get<ListResponse<Task>>('/tasks', { ...q }),
  get: (id: string, opts: { silent?: boolean } = {}) => http.get<Task>(`/tasks/${enc(id)}`, undefined, opts),
  /** silent: the form shows field errors itself. */
  create: (body: TaskInput) => http.create<Task>('/tasks', body, { silent: true }),
  /** PATCH with If-Match; a 412 means someone changed the task meanwhile. silent: the caller explains. */
  update: (id: string, patch: TaskPatch, version: number) => http.patch<Task>(`/tasks/${enc(id)}`, patch, version, { silent: true }),
  complete: (id: string, body: { result: string; evidence: string }) =>
    http.post<Task>(`/tasks/${enc(id)}/complete`, body, { silent: true }),
  cancel: (id: string, reason: string) => http.post<Task>(`/tasks/${enc(id)}/cancel`, { reason }, { silent: true }),
  stats: (q: { from?: string; to?: string; owner_id?: string; broken?: boolean }) => http.get<PromiseStatsResult>('/promise-stats', { ...q }),
}

export const revisitApi = {
  list: () => http.get<ListResponse<RevisitPlan>>('/revisit-plans'),
  set: (level: string, body: { interval_days: number; enabled: boolean }) =>
    http.put<RevisitPlan>(`/revisit-plans/${enc(level)}`, body, { silent: true }),
}

export const notificationsApi = {
  list: (q: { unread?: boolean; limit?: number } = {}) => http.get<{ items: Notification[]; unread: number }>('/me/notifications', { ...q }),
  read: (id: string) => http.post<void>(`/me/notifications/${enc(id)}/read`),
  readAll: () => http.post<void>('/me/notifications/read-all'),
  channels: () => http.get<ListResponse<Channel>>('/me/channels'),
  addChannel: (body: ChannelInput) => http.create<Channel>('/me/channels', body, { silent: true }),
  /** Replaces events, address and on/off; an empty secret keeps the stored one. If-Match: a 412 means it changed meanwhile. */
  updateChannel: (id: string, body: Omit<ChannelInput, 'kind'>, version: number) =>
    http.put<Channel>(`/me/channels/${enc(id)}`, body, { silent: true, version }),
  removeChannel: (id: string) => http.del(`/me/channels/${enc(id)}`),
  testChannel: (id: string) => http.post<void>(`/me/channels/${enc(id)}/test`),
  deliveries: (limit = 50) => http.get<ListResponse<Delivery>>('/me/deliveries', { limit }),
  createFeed: () => http.post<{ url: string }>('/me/calendar-feed'),
  revokeFeed: () => http.del('/me/calendar-feed'),
}

/** The live stream's address (EventSource sends the session cookie on same-origin). */
export const STREAM_URL = '/api/v1/me/stream'
