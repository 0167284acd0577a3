import { vi } from 'vitest'

export interface Call {
  url: string
  method: string
  headers: Record<string, string>
  body: unknown
  credentials?: RequestCredentials
}

type Responder = (call: Call) => Response | Promise<Response>

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  })
}

export function apiError(status: number, code: string, message: string, fields?: Record<string, string>): Response {
  return json(status, { error: { code, message, ...(fields ? { fields } : {}) } })
}

/** Replaces global fetch; returns the recorded calls. */
export function mockFetch(responder: Responder) {
  const calls: Call[] = []
  const fn = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const headers: Record<string, string> = {}
    const h = init.headers as Record<string, string> | undefined
    if (h) for (const [k, v] of Object.entries(h)) headers[k.toLowerCase()] = v
    const call: Call = {
      url: String(input),
      method: (init.method ?? 'GET').toUpperCase(),
      headers,
      body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
      credentials: init.credentials,
    }
    calls.push(call)
    return responder(call)
  })
  vi.stubGlobal('fetch', fn)
  return { calls, fn }
}

export const sampleMe = {
  id: 'u1',
  username: 'zhangsan',
  display_name: '张三',
  email: 'zs@example.com',
  mobile: '13800005678',
  department_id: 'd1',
  department_name: '售前部',
  roles: ['presales'],
  permissions: ['users.read'],
  data_scope: 'department',
  locale: 'zh-CN',
  totp_enabled: false,
  last_login_at: null,
  created_at: '2025-01-01T00:00:00Z',
  updated_at: '2025-01-01T00:00:00Z',
  version: 3,
}
