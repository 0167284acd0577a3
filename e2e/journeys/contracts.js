// Contracts, payments and shop orders (issue 6) in the browser: a quote the
// customer accepted becomes a contract; the pre-signing checklist is worked
// through and signing is refused until it is complete; a payment plan of two
// instalments, two receipts (one too large, refused) and the progress bar
// reaching 100 %; the signed scan; invoice information on the customer page.
// Then an order file with a bad row and an abnormal order: the dry run shows
// the problem, the fixed file goes in, a normal order is confirmed from the
// queue with the keyboard alone, and the team leader releases the abnormal
// one. The people, customer, product, opportunity and accepted quote are set
// up through the API. Registered by ../journeys.test.js after the follow-up
// journeys (it needs the administrator before two-step verification is on).
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { it } from 'node:test'
import { request } from 'playwright-core'
import { ADMIN, BASE_URL, fillLogin, poll, seeText, shot } from '../lib/prelude.js'
import { xlsx } from '../lib/xlsx.js'

const DEPT = '宁波大客户部'
const SALES = { username: 'zhaomin', displayName: '赵敏', password: 'Zhaomin-Sales-2026', roles: ['sales'] }
const HEAD = { username: 'sunli', displayName: '孙丽', password: 'Sunli-Head-2026', roles: ['manager'] }
const SERVICE = { username: 'zhouting', displayName: '周婷', password: 'Zhouting-Shop-2026', roles: ['service'] }
const ACCOUNT = '宁波海曙精密机械有限公司'
const PRODUCT = { code: 'WMS-ENT-E2E', name: '智能仓储管理系统', spec: '企业版 100 用户', unit: '套', list_price: 6_800_000, cost: 3_000_000, tax_rate: '13' }
/** 2 套 × ¥68,000.00 + 13 % VAT */
const TOTAL = { fen: 15_368_000, text: '¥153,680.00', upper: '壹拾伍万叁仟陆佰捌拾元整' }
const FIRST = { fen: 6_147_200, yuan: '61472' } // 40 %
const SECOND = { fen: 9_220_800, yuan: '92208.00' }

const ids = { quote: '', contract: '', number: '' }

/** A signed-in API client of its own (no browser), for setting things up. */
async function apiAs(user) {
  const ctx = await request.newContext({ baseURL: BASE_URL, extraHTTPHeaders: { 'Accept-Language': 'zh-CN' } })
  if (user) {
    const res = await ctx.post('/api/v1/auth/login', { data: { username: user.username, password: user.password } })
    assert.equal(res.status(), 200, `sign-in of ${user.username}: ${await res.text()}`)
  }
  const call = async (method, path, body, expect) => {
    const res = await ctx.fetch(`/api/v1${path}`, { method, data: body, headers: { 'Idempotency-Key': randomUUID() } })
    const text = await res.text()
    const json = text ? JSON.parse(text) : null
    if (expect !== undefined) assert.equal(res.status(), expect, `${method} ${path}: ${text}`)
    return json
  }
  return { ctx, call }
}

const day = (offset) => {
  const d = new Date(Date.now() + offset * 86400_000 + 8 * 3600_000) // Beijing date
  return d.toISOString().slice(0, 10)
}

async function signInAs(page, u) {
  await page.goto('/login')
  await fillLogin(page, u.username, u.password)
  await page.getByTestId('home').waitFor()
}

/** Types a date into an Element Plus date picker (its input carries the test id or sits inside it). */
async function fillDate(page, testid, value) {
  const el = page.getByTestId(testid)
  const input = (await el.evaluate((n) => n.tagName)) === 'INPUT' ? el : el.locator('input').first()
  await input.click()
  await input.fill(value)
  await input.press('Enter')
}

/** The visible Element Plus message box. */
const messageBox = (page) => page.locator('.el-message-box').filter({ visible: true })

/** Registers the contract and order journeys; `journey` runs one in a fresh browser context. */
export function contractJourneys(journey) {
  it('contracts: an accepted quote becomes a contract; checklist before signing; two instalments paid to 100 %', async () => {
    // -- people, customer, product, opportunity and an accepted quote, through the API
    const admin = await apiAs(ADMIN)
    const depts = await admin.call('GET', '/departments', undefined, 200)
    const root = depts.items.find((d) => !d.parent_id)
    const dept = await admin.call('POST', '/departments', { name: DEPT, parent_id: root.id }, 201)
    for (const u of [SALES, HEAD, SERVICE]) {
      const made = await admin.call('POST', '/users', { username: u.username, display_name: u.displayName, password: u.password, roles: u.roles, department_id: dept.id }, 201)
      u.id = made.id
    }
    await admin.call('PATCH', `/departments/${dept.id}`, { manager_id: HEAD.id }, 200)
    const product = await admin.call('POST', '/products', PRODUCT, 201)
    await admin.ctx.dispose()

    const sales = await apiAs(SALES)
    const account = await sales.call('POST', '/accounts', { name: ACCOUNT, kind: 'company', level: 'A' }, 201)
    const opp = await sales.call('POST', '/opportunities', { account_id: account.id, name: '仓储系统升级' }, 201)
    let quote = await sales.call(
      'POST',
      '/quotes',
      {
        account_id: account.id,
        opportunity_id: opp.id,
        title: '智能仓储管理系统采购',
        valid_until: day(30),
        payment_terms: '合同签订后支付 40%，验收合格后支付 60%',
        delivery_terms: '合同签订后 30 日内完成部署',
        lines: [{ product_id: product.id, quantity: '2' }],
      },
      201,
    )
    assert.equal(quote.totals.total, TOTAL.fen, 'the quote total')
    quote = await sales.call('POST', `/quotes/${quote.id}/submit`, {}, 200)
    if (quote.status === 'pending_approval') {
      // another journey's approval rules may apply: the department head approves
      const head = await apiAs(HEAD)
      quote = await head.call('POST', `/quotes/${quote.id}/approve`, { comment: '同意' }, 200)
      await head.ctx.dispose()
    }
    const sent = await sales.call('POST', `/quotes/${quote.id}/send`, {}, 200)
    const customer = await apiAs(null)
    await customer.call('POST', `/public/quotes/${sent.token}/accept`, { name: '王总', comment: '同意报价' }, 200)
    await customer.ctx.dispose()
    await sales.ctx.dispose()
    ids.quote = quote.id

    // -- the sales person turns it into a contract and works through the checklist
    await journey(async (page) => {
      await signInAs(page, SALES)
      await page.goto(`/contracts/new?quote=${ids.quote}`)
      const card = page.getByTestId('contract-new-quote-card')
      await seeText(card, quote.number)
      await seeText(card, ACCOUNT)
      await seeText(page.getByTestId('contract-new-total'), TOTAL.text)
      await seeText(card, TOTAL.upper)
      await seeText(card, PRODUCT.name)
      assert.equal(await page.getByTestId('contract-new-title').inputValue(), '智能仓储管理系统采购', 'title taken from the quote')
      await page.getByTestId('contract-new-entity').fill('宁波前奏信息技术有限公司')
      await fillDate(page, 'contract-new-start', day(1))
      await fillDate(page, 'contract-new-end', day(366))
      await fillDate(page, 'contract-new-deadline', day(31))
      await shot(page, 'contracts-new')
      await page.getByTestId('contract-new-submit').click()

      await page.getByTestId('contract-detail').waitFor()
      ids.number = (await page.getByTestId('contract-number').innerText()).trim()
      ids.contract = new URL(page.url()).pathname.split('/').pop()
      assert.match(ids.number, /^HT-\d{4}-\d{5}$/, 'numbered by the pattern')
      await seeText(page.getByTestId('contract-status'), '草稿')
      await seeText(page.getByTestId('contract-amount'), TOTAL.text)
      await seeText(page.getByTestId('contract-amount-upper'), TOTAL.upper)
      await seeText(page.getByTestId('contract-lines'), PRODUCT.name)
      await seeText(page.getByTestId('contract-facts'), '宁波前奏信息技术有限公司')
      await seeText(page.getByTestId('contract-deadline'), day(31))
      // sales may not sign (the department head does)
      assert.equal(await page.getByTestId('contract-action-sign').count(), 0, 'no sign button for sales')

      await page.getByTestId('contract-tab-checklist').click()
      for (const key of ['legal_review', 'seal', 'terms', 'payment_terms']) {
        if (key === 'legal_review') await page.getByTestId('check-note-legal_review').fill('法务部陈律师已审核，无修改意见')
        await page.getByTestId(`check-${key}`).click()
        await seeText(page.getByTestId(`check-by-${key}`), SALES.displayName)
      }
      await seeText(page.getByTestId('checklist-progress'), '已完成 4/5 项必选检查')
      await page.getByTestId('contract-action-submit').click()
      await seeText(page.getByTestId('contract-status'), '审核中')
      await shot(page, 'contracts-checklist')
    })

    // -- the department head signs: refused until the checklist is complete
    await journey(async (page) => {
      await signInAs(page, HEAD)
      await page.getByTestId('nav-contracts').click()
      await page.getByTestId('contracts-page').waitFor()
      await page.getByTestId(`contract-link-${ids.number}`).waitFor()
      await shot(page, 'contracts-list')
      await page.getByTestId(`contract-link-${ids.number}`).click()
      await page.getByTestId('contract-detail').waitFor()

      await page.getByTestId('contract-action-sign').click()
      const dialog = page.getByTestId('sign-dialog')
      await seeText(dialog, '签约前检查未完成')
      await page.getByTestId('sign-confirm').click()
      // the server's refusal, in words, naming the unticked item
      const box = messageBox(page)
      await seeText(box, '签约前检查未完成')
      await seeText(box, '交付条款确认')
      await shot(page, 'contracts-sign-refused')
      await box.locator('.el-message-box__btns .el-button--primary').click()
      await box.waitFor({ state: 'hidden' })
      await seeText(page.getByTestId('contract-status'), '审核中')
      assert.match(await page.getByTestId('check-row-delivery_terms').getAttribute('class'), /check--missing/, 'the missing item is highlighted')

      await page.getByTestId('check-delivery_terms').click()
      await seeText(page.getByTestId('check-by-delivery_terms'), HEAD.displayName)
      await seeText(page.getByTestId('check-by-legal_review'), SALES.displayName)
      await page.getByTestId('contract-action-sign').click()
      await page.getByTestId('sign-confirm').click()
      await seeText(page.getByTestId('contract-status'), '已签订')
      await seeText(page.getByTestId('contract-signing-date'), day(0))

      // -- the payment plan: two instalments that must add up to the contract amount
      await page.getByTestId('contract-tab-payments').click()
      await page.getByTestId('plan-edit').click()
      const editor = page.getByTestId('plan-editor')
      await editor.waitFor()
      await seeText(page.getByTestId('plan-remaining'), '各期合计等于合同金额')
      await page.getByTestId('plan-amount-0').fill(FIRST.yuan)
      await seeText(page.getByTestId('plan-remaining'), '还需分配 ¥92,208.00')
      await page.getByTestId('plan-add').click()
      assert.equal(await page.getByTestId('plan-amount-1').inputValue(), SECOND.yuan, 'the new instalment takes what is left')
      await fillDate(page, 'plan-date-0', day(-5))
      await fillDate(page, 'plan-date-1', day(60))
      await page.getByTestId('plan-note-0').fill('预付款')
      await page.getByTestId('plan-note-1').fill('验收款')
      await seeText(page.getByTestId('plan-remaining'), '各期合计等于合同金额')
      await shot(page, 'contracts-plan-editor')
      await page.getByTestId('plan-save').click()
      await editor.waitFor({ state: 'hidden' })
      const rows = page.getByTestId('instalments-table').locator('.el-table__row')
      await poll(async () => (await rows.count()) === 2, { what: 'two instalments' })
      // the first instalment's date has passed: flagged red
      await seeText(rows.first(), '逾期')
      await seeText(page.getByTestId('payment-overdue'), '逾期 1 期')

      // -- two receipts; one too large is refused with the most that may still come
      await page.getByTestId('receipt-new').click()
      let receipt = page.getByTestId('receipt-dialog')
      assert.equal(await page.getByTestId('receipt-amount').inputValue(), '61472.00', 'prefilled with the oldest open instalment')
      await page.getByTestId('receipt-reference').fill('工商银行 20261207001')
      await page.getByTestId('receipt-save').click()
      await receipt.waitFor({ state: 'hidden' })
      await seeText(page.getByTestId('payment-percent'), '40%')
      await seeText(page.getByTestId('payment-received'), '¥61,472.00')
      assert.equal(await page.getByTestId('payment-overdue').count(), 0, 'paid: no longer overdue')

      await page.getByTestId('receipt-new').click()
      receipt = page.getByTestId('receipt-dialog')
      await page.getByTestId('receipt-amount').fill('92208.01')
      await page.getByTestId('receipt-save').click()
      await seeText(receipt, '最多还可收 92208.00 元')
      await page.getByTestId('receipt-amount').fill(SECOND.yuan)
      await page.getByTestId('receipt-reference').fill('工商银行 20261207002')
      await page.getByTestId('receipt-save').click()
      await receipt.waitFor({ state: 'hidden' })
      await seeText(page.getByTestId('payment-percent'), '100%')
      await seeText(page.getByTestId('payment-remaining'), '¥0.00')
      await seeText(page.getByTestId('payments-panel'), '已全部回款')
      await poll(async () => (await page.getByTestId('receipts-table').locator('.el-table__row').count()) === 2, { what: 'two receipts' })
      await seeText(page.getByTestId('contract-progress'), '100%')
      await shot(page, 'contracts-payments')

      // -- the signed scan
      await page.getByTestId('contract-tab-attachments').click()
      await page
        .getByTestId('attachments-panel')
        .locator('.el-upload input[type=file]')
        .setInputFiles({ name: '合同扫描件.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4\n% signed and sealed\n%%EOF\n') })
      await page.getByTestId('attachment-download-合同扫描件.pdf').waitFor()
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('attachment-download-合同扫描件.pdf').click()])
      assert.equal(download.suggestedFilename(), '合同扫描件.pdf')

      // -- invoice information kept on the customer, shown on the contract
      await page.getByTestId('contract-account').click()
      await page.getByTestId('customer-detail').waitFor()
      await page.getByTestId('tab-invoices').click()
      await page.getByTestId('invoice-profile-add').click()
      await page.getByTestId('invoice-profile-title').fill(ACCOUNT)
      await page.getByTestId('invoice-profile-tax').fill('91350100M000100Y4X')
      await page.getByTestId('invoice-profile-bank').fill('中国工商银行宁波海曙支行')
      await page.getByTestId('invoice-profile-account').fill('3901 1100 0920 0012 345')
      await page.getByTestId('invoice-profile-save').click()
      await seeText(page.getByTestId('invoice-profile-dialog'), '统一社会信用代码')
      await page.getByTestId('invoice-profile-tax').fill('91350100M000100Y43')
      await page.getByTestId('invoice-profile-save').click()
      await seeText(page.getByTestId('invoice-profiles-table'), '39011100092000123')
      await shot(page, 'contracts-invoice-profile')
      await page.goto(`/contracts/${ids.contract}?tab=invoices`)
      await page.getByTestId(`invoice-profile-${ACCOUNT}`).waitFor()
    })

    // -- the contract and its money as the API sees them
    const check = await apiAs(SALES)
    const c = await check.call('GET', `/contracts/${ids.contract}`, undefined, 200)
    assert.equal(c.status, 'signed')
    assert.equal(c.received_fen, TOTAL.fen)
    assert.equal(c.progress_percent, 100)
    assert.deepEqual(
      c.instalments.map((i) => [i.amount_fen, i.status]),
      [
        [FIRST.fen, 'paid'],
        [SECOND.fen, 'paid'],
      ],
    )
    assert.ok(c.checklist.every((i) => !i.required || i.checked))
    assert.equal(c.attachments.length, 1)
    await check.ctx.dispose()
  })

  it('orders: an import with an abnormal order; a normal one confirmed by keyboard; the team leader releases the abnormal one', async () => {
    const paid = (h) => {
      const d = new Date(Date.now() - h * 3600_000 + 8 * 3600_000)
      return d.toISOString().slice(0, 19).replace('T', ' ')
    }
    const header = ['订单编号', '买家会员名', '收货人姓名', '联系手机', '收货地址', '宝贝标题', '颜色分类', '购买数量', '商品单价', '买家实际支付金额(元)', '订单付款时间', '买家留言']
    const rows = [
      ['TB20261207001', '海曙小陈', '陈静', '13957412345', '浙江省 宁波市 海曙区 中山西路 138 号', '不锈钢保温杯', '500ml 星空蓝', '2', '89', '178.00', paid(12 * 24), '麻烦尽快发货'],
      ['TB20261207002', '江北阿明', '李明', '13805741111', '浙江省 宁波市 江北区 人民路 66 号', '陶瓷茶具套装', '青瓷 8 件', '1', '268', '268.00', paid(4), ''],
      ['TB20261207003', '鄞州王女士', '王芳', '13600002222', '浙江省 宁波市 鄞州区 天童南路 588 号', '不锈钢保温杯', '1000ml 黑色', '1', '129', '129.00', paid(3), '上次买的是假货，这次再有问题就差评投诉'],
    ]
    const bad = ['TB20261207004', '小刘', '刘洋', '13700003333', '浙江省 宁波市 北仑区 新大路 1 号', '保温杯', '红色', '1', '九十九', '99.00', paid(2), '']
    const file = (name, list) => ({
      name,
      mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      buffer: xlsx([header, ...list], '订单'),
    })

    // -- customer service imports the shop's export and confirms by keyboard
    await journey(async (page) => {
      await signInAs(page, SERVICE)
      await page.getByTestId('nav-orders').click()
      await page.getByTestId('nav-order-list').click()
      await page.getByTestId('orders-page').waitFor()
      await page.getByTestId('orders-import').click()
      const upload = page.locator('.el-dialog .el-upload input[type=file]')
      await upload.setInputFiles(file('淘宝订单导出-有错误.xlsx', [...rows, bad]))
      await page.getByTestId('order-import-preview-btn').click()
      await page.getByTestId('order-import-preview').waitFor({ timeout: 30_000 })
      await seeText(page.getByTestId('order-import-errors-count'), '1')
      const errors = page.getByTestId('order-import-errors')
      await seeText(errors, 'TB20261207004')
      await seeText(errors, '不是有效的金额')
      await seeText(page.getByTestId('order-import-flagged'), '1')
      await seeText(page.getByTestId('order-import-flag-TB20261207003'), '留言含风险词')
      assert.equal(await page.getByTestId('order-import-commit').isDisabled(), true, 'a file with errors cannot be imported')
      await shot(page, 'orders-import-errors')
      const [report] = await Promise.all([page.waitForEvent('download'), page.getByTestId('order-import-report').click()])
      assert.match(report.suggestedFilename(), /\.csv$/)

      await page.getByTestId('order-import-back').click()
      await upload.setInputFiles(file('淘宝订单导出.xlsx', rows))
      await page.getByTestId('order-import-preview-btn').click()
      await page.getByTestId('order-import-preview').waitFor({ timeout: 30_000 })
      await seeText(page.getByTestId('order-import-errors-count'), '0')
      await seeText(page.getByTestId('order-import-created'), '3')
      await page.getByTestId('order-import-commit').click()
      await page.getByTestId('order-import-result').waitFor({ timeout: 30_000 })
      await seeText(page.getByTestId('order-import-result'), '新建 3 笔')
      await seeText(page.getByTestId('order-import-flagged-note'), '1 笔异常订单已交组长审核')
      await shot(page, 'orders-import-result')
      await page.getByTestId('order-import-to-queue').click()

      // the queue: oldest paid first; the abnormal order is not offered
      await page.getByTestId('order-queue').waitFor()
      const list = page.getByTestId('queue-list')
      await page.getByTestId('queue-item-TB20261207001').waitFor()
      await page.getByTestId('queue-item-TB20261207002').waitFor()
      assert.equal(await page.getByTestId('queue-item-TB20261207003').count(), 0, 'the abnormal order waits for the leader')
      await seeText(page.getByTestId('queue-current'), 'TB20261207001')
      await poll(async () => (await page.getByTestId('queue-message').inputValue()).includes('TB20261207001'), {
        what: 'the confirmation message filled in',
      })

      // keyboard only: j/k to move, 1–6 and space to tick, Enter to confirm
      await page.keyboard.press('j')
      await seeText(page.getByTestId('queue-current'), 'TB20261207002')
      await page.keyboard.press('k')
      await seeText(page.getByTestId('queue-current'), 'TB20261207001')
      await page.keyboard.press('Enter') // nothing ticked yet: refused
      await seeText(page.locator('.el-message'), '还有 6 项未与买家核对')
      for (const key of ['1', '2', '3']) await page.keyboard.press(key)
      await page.keyboard.press('Space')
      await seeText(page.getByTestId('queue-progress'), '已核对 4/6')
      assert.equal(await page.getByTestId('queue-check-consignee').getAttribute('data-checked'), 'true', 'space ticks the next item')
      await shot(page, 'orders-queue')
      await page.keyboard.press('Space')
      await page.keyboard.press('6')
      await seeText(page.getByTestId('queue-progress'), '已核对 6/6')
      await page.keyboard.press('Enter')
      await seeText(page.locator('.el-message'), '订单 TB20261207001 已确认')
      await page.getByTestId('queue-item-TB20261207001').waitFor({ state: 'detached' })
      await seeText(page.getByTestId('queue-current'), 'TB20261207002')
      await seeText(list, 'TB20261207002')

      // the abnormal order shows, locked, when asked for
      await page.getByTestId('queue-show-waiting').click()
      await page.getByTestId('queue-item-TB20261207003').waitFor()
      await page.getByTestId('queue-item-TB20261207003').click()
      await seeText(page.getByTestId('queue-detail'), '待组长审核')
      assert.equal(await page.getByTestId('queue-confirm').isDisabled(), true, 'an abnormal order cannot be confirmed')
    })

    const cs = await apiAs(SERVICE)
    const all = await cs.call('GET', '/orders?q=TB20261207', undefined, 200)
    const byNo = Object.fromEntries(all.items.map((o) => [o.order_no, o]))
    assert.equal(byNo.TB20261207001.status, 'confirmed')
    assert.equal(byNo.TB20261207001.confirmed_by, SERVICE.displayName)
    assert.match(byNo.TB20261207001.confirm_message, /TB20261207001/, 'the message used is recorded')
    assert.equal(byNo.TB20261207003.review_status, 'pending')
    // the buyer signed for TB20261207001 ten days ago (as the shop's logistics say)
    const signedAt = new Date(Date.now() - 10 * 86400_000).toISOString()
    const delivered = await cs.ctx.post(`/api/v1/orders/${byNo.TB20261207001.id}/delivered`, {
      data: { delivered_at: signedAt },
      headers: { 'If-Match': `"${byNo.TB20261207001.version}"` },
    })
    assert.equal(delivered.status(), 200, await delivered.text())
    await cs.ctx.dispose()

    // -- the team leader releases the abnormal order
    await journey(async (page) => {
      await signInAs(page, HEAD)
      await page.getByTestId('nav-orders').click()
      await page.getByTestId('nav-order-list').click()
      await page.getByTestId('orders-page').waitFor()
      await page.getByTestId('orders-tab-review').click()
      const flags = page.getByTestId('order-flags-TB20261207003')
      await seeText(flags, '留言含风险词')
      await seeText(page.getByTestId('orders-table'), '命中：差评、投诉、假货')
      assert.equal(await page.getByTestId('order-link-TB20261207001').count(), 0, 'only orders awaiting review')
      await shot(page, 'orders-review')
      await page.getByTestId('order-approve-TB20261207003').click()
      const box = messageBox(page)
      await box.locator('input, textarea').first().fill('已电话联系买家，确认收货地址和商品规格无误')
      await box.locator('.el-message-box__btns .el-button--primary').click()
      await seeText(page.locator('.el-message'), '订单 TB20261207003 已放行')
      await page.getByTestId('orders-empty').waitFor()

      // the released order is now the staff's to confirm
      await page.getByTestId('orders-tab-all').click()
      await page.getByTestId('order-link-TB20261207003').click()
      await page.getByTestId('order-detail').waitFor()
      await seeText(page.getByTestId('order-review-status'), '组长已放行')
      await seeText(page.getByTestId('order-detail'), '已电话联系买家')
      await shot(page, 'orders-detail')

      // a no-reason return ten days after signing: refused by the seven-day rule, accepted only as the leader's exception
      await page.getByTestId('order-back').click()
      await page.getByTestId('order-link-TB20261207001').click()
      await page.getByTestId('order-detail').waitFor()
      await seeText(page.getByTestId('order-window'), '七天无理由退货已于')
      await page.getByTestId('order-return-new').click()
      const dialog = page.getByTestId('return-dialog')
      await seeText(page.getByTestId('return-window'), '已超过七天无理由退货期限')
      await page.getByTestId('return-reason').fill('买家不想要了')
      await page.getByTestId('return-save').click()
      await seeText(page.getByTestId('return-problem'), '已超过七天无理由退货期限')
      await page.getByTestId('return-override').click()
      await page.getByTestId('return-override-reason').fill('老客户，店长同意破例受理')
      await shot(page, 'orders-return-window')
      await page.getByTestId('return-save').click()
      await dialog.waitFor({ state: 'hidden' })
      await seeText(page.getByTestId('order-returns'), '超期受理')
      await seeText(page.getByTestId('order-returns'), '七天无理由')
    })

    const leader = await apiAs(HEAD)
    const released = await leader.call('GET', '/orders?q=TB20261207003', undefined, 200)
    assert.equal(released.items[0].review_status, 'approved')
    const ready = await leader.call('GET', '/order-queue?ready=true&q=TB20261207', undefined, 200)
    assert.deepEqual(ready.items.map((o) => o.order_no).sort(), ['TB20261207002', 'TB20261207003'])
    await leader.ctx.dispose()
  })
}
