export type Locale = 'zh-CN' | 'en'
export type DataScope = 'own' | 'department' | 'all'

export interface ListResponse<T> {
  items: T[]
  next_cursor: string | null
  total: number
}

export interface ListParams {
  limit?: number
  cursor?: string | null
}

export interface Me {
  id: string
  username: string
  display_name: string
  email: string | null
  mobile: string | null
  department_id: string | null
  department_name: string | null
  roles: string[]
  permissions: string[]
  data_scope: DataScope
  locale: Locale
  totp_enabled: boolean
  last_login_at: string | null
  created_at: string
  updated_at: string
  version: number
}

export interface MePatch {
  display_name?: string
  email?: string
  mobile?: string
  locale?: Locale
}

export interface TotpSetup {
  secret: string
  otpauth_url: string
  qr_data_url: string
}

export interface ApiToken {
  id: string
  name: string
  prefix: string
  created_at: string
  expires_at: string | null
  last_used_at: string | null
}

export interface CreatedApiToken {
  id: string
  name: string
  token: string
  prefix: string
  expires_at: string | null
}

export interface DirectoryEntry {
  id: string
  display_name: string
  department_id: string | null
}

export interface Department {
  id: string
  name: string
  parent_id: string | null
  manager_id: string | null
  version: number
  created_at: string
}

export interface User {
  id: string
  username: string
  display_name: string
  email: string | null
  mobile: string | null
  department_id: string | null
  department_name: string | null
  roles: string[]
  active: boolean
  locale: Locale
  totp_enabled: boolean
  last_login_at: string | null
  created_at: string
  updated_at: string
  version: number
  masked: boolean
}

export interface UserQuery extends ListParams {
  q?: string
  department_id?: string
  role?: string
  active?: boolean
}

export interface UserCreate {
  username: string
  display_name: string
  email: string
  mobile: string
  department_id: string | null
  roles: string[]
  password: string
}

export interface UserPatch {
  display_name?: string
  email?: string
  mobile?: string
  department_id?: string | null
  roles?: string[]
}

export interface Role {
  name: string
  data_scope: DataScope
  permissions: string[]
  builtin: boolean
  version: number
}

export interface Permission {
  key: string
  area: string
}

export interface AuditEntry {
  id: string
  /** Position in the hash chain; null until the server has sealed the entry (within seconds). */
  seq: number | null
  at: string
  actor_id: string | null
  actor_name: string | null
  action: string
  entity_type: string
  entity_id: string | null
  ip: string | null
  changes: Record<string, [unknown, unknown]> | null
  detail: Record<string, unknown> | null
}

export interface AuditQuery extends ListParams {
  actor_id?: string
  action?: string
  entity_type?: string
  entity_id?: string
  from?: string
  to?: string
  q?: string
}

export interface AuditVerify {
  ok: boolean
  checked: number
  first_bad: { id: string; seq: number; reason: string } | null
}

export type JobStatus = 'pending' | 'running' | 'succeeded' | 'dead'

export interface Job {
  id: string
  kind: string
  status: JobStatus
  attempts: number
  max_attempts: number
  run_at: string
  last_error: string | null
  created_at: string
  updated_at: string
}

export interface ApiErrorBody {
  error?: {
    code?: string
    message?: string
    fields?: Record<string, string>
    details?: Record<string, unknown>
  }
}

/* ---- customer archive (客户档案) ---- */

export type AccountKind = 'company' | 'individual'
export type AccountStatus = 'prospect' | 'active' | 'dormant' | 'lost'
export type ActivityKind = 'call' | 'meeting' | 'visit' | 'note'
export type Direction = 'inbound' | 'outbound'
export type AccountSort = '-updated_at' | '-created_at' | '-last_contact_at' | 'last_contact_at' | 'name'

export interface Account {
  id: string
  name: string
  kind: AccountKind
  uscc: string
  industry: string
  size: string
  province_code: string
  city_code: string
  district_code: string
  region_name: string
  address: string
  source: string
  level: string
  status: AccountStatus
  tags: string[]
  owner_id: string
  owner_name: string
  department_id: string | null
  needs: string
  concerns: string
  opinions: string
  suggestions: string
  last_contact_at: string | null
  archived: boolean
  collaborator_ids: string[]
  version: number
  created_at: string
  updated_at: string
}

/** GET /accounts/{id}?expand=contacts,timeline: the account page in one request. */
export interface AccountPage extends Account {
  contacts: ListResponse<Contact>
  timeline: ListResponse<TimelineEvent>
}

export interface ContactInput {
  name: string
  title?: string
  mobile?: string
  phone?: string
  email?: string
  wechat?: string
  notes?: string
  purchase_role?: string
  is_primary?: boolean
}

export interface AccountInput {
  name: string
  kind?: AccountKind
  uscc?: string
  industry?: string
  size?: string
  province_code?: string
  city_code?: string
  district_code?: string
  address?: string
  source?: string
  level?: string
  status?: AccountStatus
  tags?: string[]
  owner_id?: string
  needs?: string
  concerns?: string
  opinions?: string
  suggestions?: string
  contacts?: ContactInput[]
  /** Create even if likely duplicates exist (after the user confirmed). */
  confirm_duplicates?: boolean
}

export type AccountPatch = Partial<Omit<AccountInput, 'contacts' | 'confirm_duplicates' | 'owner_id'>>

/** Filters of GET /accounts (and of the export). */
export interface AccountFilters {
  q?: string
  owner_id?: string
  status?: string
  level?: string
  source?: string
  kind?: string
  industry?: string
  province_code?: string
  city_code?: string
  tag?: string
  no_contact_days?: number
  archived?: boolean
  sort?: AccountSort
}

export type AccountQuery = AccountFilters & ListParams

export interface ContactLink {
  account_id: string
  account_name?: string
  purchase_role: string
  is_primary: boolean
}

/** A contact; mobile, phone, email and wechat are masked (reveal shows them). */
export interface Contact {
  id: string
  name: string
  title: string
  mobile: string
  phone: string
  email: string
  wechat: string
  notes: string
  owner_id: string
  accounts: ContactLink[]
  masked: boolean
  version: number
  created_at: string
  updated_at: string
}

export type ContactPatch = Partial<Pick<Contact, 'name' | 'title' | 'mobile' | 'phone' | 'email' | 'wechat' | 'notes'>>

export interface RevealedContact {
  mobile: string
  phone: string
  email: string
  wechat: string
}

export interface Activity {
  id: string
  account_id: string
  contact_id: string | null
  kind: ActivityKind
  direction: Direction | ''
  occurred_at: string
  duration_min: number
  subject: string
  summary: string
  outcome: string
  next_step: string
  next_step_at: string | null
  owner_id: string
  version: number
  created_at: string
}

export interface ActivityInput {
  kind: ActivityKind
  direction?: Direction | ''
  contact_id?: string
  occurred_at?: string
  duration_min?: number
  subject?: string
  summary?: string
  outcome?: string
  next_step?: string
  next_step_at?: string | null
}

/** One entry of an account's timeline; kinds are open-ended (future capabilities add theirs). */
export interface TimelineEvent {
  id: string
  account_id: string
  kind: string
  ref_type: string
  ref_id: string
  actor_id: string
  actor_name: string
  occurred_at: string
  title: string
  body: string
  data: Record<string, unknown> | null
}

export type DuplicateReason = 'uscc' | 'name' | 'mobile' | 'email'

export interface Duplicate {
  /** '' when the duplicate is outside the caller's data scope */
  id: string
  name: string
  owner_id: string
  reasons: DuplicateReason[]
  visible: boolean
}

export interface DuplicateQuery {
  name?: string
  uscc?: string
  mobiles?: string[]
  emails?: string[]
  exclude_id?: string
}

export interface BulkInput {
  account_ids: string[]
  owner_id?: string
  reason?: string
  add_tags?: string[]
  remove_tags?: string[]
}

export interface MergeResult {
  account: Account
  moved: Record<string, number>
}

export interface CustomerOptions {
  kinds: string[]
  sizes: string[]
  sources: string[]
  statuses: string[]
  levels: string[]
  purchase_roles: string[]
  activity_kinds: string[]
}

export interface RegionNode {
  code: string
  name: string
  children?: RegionNode[]
  [key: string]: unknown
}

export type SearchType = 'account' | 'contact' | 'activity'

export interface SearchHit {
  type: SearchType | string
  id: string
  account_id: string
  account_name: string
  title: string
  snippet: string
  updated_at: string
}

export interface SearchPage {
  items: SearchHit[]
  next_cursor: string | null
}

export type ImportMode = 'preview' | 'commit'
export type DuplicateMode = 'skip' | 'update' | 'create'
export type ImportStatus = 'queued' | 'running' | 'done' | 'failed'

/** One problem of one spreadsheet row (the header is row 1). */
export interface ImportRowError {
  row: number
  /** the column header, e.g. 联系人手机 */
  column: string
  /** the API field, e.g. contacts.0.mobile */
  field: string
  message: string
}

/** A parsed row as it would be saved (previews show the first rows). */
export interface ImportRow {
  row: number
  action: 'create' | 'update' | 'skip' | 'error' | string
  duplicate?: Duplicate
  account: {
    name: string
    kind: string
    uscc: string
    industry: string
    size: string
    region_name: string
    address: string
    source: string
    level: string
    status: string
    tags: string[]
    owner_id: string
    owner_name: string
    needs: string
    concerns: string
    [key: string]: unknown
  }
  contact: { name: string; title: string; mobile: string; phone: string; email: string; wechat: string; purchase_role: string; masked: boolean } | null
}

/** An upload being (or having been) imported; poll it until done or failed. */
export interface AccountImport {
  id: string
  user_id: string
  status: ImportStatus
  /** while running: validating or writing */
  phase: string
  mode: ImportMode
  duplicates: DuplicateMode
  filename: string
  progress: { processed: number; total: number; percent: number }
  counts: { created: number; updated: number; skipped: number; errors: number }
  /** a problem with the whole file or job */
  error: { code: string; message: string } | null
  rows: ImportRow[]
  errors: ImportRowError[]
  errors_truncated: boolean
  report_url: string | null
  created_at: string
  updated_at: string
  finished_at: string | null
}
