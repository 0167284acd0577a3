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
  }
}
