import type { Component } from 'vue'
import {
  Avatar,
  Checked,
  Goods,
  PriceTag,
  Stamp,
  Tickets,
  Tools,
  Calendar,
  Document,
  DataLine,
  HomeFilled,
  Key,
  List,
  OfficeBuilding,
  Postcard,
  Refresh,
  Setting,
  Sunny,
  Timer,
  User,
} from '@element-plus/icons-vue'

/**
 * Which permissions open each page (any one of them is enough). Shared by the
 * sidebar and the route guards so both always agree.
 */
export const PAGE_PERMISSIONS: Record<string, string[]> = {
  customers: ['customers.read'],
  users: ['users.read', 'users.manage'],
  departments: ['departments.manage', 'users.read'],
  roles: ['roles.manage'],
  audit: ['audit.read'],
  jobs: ['jobs.manage'],
  // 报价: quotes, catalog and price lists for whoever quotes; approvals for approvers
  quotes: ['quotes.read'],
  quoteCreate: ['quotes.create'],
  approvals: ['quotes.approve'],
  approvalRules: ['quotes.configure', 'quotes.approve'],
  quoteSettings: ['quotes.configure'],
}

export interface NavItem {
  key: string
  /** i18n key of the label */
  label: string
  icon: Component
  path?: string
  /** any one of these opens the item; none = every signed-in user */
  permissions?: string[]
  children?: NavItem[]
}

export const NAV_ITEMS: NavItem[] = [
  { key: 'home', label: 'nav.home', icon: HomeFilled, path: '/' },
  // 跟进: every signed-in user has their own tasks and promises
  { key: 'myday', label: 'nav.myDay', icon: Sunny, path: '/my-day' },
  {
    key: 'followups',
    label: 'nav.followups',
    icon: List,
    children: [
      { key: 'calendar', label: 'nav.calendar', icon: Calendar, path: '/calendar' },
      { key: 'promise-stats', label: 'nav.promiseStats', icon: DataLine, path: '/promise-stats' },
      { key: 'revisits', label: 'nav.revisits', icon: Refresh, path: '/revisits' },
    ],
  },
  { key: 'customers', label: 'nav.customers', icon: Postcard, path: '/customers', permissions: PAGE_PERMISSIONS.customers },
  {
    key: 'quotes-group',
    label: 'quotes.nav.group',
    icon: Tickets,
    children: [
      { key: 'quotes', label: 'quotes.nav.quotes', icon: Tickets, path: '/quotes', permissions: PAGE_PERMISSIONS.quotes },
      { key: 'products', label: 'quotes.nav.products', icon: Goods, path: '/products', permissions: PAGE_PERMISSIONS.quotes },
      { key: 'price-lists', label: 'quotes.nav.priceLists', icon: PriceTag, path: '/price-lists', permissions: PAGE_PERMISSIONS.quotes },
      { key: 'approval-rules', label: 'quotes.nav.rules', icon: Checked, path: '/approval-rules', permissions: PAGE_PERMISSIONS.approvalRules },
      { key: 'quote-settings', label: 'quotes.nav.settings', icon: Tools, path: '/quote-settings', permissions: PAGE_PERMISSIONS.quoteSettings },
    ],
  },
  { key: 'approvals', label: 'approvals.nav', icon: Stamp, path: '/approvals', permissions: PAGE_PERMISSIONS.approvals },
  { key: 'account', label: 'nav.account', icon: Avatar, path: '/account' },
  {
    key: 'admin',
    label: 'nav.admin',
    icon: Setting,
    children: [
      { key: 'users', label: 'nav.users', icon: User, path: '/admin/users', permissions: PAGE_PERMISSIONS.users },
      {
        key: 'departments',
        label: 'nav.departments',
        icon: OfficeBuilding,
        path: '/admin/departments',
        permissions: PAGE_PERMISSIONS.departments,
      },
      { key: 'roles', label: 'nav.roles', icon: Key, path: '/admin/roles', permissions: PAGE_PERMISSIONS.roles },
      { key: 'audit', label: 'nav.audit', icon: Document, path: '/admin/audit', permissions: PAGE_PERMISSIONS.audit },
      { key: 'jobs', label: 'nav.jobs', icon: Timer, path: '/admin/jobs', permissions: PAGE_PERMISSIONS.jobs },
    ],
  },
]

export function allowed(required: string[] | undefined, granted: Iterable<string>): boolean {
  if (!required || required.length === 0) return true
  const set = granted instanceof Set ? (granted as Set<string>) : new Set(granted)
  return required.some((p) => set.has(p))
}

/** The navigation tree the user may see: items without permission and empty groups removed. */
export function filterNav(items: NavItem[], granted: Iterable<string>): NavItem[] {
  const set = new Set(granted)
  const out: NavItem[] = []
  for (const item of items) {
    if (!allowed(item.permissions, set)) continue
    if (item.children) {
      const children = filterNav(item.children, set)
      if (children.length === 0) continue
      out.push({ ...item, children })
    } else {
      out.push(item)
    }
  }
  return out
}
