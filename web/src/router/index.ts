import { createRouter, createWebHistory, type RouteRecordRaw, type Router, type RouterHistory } from 'vue-router'
import { useAuthStore } from '@/stores/auth'
import { PAGE_PERMISSIONS, allowed } from '@/nav'

declare module 'vue-router' {
  interface RouteMeta {
    /** reachable without signing in */
    public?: boolean
    /** i18n key of the page title */
    title?: string
    /** any one of these is needed */
    permissions?: string[]
    /** i18n key of the parent section for the breadcrumb */
    section?: string
  }
}

export const routes: RouteRecordRaw[] = [
  { path: '/setup', name: 'setup', component: () => import('@/views/SetupView.vue'), meta: { public: true, title: 'setup.title' } },
  { path: '/login', name: 'login', component: () => import('@/views/LoginView.vue'), meta: { public: true, title: 'login.title' } },
  // the customer's acceptance link (no sign-in)
  { path: '/q/:token', name: 'public-quote', component: () => import('@/views/quotes/PublicQuoteView.vue'), meta: { public: true, title: 'quotes.public.docTitle' } },
  {
    path: '/',
    component: () => import('@/layouts/AppLayout.vue'),
    children: [
      { path: '', name: 'home', component: () => import('@/views/HomeView.vue'), meta: { title: 'nav.home' } },
      {
        path: 'customers',
        name: 'customers',
        component: () => import('@/views/customers/CustomersView.vue'),
        meta: { title: 'nav.customers', permissions: PAGE_PERMISSIONS.customers },
      },
      {
        path: 'customers/:id',
        name: 'customer-detail',
        component: () => import('@/views/customers/CustomerDetailView.vue'),
        meta: { title: 'nav.customerDetail', section: 'nav.customers', permissions: PAGE_PERMISSIONS.customers },
      },
      {
        path: 'my-day',
        name: 'myday',
        component: () => import('@/views/followups/MyDayView.vue'),
        meta: { title: 'nav.myDay', section: 'nav.followups' },
      },
      {
        path: 'calendar',
        name: 'calendar',
        component: () => import('@/views/followups/CalendarView.vue'),
        meta: { title: 'nav.calendar', section: 'nav.followups' },
      },
      {
        path: 'tasks/:id',
        name: 'task-detail',
        component: () => import('@/views/followups/TaskDetailView.vue'),
        meta: { title: 'nav.taskDetail', section: 'nav.followups' },
      },
      {
        path: 'promise-stats',
        name: 'promise-stats',
        component: () => import('@/views/followups/PromiseStatsView.vue'),
        meta: { title: 'nav.promiseStats', section: 'nav.followups' },
      },
      {
        path: 'revisits',
        name: 'revisits',
        component: () => import('@/views/followups/RevisitView.vue'),
        meta: { title: 'nav.revisits', section: 'nav.followups' },
      },
      // 合同与回款 (regulations 2 and 7)
      {
        path: 'contracts',
        name: 'contracts',
        component: () => import('@/views/contracts/ContractsView.vue'),
        meta: { title: 'contracts.nav.contracts', permissions: PAGE_PERMISSIONS.contracts },
      },
      {
        path: 'contracts/new',
        name: 'contract-new',
        component: () => import('@/views/contracts/ContractNewView.vue'),
        meta: { title: 'contracts.nav.create', section: 'contracts.nav.contracts', permissions: ['contracts.create'] },
      },
      {
        path: 'contracts/:id',
        name: 'contract-detail',
        component: () => import('@/views/contracts/ContractDetailView.vue'),
        meta: { title: 'contracts.nav.detail', section: 'contracts.nav.contracts', permissions: PAGE_PERMISSIONS.contracts },
      },
      // 电商订单 (regulation 5)
      {
        path: 'order-queue',
        name: 'order-queue',
        component: () => import('@/views/orders/OrderQueueView.vue'),
        meta: { title: 'orders.nav.queue', section: 'orders.nav.group', permissions: ['orders.confirm'] },
      },
      {
        path: 'orders',
        name: 'orders',
        component: () => import('@/views/orders/OrdersView.vue'),
        meta: { title: 'orders.nav.list', section: 'orders.nav.group', permissions: PAGE_PERMISSIONS.orders },
      },
      {
        path: 'orders/:id',
        name: 'order-detail',
        component: () => import('@/views/orders/OrderDetailView.vue'),
        meta: { title: 'orders.nav.detail', section: 'orders.nav.group', permissions: PAGE_PERMISSIONS.orders },
      },
      {
        path: 'order-returns',
        name: 'order-returns',
        component: () => import('@/views/orders/ReturnsView.vue'),
        meta: { title: 'orders.nav.returns', section: 'orders.nav.group', permissions: PAGE_PERMISSIONS.orders },
      },
      {
        path: 'order-rules',
        name: 'order-rules',
        component: () => import('@/views/orders/OrderRulesView.vue'),
        meta: { title: 'orders.nav.rules', section: 'orders.nav.group', permissions: PAGE_PERMISSIONS.orders },
      },
      {
        // the list and the open conversation side by side (one instance, so the list stays put)
        path: 'inbox/:id?',
        name: 'inbox',
        component: () => import('@/views/inbox/InboxView.vue'),
        meta: { title: 'nav.inbox', permissions: PAGE_PERMISSIONS.inbox },
      },
      // 商机 (issue 5)
      {
        path: 'pipeline',
        name: 'pipeline-board',
        component: () => import('@/views/pipeline/PipelineBoardView.vue'),
        meta: { title: 'pipeline.nav.board', section: 'pipeline.nav.group', permissions: PAGE_PERMISSIONS.pipeline },
      },
      {
        path: 'pipeline/list',
        name: 'pipeline-list',
        component: () => import('@/views/pipeline/PipelineListView.vue'),
        meta: { title: 'pipeline.nav.list', section: 'pipeline.nav.group', permissions: PAGE_PERMISSIONS.pipeline },
      },
      {
        path: 'pipeline/forecast',
        name: 'pipeline-forecast',
        component: () => import('@/views/pipeline/ForecastView.vue'),
        meta: { title: 'pipeline.nav.forecast', section: 'pipeline.nav.group', permissions: PAGE_PERMISSIONS.pipeline },
      },
      // the pipeline's approvals live in the approval centre (older links still work)
      { path: 'pipeline/approvals', redirect: { path: '/approvals', query: { tab: 'pipeline' } } },
      {
        path: 'opportunities/:id',
        name: 'opportunity-detail',
        component: () => import('@/views/pipeline/OpportunityDetailView.vue'),
        meta: { title: 'pipeline.nav.detail', section: 'pipeline.nav.group', permissions: PAGE_PERMISSIONS.pipeline },
      },
      {
        path: 'tech-support',
        name: 'tech-support',
        component: () => import('@/views/pipeline/TechSupportView.vue'),
        meta: { title: 'pipeline.nav.techSupport', section: 'pipeline.nav.group', permissions: PAGE_PERMISSIONS.techSupport },
      },
      {
        path: 'admin/pipelines',
        name: 'pipeline-admin',
        component: () => import('@/views/pipeline/PipelineAdminView.vue'),
        meta: { title: 'pipeline.nav.admin', section: 'nav.admin', permissions: PAGE_PERMISSIONS.pipelineAdmin },
      },
      // 报价 (quotes), and the approval centre
      {
        path: 'quotes',
        name: 'quotes',
        component: () => import('@/views/quotes/QuotesView.vue'),
        meta: { title: 'quotes.nav.quotes', section: 'quotes.nav.group', permissions: PAGE_PERMISSIONS.quotes },
      },
      {
        path: 'quotes/new',
        name: 'quote-new',
        component: () => import('@/views/quotes/QuoteBuilderView.vue'),
        meta: { title: 'quotes.nav.newQuote', section: 'quotes.nav.group', permissions: PAGE_PERMISSIONS.quoteCreate },
      },
      {
        path: 'quotes/:id',
        name: 'quote-detail',
        component: () => import('@/views/quotes/QuoteBuilderView.vue'),
        meta: { title: 'quotes.nav.quote', section: 'quotes.nav.group', permissions: PAGE_PERMISSIONS.quotes },
      },
      {
        path: 'products',
        name: 'products',
        component: () => import('@/views/quotes/ProductsView.vue'),
        meta: { title: 'quotes.nav.products', section: 'quotes.nav.group', permissions: PAGE_PERMISSIONS.quotes },
      },
      {
        path: 'price-lists',
        name: 'price-lists',
        component: () => import('@/views/quotes/PriceListsView.vue'),
        meta: { title: 'quotes.nav.priceLists', section: 'quotes.nav.group', permissions: PAGE_PERMISSIONS.quotes },
      },
      {
        path: 'approval-rules',
        name: 'approval-rules',
        component: () => import('@/views/quotes/ApprovalRulesView.vue'),
        meta: { title: 'quotes.nav.rules', section: 'quotes.nav.group', permissions: PAGE_PERMISSIONS.approvalRules },
      },
      {
        path: 'quote-settings',
        name: 'quote-settings',
        component: () => import('@/views/quotes/QuoteSettingsView.vue'),
        meta: { title: 'quotes.nav.settings', section: 'quotes.nav.group', permissions: PAGE_PERMISSIONS.quoteSettings },
      },
      {
        path: 'approvals',
        name: 'approvals',
        component: () => import('@/views/approvals/ApprovalsView.vue'),
        meta: { title: 'approvals.nav', permissions: PAGE_PERMISSIONS.approvals },
      },
      { path: 'account', name: 'account', component: () => import('@/views/AccountView.vue'), meta: { title: 'nav.account' } },
      {
        path: 'admin/users',
        name: 'users',
        component: () => import('@/views/admin/UsersView.vue'),
        meta: { title: 'nav.users', section: 'nav.admin', permissions: PAGE_PERMISSIONS.users },
      },
      {
        path: 'admin/departments',
        name: 'departments',
        component: () => import('@/views/admin/DepartmentsView.vue'),
        meta: { title: 'nav.departments', section: 'nav.admin', permissions: PAGE_PERMISSIONS.departments },
      },
      {
        path: 'admin/roles',
        name: 'roles',
        component: () => import('@/views/admin/RolesView.vue'),
        meta: { title: 'nav.roles', section: 'nav.admin', permissions: PAGE_PERMISSIONS.roles },
      },
      {
        path: 'admin/audit',
        name: 'audit',
        component: () => import('@/views/admin/AuditView.vue'),
        meta: { title: 'nav.audit', section: 'nav.admin', permissions: PAGE_PERMISSIONS.audit },
      },
      {
        path: 'admin/jobs',
        name: 'jobs',
        component: () => import('@/views/admin/JobsView.vue'),
        meta: { title: 'nav.jobs', section: 'nav.admin', permissions: PAGE_PERMISSIONS.jobs },
      },
      {
        path: 'admin/chat-sites',
        name: 'chat-sites',
        component: () => import('@/views/admin/ChatSitesView.vue'),
        meta: { title: 'nav.chatSites', section: 'nav.admin', permissions: PAGE_PERMISSIONS.chatSites },
      },
      // inbox settings
      {
        path: 'admin/sla-policies',
        name: 'sla-policies',
        component: () => import('@/views/inbox-admin/SlaPoliciesView.vue'),
        meta: { title: 'nav.slaPolicies', section: 'nav.admin', permissions: PAGE_PERMISSIONS.slaPolicies },
      },
      {
        path: 'admin/work-calendar',
        name: 'work-calendar',
        component: () => import('@/views/inbox-admin/WorkCalendarView.vue'),
        meta: { title: 'nav.workCalendar', section: 'nav.admin', permissions: PAGE_PERMISSIONS.workCalendar },
      },
      {
        path: 'admin/standards',
        name: 'standards',
        component: () => import('@/views/inbox-admin/StandardsView.vue'),
        meta: { title: 'nav.standards', section: 'nav.admin', permissions: PAGE_PERMISSIONS.standards },
      },
      {
        path: 'admin/canned-answers',
        name: 'canned-answers',
        component: () => import('@/views/inbox-admin/CannedAnswersView.vue'),
        meta: { title: 'nav.canned', section: 'nav.admin', permissions: PAGE_PERMISSIONS.canned },
      },
      {
        path: 'admin/mailboxes',
        name: 'mailboxes',
        component: () => import('@/views/inbox-admin/MailboxesView.vue'),
        meta: { title: 'nav.mailboxes', section: 'nav.admin', permissions: PAGE_PERMISSIONS.mailboxes },
      },
      {
        path: 'admin/assignment-rules',
        name: 'assignment-rules',
        component: () => import('@/views/inbox-admin/AssignRulesView.vue'),
        meta: { title: 'nav.assignRules', section: 'nav.admin', permissions: PAGE_PERMISSIONS.assignRules },
      },
      { path: '403', name: 'forbidden', component: () => import('@/views/ForbiddenView.vue'), meta: { title: 'errors.forbiddenTitle' } },
      { path: ':pathMatch(.*)*', name: 'not-found', component: () => import('@/views/NotFoundView.vue'), meta: { title: 'errors.notFoundTitle' } },
    ],
  },
]

/** A same-site path from ?redirect=, or '/' (no open redirects). */
export function safeRedirect(v: unknown): string {
  if (typeof v !== 'string' || !v.startsWith('/') || v.startsWith('//') || v.startsWith('/\\')) return '/'
  if (v.startsWith('/login') || v.startsWith('/setup')) return '/'
  return v
}

export function installGuards(router: Router): void {
  router.beforeEach(async (to) => {
    const auth = useAuthStore()
    if (await auth.checkSetup()) {
      return to.name === 'setup' ? true : { name: 'setup', query: to.query }
    }
    if (to.name === 'setup') return { name: 'home' }
    if (!auth.loaded) await auth.fetchMe()
    if (to.meta.public) {
      return to.name === 'login' && auth.me ? { path: safeRedirect(to.query.redirect) } : true
    }
    if (!auth.me) {
      return { name: 'login', query: to.fullPath !== '/' ? { redirect: to.fullPath } : {} }
    }
    if (!allowed(to.meta.permissions, auth.permissions)) {
      return { name: 'forbidden' }
    }
    return true
  })
}

export function createAppRouter(history: RouterHistory = createWebHistory('/')): Router {
  const router = createRouter({
    history,
    routes,
    scrollBehavior: () => ({ top: 0 }),
  })
  installGuards(router)
  return router
}
