import { download, http } from './client'
import type {
  Account,
  AccountImport,
  AccountInput,
  AccountPage,
  AccountPatch,
  AccountQuery,
  Activity,
  ActivityInput,
  BulkInput,
  Contact,
  ContactInput,
  ContactPatch,
  CustomerOptions,
  DuplicateMode,
  Duplicate,
  DuplicateQuery,
  ImportMode,
  MergeResult,
  RegionNode,
  RevealedContact,
  SearchPage,
  TimelineEvent,
  AccountFilters,
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

/* ---- customer archive ---- */

export const accountsApi = {
  list: (q: AccountQuery) => http.get<ListResponse<Account>>('/accounts', { ...q }),
  /** GET one account; not found (or outside the caller's scope) is a silent 404 for the caller to show. */
  get: (id: string, opts: { silent?: boolean } = {}) => http.get<Account>(`/accounts/${enc(id)}`, undefined, opts),
  /** The account page in one request: the account with its contacts and first 50 timeline events (as get, a silent 404). */
  page: (id: string) => http.get<AccountPage>(`/accounts/${enc(id)}`, { expand: 'contacts,timeline' }, { silent: true }),
  /** 409 duplicate_suspected (error.details.duplicates) unless body.confirm_duplicates; silent: the form shows it. */
  create: (body: AccountInput) => http.create<Account>('/accounts', body, { silent: true }),
  update: (id: string, patch: AccountPatch, version: number, opts: { silent?: boolean } = {}) =>
    http.patch<Account>(`/accounts/${enc(id)}`, patch, version, opts),
  archive: (id: string, version: number) => http.del(`/accounts/${enc(id)}`, version),
  duplicates: (q: DuplicateQuery) => http.post<{ items: Duplicate[] }>('/accounts/duplicates', q, { silent: true }),
  bulk: (body: BulkInput) => http.post<{ updated: number }>('/accounts/bulk', body),
  /** Answers only {id, owner_id} when the caller can no longer see the account. */
  transfer: (id: string, owner_id: string, reason: string) =>
    http.post<Partial<Account> & { id: string }>(`/accounts/${enc(id)}/transfer`, { owner_id, reason }),
  merge: (id: string, source_id: string) => http.post<MergeResult>(`/accounts/${enc(id)}/merge`, { source_id }),
  setCollaborators: (id: string, user_ids: string[]) => http.put<Account>(`/accounts/${enc(id)}/collaborators`, { user_ids }),
  timeline: (id: string, q: ListParams & { kind?: string }) =>
    http.get<ListResponse<TimelineEvent>>(`/accounts/${enc(id)}/timeline`, { ...q }),
  contacts: (id: string) => http.get<ListResponse<Contact>>(`/accounts/${enc(id)}/contacts`),
  addContact: (id: string, body: ContactInput) => http.create<Contact>(`/accounts/${enc(id)}/contacts`, body),
  linkContact: (id: string, body: { contact_id: string; purchase_role: string; is_primary: boolean }) =>
    http.post<Contact>(`/accounts/${enc(id)}/contact-links`, body),
  unlinkContact: (id: string, contactId: string) => http.del(`/accounts/${enc(id)}/contacts/${enc(contactId)}`),
  logActivity: (id: string, body: ActivityInput) => http.create<Activity>(`/accounts/${enc(id)}/activities`, body),
  /** Downloads export.xlsx with the list's filters. */
  exportXlsx: (filters: AccountFilters, fallbackName: string) => download('/accounts/export.xlsx', { ...filters }, fallbackName),
}

export const activitiesApi = {
  remove: (id: string) => http.del(`/activities/${enc(id)}`),
}

export const contactsApi = {
  list: (q: ListParams & { q?: string }) => http.get<ListResponse<Contact>>('/contacts', { ...q }),
  get: (id: string) => http.get<Contact>(`/contacts/${enc(id)}`),
  update: (id: string, patch: ContactPatch, version: number) => http.patch<Contact>(`/contacts/${enc(id)}`, patch, version),
  /** Clear mobile, phone, email and WeChat; audited as contact.reveal. */
  reveal: (id: string) => http.post<RevealedContact>(`/contacts/${enc(id)}/reveal`),
}

export const searchApi = {
  search: (q: string, opts: { types?: string; limit?: number; cursor?: string | null; signal?: AbortSignal } = {}) =>
    http.get<SearchPage>('/search', { q, types: opts.types, limit: opts.limit, cursor: opts.cursor }, { signal: opts.signal }),
}

export const customerMetaApi = {
  options: () => http.get<CustomerOptions>('/customer-options'),
  regions: () => http.get<RegionNode[]>('/regions'),
}

export const importsApi = {
  template: (fallbackName: string) => download('/accounts/import-template', undefined, fallbackName),
  /**
   * Uploads a spreadsheet (.xlsx or .csv) as the raw body: a dry run (preview, writes nothing) or the
   * real import (all rows or none). Answers 202 with the import; poll get() until done or failed.
   */
  start: (file: File, mode: ImportMode, duplicates: DuplicateMode) =>
    http.upload<AccountImport>('/account-imports', file, { mode, duplicates, filename: file.name }, { silent: true }),
  get: (id: string) => http.get<AccountImport>(`/account-imports/${enc(id)}`, undefined, { silent: true }),
  /** Downloads the error report: the bad rows with a reason column. */
  report: (id: string, fallbackName: string) => download(`/account-imports/${enc(id)}/report.xlsx`, undefined, fallbackName),
}
