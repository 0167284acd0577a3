// Opportunity pipeline (商机): deals, stages and gates, board, list, forecast,
// requirements and feasibility, tech support requests, solutions, demos and
// trials, negotiations, research notes and competitors.
// Shapes mirror internal/pipeline/model.go. Amounts are integer fen.
import { http, type RequestOptions } from './client'
import type { ListParams, ListResponse } from './types'

export const SOURCES = ['inquiry', 'marketing', 'referral', 'website', 'exhibition', 'other'] as const
export const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const
export const VERDICTS = ['feasible', 'feasible_with_changes', 'not_feasible'] as const
export const TOPICS = ['price', 'delivery', 'after_sales', 'payment', 'other'] as const
export const DEMO_KINDS = ['demo', 'trial'] as const
export const CURRENCIES = ['CNY', 'USD', 'EUR', 'HKD', 'JPY', 'GBP'] as const
/** The default pipeline seeded by the migration (regulation 2's five stages). */
export const DEFAULT_PIPELINE_ID = '00000000-0000-7000-8000-000000000001'

export type OppStatus = 'open' | 'won' | 'lost'
export type Verdict = (typeof VERDICTS)[number]

export interface CompetitorRef {
  id: string
  name: string
}

export interface Opportunity {
  id: string
  account_id: string
  account_name: string
  pipeline_id: string
  stage_id: string
  stage_name: string
  stage_name_en: string
  name: string
  amount: number
  currency: string
  weighted_amount: number
  expected_close: string
  probability: number
  probability_overridden: boolean
  source: string
  source_inquiry_id: string
  owner_id: string
  owner_name: string
  department_id: string | null
  next_step: string
  status: OppStatus
  close_reason: string
  lost_to_id: string | null
  lost_to_name: string
  closed_at: string | null
  stage_entered_at: string
  competitors: CompetitorRef[]
  collaborator_ids: string[]
  version: number
  created_at: string
  updated_at: string
}

export interface OpportunityInput {
  account_id: string
  pipeline_id?: string
  stage_id?: string
  name: string
  amount: number
  currency?: string
  expected_close?: string
  probability?: number | null
  source?: string
  owner_id?: string
  competitor_ids?: string[]
  next_step?: string
}

export interface OpportunityPatch {
  name?: string
  amount?: number
  currency?: string
  expected_close?: string
  probability?: number
  reset_probability?: boolean
  source?: string
  owner_id?: string
  competitor_ids?: string[]
  next_step?: string
}

export interface Gate {
  condition: string
  n: number
}

export interface Stage {
  id: string
  pipeline_id: string
  name: string
  name_en: string
  position: number
  probability: number
  gates: Gate[]
  version: number
}

export interface Pipeline {
  id: string
  name: string
  name_en: string
  is_default: boolean
  sort_order: number
  stages: Stage[]
  version: number
}

export interface StageInput {
  name?: string
  name_en?: string
  probability?: number
  gates?: Gate[]
}

export interface ConditionInfo {
  key: string
  counted: boolean
  pending: boolean
  description: string
}

export interface Column {
  stage: Stage
  count: number
  amount: number
  weighted_amount: number
  cards: Opportunity[]
}

export interface Board {
  pipeline_id: string
  columns: Column[]
  count: number
  amount: number
}

export interface BoardFilter {
  owner_id?: string
  department_id?: string
  close_from?: string
  close_to?: string
  q?: string
}

export interface OpportunityQuery extends ListParams, BoardFilter {
  pipeline_id?: string
  stage_id?: string
  status?: OppStatus | ''
  account_id?: string
  sort?: string
}

export interface ListTotals {
  count: number
  amount: number
  weighted_amount: number
}

export interface OpportunityList extends ListResponse<Opportunity> {
  totals: ListTotals
}

export interface StageVisit {
  id: string
  stage_id: string
  stage_name: string
  entered_at: string
  left_at: string | null
  seconds: number
  entered_by: string
  entered_by_name: string
  override_reason: string
  note: string
}

export interface ForecastRow {
  month: string
  group_id: string
  group_name: string
  count: number
  amount: number
  weighted_amount: number
}

export interface Requirement {
  id: string
  opportunity_id: string
  position: number
  product: string
  specification: string
  quantity: string
  unit: string
  expected_delivery: string
  budget: number
  priority: string
  source_ref: string
  verdict: Verdict | ''
  effort_notes: string
  risk_notes: string
  analysed_by: string
  analysed_at: string | null
  version: number
}

export interface RequirementInput {
  product?: string
  specification?: string
  quantity?: string
  unit?: string
  expected_delivery?: string
  budget?: number
  priority?: string
  source_ref?: string
  position?: number
}

export interface FeasibilityInput {
  verdict: Verdict
  effort_notes?: string
  risk_notes?: string
}

export interface SupportRequest {
  id: string
  opportunity_id: string
  opportunity_name: string
  account_name: string
  requirement_id: string
  requirement: Requirement | null
  question: string
  assignee_id: string
  assignee_name: string
  requester_id: string
  requester_name: string
  due_at: string
  status: 'open' | 'answered' | 'closed'
  answer: string
  answered_by: string
  answered_at: string | null
  closed_at: string | null
  response_seconds: number | null
  answered_in_time: boolean | null
  overdue: boolean
  version: number
  created_at: string
}

export interface SupportInput {
  requirement_id?: string
  question: string
  assignee_id: string
  due_at: string
}

export interface Assignee {
  id: string
  display_name: string
  department_id: string | null
  tech: boolean
}

export interface Attachment {
  id: string
  filename: string
  content_type: string
  size: number
  created_at: string
}

export type SolutionStatus = 'draft' | 'submitted' | 'approved' | 'rejected' | 'superseded'

export interface Solution {
  id: string
  opportunity_id: string
  opportunity_name: string
  account_name: string
  version_no: number
  title: string
  body_html: string
  status: SolutionStatus
  locked: boolean
  author_id: string
  submitted_at: string | null
  reviewed_by: string
  reviewed_at: string | null
  review_comment: string
  requirement_ids: string[]
  attachments: Attachment[]
  version: number
  created_at: string
  updated_at: string
}

export interface SolutionInput {
  title?: string
  body_html?: string
  requirement_ids?: string[]
}

export interface Coverage {
  requirements: Requirement[]
  versions: { solution_id: string; version_no: number; status: string; answered: string[]; unanswered: string[] }[]
}

export type DemoStatus = 'requested' | 'approved' | 'rejected' | 'completed'

export interface Demo {
  id: string
  opportunity_id: string
  opportunity_name: string
  account_name: string
  kind: 'demo' | 'trial'
  purpose: string
  starts_on: string
  ends_on: string
  duration_days: number
  environment: string
  licence: string
  remind_days: number
  status: DemoStatus
  requester_id: string
  reviewed_by: string
  reviewed_at: string | null
  review_comment: string
  outcome: string
  task_id: string
  version: number
  created_at: string
}

export interface DemoInput {
  kind: 'demo' | 'trial'
  purpose: string
  starts_on: string
  duration_days: number
  environment?: string
  licence?: string
  remind_days?: number
}

export interface Negotiation {
  id: string
  opportunity_id: string
  topic: string
  customer_position: string
  our_position: string
  outcome: string
  next_step: string
  occurred_at: string
  author_id: string
  version: number
  created_at: string
}

export interface NegotiationInput {
  topic: string
  customer_position: string
  our_position: string
  outcome?: string
  next_step?: string
  occurred_at?: string
}

export interface ResearchNote {
  id: string
  account_id: string
  opportunity_id: string
  industry: string
  needs: string
  competitors: string
  notes: string
  author_id: string
  version: number
  created_at: string
}

export interface ResearchInput {
  account_id?: string
  opportunity_id?: string
  industry?: string
  needs?: string
  competitors?: string
  notes?: string
}

export interface CompetitorPrice {
  id: string
  product: string
  amount: number
  currency: string
  seen_on: string
  source: string
  opportunity_id: string
  created_at: string
}

export interface Competitor {
  id: string
  name: string
  website?: string
  strengths?: string
  weaknesses?: string
  prices?: CompetitorPrice[]
  version?: number
}

export interface CompetitorInput {
  name?: string
  website?: string
  strengths?: string
  weaknesses?: string
}

export interface PriceInput {
  product: string
  amount: number
  currency?: string
  seen_on: string
  source?: string
  opportunity_id?: string
}

/** A message of the inquiry a deal came from (the part the requirement picker shows). */
export interface InquiryMessage {
  id: string
  kind: string
  direction: 'in' | 'out' | 'internal' | string
  author_name: string
  body: string
  created_at: string
}

type Page<T> = ListResponse<T>

const enc = encodeURIComponent

export const opportunitiesApi = {
  list: (q: OpportunityQuery = {}, opts?: RequestOptions) => http.get<OpportunityList>('/opportunities', { ...q }, opts),
  get: (id: string, opts?: RequestOptions) => http.get<Opportunity>(`/opportunities/${enc(id)}`, undefined, opts),
  create: (body: OpportunityInput, opts?: RequestOptions) => http.create<Opportunity>('/opportunities', body, opts),
  update: (id: string, body: OpportunityPatch, version: number, opts?: RequestOptions) =>
    http.patch<Opportunity>(`/opportunities/${enc(id)}`, body, version, opts),
  remove: (id: string, version: number) => http.del(`/opportunities/${enc(id)}`, version),
  /** Gates are checked by the server: a 422 stage_gate_blocked lists what is missing; 412 = moved by someone else. */
  move: (id: string, body: { stage_id: string; override_reason?: string; note?: string }, version: number, opts?: RequestOptions) =>
    request<Opportunity>(`/opportunities/${enc(id)}/move`, body, version, opts),
  win: (id: string, body: { reason: string; override_reason?: string }, version: number, opts?: RequestOptions) =>
    request<Opportunity>(`/opportunities/${enc(id)}/win`, body, version, opts),
  lose: (id: string, body: { reason: string; lost_to_id: string }, version: number, opts?: RequestOptions) =>
    request<Opportunity>(`/opportunities/${enc(id)}/lose`, body, version, opts),
  setCollaborators: (id: string, userIds: string[]) => http.put<Opportunity>(`/opportunities/${enc(id)}/collaborators`, { user_ids: userIds }),
  history: (id: string) => http.get<Page<StageVisit>>(`/opportunities/${enc(id)}/history`),
  /** The source inquiry's messages, oldest first (to pick requirement lines from). */
  inquiryMessages: (inquiryId: string) => http.get<Page<InquiryMessage>>(`/inquiries/${enc(inquiryId)}/messages`, { limit: 200 }),
  fromInquiry: (inquiryId: string, body: Record<string, unknown> = {}) => http.create<Opportunity>(`/inquiries/${enc(inquiryId)}/opportunity`, body),
}

/** POST with If-Match (actions on a versioned record). */
function request<T>(path: string, body: unknown, version: number, opts: RequestOptions = {}) {
  return http.post<T>(path, body, { ...opts, version })
}

export const pipelinesApi = {
  list: () => http.get<Page<Pipeline>>('/pipelines'),
  get: (id: string) => http.get<Pipeline>(`/pipelines/${enc(id)}`),
  conditions: () => http.get<Page<ConditionInfo>>('/pipeline-conditions'),
  create: (body: { name: string; name_en?: string; stages: StageInput[] }) => http.create<Pipeline>('/pipelines', body),
  update: (id: string, body: { name: string; name_en?: string }, version: number) => http.patch<Pipeline>(`/pipelines/${enc(id)}`, body, version),
  reorder: (id: string, stageIds: string[], version: number) =>
    http.put<Pipeline>(`/pipelines/${enc(id)}/stage-order`, { stage_ids: stageIds }, { version }),
  addStage: (id: string, body: StageInput) => http.create<Stage>(`/pipelines/${enc(id)}/stages`, body),
  updateStage: (id: string, body: StageInput, version: number) => http.patch<Stage>(`/pipeline-stages/${enc(id)}`, body, version),
  deleteStage: (id: string, version: number, moveTo?: string, opts?: RequestOptions) =>
    http.del(`/pipeline-stages/${enc(id)}${moveTo ? `?move_to=${enc(moveTo)}` : ''}`, version, opts),
  board: (id: string, f: BoardFilter = {}) => http.get<Board>(`/pipelines/${enc(id)}/board`, { ...f }),
  forecast: (q: { group_by: 'owner' | 'department'; pipeline_id?: string; from?: string; to?: string }) =>
    http.get<Page<ForecastRow>>('/opportunity-forecast', { ...q }),
}

export const requirementsApi = {
  list: (oppId: string) => http.get<Page<Requirement>>(`/opportunities/${enc(oppId)}/requirements`),
  create: (oppId: string, body: RequirementInput) => http.create<Requirement>(`/opportunities/${enc(oppId)}/requirements`, body),
  bulk: (oppId: string, lines: string[], sourceRef = '') =>
    http.create<Page<Requirement>>(`/opportunities/${enc(oppId)}/requirements/bulk`, { lines, source_ref: sourceRef }),
  update: (id: string, body: RequirementInput, version: number) => http.patch<Requirement>(`/requirements/${enc(id)}`, body, version),
  remove: (id: string, version: number) => http.del(`/requirements/${enc(id)}`, version),
  analyse: (id: string, body: FeasibilityInput, version: number) => request<Requirement>(`/requirements/${enc(id)}/feasibility`, body, version),
}

export const supportApi = {
  forOpportunity: (oppId: string) => http.get<Page<SupportRequest>>(`/opportunities/${enc(oppId)}/support-requests`),
  create: (oppId: string, body: SupportInput) => http.create<SupportRequest>(`/opportunities/${enc(oppId)}/support-requests`, body),
  queue: (q: { status?: string; scope?: 'mine' | 'team' } = {}) => http.get<Page<SupportRequest>>('/support-requests', { ...q }),
  get: (id: string) => http.get<SupportRequest>(`/support-requests/${enc(id)}`),
  answer: (id: string, answer: string, version: number) => request<SupportRequest>(`/support-requests/${enc(id)}/answer`, { answer }, version),
  close: (id: string, version: number) => request<SupportRequest>(`/support-requests/${enc(id)}/close`, {}, version),
  assignees: () => http.get<Page<Assignee>>('/support-assignees'),
}

export const solutionsApi = {
  list: (oppId: string) => http.get<Page<Solution>>(`/opportunities/${enc(oppId)}/solutions`),
  queue: (status: SolutionStatus = 'submitted') => http.get<Page<Solution>>('/solutions', { status }),
  get: (id: string) => http.get<Solution>(`/solutions/${enc(id)}`),
  create: (oppId: string, body: SolutionInput) => http.create<Solution>(`/opportunities/${enc(oppId)}/solutions`, body),
  update: (id: string, body: SolutionInput, version: number) => http.patch<Solution>(`/solutions/${enc(id)}`, body, version),
  submit: (id: string, version: number) => request<Solution>(`/solutions/${enc(id)}/submit`, {}, version),
  approve: (id: string, comment = '') => http.post<Solution>(`/solutions/${enc(id)}/approve`, { comment }),
  reject: (id: string, comment: string) => http.post<Solution>(`/solutions/${enc(id)}/reject`, { comment }),
  coverage: (oppId: string) => http.get<Coverage>(`/opportunities/${enc(oppId)}/coverage`),
  attach: (id: string, file: File) => http.upload<Attachment>(`/solutions/${enc(id)}/attachments`, file, { filename: file.name }),
  attachmentUrl: (id: string) => `/api/v1/solution-attachments/${enc(id)}`,
}

export const demosApi = {
  list: (oppId: string) => http.get<Page<Demo>>(`/opportunities/${enc(oppId)}/demos`),
  queue: (status: DemoStatus = 'requested') => http.get<Page<Demo>>('/demos', { status }),
  create: (oppId: string, body: DemoInput) => http.create<Demo>(`/opportunities/${enc(oppId)}/demos`, body),
  approve: (id: string, comment = '') => http.post<Demo>(`/demos/${enc(id)}/approve`, { comment }),
  reject: (id: string, comment: string) => http.post<Demo>(`/demos/${enc(id)}/reject`, { comment }),
  outcome: (id: string, outcome: string, version: number) => request<Demo>(`/demos/${enc(id)}/outcome`, { outcome }, version),
}

export const negotiationsApi = {
  list: (oppId: string) => http.get<Page<Negotiation>>(`/opportunities/${enc(oppId)}/negotiations`),
  create: (oppId: string, body: NegotiationInput) => http.create<Negotiation>(`/opportunities/${enc(oppId)}/negotiations`, body),
}

export const researchApi = {
  list: (q: { account_id?: string; opportunity_id?: string }) => http.get<Page<ResearchNote>>('/research-notes', { ...q }),
  create: (body: ResearchInput) => http.create<ResearchNote>('/research-notes', body),
}

export const competitorsApi = {
  list: (q = '') => http.get<Page<Competitor>>('/competitors', { q }),
  get: (id: string) => http.get<Competitor>(`/competitors/${enc(id)}`),
  create: (body: CompetitorInput) => http.create<Competitor>('/competitors', body),
  update: (id: string, body: CompetitorInput, version: number) => http.patch<Competitor>(`/competitors/${enc(id)}`, body, version),
  addPrice: (id: string, body: PriceInput) => http.create<Competitor>(`/competitors/${enc(id)}/prices`, body),
}
