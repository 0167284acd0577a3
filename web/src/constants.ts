/** The administrator role: fixed on the server, every permission, all data. */
export const ADMIN_ROLE = 'admin'

/** The built-in roles, in display order. */
export const ROLE_NAMES = ['admin', 'manager', 'presales', 'sales', 'service', 'marketing', 'tech', 'aftersales'] as const

export const DATA_SCOPES = ['own', 'department', 'all'] as const

export const JOB_STATUSES = ['pending', 'running', 'succeeded', 'dead'] as const

/** Permission areas in display order (unknown areas are appended). */
export const PERMISSION_AREAS = ['users', 'organisation', 'security', 'system', 'customers'] as const

export const AUDIT_ENTITY_TYPES = ['user', 'department', 'role', 'token', 'session', 'job', 'setup', 'account', 'contact', 'activity', 'task', 'channel', 'revisit_plan'] as const

/** Every audit action the server records (each has a label in audit.actions.*). */
export const AUDIT_ACTIONS = [
  'setup.complete',
  'auth.login',
  'auth.login_failed',
  'auth.logout',
  'auth.logout_all',
  'user.create',
  'user.update',
  'user.update_self',
  'user.roles_change',
  'user.disable',
  'user.enable',
  'user.password_change',
  'user.password_reset',
  'user.totp_enable',
  'user.totp_disable',
  'user.totp_reset',
  'user.reveal',
  'department.create',
  'department.update',
  'department.delete',
  'role.update',
  'token.create',
  'token.revoke',
  'job.retry',
  'account.create',
  'account.update',
  'account.archive',
  'account.transfer',
  'account.share',
  'account.merge',
  'account.import',
  'account.export',
  'contact.create',
  'contact.update',
  'contact.delete',
  'contact.reveal',
  'activity.create',
  'activity.update',
  'activity.delete',
  'task.create',
  'task.update',
  'task.complete',
  'task.cancel',
  'task.promise_broken',
  'task.promise_met',
  'revisit_plan.update',
  'channel.create',
  'channel.update',
  'channel.delete',
  'calendar_feed.create',
  'calendar_feed.revoke',
] as const

/** The customer archive's enumerations (as the server's model.go; each has a label in customers.enums.*). */
export const CUSTOMER_ENUMS = {
  kinds: ['company', 'individual'],
  sizes: ['micro', 'small', 'medium', 'large', 'enterprise'],
  sources: ['referral', 'website', 'exhibition', 'ecommerce', 'cold_call', 'advertising', 'partner', 'inquiry', 'other'],
  statuses: ['prospect', 'active', 'dormant', 'lost'],
  purchaseRoles: ['decision_maker', 'influencer', 'user', 'gatekeeper', 'other'],
  activityKinds: ['call', 'meeting', 'visit', 'note'],
  directions: ['inbound', 'outbound'],
  duplicateReasons: ['uscc', 'name', 'mobile', 'email'],
} as const
