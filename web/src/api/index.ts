import { http } from './client'
import type {
  ApiToken,
  AuditEntry,
  AuditQuery,
  AuditVerify,
  CreatedApiToken,
  Department,
  DirectoryEntry,
  Job,
  JobStatus,
  ListParams,
  ListResponse,
  Me,
  MePatch,
  Permission,
  Role,
  TotpSetup,
  User,
  UserCreate,
  UserPatch,
  UserQuery,
} from './types'

const enc = encodeURIComponent

export interface LoginBody {
  username: string
  password: string
  totp_code?: string
}

export interface SetupBody {
  token: string
  username: string
  display_name: string
  email: string
  password: string
}

export const setupApi = {
  status: () => http.get<{ needed: boolean }>('/setup', undefined, { silent: true }),
  complete: (body: SetupBody) => http.create<Me>('/setup', body),
}

export const authApi = {
  login: (body: LoginBody) => http.post<{ user: Me }>('/auth/login', body, { silent: true }),
  logout: () => http.post<void>('/auth/logout', {}, { silent: true }),
  logoutAll: () => http.post<void>('/auth/logout-all'),
}

export const meApi = {
  get: () => http.get<Me>('/me', undefined, { silent: true, noRedirect: true }),
  update: (patch: MePatch, version: number, opts: { silent?: boolean } = {}) =>
    http.patch<Me>('/me', patch, version, opts),
  changePassword: (current_password: string, new_password: string) =>
    http.post<void>('/me/password', { current_password, new_password }),
  totpSetup: () => http.post<TotpSetup>('/me/totp/setup'),
  totpEnable: (code: string) => http.post<void>('/me/totp/enable', { code }),
  totpDisable: (password: string) => http.post<void>('/me/totp/disable', { password }),
  tokens: () => http.get<ListResponse<ApiToken>>('/me/tokens', { limit: 100 }),
  createToken: (name: string, expires_at: string | null) =>
    http.create<CreatedApiToken>('/me/tokens', { name, expires_at }),
  revokeToken: (id: string) => http.del(`/me/tokens/${enc(id)}`),
}

export const directoryApi = {
  list: () => http.get<{ items: DirectoryEntry[] }>('/directory'),
}

export const departmentsApi = {
  list: () => http.get<{ items: Department[] }>('/departments'),
  create: (body: { name: string; parent_id: string | null; manager_id: string | null }) =>
    http.create<Department>('/departments', body),
  update: (
    id: string,
    body: { name?: string; parent_id?: string | null; manager_id?: string | null },
    version: number,
  ) => http.patch<Department>(`/departments/${enc(id)}`, body, version),
  remove: (id: string, version?: number) => http.del(`/departments/${enc(id)}`, version),
}

export const usersApi = {
  list: (q: UserQuery) => http.get<ListResponse<User>>('/users', { ...q }),
  get: (id: string) => http.get<User>(`/users/${enc(id)}`),
  create: (body: UserCreate) => http.create<User>('/users', body),
  update: (id: string, body: UserPatch, version: number) => http.patch<User>(`/users/${enc(id)}`, body, version),
  disable: (id: string) => http.post<User>(`/users/${enc(id)}/disable`),
  enable: (id: string) => http.post<User>(`/users/${enc(id)}/enable`),
  resetPassword: (id: string, new_password: string) =>
    http.post<void>(`/users/${enc(id)}/reset-password`, { new_password }),
  reveal: (id: string) => http.post<{ email: string | null; mobile: string | null }>(`/users/${enc(id)}/reveal`),
  /** Turns off a user's two-step verification (lost phone); audited as user.totp_reset. */
  resetTotp: (id: string) => http.post<User>(`/users/${enc(id)}/reset-2fa`),
}

export const rolesApi = {
  list: () => http.get<{ items: Role[] }>('/roles'),
  update: (name: string, body: { data_scope?: string; permissions?: string[] }, version: number) =>
    http.patch<Role>(`/roles/${enc(name)}`, body, version),
  permissions: () => http.get<{ items: Permission[] }>('/permissions'),
}

export const auditApi = {
  list: (q: AuditQuery) => http.get<ListResponse<AuditEntry>>('/audit', { ...q }),
  verify: () => http.get<AuditVerify>('/audit/verify'),
}

export const jobsApi = {
  list: (q: ListParams & { status?: JobStatus | '' }) => http.get<ListResponse<Job>>('/jobs', { ...q }),
  retry: (id: string) => http.post<Job>(`/jobs/${enc(id)}/retry`),
}
