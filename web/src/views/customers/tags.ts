// Element Plus tag colours of account levels and statuses.
type TagType = 'primary' | 'success' | 'warning' | 'danger' | 'info'

export function levelTagType(level: string): TagType {
  return ({ A: 'danger', B: 'warning', C: 'primary', D: 'info' } as Record<string, TagType>)[level] ?? 'info'
}

export function statusTagType(status: string): TagType {
  return ({ prospect: 'info', active: 'success', dormant: 'warning', lost: 'danger' } as Record<string, TagType>)[status] ?? 'info'
}
