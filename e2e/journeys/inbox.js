// The inquiry inbox (咨询工作台) in the browser, proving issue 4's "done
// means": a customer's email put into a real IMAP server becomes an inquiry
// for the account of the contact who sent it, the agent answers in the
// browser (a canned answer inserted with "/") and the reply arrives at a real
// SMTP server threaded under the customer's mail with the agent's signature;
// a reply with forbidden language is blocked in the composer; an inquiry
// received on the Friday evening before National Day 2026 is due on the
// make-up Sunday; a colleague's message and new inquiry appear live. The
// mail servers are tools/mailpeer, started by ../../scripts/e2e.sh (MAILPEER).
// Registered by ../journeys.test.js before two-step verification is on.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { it } from 'node:test'
import { request as pwRequest } from 'playwright-core'
import { BASE_URL, pickOption, poll, seeText, shot, signIn } from '../lib/prelude.js'

const PEER = process.env.MAILPEER ? JSON.parse(process.env.MAILPEER) : null

const ACCOUNT = '星河电子有限公司'
const CONTACT = { name: '周敏', email: 'zhou.min@xinghe.example' }
const SUBJECT = '咨询 100G 光模块批量报价'
const ASK = '您好，我们计划采购 200 个 100G 光模块，请问批量报价和交期？附件是需求说明。'
const SIGNATURE = '系统管理员\n售前咨询部 · 400-800-1234'
const CANNED = { title: '报价说明', shortcut: 'bj', body: '{{customer_name}}您好，感谢您的咨询！报价单我们会在今天下班前发到您的邮箱，请注意查收。' }
const FORBIDDEN = '你懂不懂？爱买不买'
/** A colleague in the head office who posts through the API. */
const COLLEAGUE = { username: 'xuqing', displayName: '许晴', password: 'Xuqing-Presales-2024' }

const ids = { account: '', inquiry: '', messageId: '', live: '' }

async function api(req, method, path, body, headers = {}) {
  const res = await req.fetch(`/api/v1${path}`, {
    method,
    data: body === undefined ? undefined : body,
    headers: { 'Idempotency-Key': randomUUID(), 'Accept-Language': 'zh-CN', ...headers },
  })
  const text = await res.text()
  let json = null
  try {
    json = text ? JSON.parse(text) : null
  } catch {
    json = text
  }
  return { status: res.status(), body: json, headers: res.headers() }
}

async function peerSent() {
  const res = await fetch(`${PEER.control}/sent`)
  return (await res.json()).items
}

/** A customer's mail with an attachment, as their mail server would store it. */
function customerMail(messageId) {
  const b64 = (s) => Buffer.from(s, 'utf8').toString('base64')
  return [
    `From: =?UTF-8?B?${b64(CONTACT.name)}?= <${CONTACT.email}>`,
    `To: ${PEER.user}`,
    `Subject: =?UTF-8?B?${b64(SUBJECT)}?=`,
    `Message-ID: <${messageId}>`,
    `Date: ${new Date().toUTCString()}`,
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b1"',
    '',
    '--b1',
    'Content-Type: multipart/alternative; boundary="b2"',
    '',
    '--b2',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: base64',
    '',
    b64(ASK),
    '--b2',
    'Content-Type: text/html; charset=utf-8',
    'Content-Transfer-Encoding: base64',
    '',
    b64(`<p>${ASK}</p><p><b>采购部 周敏</b></p><script>alert(1)</script><img src="https://tracker.example/p.gif">`),
    '--b2--',
    '--b1',
    'Content-Type: text/plain; charset=utf-8',
    `Content-Disposition: attachment; filename*=utf-8''${encodeURIComponent('需求说明.txt')}`,
    'Content-Transfer-Encoding: base64',
    '',
    b64('数量：200；速率：100G；交期：四周内'),
    '--b1--',
    '',
  ].join('\r\n')
}

/** The text box of a form field (Element Plus puts the test id on the input itself or on its wrapper). */
function field(page, id) {
  return page.locator(`input[data-testid="${id}"], textarea[data-testid="${id}"], [data-testid="${id}"] input, [data-testid="${id}"] textarea`).first()
}

/** The count badge of an inbox view (0 when hidden). */
async function viewCount(page, view) {
  const badge = page.getByTestId(`inbox-count-${view}`)
  if ((await badge.count()) === 0) return 0
  return Number((await badge.innerText()).trim()) || 0
}

/** Registers the inbox journeys; `journey` runs one in a fresh browser context. */
export function inboxJourneys(journey) {
  it('inbox: an email in the IMAP server becomes an inquiry for the right account; the agent replies in the browser; the reply arrives threaded', async (t) => {
    if (!PEER) {
      t.skip('MAILPEER is not set: run ../scripts/e2e.sh, which starts the local mail servers')
      return
    }
    await journey(async (page) => {
      await signIn(page)

      // -- the customer is known: an account whose contact has this address
      const acc = await api(page.request, 'POST', '/accounts', {
        name: ACCOUNT,
        kind: 'company',
        level: 'A',
        contacts: [{ name: CONTACT.name, email: CONTACT.email, is_primary: true }],
      })
      assert.equal(acc.status, 201, JSON.stringify(acc.body))
      ids.account = acc.body.id

      // -- my signature and a canned answer, through the settings page
      await page.getByTestId('nav-canned').click()
      await page.getByTestId('canned-page').waitFor()
      await field(page, 'agent-signature').fill(SIGNATURE)
      await page.getByTestId('agent-signature-save').click()
      await seeText(page.locator('.el-message'), '签名已保存')
      await page.getByTestId('canned-add').click()
      const cannedDialog = page.locator('.el-dialog').filter({ has: page.getByTestId('canned-form-title') })
      await page.getByTestId('canned-form-title').fill(CANNED.title)
      await field(page, 'canned-form-shortcut').fill(CANNED.shortcut)
      await field(page, 'canned-form-body').fill(CANNED.body)
      await page.getByTestId('canned-save').click()
      await cannedDialog.waitFor({ state: 'hidden' })
      await page.getByTestId(`canned-${CANNED.title}`).waitFor()
      await shot(page, 'inbox-canned')

      // -- the inquiry mailbox, pointed at the local IMAP and SMTP servers
      await page.getByTestId('nav-mailboxes').click()
      await page.getByTestId('mailboxes-page').waitFor()
      await page.getByTestId('mailbox-add').click()
      const mbDialog = page.locator('.el-dialog').filter({ has: page.getByTestId('mailbox-address') })
      await field(page, 'mailbox-address').fill(PEER.user)
      await field(page, 'mailbox-display-name').fill('售前咨询')
      for (const side of ['imap', 'smtp']) {
        await field(page, `mailbox-${side}-host`).fill(PEER.host)
        await page.getByTestId(`mailbox-${side}-tls-plain`).click()
        await field(page, `mailbox-${side}-port`).fill(String(PEER[`${side}_port`]))
        await field(page, `mailbox-${side}-password`).fill(PEER.password)
      }
      await field(page, 'mailbox-poll').fill('10')
      await page.getByTestId('mailbox-save').click()
      await mbDialog.waitFor({ state: 'hidden' })
      // saving tests the connection at once and says so in plain words
      const result = page.getByTestId(`mailbox-test-result-${PEER.user}`)
      await seeText(result, '收信（IMAP）')
      assert.equal(await result.locator('.is-bad').count(), 0, await result.innerText())
      await shot(page, 'inbox-mailboxes')

      // -- the customer writes
      ids.messageId = `e2e-${randomUUID()}@xinghe.example`
      const put = await fetch(`${PEER.control}/deliver`, { method: 'POST', body: customerMail(ids.messageId) })
      assert.equal(put.status, 200)

      // -- it arrives in the inbox (live), on the right account
      await page.getByTestId('nav-inbox').click()
      await page.getByTestId('inbox-page').waitFor()
      await poll(async () => (await page.getByTestId('inbox-live').getAttribute('data-live')) === '1', { what: 'the live stream to connect' })
      await page.getByTestId('inbox-view-unassigned').click()
      const row = page.locator('[data-testid^="inquiry-row-"]').filter({ hasText: SUBJECT })
      await row.first().waitFor({ timeout: 30_000 })
      await seeText(row.first(), ACCOUNT)
      await seeText(row.first(), '新咨询')
      ids.inquiry = (await row.first().getAttribute('data-testid')).replace('inquiry-row-', '')
      await row.first().click()
      const conv = page.getByTestId('conversation')
      await seeText(conv.getByTestId('conv-subject'), SUBJECT)
      await seeText(conv.getByTestId('conv-account-link'), ACCOUNT)
      await seeText(conv.getByTestId('conv-messages'), '批量报价和交期')
      await conv.getByTestId('attachment-需求说明.txt').waitFor()
      // the mail's HTML is shown on request, in a sandboxed frame, without its script
      await conv.getByTestId('msg-show-html').click()
      const frame = conv.getByTestId('msg-html-frame')
      assert.equal(await frame.getAttribute('sandbox'), 'allow-popups allow-popups-to-escape-sandbox')
      const srcdoc = await frame.getAttribute('srcdoc')
      assert.ok(srcdoc.includes('采购部 周敏') && !srcdoc.includes('<script') && !srcdoc.includes('tracker.example'), srcdoc)
      await conv.getByTestId('msg-show-html').click()

      // -- the answer: a canned answer by "/", its variable filled, checked as typed
      const text = field(page, 'composer-text')
      await text.click()
      await text.pressSequentially('/bj')
      await page.getByTestId('picker-canned').waitFor()
      await seeText(page.getByTestId('picker-canned'), CANNED.title)
      await text.press('Enter')
      await poll(async () => (await text.inputValue()).startsWith(`${CONTACT.name}您好，感谢您的咨询`), { what: 'the canned answer with the customer name' })
      await text.press('End')
      await text.pressSequentially('单价会按 200 个的数量给出阶梯价。')
      await seeText(page.getByTestId('composer-check'), /符合沟通规范|有提示/)
      await shot(page, 'inbox-conversation')
      await page.getByTestId('composer-send').click()
      await seeText(page.locator('.el-message'), '回复已发送')
      await seeText(conv.locator('[data-kind="message"][data-direction="out"]'), '阶梯价')

      // -- the reply at the SMTP server: threaded, "Re:", signed
      const sent = await poll(
        async () => (await peerSent()).find((m) => m.in_reply_to === ids.messageId),
        { timeout: 30_000, interval: 500, what: 'the reply at the SMTP server' },
      )
      assert.equal(sent.subject, `Re: ${SUBJECT}`)
      assert.ok(sent.references.includes(ids.messageId), JSON.stringify(sent.references))
      assert.deepEqual(sent.to, [CONTACT.email])
      assert.ok(sent.text.includes('阶梯价') && sent.text.includes(`-- \n${SIGNATURE}`), sent.text)
      assert.equal(sent.from_name, '售前咨询')

      // -- the row moved along: in progress, answered by me
      await seeText(conv.getByTestId('conv-status'), '处理中')
      await seeText(conv.getByTestId('conv-assignee'), '系统管理员')

      // -- a call logged in a few seconds from the inbox opens a phone inquiry
      await page.getByTestId('inbox-log-call').click()
      const callDialog = page.locator('.el-dialog').filter({ has: page.getByTestId('call-summary') })
      await field(page, 'call-number').fill('13700001234')
      await field(page, 'call-duration').fill('3:05')
      await field(page, 'call-name').fill('赵工')
      await field(page, 'call-summary').fill('询问光模块兼容性，已解答')
      await page.getByTestId('call-save').click()
      await callDialog.waitFor({ state: 'hidden' })
      await seeText(page.getByTestId('conversation').locator('[data-kind="call"]'), '时长 3 分钟')
      await seeText(page.getByTestId('conversation').locator('[data-kind="call"]'), '询问光模块兼容性')
    })
  })

  it('inbox: a reply with forbidden language is blocked with a clear message; closing records the consultation and the promise', async (t) => {
    if (!ids.inquiry) {
      t.skip('needs the email inquiry of the previous journey')
      return
    }
    await journey(async (page) => {
      await signIn(page)
      await page.goto(`/inbox/${ids.inquiry}`)
      const conv = page.getByTestId('conversation')
      await seeText(conv.getByTestId('conv-subject'), SUBJECT)
      const before = await conv.locator('[data-kind="message"][data-direction="out"]').count()

      const text = field(page, 'composer-text')
      await text.fill(`周经理，${FORBIDDEN}`)
      const check = page.getByTestId('composer-check')
      await poll(async () => (await check.getAttribute('data-verdict')) === 'block', { what: 'the standards check to block' })
      await seeText(page.getByTestId('composer-verdict'), '不能发送')
      await seeText(page.getByTestId('composer-blocked'), '包含禁止使用的用语，修改后才能发送')
      await seeText(check.getByTestId('finding-forbidden'), '你懂不懂')
      await seeText(page.getByTestId('composer-marked').locator('mark.sev-block'), '你懂不懂')
      assert.equal(await page.getByTestId('composer-send').isDisabled(), true, 'a blocked reply cannot be sent')
      await shot(page, 'inbox-blocked')
      // the server refuses it too, with the same words
      const refused = await api(page.request, 'POST', `/inquiries/${ids.inquiry}/messages`, { body: FORBIDDEN })
      assert.equal(refused.status, 422)
      assert.equal(refused.body.error.code, 'standards_blocked')
      assert.match(refused.body.error.message, /沟通标准/)
      assert.equal(await conv.locator('[data-kind="message"][data-direction="out"]').count(), before, 'nothing was sent')

      // -- after rewording it passes
      await text.fill('周经理您好，报价单今天发您，谢谢！')
      await poll(async () => (await check.getAttribute('data-verdict')) !== 'block', { what: 'the block to lift' })
      assert.equal(await page.getByTestId('composer-send').isDisabled(), false)
      await text.fill('')

      // -- closing needs the consultation record; the promised follow-up is shown as a promise
      await page.getByTestId('conv-close').click()
      const dialog = page.locator('.el-dialog').filter({ has: page.getByTestId('close-answer') })
      await seeText(dialog.getByTestId('close-customer'), ACCOUNT)
      await field(page, 'close-answer').fill('已说明阶梯价，今天发送正式报价单')
      await page.getByTestId('close-outcome-lead_created').click()
      await page.getByTestId('close-promised').click()
      await field(page, 'close-follow-up-note').fill('发送正式报价单')
      await shot(page, 'inbox-close')
      await page.getByTestId('close-save').click()
      await dialog.waitFor({ state: 'hidden' })
      await seeText(conv.getByTestId('conv-status'), '已关闭')
      await seeText(conv.getByTestId('conv-promise'), '已承诺')
      await seeText(conv.getByTestId('conv-consultation'), '已转为销售线索')
    })
  })

  it('inbox: an inquiry received on the Friday before National Day 2026 is due on the make-up Sunday', async () => {
    await journey(async (page) => {
      await signIn(page)
      const me = await api(page.request, 'GET', '/me')
      // Friday 18 September 2026, 17:30 Beijing time: 30 business minutes
      // left that day, the rest on Sunday 20 September (调休上班).
      const created = await api(page.request, 'POST', '/inquiries', {
        channel: 'phone',
        subject: '国庆前的询价',
        body: '节前想确认一下报价有效期',
        assignee_id: me.body.id,
        customer: { account_id: ids.account || undefined, name: '孙磊' },
        received_at: '2026-09-18T17:30:00+08:00',
      })
      assert.equal(created.status, 201, JSON.stringify(created.body))
      assert.equal(created.body.sla.first_response_due, '2026-09-20T01:30:00Z')

      await page.goto(`/inbox/${created.body.id}?view=all`)
      const conv = page.getByTestId('conversation')
      await seeText(conv.getByTestId('conv-first-due'), '2026-09-20 周日 09:30')
      await seeText(conv.getByTestId('conv-first-due-makeup'), '调休上班日')
      // long past now: the row counts it as breached, in red
      const badge = page.getByTestId(`inquiry-row-${created.body.id}`).getByTestId('sla-badge')
      await poll(async () => (await badge.getAttribute('data-level')) === 'breached', { what: 'a breached SLA badge' })
      await seeText(badge, '超时')
      await shot(page, 'inbox-sla')

      // the work calendar page lists that Sunday as a make-up workday
      await page.goto('/admin/work-calendar')
      await page.getByTestId('workcal-page').waitFor()
      await seeText(page.getByTestId('workcal-kind-2026-09-20'), '调休上班')
      await shot(page, 'inbox-work-calendar')
    })
  })

  it("inbox: a colleague's message and new inquiry appear live, and the unread count changes, without a reload", async () => {
    await journey(async (page) => {
      await signIn(page)
      // -- a colleague in the head office, with an inquiry of their own
      const depts = await api(page.request, 'GET', '/departments')
      const root = depts.body.items.find((d) => !d.parent_id)
      const user = await api(page.request, 'POST', '/users', {
        username: COLLEAGUE.username,
        display_name: COLLEAGUE.displayName,
        email: '',
        mobile: '',
        department_id: root.id,
        roles: ['presales'],
        password: COLLEAGUE.password,
      })
      assert.equal(user.status, 201, JSON.stringify(user.body))
      const colleague = await pwRequest.newContext({ baseURL: BASE_URL })
      try {
        const login = await api(colleague, 'POST', '/auth/login', { username: COLLEAGUE.username, password: COLLEAGUE.password })
        assert.equal(login.status, 200, JSON.stringify(login.body))
        const own = await api(colleague, 'POST', '/inquiries', {
          channel: 'web_chat',
          subject: '官网在线咨询：部署方式',
          body: '你们支持私有化部署吗？',
          assignee_id: user.body.id,
          customer: { name: '钱先生' },
        })
        assert.equal(own.status, 201, JSON.stringify(own.body))
        ids.live = own.body.id

        // -- the manager's inbox, all inquiries, with that conversation open
        await page.goto(`/inbox/${ids.live}?view=all`)
        const conv = page.getByTestId('conversation')
        await seeText(conv.getByTestId('conv-subject'), '部署方式')
        await poll(async () => (await page.getByTestId('inbox-live').getAttribute('data-live')) === '1', { what: 'the live stream to connect' })
        await page.evaluate(() => (window.__sameDocument = true))
        // opening it marked it read: wait until the count has settled
        await poll(async () => (await page.getByTestId(`inquiry-row-${ids.live}`).getByTestId('row-unread').count()) === 0, { what: 'the open inquiry to be read' })
        let countBefore = -1
        await poll(
          async () => {
            const a = await viewCount(page, 'all')
            await new Promise((r) => setTimeout(r, 700))
            const b = await viewCount(page, 'all')
            countBefore = b
            return a === b
          },
          { what: 'the unread count to settle' },
        )

        // the colleague records what the customer said next: it shows in the open conversation
        const msg = await api(colleague, 'POST', `/inquiries/${ids.live}/messages`, { direction: 'in', body: '补充：需要支持国产数据库' })
        assert.equal(msg.status, 201, JSON.stringify(msg.body))
        await seeText(conv.getByTestId('conv-messages'), '需要支持国产数据库', { timeout: 10_000 })

        // a new inquiry of the colleague's appears in the list and the unread count goes up
        const fresh = await api(colleague, 'POST', '/inquiries', {
          channel: 'phone',
          subject: '电话咨询：续费优惠',
          body: '明年续费有没有优惠？',
          assignee_id: user.body.id,
          customer: { name: '孙女士' },
        })
        assert.equal(fresh.status, 201, JSON.stringify(fresh.body))
        await page.getByTestId(`inquiry-row-${fresh.body.id}`).waitFor({ timeout: 10_000 })
        await poll(async () => (await viewCount(page, 'all')) === countBefore + 1, { what: `the "all" count to go from ${countBefore} to ${countBefore + 1}` })
        assert.equal(await page.evaluate(() => window.__sameDocument), true, 'no reload happened')
        await shot(page, 'inbox-list')

        // -- the keyboard: ? shows the help; j/k move; Enter opens
        await page.getByTestId('inbox-page').locator('.page-title').click()
        await page.keyboard.press('?')
        await page.getByTestId('shortcut-help').waitFor()
        await page.keyboard.press('Escape')
        await page.getByTestId('shortcut-help').waitFor({ state: 'hidden' })
        await page.keyboard.press('k')
        await page.keyboard.press('k')
        await page.keyboard.press('Enter')
        await poll(async () => new URL(page.url()).pathname === `/inbox/${fresh.body.id}`, { what: 'Enter to open the newest inquiry' })
        await seeText(page.getByTestId('conversation').getByTestId('conv-subject'), '续费优惠')
      } finally {
        await colleague.dispose()
      }
    })
  })

  it('inbox settings: response targets, communication standards (try a reply) and assignment rules', async () => {
    await journey(async (page) => {
      await signIn(page)
      await page.getByTestId('nav-sla-policies').click()
      await page.getByTestId('sla-page').waitFor()
      await page.locator('[data-testid="sla-table"] .el-table__row').first().waitFor()
      await shot(page, 'inbox-admin-sla')

      await page.getByTestId('nav-standards').click()
      await page.getByTestId('standards-page').waitFor()
      await field(page, 'standards-try').fill('我们提供 SLA 保障，明天给您回复。')
      await seeText(page.getByTestId('standards-try-findings'), 'SLA')
      await seeText(page.getByTestId('standards-try-verdict'), '建议修改')
      await shot(page, 'inbox-admin-standards')

      await page.getByTestId('nav-assign-rules').click()
      await page.getByTestId('rules-page').waitFor()
      await page.getByTestId('rules-add').click()
      const dialog = page.locator('.el-dialog').filter({ has: page.getByTestId('rules-name') })
      // limited to visits, so it routes nothing the other journeys create
      await field(page, 'rules-name').fill('来访咨询轮流分配')
      await page.getByTestId('rules-channel').click()
      await pickOption(page, '来访')
      await page.getByTestId('rules-department').first().click()
      await page.locator('.el-popper:visible .el-tree-node__content').filter({ hasText: '总部' }).first().click()
      await page.getByTestId('rules-save').click()
      await dialog.waitFor({ state: 'hidden' })
      await seeText(page.getByTestId('rules-table'), '来访咨询轮流分配')
      await seeText(page.getByTestId('rules-table'), '团队内轮流分配')
      await shot(page, 'inbox-admin-rules')
    })
  })
}
