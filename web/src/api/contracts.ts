// Contracts (合同), payment plans and receipts (回款), attachments, invoice
// information (开票信息) and invoice requests. Shapes mirror
// internal/contracts/model.go; money is integer fen.
import { download, http, type RequestOptions } from './client'
import type { ListParams, ListResponse } from './types'

const enc = encodeURIComponent

export const CONTRACT_STATUSES = ['draft', 'under_review', 'signed', 'in_delivery', 'completed', 'terminated'] as const
export type ContractStatus = (typeof CONTRACT_STATUSES)[number]

/** Status actions in the order the page offers them (API path segment in ACTION_PATHS). */
export const CONTRACT_ACTIONS = ['submit', 'return', 'sign', 'start_delivery', 'complete', 'terminate'] as const
export type ContractAction = (typeof CONTRACT_ACTIONS)[number]
export const ACTION_PATHS: Record<ContractAction, string> = {
  submit: 'submit',
  return: 'return',
  sign: 'sign',
  start_delivery: 'start-delivery',
  complete: 'complete',
  terminate: 'terminate',
}

export const RECEIPT_METHODS = ['bank_transfer', 'cash', 'cheque', 'acceptance_bill', 'alipay', 'wechat', 'other'] as const
export type ReceiptMethod = (typeof RECEIPT_METHODS)[number]

export interface ContractLine {
  name: string
  spec: string
  unit: string
  qty_milli: number
  unit_price_fen: number
  discount_bp: number
  tax_rate_bp: number
  total_fen: number
}

export interface ChecklistItem {
  key: string
  required: boolean
  checked: boolean
  /** display name of who ticked it */
  checked_by: string
  checked_at: string | null
  note: string
}

export type InstalmentStatus = 'open' | 'partial' | 'paid'

export interface Instalment {
  id: string
  seq: number
  due_date: string
  amount_fen: number
  paid_fen: number
  note: string
  status: InstalmentStatus
  overdue: boolean
}

export interface Attachment {
  id: string
  filename: string
  content_type: string
  size: number
  created_at: string
}

export interface Contract {
  id: string
  number: string
  title: string
  account_id: string
  account_name: string
  opportunity_id: string | null
  quote_id: string | null
  signatory_contact_id: string | null
  our_entity: string
  signing_date: string
  start_date: string
  end_date: string
  delivery_deadline: string
  amount_fen: number
  amount_upper: string
  currency: string
  received_fen: number
  progress_percent: number
  status: ContractStatus
  terminate_reason: string
  payment_terms: string
  delivery_terms: string
  notes: string
  owner_id: string
  owner_name: string
  signed_at: string | null
  lines?: ContractLine[]
  checklist?: ChecklistItem[]
  instalments?: Instalment[]
  attachments?: Attachment[]
  overdue_instalments: number
  version: number
  created_at: string
  updated_at: string
}

export interface ContractQuery extends ListParams {
  q?: string
  status?: string
  owner_id?: string
  account_id?: string
  signed_from?: string
  signed_to?: string
  overdue?: boolean
}

export interface ContractInput {
  quote_id?: string
  title: string
  account_id?: string
  amount_fen?: number
  our_entity?: string
  signing_date?: string
  start_date?: string
  end_date?: string
  delivery_deadline?: string
  payment_terms?: string
  delivery_terms?: string
  notes?: string
}

export type ContractPatch = Partial<
  Pick<Contract, 'title' | 'our_entity' | 'start_date' | 'end_date' | 'delivery_deadline' | 'payment_terms' | 'delivery_terms' | 'notes'>
>

export interface InstalmentInput {
  due_date: string
  amount_fen: number
  note: string
}

export interface Allocation {
  instalment_id: string
  amount_fen: number
}

export interface Receipt {
  id: string
  contract_id: string
  received_on: string
  amount_fen: number
  method: ReceiptMethod | string
  reference: string
  note: string
  allocations: Allocation[]
  created_at: string
}

export interface ReceiptInput {
  received_on: string
  amount_fen: number
  method: string
  reference?: string
  note?: string
  instalment_id?: string
}

export interface InvoiceProfile {
  id: string
  account_id: string
  title: string
  tax_number: string
  address: string
  phone: string
  bank_name: string
  bank_account: string
  is_default: boolean
  version: number
  created_at: string
  updated_at: string
}

export type InvoiceProfileInput = Partial<Pick<InvoiceProfile, 'title' | 'tax_number' | 'address' | 'phone' | 'bank_name' | 'bank_account' | 'is_default'>>

export interface InvoiceRequest {
  id: string
  contract_id: string
  receipt_id: string | null
  profile_id: string
  amount_fen: number
  kind: 'normal' | 'special'
  status: 'requested' | 'issued' | 'rejected'
  invoice_no: string
  reason: string
  version: number
  created_at: string
  updated_at: string
}

export const contractsApi = {
  list: (q: ContractQuery, opts?: RequestOptions) => http.get<ListResponse<Contract>>('/contracts', { ...q }, opts),
  get: (id: string, opts: { silent?: boolean } = {}) => http.get<Contract>(`/contracts/${enc(id)}`, undefined, opts),
  create: (body: ContractInput) => http.create<Contract>('/contracts', body, { silent: true }),
  update: (id: string, patch: ContractPatch, version: number) => http.patch<Contract>(`/contracts/${enc(id)}`, patch, version, { silent: true }),
  act: (id: string, action: ContractAction, version: number, body: { reason?: string; signing_date?: string } = {}) =>
    http.post<Contract>(`/contracts/${enc(id)}/${ACTION_PATHS[action]}`, body, { version, silent: true }),
  check: (id: string, key: string, checked: boolean, note = '') =>
    http.put<Contract>(`/contracts/${enc(id)}/checklist/${enc(key)}`, { checked, note }, { silent: true }),
  setPlan: (id: string, instalments: InstalmentInput[], version: number) =>
    http.put<Contract>(`/contracts/${enc(id)}/payment-plan`, { instalments }, { version, silent: true }),
  receipts: (id: string) => http.get<ListResponse<Receipt>>(`/contracts/${enc(id)}/receipts`),
  recordReceipt: (id: string, body: ReceiptInput) => http.create<Receipt>(`/contracts/${enc(id)}/receipts`, body, { silent: true }),
  upload: (id: string, file: File) => http.upload<Attachment>(`/contracts/${enc(id)}/attachments`, file, { filename: file.name }, { silent: true }),
  download: (id: string, att: Attachment) => download(`/contracts/${enc(id)}/attachments/${enc(att.id)}`, undefined, att.filename),
  invoiceRequests: (id: string) => http.get<ListResponse<InvoiceRequest>>(`/contracts/${enc(id)}/invoice-requests`),
  requestInvoice: (id: string, body: { profile_id: string; amount_fen: number; kind: string; receipt_id?: string }) =>
    http.create<InvoiceRequest>(`/contracts/${enc(id)}/invoice-requests`, body, { silent: true }),
}

export const invoiceProfilesApi = {
  list: (accountId: string) => http.get<ListResponse<InvoiceProfile>>(`/accounts/${enc(accountId)}/invoice-profiles`),
  create: (accountId: string, body: InvoiceProfileInput) =>
    http.create<InvoiceProfile>(`/accounts/${enc(accountId)}/invoice-profiles`, body, { silent: true }),
  update: (id: string, body: InvoiceProfileInput, version: number) =>
    http.patch<InvoiceProfile>(`/invoice-profiles/${enc(id)}`, body, version, { silent: true }),
}

/** What the contract screens read of a quote (the quotes capability owns the full shape). */
export interface QuoteSummary {
  id: string
  number: string
  version_no: number
  status: string
  title: string
  account_id: string
  account_name: string
  currency: string
  valid_until: string
  payment_terms: string
  delivery_terms: string
  totals: { total: number; total_upper: string }
  lines?: { name: string; spec: string; unit: string; quantity: string; unit_price: number; total: number }[]
}

export const quoteLookupApi = {
  get: (id: string) => http.get<QuoteSummary>(`/quotes/${enc(id)}`, undefined, { silent: true }),
  accepted: (q = '') => http.get<ListResponse<QuoteSummary>>('/quotes', { status: 'accepted', q, limit: 50 }),
}
