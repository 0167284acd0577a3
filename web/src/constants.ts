/** The built-in roles, in display order. */
export const ROLE_NAMES = ['admin', 'manager', 'presales', 'sales', 'service', 'marketing', 'tech', 'aftersales'] as const

export const DATA_SCOPES = ['own', 'department', 'all'] as const

export const JOB_STATUSES = ['pending', 'running', 'succeeded', 'dead'] as const

/** Permission areas in display order (unknown areas are appended). */
export const PERMISSION_AREAS = ['users', 'organisation', 'security', 'system'] as const

export const AUDIT_ENTITY_TYPES = ['user', 'department', 'role', 'token', 'session', 'job', 'setup'] as const
