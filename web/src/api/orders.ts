// E-commerce orders (regulation 5, 淘宝客服售前规章制度): import of a shop's
// export, the confirmation queue, abnormal orders for the team leader,
// returns and exchanges, and the administrator's rules. Shapes mirror
// internal/orders/model.go; money is integer fen.
import { http } from './client'
import type { ListParams, ListResponse } from './types'

const enc = encodeURIComponent

/** What staff confirm with the buyer, in the order of the 1–6 keys (第十五条). */
export const CHECK_KEYS = ['items', 'specification', 'price', 'consignee', 'phone', 'address'] as const
export type CheckKey = (typeof CHECK_KEYS)[number]

export const FLAG_RULES = ['address_incomplete', 'amount_over_limit', 'same_address', 'risk_words'] as const
export const RETURN_KINDS = ['return', 'exchange', 'refund_only'] as const
export const PLATFORM_RULES = ['seven_day_no_reason', 'quality_issue', 'wrong_item', 'not_as_described', 'damaged_in_transit', 'other'] as const
/** Rules the seven-day no-reason window limits (internal/orders windowedRules). */
export const WINDOWED_RULES: readonly string[] = ['seven_day_no_reason', 'other']
export const RETURN_STATUSES = ['requested', 'approved', 'rejected', 'received', 'refunded', 'exchanged', 'closed'] as const
export const RETURN_ACTIONS = ['approve', 'reject', 'receive', 'refund', 'exchange', 'close'] as const

export type OrderStatus = 'pending' | 'confirmed' | 'rejected'
export type ReviewStatus = '' | 'pending' | 'approved' | 'rejected'
export type ReturnKind = (typeof RETURN_KINDS)[number]
export type ReturnStatus = (typeof RETURN_STATUSES)[number]
export type ReturnAction = (typeof RETURN_ACTIONS)[number]

export interface OrderItem {
  name: string
  spec: string
  qty: number
  unit_price_fen: number
}

export interface OrderFlag {
  rule: string
  detail: string
}

export interface Order {
  id: string
  order_no: string
  buyer: string
  consignee: string
  phone: string
  phone_masked: boolean
  province: string
  city: string
  district: string
  address_detail: string
  amount_fen: number
  paid_at: string | null
  buyer_message: string
  status: OrderStatus
  flagged: boolean
  flags: OrderFlag[]
  review_status: ReviewStatus
  reviewed_by: string
  reviewed_at: string | null
  review_comment: string
  checklist: Partial<Record<CheckKey, boolean>>
  confirm_message: string
  confirmed_by: string
  confirmed_at: string | null
  delivered_at: string | null
  account_id: string | null
  owner_id: string
  source: string
  items: OrderItem[]
  version: number
  created_at: string
  updated_at: string
}

export interface OrderQuery extends ListParams {
  q?: string
  status?: string
  review_status?: string
  flagged?: boolean
  ready?: boolean
}

export interface RowError {
  row: number
  order_no?: string
  field: string
  message: string
}

export interface ImportResult {
  dry_run: boolean
  rows: number
  orders: number
  created: number
  updated: number
  skipped: number
  flagged: number
  errors: RowError[]
  preview: Order[]
  headers: Record<string, string>
}

export interface MessageTemplate {
  key: string
  name: string
  text: string
}

export interface OrderRules {
  address_min_detail: number
  amount_limit_fen: number
  same_address_count: number
  same_address_window_hours: number
  risk_words: string[]
  templates: MessageTemplate[]
  version: number
}

export interface OrderReturn {
  id: string
  order_id: string
  order_no: string
  buyer: string
  kind: ReturnKind
  reason: string
  platform_rule: string
  status: ReturnStatus
  note: string
  window_ends: string | null
  window_overridden: boolean
  override_by: string
  override_reason: string
  version: number
  created_at: string
  updated_at: string
}

export interface ReturnInput {
  kind: ReturnKind
  reason: string
  platform_rule: string
  note?: string
  override_window?: boolean
  override_reason?: string
}

export interface ReturnQuery extends ListParams {
  q?: string
  status?: string
  open?: boolean
  platform_rule?: string
}

export const ordersApi = {
  list: (q: OrderQuery) => http.get<ListResponse<Order>>('/orders', { ...q }),
  queue: (q: OrderQuery) => http.get<ListResponse<Order>>('/order-queue', { ...q }),
  get: (id: string, opts: { silent?: boolean } = {}) => http.get<Order>(`/orders/${enc(id)}`, undefined, opts),
  /** The consignee's phone in clear (audited; needs customers.reveal). */
  reveal: (id: string) => http.post<{ phone: string }>(`/orders/${enc(id)}/reveal`),
  message: (id: string, template = '') => http.get<{ message: string }>(`/orders/${enc(id)}/message`, { template }, { silent: true }),
  confirm: (id: string, body: { checklist: Record<string, boolean>; template?: string; message?: string }, version: number) =>
    http.post<Order>(`/orders/${enc(id)}/confirm`, body, { version, silent: true }),
  review: (id: string, decision: 'approve' | 'reject', comment: string, version: number) =>
    http.post<Order>(`/orders/${enc(id)}/review`, { decision, comment }, { version, silent: true }),
  delivered: (id: string, deliveredAt: string | null, version: number) =>
    http.post<Order>(`/orders/${enc(id)}/delivered`, deliveredAt ? { delivered_at: deliveredAt } : {}, { version, silent: true }),
  returns: (id: string) => http.get<ListResponse<OrderReturn>>(`/orders/${enc(id)}/returns`),
  createReturn: (id: string, body: ReturnInput) => http.create<OrderReturn>(`/orders/${enc(id)}/returns`, body, { silent: true }),
  importFile: (file: Blob, opts: { dryRun: boolean; update: boolean; filename: string }) =>
    http.upload<ImportResult>(
      '/order-imports',
      file,
      { dry_run: opts.dryRun, existing: opts.update ? 'update' : '', filename: opts.filename },
      { silent: true },
    ),
}

export const returnsApi = {
  list: (q: ReturnQuery) => http.get<ListResponse<OrderReturn>>('/order-returns', { ...q }),
  act: (id: string, action: ReturnAction, note: string, version: number) =>
    http.post<OrderReturn>(`/order-returns/${enc(id)}/${action}`, note ? { note } : {}, { version, silent: true }),
}

export const orderRulesApi = {
  get: () => http.get<OrderRules>('/order-rules'),
  update: (rules: OrderRules, version: number) => http.put<OrderRules>('/order-rules', rules, { version, silent: true }),
}
