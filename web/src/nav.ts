import type { Component } from 'vue'
import {
  AlarmClock,
  Avatar,
  ChatDotSquare,
  Checked,
  Collection,
  Notebook,
  Message,
  Share,
  Goods,
  PriceTag,
  Stamp,
  Tickets,
  Tools,
  Calendar,
  ChatDotRound,
  Document,
  DataLine,
  Finished,
  DataAnalysis,
  Grid,
  Operation,
  Service,
  TrendCharts,
  HomeFilled,
  Key,
  List,
  OfficeBuilding,
  Postcard,
  Refresh,
  RefreshLeft,
  Setting,
  ShoppingCart,
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
  chatSites: ['chat_sites.manage'],
  contracts: ['contracts.read'],
  orders: ['orders.read'],
  // 咨询工作台 and its settings (internal/platform/authz)
  inbox: ['inquiries.read'],
  slaPolicies: ['sla.manage'],
  workCalendar: ['settings.calendar'],
  standards: ['standards.read', 'standards.manage'],
  canned: ['inquiries.read'],
  mailboxes: ['mailboxes.manage'],
  assignRules: ['inquiries.assign'],
  // 商机 (issue 5)
  pipeline: ['opportunities.read'],
  techSupport: ['techsupport.answer'],
  pipelineAdmin: ['pipeline.manage'],
  // 报价: quotes, catalog and price lists for whoever quotes; approvals for approvers
  quotes: ['quotes.read'],
  quoteCreate: ['quotes.create'],
  approvals: ['quotes.approve', 'solutions.approve', 'demos.approve'],
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
  { key: 'myday', label: 'nav.myDay', icon: Sunny, path: '/my-day' },
  { key: 'inbox', label: 'nav.inbox', icon: ChatDotSquare, path: '/inbox', permissions: PAGE_PERMISSIONS.inbox },
  { key: 'customers', label: 'nav.customers', icon: Postcard, path: '/customers', permissions: PAGE_PERMISSIONS.customers },
  // the presales process in its order (regulation 2): inquiry → customer → opportunity → quote → contract;
  // 商机: board, list, forecast, the queue for technical staff
  {
    key: 'pipeline',
    label: 'pipeline.nav.group',
    icon: TrendCharts,
    children: [
      { key: 'pipeline-board', label: 'pipeline.nav.board', icon: Grid, path: '/pipeline', permissions: PAGE_PERMISSIONS.pipeline },
      { key: 'pipeline-list', label: 'pipeline.nav.list', icon: Tickets, path: '/pipeline/list', permissions: PAGE_PERMISSIONS.pipeline },
      { key: 'pipeline-forecast', label: 'pipeline.nav.forecast', icon: DataAnalysis, path: '/pipeline/forecast', permissions: PAGE_PERMISSIONS.pipeline },
      { key: 'tech-support', label: 'pipeline.nav.techSupport', icon: Service, path: '/tech-support', permissions: PAGE_PERMISSIONS.techSupport },
    ],
  },
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
  // 合同与回款, then the shop's orders (regulation 5)
  { key: 'contracts', label: 'contracts.nav.contracts', icon: Tickets, path: '/contracts', permissions: PAGE_PERMISSIONS.contracts },
  {
    key: 'orders',
    label: 'orders.nav.group',
    icon: ShoppingCart,
    children: [
      { key: 'order-queue', label: 'orders.nav.queue', icon: Finished, path: '/order-queue', permissions: ['orders.confirm'] },
      { key: 'order-list', label: 'orders.nav.list', icon: List, path: '/orders', permissions: PAGE_PERMISSIONS.orders },
      { key: 'order-returns', label: 'orders.nav.returns', icon: RefreshLeft, path: '/order-returns', permissions: PAGE_PERMISSIONS.orders },
      { key: 'order-rules', label: 'orders.nav.rules', icon: Operation, path: '/order-rules', permissions: PAGE_PERMISSIONS.orders },
    ],
  },
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
      { key: 'chat-sites', label: 'nav.chatSites', icon: ChatDotRound, path: '/admin/chat-sites', permissions: PAGE_PERMISSIONS.chatSites },
      // inbox settings
      { key: 'sla-policies', label: 'nav.slaPolicies', icon: AlarmClock, path: '/admin/sla-policies', permissions: PAGE_PERMISSIONS.slaPolicies },
      { key: 'work-calendar', label: 'nav.workCalendar', icon: Notebook, path: '/admin/work-calendar', permissions: PAGE_PERMISSIONS.workCalendar },
      { key: 'standards', label: 'nav.standards', icon: Checked, path: '/admin/standards', permissions: PAGE_PERMISSIONS.standards },
      { key: 'canned', label: 'nav.canned', icon: Collection, path: '/admin/canned-answers', permissions: PAGE_PERMISSIONS.canned },
      { key: 'mailboxes', label: 'nav.mailboxes', icon: Message, path: '/admin/mailboxes', permissions: PAGE_PERMISSIONS.mailboxes },
      { key: 'assign-rules', label: 'nav.assignRules', icon: Share, path: '/admin/assignment-rules', permissions: PAGE_PERMISSIONS.assignRules },
      { key: 'pipelines', label: 'pipeline.nav.admin', icon: Operation, path: '/admin/pipelines', permissions: PAGE_PERMISSIONS.pipelineAdmin },
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
