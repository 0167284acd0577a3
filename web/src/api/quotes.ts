// Quotes (报价): the product catalog and price lists, quotes with versions,
// approvals by authority, the PDF and the customer's acceptance link.
// Shapes mirror internal/quotes/model.go. Money is integer fen; quantities,
// discounts and tax rates travel as decimal strings ("2.5", "12.5").
import { API_BASE, http, parseError, request, type RequestOptions } from './client'
import type { ListParams, ListResponse } from './types'

const enc = encodeURIComponent

export const QUOTE_STATUSES = ['draft', 'pending_approval', 'approved', 'rejected', 'sent', 'accepted', 'changes_requested'] as const
export type QuoteStatus = (typeof QUOTE_STATUSES)[number]
export const RULE_CONDITIONS = ['line_discount_gt', 'overall_discount_gt', 'discount_gt', 'margin_lt', 'amount_gt'] as const
export type RuleCondition = (typeof RULE_CONDITIONS)[number]
export type ApproverKind = 'department_head' | 'role'
export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'skipped'
export const DEFAULT_TAX_RATES = ['13', '9', '6', '0']

export interface Product {
  id: string
  code: string
  name: string
  spec: string
  unit: string
  list_price: number
  /** present only for holders of products.cost (and when a cost is recorded) */
  cost?: number
  cost_hidden?: boolean
  tax_rate: string
  tax_rate_bp: number
  currency: string
  active: boolean
  version: number
  created_at: string
  updated_at: string
}

export interface ProductInput {
  code?: string
  name?: string
  spec?: string
  unit?: string
  list_price?: number
  cost?: number
  tax_rate?: string
  active?: boolean
}

export interface PriceListItem {
  product_id: string
  product_code?: string
  product_name?: string
  /** the product's catalog price (read-only) */
  list_price?: number
  price: number
}

export interface PriceList {
  id: string
  name: string
  valid_from: string
  valid_to: string
  active: boolean
  items: PriceListItem[] | null
  version: number
  created_at: string
  updated_at: string
}

export interface PriceListInput {
  name?: string
  valid_from?: string
  valid_to?: string
  active?: boolean
  items?: { product_id: string; price: number }[]
}

export interface QuoteTotals {
  gross: number
  subtotal: number
  overall_discount: number
  net: number
  tax: number
  total: number
  total_upper: string
  cost?: number
  margin?: string
  margin_bp?: number
}

export interface QuoteLine {
  position: number
  product_id: string
  code: string
  name: string
  spec: string
  unit: string
  quantity: string
  qty_milli: number
  unit_price: number
  list_price: number
  discount: string
  discount_bp: number
  tax_rate: string
  tax_rate_bp: number
  unit_cost?: number | null
  amount: number
  net: number
  tax: number
  total: number
}

export interface Approval {
  id: string
  round: number
  rule_id: string
  rule_name: string
  /** e.g. "max_line_discount=20%", "margin=8.5%", "total=120,000.00" */
  reason: string
  step: number
  approver_kind: ApproverKind
  approver_role: string
  approver_user_id: string
  status: ApprovalStatus
  decided_by: string
  decided_at: string | null
  comment: string
}

export interface Quote {
  id: string
  number: string
  version_no: number
  root_id: string
  is_current: boolean
  status: QuoteStatus
  title: string
  account_id: string
  account_name: string
  opportunity_id: string
  owner_id: string
  owner_name: string
  department_id: string | null
  price_list_id: string
  currency: string
  valid_until: string
  payment_terms: string
  delivery_terms: string
  notes: string
  overall_discount: string
  overall_discount_bp: number
  totals: QuoteTotals
  max_line_discount_bp: number
  line_count: number
  lines?: QuoteLine[]
  approval_round: number
  approvals?: Approval[]
  submitted_at: string | null
  approved_at: string | null
  sent_at: string | null
  answered_at: string | null
  version: number
  created_at: string
  updated_at: string
}

export interface LineInput {
  product_id?: string
  code?: string
  name?: string
  spec?: string
  unit?: string
  quantity: string
  unit_price?: number
  discount?: string
  tax_rate?: string
}

export interface QuoteInput {
  account_id?: string
  opportunity_id?: string
  price_list_id?: string
  title?: string
  currency?: string
  valid_until?: string
  payment_terms?: string
  delivery_terms?: string
  notes?: string
  overall_discount?: string
  lines?: LineInput[]
}

export interface QuoteSum {
  currency: string
  count: number
  net: number
  total: number
}

export interface QuotePage extends ListResponse<Quote> {
  sums: QuoteSum[]
}

export interface QuoteQuery extends ListParams {
  q?: string
  account_id?: string
  opportunity_id?: string
  owner_id?: string
  status?: string
  root_id?: string
  all_versions?: boolean
}

export interface Rule {
  id: string
  name: string
  condition: RuleCondition
  /** basis points for discounts and margins, fen for amounts */
  threshold: number
  applies_role: string
  applies_department_id: string
  step: number
  approver_kind: ApproverKind
  approver_role: string
  active: boolean
  version: number
  created_at: string
  updated_at: string
}

export type RuleInput = Partial<Pick<Rule, 'name' | 'condition' | 'threshold' | 'applies_role' | 'applies_department_id' | 'step' | 'approver_kind' | 'approver_role' | 'active'>>

export interface QuoteSettings {
  company_name: string
  company_info: string
  logo_base64: string
  number_pattern: string
  /** the allowed VAT rates (read-only, from the server's configuration) */
  tax_rates?: string[]
}

export interface SendInput {
  lang?: string
  valid_days?: number
  message?: string
  /** when given, the quote is also emailed there with its PDF attached */
  email?: string
}

export interface SendResult {
  quote: Quote
  token: string
  url: string
  expires_at: string
  emailed: boolean
}

export interface QuoteLink {
  id: string
  email: string
  created_by: string
  created_at: string
  expires_at: string
  expired: boolean
  answer: '' | 'accepted' | 'changes_requested'
  answered_at: string | null
  answered_by: string
  comment: string
}

export interface PublicLine {
  position: number
  code: string
  name: string
  spec: string
  unit: string
  quantity: string
  unit_price: number
  discount: string
  tax_rate: string
  amount: number
}

export interface PublicQuote {
  number: string
  version_no: number
  title: string
  company_name: string
  company_info: string
  logo_base64?: string
  customer: string
  currency: string
  valid_until: string
  payment_terms: string
  delivery_terms: string
  notes: string
  lines: PublicLine[]
  totals: { subtotal: number; overall_discount: number; net: number; tax: number; total: number; total_upper: string }
  status: QuoteStatus
  expires_at: string
  answer: '' | 'accepted' | 'changes_requested'
}

/** An opportunity as the quote builder's picker needs it (the pipeline owns the full shape). */
export interface OpportunityRef {
  id: string
  name: string
  account_id: string
  account_name: string
  stage_name: string
  stage_name_en: string
  status: string
  amount: number
}

/** The minimal account shape the account picker shows. */
export interface AccountRef {
  id: string
  name: string
  owner_name: string
}

export const productsApi = {
  list: (query: ListParams & { q?: string; active?: boolean } = {}) => http.get<ListResponse<Product>>('/products', { ...query }),
  get: (id: string) => http.get<Product>(`/products/${enc(id)}`),
  create: (body: ProductInput, opts: RequestOptions = {}) => http.create<Product>('/products', body, opts),
  update: (id: string, body: ProductInput, version: number, opts: RequestOptions = {}) => http.patch<Product>(`/products/${enc(id)}`, body, version, opts),
}

export const priceListsApi = {
  list: () => http.get<ListResponse<PriceList>>('/price-lists'),
  get: (id: string) => http.get<PriceList>(`/price-lists/${enc(id)}`),
  create: (body: PriceListInput, opts: RequestOptions = {}) => http.create<PriceList>('/price-lists', body, opts),
  update: (id: string, body: PriceListInput, version: number, opts: RequestOptions = {}) =>
    http.patch<PriceList>(`/price-lists/${enc(id)}`, body, version, opts),
}

export const quotesApi = {
  list: (query: QuoteQuery = {}) => http.get<QuotePage>('/quotes', { ...query }),
  versions: (rootId: string) => http.get<QuotePage>('/quotes', { root_id: rootId, limit: 200 }),
  get: (id: string, opts: RequestOptions = {}) => http.get<Quote>(`/quotes/${enc(id)}`, undefined, opts),
  create: (body: QuoteInput, opts: RequestOptions = {}) => http.create<Quote>('/quotes', body, opts),
  update: (id: string, body: QuoteInput, version: number, opts: RequestOptions = {}) => http.patch<Quote>(`/quotes/${enc(id)}`, body, version, opts),
  newVersion: (id: string) => http.post<Quote>(`/quotes/${enc(id)}/versions`),
  submit: (id: string, version: number, opts: RequestOptions = {}) =>
    request<Quote>(`/quotes/${enc(id)}/submit`, { ...opts, method: 'POST', body: {}, version }),
  approve: (id: string, comment: string, opts: RequestOptions = {}) => http.post<Quote>(`/quotes/${enc(id)}/approve`, { comment }, opts),
  reject: (id: string, comment: string, opts: RequestOptions = {}) => http.post<Quote>(`/quotes/${enc(id)}/reject`, { comment }, opts),
  send: (id: string, body: SendInput, opts: RequestOptions = {}) => http.post<SendResult>(`/quotes/${enc(id)}/send`, body, opts),
  links: (id: string) => http.get<ListResponse<QuoteLink>>(`/quotes/${enc(id)}/links`),
  inbox: () => http.get<ListResponse<Quote>>('/quote-approvals'),
  pdfUrl: (id: string, lang: string) => `${API_BASE}/quotes/${enc(id)}/pdf?lang=${enc(lang)}`,
}

export const approvalRulesApi = {
  list: () => http.get<ListResponse<Rule>>('/approval-rules'),
  create: (body: RuleInput, opts: RequestOptions = {}) => http.create<Rule>('/approval-rules', body, opts),
  update: (id: string, body: RuleInput, version: number, opts: RequestOptions = {}) => http.patch<Rule>(`/approval-rules/${enc(id)}`, body, version, opts),
}

export const quoteSettingsApi = {
  get: () => http.get<QuoteSettings>('/quote-settings'),
  put: (body: QuoteSettings, opts: RequestOptions = {}) => http.put<QuoteSettings>('/quote-settings', body, opts),
}

/** The customer's side: no session, errors handled by the page (410 expired, 409 answered). */
export const publicQuotesApi = {
  get: (token: string) => http.get<PublicQuote>(`/public/quotes/${enc(token)}`, undefined, { silent: true, noRedirect: true }),
  accept: (token: string, name: string, comment: string) =>
    http.post<PublicQuote>(`/public/quotes/${enc(token)}/accept`, { name, comment }, { silent: true, noRedirect: true }),
  requestChanges: (token: string, name: string, comment: string) =>
    http.post<PublicQuote>(`/public/quotes/${enc(token)}/request-changes`, { name, comment }, { silent: true, noRedirect: true }),
  pdfUrl: (token: string, lang: string) => `${API_BASE}/public/quotes/${enc(token)}/pdf?lang=${enc(lang)}`,
}

export const quoteLookupsApi = {
  accounts: (q: string) => http.get<ListResponse<AccountRef>>('/accounts', { q, limit: 20 }),
  account: (id: string) => http.get<AccountRef>(`/accounts/${enc(id)}`, undefined, { silent: true }),
  opportunities: (accountId: string) =>
    http.get<ListResponse<OpportunityRef>>('/opportunities', { account_id: accountId, limit: 100 }, { silent: true }),
}

/** Fetches a PDF with the session as a Blob (preview in an <iframe>, or a download). Errors are ApiErrors. */
export async function fetchPdf(url: string, signal?: AbortSignal): Promise<Blob> {
  const res = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/pdf' }, signal })
  if (!res.ok) throw await parseError(res)
  return res.blob()
}
