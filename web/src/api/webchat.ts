// Web chat (在线咨询): the websites allowed to embed the chat widget.
// Shapes mirror internal/webchat/model.go.
import { http } from './client'
import type { ListResponse } from './types'

export interface ChatSite {
  id: string
  name: string
  /** public but unguessable; goes into data-site of the embed code */
  site_key: string
  /** exact scheme://host[:port] values, as browsers send them */
  allowed_origins: string[]
  enabled: boolean
  /** the team conversations go to; null: the ordinary assignment rules */
  department_id: string | null
  greeting_zh: string
  greeting_en: string
  offline_zh: string
  offline_en: string
  ask_name: boolean
  ask_phone: boolean
  /** the snippet to paste before </body> */
  embed_code: string
  version: number
  created_at: string
  updated_at: string
}

export interface ChatSiteInput {
  name: string
  allowed_origins: string[]
  enabled: boolean
  department_id: string
  greeting_zh: string
  greeting_en: string
  offline_zh: string
  offline_en: string
  ask_name: boolean
  ask_phone: boolean
}

export const chatSitesApi = {
  list: () => http.get<ListResponse<ChatSite>>('/chat-sites'),
  create: (body: ChatSiteInput) => http.create<ChatSite>('/chat-sites', body, { silent: true }),
  update: (id: string, body: Partial<ChatSiteInput>, version: number) => http.patch<ChatSite>(`/chat-sites/${id}`, body, version, { silent: true }),
  rotateKey: (id: string, version: number) => http.post<ChatSite>(`/chat-sites/${id}/rotate-key`, {}, { version }),
  remove: (id: string, version: number) => http.del(`/chat-sites/${id}`, version),
}

/** Splits the origins textarea (one per line, commas and spaces allowed) into a list. */
export function parseOrigins(text: string): string[] {
  return text
    .split(/[\s,\uff0c]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '')
}

/**
 * Turns the server's field errors on allowed_origins.N into one message for the
 * origins field, naming the line.
 */
export function originErrors(fields: Record<string, string>, lineLabel: (n: number) => string): string {
  const out: string[] = []
  if (fields.allowed_origins) out.push(fields.allowed_origins)
  for (const [k, v] of Object.entries(fields)) {
    const m = /^allowed_origins\.(\d+)$/.exec(k)
    if (m) out.push(`${lineLabel(Number(m[1]) + 1)}${v}`)
  }
  return out.join('; ')
}
