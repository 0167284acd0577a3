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
