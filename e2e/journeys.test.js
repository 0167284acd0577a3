// Prelude's main user journeys in headless Chromium, against a fresh server
// started by ../scripts/e2e.sh. The journeys share one server and run in
// order (setup first); each opens its own browser context, so each signs in
// the way a user would. Screenshots of the key screens go to docs/images/.
import assert from 'node:assert/strict'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import {
  ADMIN,
  SETUP_URL,
  fillLogin,
  launch,
  newPage,
  pickOption,
  poll,
  seeText,
  shot,
  signIn,
  signOut,
  switchLanguage,
  totp,
  totpStep,
  waitForStepAfter,
} from './lib/prelude.js'
import { customerJourneys } from './journeys/customers.js'
import { followupJourneys } from './journeys/followups.js'
import { webchatJourneys } from './journeys/webchat.js'
import { contractJourneys } from './journeys/contracts.js'
import { inboxJourneys } from './journeys/inbox.js'
import { pipelineJourneys } from './journeys/pipeline.js'
import { quoteJourneys } from './journeys/quotes.js'

/** The colleague created in the administration journey. */
const USER = {
  username: 'zhangwei',
  displayName: '张伟',
  email: 'zhang.wei@example.com',
  mobile: '13812345678',
  masked: '138****5678',
  password: 'Zhangwei-Presales-1',
}
const DEPT = '华东销售部'

let browser
before(async () => {
  browser = await launch()
})
after(async () => {
  await browser?.close()
})

/** Runs a journey in a fresh context and checks the page threw no errors. */
async function journey(fn, opts) {
  const { context, page, errors } = await newPage(browser, opts)
  try {
    await fn(page, context)
    assert.deepEqual(errors, [], 'uncaught errors in the page')
  } catch (e) {
    // what the page looked like when it failed, for the person reading the log
    const file = join(tmpdir(), `prelude-e2e-failure-${Date.now()}.png`)
    await page.screenshot({ path: file }).then(() => console.error(`screenshot of the failure: ${file}`), () => {})
    throw e
  } finally {
    await context.close()
  }
}

async function me(page) {
  const res = await page.request.get('/api/v1/me')
  assert.equal(res.status(), 200)
  return res.json()
}

describe('Prelude in the browser', () => {
  // Journeys 1 and 2 share the session made by the setup.
  let first

  it('first-run setup creates the administrator and lands on a Chinese workspace', async () => {
    first = await newPage(browser)
    const { page } = first
    const token = new URL(SETUP_URL).searchParams.get('token')
    assert.ok(token, 'the setup link carries a token')

    await page.goto(SETUP_URL)
    await page.getByTestId('setup-form').waitFor()
    await seeText(page.locator('body'), '初始化 Prelude')
    assert.equal(await page.getByTestId('setup-token').inputValue(), token, 'token prefilled from ?token=')

    await page.getByTestId('setup-username').fill(ADMIN.username)
    await page.getByTestId('setup-display-name').fill(ADMIN.displayName)
    await page.getByTestId('setup-password').fill(ADMIN.password)
    await page.getByTestId('setup-password-confirm').fill(ADMIN.password)
    await shot(page, 'setup')
    await page.getByTestId('setup-submit').click()

    await page.getByTestId('home').waitFor()
    await seeText(page.getByTestId('home-greeting'), ADMIN.displayName)
    await seeText(page.getByTestId('user-menu'), ADMIN.displayName)
    await seeText(page.getByTestId('product-name'), 'Prelude 售前沟通')
    await seeText(page.getByTestId('nav-home'), '工作台')
    await seeText(page.getByTestId('nav-admin'), '系统管理')
    await seeText(page.getByTestId('nav-users'), '用户管理')
    await seeText(page.getByTestId('home-department'), '总部')
    assert.equal(await page.locator('html').getAttribute('lang'), 'zh-CN')
    assert.equal(new URL(page.url()).pathname, '/')
    await shot(page, 'home')

    // the setup link is spent: setup is no longer offered
    const status = await (await page.request.get('/api/v1/setup')).json()
    assert.equal(status.needed, false)
  })

  it('wrong password shows a Chinese error, the right one signs in', async () => {
    assert.ok(first, 'needs the setup journey')
    const { page, context, errors } = first
    try {
      await signOut(page)
      await seeText(page.getByTestId('login-submit'), '登录')
      await shot(page, 'login')

      await fillLogin(page, ADMIN.username, 'not-the-password-1')
      await seeText(page.getByTestId('login-error'), '用户名或密码错误')
      assert.equal(new URL(page.url()).pathname, '/login')
      await shot(page, 'login-error')

      await page.getByTestId('login-password').fill(ADMIN.password)
      await page.getByTestId('login-submit').click()
      await page.getByTestId('home').waitFor()
      await seeText(page.getByTestId('user-menu'), ADMIN.displayName)
      assert.equal(await page.getByTestId('login-error').count(), 0)
      assert.deepEqual(errors, [], 'uncaught errors in the page')
    } finally {
      await context.close()
    }
  })

  it('language switch turns the UI to English and is remembered for the user', async () => {
    await journey(async (page) => {
      await signIn(page)
      await seeText(page.getByTestId('nav-home'), '工作台')

      await switchLanguage(page, 'en')
      await seeText(page.getByTestId('nav-home'), 'Workspace')
      await seeText(page.getByTestId('nav-admin'), 'Administration')
      await seeText(page.getByTestId('product-name'), 'Prelude Presales')
      await seeText(page.getByTestId('lang-switch'), 'English')
      assert.equal(await page.locator('html').getAttribute('lang'), 'en')
      await poll(async () => (await me(page)).locale === 'en', { what: 'GET /api/v1/me locale "en"' })
      await shot(page, 'home-en')

      await page.reload()
      await seeText(page.getByTestId('nav-home'), 'Workspace')
      await seeText(page.getByTestId('nav-users'), 'Users')
    })

    // A browser that has never seen Prelude: the login page is Chinese, and
    // signing in brings the user's English back from the server.
    await journey(async (page) => {
      await page.goto('/login')
      await seeText(page.getByTestId('login-submit'), '登录')
      await fillLogin(page, ADMIN.username, ADMIN.password)
      await page.getByTestId('home').waitFor()
      await seeText(page.getByTestId('nav-home'), 'Workspace')

      await switchLanguage(page, 'zh-CN')
      await seeText(page.getByTestId('nav-home'), '工作台')
      await seeText(page.getByTestId('lang-switch'), '中文')
      await poll(async () => (await me(page)).locale === 'zh-CN', { what: 'GET /api/v1/me locale "zh-CN"' })
    })
  })

  it('administration: department, user with masked mobile, reveal, roles, audit log, jobs', async () => {
    await journey(async (page) => {
      await signIn(page)

      // -- a department under the root one made at setup
      await page.getByTestId('nav-departments').click()
      await page.getByTestId('departments-page').waitFor()
      await page.getByTestId('dept-node-总部').waitFor()
      await page.getByTestId('dept-add-总部').click()
      const deptDialog = page.locator('.el-dialog').filter({ has: page.getByTestId('dept-form-name') })
      await seeText(deptDialog, '在「总部」下新建部门')
      await page.getByTestId('dept-form-name').fill(DEPT)
      await page.getByTestId('dept-form-submit').click()
      await deptDialog.waitFor({ state: 'hidden' })
      await page.getByTestId(`dept-node-${DEPT}`).click()
      await seeText(page.getByTestId('dept-details'), DEPT)
      await seeText(page.getByTestId('dept-details'), '总部')
      await shot(page, 'departments')

      // -- a user in it
      await page.getByTestId('nav-users').click()
      await page.getByTestId('users-page').waitFor()
      await seeText(page.getByTestId('user-table'), ADMIN.username)
      await page.getByTestId('user-create').click()
      const userDialog = page.locator('.el-dialog').filter({ has: page.getByTestId('user-form-username') })
      await seeText(userDialog, '新建用户')
      await page.getByTestId('user-form-username').fill(USER.username)
      await page.getByTestId('user-form-display-name').fill(USER.displayName)
      await page.getByTestId('user-form-email').fill(USER.email)
      await page.getByTestId('user-form-mobile').fill(USER.mobile)
      await userDialog.getByTestId('user-form-department').click()
      await pickOption(page, DEPT)
      await userDialog.getByTestId('user-form-roles').click()
      await pickOption(page, '售前')
      await page.getByTestId('user-form-password').fill(USER.password)
      await page.getByTestId('user-form-submit').click()
      await userDialog.waitFor({ state: 'hidden' })

      const mobile = page.getByTestId(`user-mobile-${USER.username}`)
      await seeText(mobile, USER.masked)
      assert.equal((await mobile.innerText()).trim(), USER.masked, 'mobile masked in the list')
      await seeText(page.getByTestId(`user-email-${USER.username}`), 'z***@example.com')
      const row = page.locator('.el-table__row').filter({ hasText: USER.username })
      await seeText(row.first(), DEPT)
      await seeText(row.first(), '售前')
      await shot(page, 'users')

      await page.getByTestId(`user-reveal-${USER.username}`).click()
      await seeText(mobile, USER.mobile)
      assert.equal((await mobile.innerText()).trim(), USER.mobile, 'clear number after reveal')
      await seeText(page.getByTestId(`user-email-${USER.username}`), USER.email)
      assert.equal(await page.getByTestId(`user-reveal-${USER.username}`).count(), 0, 'reveal button gone')

      // -- roles and data scopes
      await page.getByTestId('nav-roles').click()
      await page.getByTestId('roles-page').waitFor()
      await page.getByTestId('role-manager').click()
      await seeText(page.locator('.roles__editor'), '部门负责人')
      assert.equal(await page.getByTestId('role-scope-department').locator('input').isChecked(), true, 'manager sees their department')
      await seeText(page.getByTestId('role-data-scope'), '本部门及下级')
      await shot(page, 'roles')

      // -- the audit log lists what was just done, and its chain is intact
      await page.getByTestId('nav-audit').click()
      await page.getByTestId('audit-page').waitFor()
      const audit = page.getByTestId('audit-table')
      await seeText(audit, 'user.create')
      await seeText(audit, 'department.create')
      await seeText(audit, 'user.reveal')
      await seeText(audit, 'setup.complete')
      await seeText(audit.locator('.el-table__row').filter({ hasText: 'user.create' }), '新建用户')
      await seeText(audit.locator('.el-table__row').filter({ hasText: 'user.create' }), ADMIN.displayName)
      await shot(page, 'audit')
      await page.getByTestId('audit-verify').click()
      await seeText(page.getByTestId('audit-verify-result'), '日志完整')
      await page.keyboard.press('Escape')
      await page.getByTestId('audit-verify-result').waitFor({ state: 'hidden' })

      // -- background jobs: the audit sealer runs every few seconds
      await page.getByTestId('nav-jobs').click()
      await page.getByTestId('jobs-page').waitFor()
      await poll(
        async () => {
          const text = await page.getByTestId('jobs-table').innerText()
          if (text.includes('audit.seal')) return true
          await page.getByTestId('jobs-refresh').click()
          return false
        },
        { timeout: 20_000, interval: 1_000, what: 'an audit.seal job in the jobs table' },
      )
      await seeText(page.getByTestId('jobs-table'), '已成功')
      await shot(page, 'jobs')
    })
  })

  // The customer archive: before two-step verification is turned on for the administrator.
  customerJourneys(journey)

  // Follow-ups and promises: also before two-step verification.
  followupJourneys(journey)

  // Web chat: the widget on another origin, also before two-step verification.
  webchatJourneys(journey)
  // Contracts, payments and shop orders: also before two-step verification.
  contractJourneys(journey)
  // The inquiry inbox with real mail servers (tools/mailpeer): also before two-step verification.
  inboxJourneys(journey)
  // The opportunity pipeline: also before two-step verification.
  pipelineJourneys(journey)
  // Quotes: catalog, approval by authority, PDF and the acceptance link (also before two-step verification).
  quoteJourneys(journey)

  it('two-factor: enable with a computed code, then sign-in asks for it', async () => {
    await journey(async (page) => {
      await signIn(page)
      await page.getByTestId('user-menu').click()
      await page.getByTestId('menu-account').click()
      await page.getByTestId('account').waitFor()
      await page.getByRole('tab', { name: '两步验证' }).click()
      await seeText(page.getByTestId('totp-status'), '两步验证未开启')

      await page.getByTestId('totp-start').click()
      await page.getByTestId('totp-qr').waitFor()
      const secret = (await page.getByTestId('totp-secret').innerText()).replace(/\s+/g, '')
      assert.match(secret, /^[A-Z2-7]{16,}$/, 'a base32 secret is shown')
      await shot(page, 'account-2fa')

      const enabledAt = totpStep()
      await page.getByTestId('totp-code').fill(totp(secret, enabledAt))
      await page.getByTestId('totp-enable').click()
      await seeText(page.getByTestId('totp-status'), '两步验证已开启')
      assert.equal((await me(page)).totp_enabled, true)

      await signOut(page)
      await fillLogin(page, ADMIN.username, ADMIN.password)
      await page.getByTestId('login-totp').waitFor()
      await seeText(page.getByTestId('login-totp-hint'), '两步验证')
      await shot(page, 'login-totp')

      // a code that is valid for none of the steps the server accepts
      const near = [-1, 0, 1, 2].map((d) => totp(secret, totpStep() + d))
      const wrong = ['000000', '111111', '222222'].find((c) => !near.includes(c))
      await page.getByTestId('login-totp').fill(wrong)
      await page.getByTestId('login-submit').click()
      await seeText(page.getByTestId('login-error'), '两步验证码不正确')
      assert.equal(new URL(page.url()).pathname, '/login')

      // the enabling code is spent: a fresh one needs the next 30-second step
      await waitForStepAfter(enabledAt)
      await page.getByTestId('login-totp').fill(totp(secret))
      await page.getByTestId('login-submit').click()
      await page.getByTestId('home').waitFor()
      await seeText(page.getByTestId('user-menu'), ADMIN.displayName)
      await seeText(page.getByTestId('home'), '两步验证已开启')
    })
  })
})


