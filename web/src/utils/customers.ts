// Pure helpers of the customer archive screens (no components, easy to test).
import { isApiError } from '@/api/client'
import type { AccountFilters, AccountSort, BulkInput, Duplicate, RegionNode, TimelineEvent } from '@/api/types'

/* ---------------- field errors ---------------- */

export interface SplitErrors {
  /** errors of the account's own fields: { name: '…', uscc: '…' } */
  account: Record<string, string>
  /** errors of the nested contacts by row: { 0: { mobile: '…' } } */
  contacts: Record<number, Record<string, string>>
}

/**
 * Splits the server's `error.fields` into the account's fields and the nested
 * contact rows: "contacts.0.mobile" → contacts[0].mobile.
 */
export function splitFieldErrors(fields: Record<string, string> | null | undefined): SplitErrors {
  const out: SplitErrors = { account: {}, contacts: {} }
  for (const [key, msg] of Object.entries(fields ?? {})) {
    const m = /^contacts\.(\d+)\.(.+)$/.exec(key)
    if (m) {
      const row = Number(m[1])
      ;(out.contacts[row] ??= {})[m[2]] = msg
    } else {
      out.account[key] = msg
    }
  }
  return out
}

/** The likely duplicates of a 409 duplicate_suspected answer, or null for any other error. */
export function duplicatesOf(e: unknown): Duplicate[] | null {
  if (!isApiError(e) || e.code !== 'duplicate_suspected') return null
  const list = e.details?.duplicates
  return Array.isArray(list) ? (list as Duplicate[]) : []
}

/* ---------------- USCC ---------------- */

const USCC_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY'
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]

/** Spaces removed, full-width forms made ASCII, upper case (as the server does). */
export function normalizeUSCC(s: string): string {
  return s
    .normalize('NFKC')
    .replace(/\s+/g, '')
    .toUpperCase()
}

/**
 * Checks a Unified Social Credit Code (GB 32100-2015) like the server: 18
 * characters of the code's alphabet, digits in positions 3–8, and the check
 * character. '' is valid (the field is optional).
 */
export function isValidUSCC(raw: string): boolean {
  const s = normalizeUSCC(raw)
  if (s === '') return true
  if (s.length !== 18 || !/^[0-9]{6}$/.test(s.slice(2, 8))) return false
  let sum = 0
  for (let i = 0; i < 17; i++) {
    const n = USCC_ALPHABET.indexOf(s[i])
    if (n < 0) return false
    sum += n * USCC_WEIGHTS[i]
  }
  return USCC_ALPHABET[(31 - (sum % 31)) % 31] === s[17]
}

/* ---------------- regions ---------------- */

/** The region tree cut to provinces and cities (for the list's filter). */
export function twoLevels(tree: RegionNode[]): RegionNode[] {
  return tree.map((p) => ({
    code: p.code,
    name: p.name,
    children: p.children?.map((c) => ({ code: c.code, name: c.name })),
  }))
}

/** [province, city?, district?] of an account, without empty levels. */
export function regionPath(a: { province_code?: string; city_code?: string; district_code?: string }): string[] {
  return [a.province_code, a.city_code, a.district_code].filter((x): x is string => !!x)
}

/* ---------------- list filters ---------------- */

export interface ListState {
  q: string
  status: string
  level: string
  source: string
  owner_id: string
  /** [province] or [province, city] */
  region: string[]
  tag: string
  no_contact_days: number | null
  archived: boolean
  sort: AccountSort
}

export const SORTS: AccountSort[] = ['-updated_at', '-created_at', '-last_contact_at', 'last_contact_at', 'name']

export function emptyListState(): ListState {
  return { q: '', status: '', level: '', source: '', owner_id: '', region: [], tag: '', no_contact_days: null, archived: false, sort: '-updated_at' }
}

/** The API filters of a list state (empty values left out). */
export function filtersOf(s: ListState): AccountFilters {
  const f: AccountFilters = {}
  if (s.q.trim()) f.q = s.q.trim()
  if (s.status) f.status = s.status
  if (s.level) f.level = s.level
  if (s.source) f.source = s.source
  if (s.owner_id) f.owner_id = s.owner_id
  if (s.region[0]) f.province_code = s.region[0]
  if (s.region[1]) f.city_code = s.region[1]
  if (s.tag.trim()) f.tag = s.tag.trim()
  if (s.no_contact_days && s.no_contact_days > 0) f.no_contact_days = Math.floor(s.no_contact_days)
  if (s.archived) f.archived = true
  if (s.sort && s.sort !== '-updated_at') f.sort = s.sort
  return f
}

/** Route query ↔ list state, so a list survives a visit to an account and can be linked. */
export function stateToQuery(s: ListState): Record<string, string> {
  const q: Record<string, string> = {}
  for (const [k, v] of Object.entries(filtersOf(s))) q[k] = String(v)
  return q
}

export function stateFromQuery(q: Record<string, unknown>): ListState {
  const s = emptyListState()
  const str = (k: string) => (typeof q[k] === 'string' ? (q[k] as string) : '')
  s.q = str('q')
  s.status = str('status')
  s.level = str('level')
  s.source = str('source')
  s.owner_id = str('owner_id')
  s.tag = str('tag')
  if (str('province_code')) s.region = str('city_code') ? [str('province_code'), str('city_code')] : [str('province_code')]
  const n = Number.parseInt(str('no_contact_days'), 10)
  s.no_contact_days = Number.isFinite(n) && n > 0 ? n : null
  s.archived = str('archived') === 'true'
  const sort = str('sort') as AccountSort
  if (SORTS.includes(sort)) s.sort = sort
  return s
}

/* ---------------- bulk actions ---------------- */

export type BulkAction = 'assign' | 'addTags' | 'removeTags'

/** The POST /accounts/bulk body of one bulk action. */
export function bulkPayload(ids: string[], action: BulkAction, form: { owner_id?: string; reason?: string; tags?: string[] }): BulkInput {
  const account_ids = [...new Set(ids)]
  const tags = [...new Set((form.tags ?? []).map((t) => t.trim()).filter(Boolean))]
  switch (action) {
    case 'assign':
      return { account_ids, owner_id: form.owner_id ?? '', reason: (form.reason ?? '').trim() }
    case 'addTags':
      return { account_ids, add_tags: tags }
    case 'removeTags':
      return { account_ids, remove_tags: tags }
  }
}

/* ---------------- timeline ---------------- */

/** Kinds the UI knows how to render; anything else falls back to a generic entry. */
export const ACTIVITY_KINDS = ['call', 'meeting', 'visit', 'note'] as const
export const FIELD_CHANGE_KINDS = [
  'account_needs_changed',
  'account_concerns_changed',
  'account_opinions_changed',
  'account_suggestions_changed',
  'account_status_changed',
  'account_level_changed',
] as const
export const KNOWN_TIMELINE_KINDS = [
  ...ACTIVITY_KINDS,
  'account_created',
  'contact_added',
  'account_transferred',
  'account_merged',
  'account_archived',
  ...FIELD_CHANGE_KINDS,
] as const

/** What the pipeline (商机) writes on the account's timeline. */
export const OPPORTUNITY_KINDS = [
  'opportunity_created',
  'opportunity_stage_changed',
  'opportunity_won',
  'opportunity_lost',
  'requirement_added',
  'requirement_analysed',
  'support_requested',
  'support_answered',
  'solution_submitted',
  'solution_approved',
  'solution_rejected',
  'demo_requested',
  'demo_approved',
  'demo_rejected',
  'demo_completed',
  'negotiation_recorded',
  'research_note_added',
] as const

/** Filter chips of the timeline: each is a set of kinds (none = every kind). */
export const TIMELINE_FILTERS: { key: string; kinds: string[] }[] = [
  { key: 'all', kinds: [] },
  { key: 'call', kinds: ['call'] },
  { key: 'meeting', kinds: ['meeting'] },
  { key: 'visit', kinds: ['visit'] },
  { key: 'note', kinds: ['note'] },
  { key: 'contacts', kinds: ['contact_added'] },
  { key: 'changes', kinds: ['account_created', 'account_transferred', 'account_merged', 'account_archived', ...FIELD_CHANGE_KINDS] },
  { key: 'opportunities', kinds: [...OPPORTUNITY_KINDS] },
]

export type TimelineIcon = 'phone' | 'meeting' | 'visit' | 'note' | 'created' | 'contact' | 'transfer' | 'merge' | 'archive' | 'change' | 'generic'

/** One labelled detail line of an entry: an i18n key and its value (already a display string). */
export interface EntryMeta {
  label: string
  value: string
  /** the value is an i18n key to translate */
  translate?: boolean
  /** a time that goes with the value (formatted) */
  time?: string
}

export interface TimelineEntry {
  /** the kind is one the UI knows (else a generic entry from title and body) */
  known: boolean
  icon: TimelineIcon
  /** Element Plus timeline colour */
  color: string
  /** i18n key of the kind's label; for unknown kinds the raw kind is shown */
  kindKey: string | null
  title: string
  body: string
  meta: EntryMeta[]
  /** the entry refers to a logged activity (which may be deleted) */
  activityId: string | null
}

const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '')

/**
 * How a timeline event is drawn. Known kinds get an icon, a colour and their
 * details; unknown kinds (written by capabilities this UI does not know yet)
 * still show their title and body.
 */
export function describeEvent(ev: TimelineEvent, fmtTime: (iso: string) => string = (x) => x): TimelineEntry {
  const data = ev.data ?? {}
  const base = { known: true, title: ev.title ?? '', body: ev.body ?? '', meta: [] as EntryMeta[], activityId: null as string | null }
  const kindKey = `customers.timeline.kinds.${ev.kind}`
  switch (ev.kind) {
    case 'call':
    case 'meeting':
    case 'visit':
    case 'note': {
      const meta: EntryMeta[] = []
      const direction = str(data.direction)
      if (ev.kind === 'call' && (direction === 'inbound' || direction === 'outbound')) {
        meta.push({ label: 'customers.activity.direction', value: `customers.enums.directions.${direction}`, translate: true })
      }
      const minutes = Number(data.duration_min)
      if (ev.kind !== 'note' && Number.isFinite(minutes) && minutes > 0) {
        meta.push({ label: 'customers.activity.duration', value: String(minutes) })
      }
      if (str(data.outcome)) meta.push({ label: 'customers.activity.outcome', value: str(data.outcome) })
      if (str(data.next_step)) {
        const at = str(data.next_step_at)
        meta.push({ label: 'customers.activity.nextStep', value: str(data.next_step), time: at ? fmtTime(at) : undefined })
      }
      const icon: TimelineIcon = ev.kind === 'call' ? 'phone' : ev.kind
      const color = { call: '#3370ff', meeting: '#7b61ff', visit: '#14c0a3', note: '#8f959e' }[ev.kind]
      // the title repeats the summary's first line when no subject was given
      const body = base.body && base.body.trim() === base.title.replace(/…$/, '').trim() ? '' : base.body
      return { ...base, body, kindKey, icon, color, meta, activityId: ev.ref_type === 'activity' ? ev.ref_id : null }
    }
    case 'account_created':
      return { ...base, kindKey, icon: 'created', color: '#3370ff' }
    case 'contact_added':
      return { ...base, kindKey, icon: 'contact', color: '#14c0a3' }
    case 'account_transferred': {
      const meta: EntryMeta[] = []
      const from = str(data.from_owner_name)
      const to = str(data.to_owner_name)
      if (from || to) meta.push({ label: 'customers.timeline.owner', value: `${from || '—'} → ${to || '—'}` })
      if (str(data.reason)) meta.push({ label: 'customers.timeline.reason', value: str(data.reason) })
      return { ...base, body: '', kindKey, icon: 'transfer', color: '#ff8800', meta }
    }
    case 'account_merged':
      return { ...base, title: str(data.source_name) || base.title, kindKey, icon: 'merge', color: '#7b61ff' }
    case 'account_archived':
      return { ...base, kindKey, icon: 'archive', color: '#8f959e' }
    default:
      if ((FIELD_CHANGE_KINDS as readonly string[]).includes(ev.kind)) {
        return { ...base, kindKey, icon: 'change', color: '#ff8800', body: str(data.to) || base.body }
      }
      // a field this version does not know changed: drawn as a change, labelled by its raw kind
      if (/^account_[a-z0-9_]+_changed$/.test(ev.kind)) {
        return { ...base, kindKey: null, icon: 'change', color: '#ff8800', body: str(data.to) || base.body }
      }
      return { ...base, known: false, kindKey: null, icon: 'generic', color: '#c0c4cc' }
  }
}

/** The value to show for a field-change entry of an enum field (status, level). */
export function changedEnum(ev: TimelineEvent): { field: 'status' | 'level'; from: string; to: string } | null {
  if (ev.kind !== 'account_status_changed' && ev.kind !== 'account_level_changed') return null
  const d = ev.data ?? {}
  return { field: ev.kind === 'account_status_changed' ? 'status' : 'level', from: str(d.from), to: str(d.to) }
}

/* ---------------- search ---------------- */

/** Splits text around the query's terms for highlighting (no HTML involved). */
export function highlightParts(text: string, query: string): { text: string; hit: boolean }[] {
  const terms = query
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
  if (!text) return []
  if (terms.length === 0) return [{ text, hit: false }]
  const re = new RegExp(`(${terms.join('|')})`, 'gi')
  const out: { text: string; hit: boolean }[] = []
  let last = 0
  for (const m of text.matchAll(re)) {
    if (m.index! > last) out.push({ text: text.slice(last, m.index), hit: false })
    out.push({ text: m[0], hit: true })
    last = m.index! + m[0].length
  }
  if (last < text.length) out.push({ text: text.slice(last), hit: false })
  return out
}

/** A contact hit's snippet is "title · mobile · email" with empty parts: drop them. */
export function cleanSnippet(s: string): string {
  return s
    .split('·')
    .map((x) => x.trim())
    .filter(Boolean)
    .join(' · ')
}

/* ---------------- misc ---------------- */

/** Whole days since a time (0 = today), or null. */
export function daysSince(iso: string | null | undefined, now = Date.now()): number | null {
  if (!iso) return null
  const t = new Date(iso).getTime()
  if (Number.isNaN(t)) return null
  return Math.max(0, Math.floor((now - t) / 86_400_000))
}

/** What separates tags typed in one go: Latin and full-width commas and semicolons, the enumeration comma. */
export const TAG_DELIMITER = /[,\uff0c\u3001;\uff1b]/

/** The four free-text parts of the archive (regulation 3): needs, concerns, opinions, suggestions. */
export const ARCHIVE_FIELDS = ['needs', 'concerns', 'opinions', 'suggestions'] as const
export type ArchiveField = (typeof ARCHIVE_FIELDS)[number]

/** Tags typed as one string: split on Latin and full-width commas and semicolons and the enumeration comma. */
export function splitTags(s: string): string[] {
  return [
    ...new Set(
      s
        .split(/[,\uff0c\u3001;\uff1b]/)
        .map((x) => x.trim())
        .filter(Boolean),
    ),
  ]
}
