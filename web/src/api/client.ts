// A small fetch wrapper for the Prelude JSON API (/api/v1).
//
// - same-origin credentials (session cookie), JSON in and out
// - `Accept-Language` follows the UI language
// - error bodies {"error":{"code","message","fields"}} become an ApiError, and the
//   (server-translated) message is shown through the configured notifier
// - a 401 from anything but the auth/setup calls sends the user to /login
// - `version` → `If-Match: "<version>"`; `idempotent` → a fresh `Idempotency-Key`
import type { ApiErrorBody } from './types'

export const API_BASE = '/api/v1'

export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly fields: Record<string, string>
  /** Structured data a client can act on, e.g. the likely duplicates behind a 409. */
  readonly details: Record<string, unknown>

  constructor(
    status: number,
    code: string,
    message: string,
    fields: Record<string, string> = {},
    details: Record<string, unknown> = {},
  ) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.fields = fields
    this.details = details
  }
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError
}

export type Query = Record<string, string | number | boolean | null | undefined>

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE'
  body?: unknown
  /** A raw request body (an uploaded file) sent as is instead of JSON. */
  rawBody?: Blob
  /** Content-Type of rawBody (default: the blob's type, else application/octet-stream). */
  contentType?: string
  query?: Query
  /** Sends `If-Match: "<version>"` (optimistic concurrency). */
  version?: number | string | null
  /** Sends a fresh `Idempotency-Key` (use for POSTs that create something). */
  idempotent?: boolean
  /** Do not show the error message to the user (the caller handles it). */
  silent?: boolean
  /** Do not redirect to /login on 401 (the caller handles it). */
  noRedirect?: boolean
  signal?: AbortSignal
}

export interface ClientConfig {
  /** Current UI language, sent as Accept-Language. */
  getLocale: () => string
  /** Shows an error message to the user (ElMessage in the app). */
  onError: (message: string, error: ApiError) => void
  /** Called on a 401 from a non-auth call. */
  onUnauthorized: () => void
  /** Fallback texts when the server gives no message. */
  networkErrorMessage: () => string
  httpErrorMessage: (status: number) => string
}

const defaults: ClientConfig = {
  getLocale: () => (typeof localStorage !== 'undefined' && localStorage.getItem('prelude.locale')) || 'zh-CN',
  onError: () => {},
  onUnauthorized: () => {
    if (typeof window !== 'undefined' && window.location.pathname !== '/login') {
      window.location.assign('/login')
    }
  },
  networkErrorMessage: () => 'Network error',
  httpErrorMessage: (status) => `HTTP ${status}`,
}

let config: ClientConfig = { ...defaults }

export function configureClient(c: Partial<ClientConfig>): void {
  config = { ...config, ...c }
}

export function resetClientConfig(): void {
  config = { ...defaults }
}

/** Paths whose 401 means "wrong credentials", not "session expired". */
function isAuthPath(path: string): boolean {
  return path.startsWith('/auth/') || path === '/setup' || path.startsWith('/setup?')
}

export function uuid(): string {
  const c: Crypto | undefined = typeof crypto !== 'undefined' ? crypto : undefined
  if (c && typeof c.randomUUID === 'function') return c.randomUUID()
  // crypto.randomUUID only exists in secure contexts (https, localhost): fall back to
  // getRandomValues so plain-http intranet deployments still get proper v4 UUIDs.
  const b = new Uint8Array(16)
  if (c && typeof c.getRandomValues === 'function') c.getRandomValues(b)
  else for (let i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256)
  b[6] = (b[6] & 0x0f) | 0x40
  b[8] = (b[8] & 0x3f) | 0x80
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

export function buildUrl(path: string, query?: Query): string {
  let url = API_BASE + path
  if (query) {
    const qs = new URLSearchParams()
    for (const [k, v] of Object.entries(query)) {
      if (v === undefined || v === null || v === '') continue
      qs.append(k, String(v))
    }
    const s = qs.toString()
    if (s) url += (url.includes('?') ? '&' : '?') + s
  }
  return url
}

export async function parseError(res: Response): Promise<ApiError> {
  let body: ApiErrorBody | null = null
  try {
    const text = await res.text()
    body = text ? (JSON.parse(text) as ApiErrorBody) : null
  } catch {
    body = null
  }
  const e = body && typeof body === 'object' ? body.error : undefined
  const code = (e && typeof e.code === 'string' && e.code) || `http_${res.status}`
  const message = (e && typeof e.message === 'string' && e.message) || config.httpErrorMessage(res.status)
  const fields = e && e.fields && typeof e.fields === 'object' ? e.fields : {}
  const details = e && e.details && typeof e.details === 'object' ? e.details : {}
  return new ApiError(res.status, code, message, fields, details)
}

export async function request<T = unknown>(path: string, opts: RequestOptions = {}): Promise<T> {
  const method = opts.method ?? (opts.body !== undefined ? 'POST' : 'GET')
  const headers: Record<string, string> = {
    Accept: 'application/json',
    'Accept-Language': config.getLocale(),
  }
  let body: string | Blob | undefined
  if (opts.rawBody !== undefined) {
    headers['Content-Type'] = opts.contentType || opts.rawBody.type || 'application/octet-stream'
    body = opts.rawBody
  } else if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json'
    body = JSON.stringify(opts.body)
  }
  if (opts.version !== undefined && opts.version !== null && opts.version !== '') {
    headers['If-Match'] = `"${opts.version}"`
  }
  if (opts.idempotent) {
    headers['Idempotency-Key'] = uuid()
  }

  let res: Response
  try {
    res = await fetch(buildUrl(path, opts.query), {
      method,
      headers,
      body,
      credentials: 'same-origin',
      signal: opts.signal,
    })
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err
    const e = new ApiError(0, 'network_error', config.networkErrorMessage())
    if (!opts.silent) config.onError(e.message, e)
    throw e
  }

  if (!res.ok) {
    const e = await parseError(res)
    if (res.status === 401 && !isAuthPath(path) && !opts.noRedirect) {
      config.onUnauthorized()
      throw e
    }
    if (!opts.silent) config.onError(e.message, e)
    throw e
  }

  if (res.status === 204) return undefined as T
  const text = await res.text()
  if (!text) return undefined as T
  try {
    return JSON.parse(text) as T
  } catch {
    return text as unknown as T
  }
}

export const http = {
  get: <T>(path: string, query?: Query, opts: RequestOptions = {}) =>
    request<T>(path, { ...opts, method: 'GET', query }),
  post: <T>(path: string, body?: unknown, opts: RequestOptions = {}) =>
    request<T>(path, { ...opts, method: 'POST', body: body ?? {} }),
  /** POST that creates something: always carries an Idempotency-Key. */
  create: <T>(path: string, body: unknown, opts: RequestOptions = {}) =>
    request<T>(path, { ...opts, method: 'POST', body, idempotent: true }),
  patch: <T>(path: string, body: unknown, version?: number | string | null, opts: RequestOptions = {}) =>
    request<T>(path, { ...opts, method: 'PATCH', body, version }),
  put: <T>(path: string, body: unknown, opts: RequestOptions = {}) => request<T>(path, { ...opts, method: 'PUT', body }),
  del: <T = void>(path: string, version?: number | string | null, opts: RequestOptions = {}) =>
    request<T>(path, { ...opts, method: 'DELETE', version }),
  /** POSTs a file as the raw request body (imports). */
  upload: <T>(path: string, file: Blob, query?: Query, opts: RequestOptions = {}) =>
    request<T>(path, { ...opts, method: 'POST', rawBody: file, query, idempotent: true }),
}

/** The file name of a Content-Disposition header (RFC 6266 filename* first), or ''. */
export function dispositionFilename(header: string | null): string {
  if (!header) return ''
  const star = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/.exec(header)
  if (star) {
    try {
      return decodeURIComponent(star[1].trim().replace(/^"|"$/g, ''))
    } catch {
      /* fall through to the plain name */
    }
  }
  const plain = /filename\s*=\s*("([^"]*)"|[^;]+)/.exec(header)
  return plain ? (plain[2] ?? plain[1]).trim() : ''
}

/** Saves a blob as a file through a temporary <a download>. */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = filename
  a.rel = 'noopener'
  a.style.display = 'none'
  document.body.appendChild(a)
  a.click()
  document.body.removeChild(a)
  // Give the browser a moment to start the download before the URL goes away.
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}

/**
 * Downloads a file (GET path?query) with the session and saves it under the server's
 * file name (Content-Disposition) or `fallbackName`. Errors are ApiErrors as usual.
 */
export async function download(path: string, query: Query | undefined, fallbackName: string, opts: RequestOptions = {}): Promise<string> {
  const headers: Record<string, string> = { Accept: '*/*', 'Accept-Language': config.getLocale() }
  let res: Response
  try {
    res = await fetch(buildUrl(path, query), { method: 'GET', headers, credentials: 'same-origin', signal: opts.signal })
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err
    const e = new ApiError(0, 'network_error', config.networkErrorMessage())
    if (!opts.silent) config.onError(e.message, e)
    throw e
  }
  if (!res.ok) {
    const e = await parseError(res)
    if (res.status === 401 && !opts.noRedirect) {
      config.onUnauthorized()
      throw e
    }
    if (!opts.silent) config.onError(e.message, e)
    throw e
  }
  const name = dispositionFilename(res.headers.get('Content-Disposition')) || fallbackName
  saveBlob(await res.blob(), name)
  return name
}
