// The opportunity pipeline (商机, issue 5) in the browser: a deal walks from a
// customer's inquiry through every stage of regulation 2 — market research,
// requirements captured from the inquiry's text, one requirement answered by
// the technical department in its queue, a solution and a trial approved by
// the department head, a negotiation recorded — with the stage gates blocking
// (and saying what is missing) whenever a card is dragged too early, a
// colleague's move reported instead of overwritten, a head's override with a
// reason; the deal is won; a second deal is lost to a competitor with a
// reason. Registered by ../journeys.test.js after the follow-up journeys
// (before two-step verification is turned on for the administrator).
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { it } from 'node:test'
import { ADMIN, fillLogin, pickOption, poll, seeText, shot, signIn } from '../lib/prelude.js'

const DEPT = '华中大客户部'
const TECH_DEPT = '技术支持中心'
const PASSWORD = 'Pipeline-e2e-2024!'
/** The salesperson who owns the deals. */
const SALES = { username: 'liuyang', displayName: '刘洋', roles: ['sales'] }
/** The technical colleague asked for support. */
const TECH = { username: 'chenjing', displayName: '陈静', roles: ['tech'] }
/** The head of the sales department: approves solutions and trials, may override gates. */
const HEAD = { username: 'qianhui', displayName: '钱慧', roles: ['manager'] }

const COMPANY = '深圳云帆智能制造有限公司'
const DEAL = '云帆智能工厂数据采集项目'
const SECOND = '云帆二期 MES 项目'
const THIRD = '云帆仓储 AGV 项目'
const INQUIRY_TEXT = [
  '您好，我们计划为新工厂建设设备数据采集平台，需求如下：',
  '1. 工业网关 | 20 | 台 | 支持 Modbus TCP 与 OPC UA',
  '2. 边缘计算服务器 | 2 | 台 | 双路 CPU，128G 内存',
  '3. 数据采集软件许可 | 1 | 套 | 含三年维保',
  '希望下月底前拿到方案和报价。',
].join('\n')
const QUESTION = '边缘计算服务器能否同时接入 20 台网关，并在本地缓存 7 天数据？'
const ANSWER = '可以。双路服务器可接入 20 台网关；本地缓存 7 天约需 4TB，建议每台增加一块 4TB 数据盘。'
const SOLUTION = '云帆数据采集平台方案'
const LOST_TO = '蓝海智造'
const LOST_REASON = '对方报价低 18%，且承诺两周内交付'

/** Shared by the journeys below (they run in order). */
const ids = { dept: '', techDept: '', sales: '', tech: '', head: '', account: '', inquiry: '', deal: '', third: '' }

async function api(page, method, path, body, headers = {}) {
  const res = await page.request.fetch(`/api/v1${path}`, {
    method,
    data: body === undefined ? undefined : body,
    headers: { 'Idempotency-Key': randomUUID(), 'Accept-Language': 'zh-CN', ...headers },
  })
  const text = await res.text()
  return { status: res.status(), body: text ? JSON.parse(text) : null }
}

async function must(page, method, path, body, status = [200, 201]) {
  const r = await api(page, method, path, body)
  assert.ok([].concat(status).includes(r.status), `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`)
  return r.body
}

async function signInAs(page, u) {
  await page.goto('/login')
  await fillLogin(page, u.username, PASSWORD)
  await page.getByTestId('home').waitFor()
}

async function signOutNow(page) {
  await page.getByTestId('user-menu').click()
  await page.getByTestId('logout').click()
  await page.getByTestId('login-form').waitFor()
}

async function openBoard(page) {
  await page.getByTestId('nav-pipeline').click()
  await page.getByTestId('nav-pipeline-board').click()
  await page.getByTestId('pipeline-board').waitFor()
  await page.locator('.board .el-loading-mask').first().waitFor({ state: 'hidden' }).catch(() => {})
}

const card = (page, name) => page.getByTestId(`card-${name}`)
const column = (page, stage) => page.getByTestId(`column-${stage}`)

async function openDeal(page, id, tab) {
  await page.goto(`/opportunities/${id}${tab ? `?tab=${tab}` : ''}`)
  await page.getByTestId('opportunity-page').waitFor()
  await page.getByTestId('opp-name').waitFor()
}

async function confirmBox(page) {
  await page.locator('.el-message-box__btns .el-button--primary').click()
  await page.locator('.el-message-box').waitFor({ state: 'hidden' })
}

/** Fills the review prompt (approve: optional comment) and confirms. */
async function reviewPrompt(page, comment) {
  const box = page.locator('.el-message-box')
  await box.waitFor()
  if (comment) await box.locator('textarea').fill(comment)
  await box.locator('.el-message-box__btns .el-button--primary, .el-message-box__btns .el-button--danger').last().click()
  await box.waitFor({ state: 'hidden' })
}

async function stageOf(page, id) {
  return (await api(page, 'GET', `/opportunities/${id}`)).body
}

/** Registers the pipeline journeys; `journey` runs one in a fresh browser context. */
export function pipelineJourneys(journey) {
  it('pipeline: an inquiry becomes an opportunity; dragging it too early shows what the gate needs; a colleague’s move is reported', async () => {
    await journey(async (page) => {
      // -- the administrator sets up the team through the API
      await signIn(page, { username: ADMIN.username, password: ADMIN.password })
      const depts = (await must(page, 'GET', '/departments')).items
      const root = depts.find((d) => !d.parent_id)
      ids.dept = (await must(page, 'POST', '/departments', { name: DEPT, parent_id: root.id })).id
      ids.techDept = (await must(page, 'POST', '/departments', { name: TECH_DEPT, parent_id: root.id })).id
      for (const [u, dept] of [
        [SALES, ids.dept],
        [HEAD, ids.dept],
        [TECH, ids.techDept],
      ]) {
        const created = await must(page, 'POST', '/users', {
          username: u.username,
          display_name: u.displayName,
          email: `${u.username}@example.com`,
          department_id: dept,
          roles: u.roles,
          password: PASSWORD,
        })
        ids[u === SALES ? 'sales' : u === HEAD ? 'head' : 'tech'] = created.id
      }
      await must(page, 'PATCH', `/departments/${ids.dept}`, { manager_id: ids.head })

      // -- the salesperson's customer asks by email; the inquiry becomes a deal in one step
      await signOutNow(page)
      await signInAs(page, SALES)
      const inq = await must(page, 'POST', '/inquiries', {
        subject: '新工厂设备数据采集平台询价',
        channel: 'email',
        customer: { name: '周海', email: 'zhouhai@yunfan-mfg.example.com', create_account: true, company: COMPANY },
        body: INQUIRY_TEXT,
        assignee_id: ids.sales,
      })
      ids.inquiry = inq.id
      ids.account = inq.account_id
      assert.ok(ids.account, 'the inquiry created the customer account')
      const deal = await must(page, 'POST', `/inquiries/${ids.inquiry}/opportunity`, {
        name: DEAL,
        amount: 186000000,
        expected_close: nextMonthDay(2, 28),
        next_step: '整理需求并约技术交流',
      })
      ids.deal = deal.id
      assert.equal(deal.source, 'inquiry')
      assert.equal(deal.stage_name, '市场调研')
      // two more deals of the same customer fill the board and the forecast
      ids.third = (
        await must(page, 'POST', '/opportunities', { account_id: ids.account, name: THIRD, amount: 45000000, expected_close: nextMonthDay(3, 15) })
      ).id
      await must(page, 'POST', '/opportunities', { account_id: ids.account, name: '云帆能耗监测项目', amount: 12000000, expected_close: nextMonthDay(1, 20) })

      // -- the board: the deal is in 市场调研 with the column's totals
      await openBoard(page)
      await card(page, DEAL).waitFor()
      await seeText(column(page, '市场调研'), DEAL)
      await seeText(page.getByTestId('column-count-市场调研'), '3')
      await seeText(page.getByTestId('board-total-amount'), '¥2,430,000.00')
      await seeText(card(page, DEAL), '¥1,860,000.00')
      await shot(page, 'pipeline-board')

      // -- dragged to 需求分析 without market research: the gate says exactly what is missing
      await card(page, DEAL).dragTo(column(page, '需求分析'))
      const gate = page.getByTestId('gate-dialog')
      await gate.waitFor()
      await seeText(gate, '还不能进入「需求分析」')
      await seeText(page.getByTestId('gate-missing-has_research_note'), '至少需要 1 条市场调研记录（目前 0 条）')
      // a salesperson cannot override
      await page.getByTestId('gate-no-override').waitFor()
      assert.equal(await page.getByTestId('gate-override-reason').count(), 0)
      await shot(page, 'pipeline-gate')
      assert.equal((await stageOf(page, ids.deal)).stage_name, '市场调研', 'the blocked move changed nothing')

      // "去补齐" leads to the research tab of the deal
      await page.getByTestId('gate-fix-has_research_note').click()
      await page.getByTestId('research-panel').waitFor()
      await page.getByTestId('research-new').click()
      const research = page.getByTestId('research-dialog')
      await page.getByTestId('research-industry').fill('离散制造 · 汽车零部件')
      await page.getByTestId('research-needs').fill('新工厂 2 条产线设备联网，要求数据可追溯')
      await page.getByTestId('research-competitors').fill('蓝海智造、星河工业互联')
      await page.getByTestId('research-save').click()
      await research.waitFor({ state: 'hidden' })
      await seeText(page.getByTestId('research-panel'), '离散制造')

      // -- meanwhile a colleague changes the deal: the board's copy is stale
      await openBoard(page)
      await card(page, DEAL).waitFor()
      const fresh = await stageOf(page, ids.deal)
      const patched = await api(page, 'PATCH', `/opportunities/${ids.deal}`, { next_step: '周三技术交流' }, { 'If-Match': `"${fresh.version}"` })
      assert.equal(patched.status, 200, JSON.stringify(patched.body))
      await card(page, DEAL).dragTo(column(page, '需求分析'))
      await seeText(page.locator('.el-message'), '刚被其他人移动或修改过')
      assert.equal((await stageOf(page, ids.deal)).stage_name, '市场调研', 'no silent overwrite')
      // the board reloaded the card: the same drag now goes through
      await poll(async () => (await card(page, DEAL).count()) === 1, { what: 'the card after the reload' })
      await card(page, DEAL).dragTo(column(page, '需求分析'))
      await seeText(page.locator('.el-message'), '已将「云帆智能工厂数据采集项目」移到「需求分析」')
      await seeText(column(page, '需求分析'), DEAL)
      assert.equal((await stageOf(page, ids.deal)).stage_name, '需求分析')
    })
  })

  it('pipeline: requirements captured from the inquiry’s text, analysed, one answered by tech in the support queue', async () => {
    await journey(async (page) => {
      await signInAs(page, SALES)
      await openDeal(page, ids.deal)
      await seeText(page.getByTestId('opp-source-inquiry'), '来源咨询')

      // -- select the requirement lines in the customer's message and add them
      await page.getByTestId('req-bulk').click()
      const bulk = page.getByTestId('bulk-dialog')
      const messages = page.getByTestId('bulk-messages')
      await seeText(messages, '工业网关')
      await messages.evaluate((box) => {
        const body = box.querySelector('.bulk__body')
        const text = body.firstChild
        const start = text.textContent.indexOf('1. 工业网关')
        const end = text.textContent.indexOf('含三年维保') + '含三年维保'.length
        const range = document.createRange()
        range.setStart(text, start)
        range.setEnd(text, end)
        const sel = window.getSelection()
        sel.removeAllRanges()
        sel.addRange(range)
      })
      await page.getByTestId('bulk-add-selection').click()
      await seeText(page.getByTestId('bulk-preview'), '预览（3 条）')
      await seeText(page.getByTestId('bulk-preview'), '边缘计算服务器')
      await shot(page, 'pipeline-requirements-bulk')
      await page.getByTestId('bulk-save').click()
      await bulk.waitFor({ state: 'hidden' })
      const table = page.getByTestId('req-table')
      await seeText(table, '工业网关')
      await seeText(table, '20 台')
      await seeText(table, '支持 Modbus TCP 与 OPC UA')
      await seeText(page.getByTestId('req-verdict-数据采集软件许可'), '待分析')

      // -- needs analysis of the gateways by the salesperson
      await page.getByTestId('req-analyse-工业网关').click()
      const feas = page.getByTestId('feasibility-dialog')
      await page.getByTestId('feas-verdict-feasible_with_changes').click()
      await page.getByTestId('feas-save').click()
      await seeText(feas, '请填写工作量或风险说明')
      await page.getByTestId('feas-effort').fill('OPC UA 需升级网关固件，约 2 人日')
      await page.getByTestId('feas-save').click()
      await feas.waitFor({ state: 'hidden' })
      await seeText(page.getByTestId('req-verdict-工业网关'), '调整后可行')

      // -- the servers go to the technical department
      await page.getByTestId('req-ask-边缘计算服务器').click()
      const ask = page.getByTestId('support-dialog')
      await ask.waitFor()
      await page.getByTestId('support-question').fill(QUESTION)
      await ask.getByTestId('support-assignee').click()
      await pickOption(page, TECH.displayName)
      await page.getByTestId('support-save').click()
      await ask.waitFor({ state: 'hidden' })
      await seeText(page.locator('.el-message'), '已发给 陈静')
      await seeText(page.getByTestId('support-panel'), QUESTION)
      await seeText(page.getByTestId('support-panel'), '待答复')
      await shot(page, 'pipeline-support-request')

      // -- jumping to 报价及谈判 skips nothing: the stage bar's move lists the missing solution
      await page.getByTestId('stage-报价及谈判').locator('button').click()
      const gate = page.getByTestId('gate-dialog')
      await seeText(gate, '还不能进入「报价及谈判」')
      await seeText(page.getByTestId('gate-missing-approved_solution'), '需要一份已审批通过的方案')
      assert.equal(await page.getByTestId('gate-missing-min_requirements_analysed').count(), 0, 'the analysed requirement is there')
      await page.getByTestId('gate-close').click()
      await gate.waitFor({ state: 'hidden' })
      // 方案设计 is open now that a requirement is analysed
      await page.getByTestId('stage-方案设计').locator('button').click()
      await seeText(page.getByTestId('opp-stage'), '方案设计')

      // -- the technical colleague answers from their queue, with the feasibility verdict
      await signOutNow(page)
      await signInAs(page, TECH)
      await page.getByTestId('nav-pipeline').click()
      await page.getByTestId('nav-tech-support').click()
      await page.getByTestId('tech-support-page').waitFor()
      const req = page.locator('[data-testid^="tech-request-"]').filter({ hasText: QUESTION })
      await seeText(req, DEAL)
      await seeText(req.getByTestId('tech-requirement'), '边缘计算服务器')
      await seeText(req.getByTestId('tech-requirement'), '2 台')
      await shot(page, 'pipeline-tech-queue')
      await req.locator('textarea').fill(ANSWER)
      await req.getByRole('button', { name: '提交答复' }).click()
      await seeText(page.locator('.el-message'), '答复已提交')
      await seeText(req, '按时答复')
      const form = req.locator('[data-testid^="tech-verdict-form-"]')
      await form.waitFor()
      await form.getByTestId('feas-verdict-feasible_with_changes').click()
      await form.getByTestId('feas-risk').fill('每台服务器需增加一块 4TB 数据盘')
      await form.getByTestId('feas-save').click()
      await seeText(page.locator('.el-message'), '可行性结论已记录')
      await seeText(req.getByTestId('tech-requirement'), '调整后可行')
      await shot(page, 'pipeline-tech-answered')

      // the salesperson sees the answer, its response time and the verdict
      await signOutNow(page)
      await signInAs(page, SALES)
      await openDeal(page, ids.deal, 'support')
      await seeText(page.getByTestId('support-panel'), ANSWER)
      await seeText(page.getByTestId('support-panel'), '按时答复')
      await seeText(page.getByTestId('support-panel'), '响应用时')
      await page.getByTestId('tab-requirements').click()
      await seeText(page.getByTestId('req-verdict-边缘计算服务器'), '调整后可行')
    })
  })

  it('pipeline: a solution and a trial are approved by the department head, who may also override a gate with a reason', async () => {
    await journey(async (page) => {
      await signInAs(page, SALES)
      await openDeal(page, ids.deal, 'solutions')
      await page.getByTestId('solution-new').click()
      const dlg = page.getByTestId('solution-dialog')
      await page.getByTestId('solution-title').fill(SOLUTION)
      await page.getByTestId('solution-body-area').click()
      await page.keyboard.type('总体架构：网关采集、边缘计算、云端平台三层。')
      await page.getByTestId('solution-req-工业网关').click()
      await page.getByTestId('solution-req-边缘计算服务器').click()
      await page.getByTestId('solution-save').click()
      await dlg.waitFor({ state: 'hidden' })
      await seeText(page.getByTestId('solution-status'), '草稿')
      await page.getByTestId('solution-file').setInputFiles({ name: '云帆方案.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4 e2e') })
      await page.getByTestId('solution-file-云帆方案.pdf').waitFor()
      // coverage: v1 answers two of the three requirements
      const cov = page.getByTestId('solution-coverage')
      await seeText(cov, '数据采集软件许可')
      assert.equal(await cov.locator('.cov--yes').count(), 2)
      assert.equal(await cov.locator('.cov--no').count(), 1)
      await page.getByTestId('solution-submit').click()
      await confirmBox(page)
      await seeText(page.getByTestId('solution-status'), '待审批')
      await shot(page, 'pipeline-solution')

      // a 30-day trial of the software
      await page.getByTestId('tab-demos').click()
      await page.getByTestId('demo-new').click()
      const demo = page.getByTestId('demo-dialog')
      await page.getByTestId('demo-kind-trial').click()
      await page.getByTestId('demo-purpose').fill('在客户一号产线试用数据采集软件，验证采集频率')
      await page.getByTestId('demo-days').locator('input').fill('30')
      await page.getByTestId('demo-days').locator('input').press('Tab')
      await page.getByTestId('demo-env').fill('客户现场 + 演示云环境 B')
      await page.getByTestId('demo-save').click()
      await seeText(demo, '请输入许可')
      await page.getByTestId('demo-licence').fill('TRIAL-30D')
      await page.getByTestId('demo-save').click()
      await demo.waitFor({ state: 'hidden' })
      await seeText(page.getByTestId('demos-panel'), '待批准')

      // -- the head's approvals
      await signOutNow(page)
      await signInAs(page, HEAD)
      // the approval centre: the pipeline's tab beside the quotes'
      await page.getByTestId('nav-approvals').click()
      await page.getByTestId('approvals-tab-pipeline').click()
      await page.getByTestId('pipeline-approvals').waitFor()
      const sols = page.getByTestId('approvals-solutions')
      await seeText(sols, SOLUTION)
      await seeText(sols, DEAL)
      await seeText(sols, '回应 2 条需求')
      await seeText(page.getByTestId('approvals-demos'), 'TRIAL-30D')
      await shot(page, 'pipeline-approvals')
      // rejecting needs a reason
      await sols.getByTestId('approval-solution-reject').first().click()
      await page.locator('.el-message-box').waitFor()
      await page.locator('.el-message-box__btns .el-button--danger, .el-message-box__btns .el-button--primary').last().click()
      await seeText(page.locator('.el-message-box'), '驳回时请填写审批意见')
      await page.locator('.el-message-box__btns .el-button').first().click()
      await page.locator('.el-message-box').waitFor({ state: 'hidden' })
      await sols.getByTestId('approval-solution-approve').first().click()
      await reviewPrompt(page, '架构合理，同意')
      await seeText(page.locator('.el-message'), '方案已审批通过')
      await page.getByTestId('approvals-demos').getByTestId('approval-demo-approve').first().click()
      await reviewPrompt(page, '同意试用 30 天')
      await seeText(page.locator('.el-message'), '已批准')
      await seeText(sols, '没有待审批的方案')
      await seeText(page.getByTestId('approvals-demos'), '没有待批准的演示或试用申请')

      // -- the head drags another deal past its gates, with a recorded reason
      await openBoard(page)
      await card(page, THIRD).dragTo(column(page, '方案设计'))
      const gate = page.getByTestId('gate-dialog')
      await seeText(gate, '还不能进入「方案设计」')
      await page.getByTestId('gate-missing-min_requirements_analysed').waitFor()
      await page.getByTestId('gate-override').waitFor()
      await page.getByTestId('gate-override-submit').click()
      await seeText(gate, '请填写越过理由')
      await page.getByTestId('gate-override-reason').fill('框架协议客户，需求沿用一期，总经理特批')
      await shot(page, 'pipeline-gate-override')
      await page.getByTestId('gate-override-submit').click()
      await gate.waitFor({ state: 'hidden' })
      await seeText(column(page, '方案设计'), THIRD)
      const hist = (await must(page, 'GET', `/opportunities/${ids.third}/history`)).items
      assert.equal(hist.at(-1).override_reason, '框架协议客户，需求沿用一期，总经理特批')
    })
  })

  it('pipeline: negotiation recorded and the deal won; a second deal lost to a competitor with a reason; list, forecast and configuration', async () => {
    await journey(async (page) => {
      await signInAs(page, SALES)
      // -- the approved solution opens 报价及谈判 on the board
      await openBoard(page)
      await card(page, DEAL).dragTo(column(page, '报价及谈判'))
      await seeText(page.locator('.el-message'), '移到「报价及谈判」')
      await seeText(column(page, '报价及谈判'), DEAL)

      await openDeal(page, ids.deal, 'demos')
      await seeText(page.getByTestId('demo-status'), '已批准')
      await seeText(page.getByTestId('demo-expiry'), /还有 \d+ 天到期/)

      // -- winning is signing: without a negotiation record the dialog says so
      await page.getByTestId('opp-win').click()
      const win = page.getByTestId('close-dialog-won')
      await page.getByTestId('close-reason').fill('方案通过客户技术评审，价格在预算内')
      await page.getByTestId('close-submit').click()
      await seeText(page.getByTestId('close-gate-has_negotiation_record'), '至少需要 1 条谈判记录（目前 0 条）')
      await win.getByRole('button', { name: '取消' }).click()
      await win.waitFor({ state: 'hidden' })

      await page.getByTestId('tab-negotiations').click()
      await page.getByTestId('neg-new').click()
      const neg = page.getByTestId('neg-dialog')
      await page.getByTestId('neg-customer').fill('要求总价九折，付款期 90 天')
      await page.getByTestId('neg-ours').fill('九五折，含三年维保，付款期 60 天')
      await page.getByTestId('neg-outcome').fill('客户接受九五折与 60 天付款期')
      await page.getByTestId('neg-next').fill('起草合同')
      await page.getByTestId('neg-save').click()
      await neg.waitFor({ state: 'hidden' })
      await seeText(page.getByTestId('negotiations-panel'), '客户接受九五折')

      await page.getByTestId('opp-win').click()
      await page.getByTestId('close-reason').fill('方案通过客户技术评审，价格在预算内')
      await page.getByTestId('close-submit').click()
      await seeText(page.getByTestId('opp-won-banner'), '已赢单：方案通过客户技术评审')
      await seeText(page.getByTestId('opp-status'), '已赢单')
      await seeText(page.getByTestId('opp-stage'), '签约')
      await shot(page, 'pipeline-won')
      await page.getByTestId('tab-history').click()
      const history = page.getByTestId('history-table')
      for (const s of ['市场调研', '需求分析', '方案设计', '报价及谈判', '签约']) await seeText(history, s)
      await shot(page, 'pipeline-history')
      await page.getByTestId('tab-timeline').click()
      await seeText(page.getByTestId('timeline'), '商机赢单')
      await seeText(page.getByTestId('timeline'), '技术支持已答复')

      // -- a second deal, typed in yuan; a negative amount is refused in the form
      await openBoard(page)
      await page.getByTestId('opp-create').click()
      const form = page.getByTestId('opp-dialog')
      await form.getByTestId('opp-account').click()
      await page.keyboard.type('云帆')
      await pickOption(page, COMPANY)
      await page.getByTestId('opp-name').fill(SECOND)
      await page.getByTestId('opp-amount').fill('-5')
      await page.getByTestId('opp-save').click()
      await seeText(form, '金额不能为负数')
      await page.getByTestId('opp-amount').fill('1,280,000.50')
      await page.getByTestId('opp-save').click()
      await page.getByTestId('opportunity-page').waitFor()
      await seeText(page.getByTestId('opp-name'), SECOND)
      await seeText(page.getByTestId('opp-amount'), '¥1,280,000.50')
      const second = (await must(page, 'GET', `/opportunities?q=${encodeURIComponent('二期')}`)).items[0]
      assert.equal(second.amount, 128000050, 'sent as integer fen')

      // -- lost to a competitor typed as a new name, with the reason
      await page.getByTestId('opp-lose').click()
      const lose = page.getByTestId('close-dialog-lost')
      await page.getByTestId('close-submit').click()
      await seeText(lose, '请选择输给了哪个竞争对手')
      await lose.getByTestId('close-lost-to').click()
      await page.keyboard.type(LOST_TO)
      await page.keyboard.press('Enter')
      await page.getByTestId('close-reason').fill(LOST_REASON)
      await page.getByTestId('close-submit').click()
      await seeText(page.getByTestId('opp-lost-banner'), `已输单给「${LOST_TO}」：${LOST_REASON}`)
      await shot(page, 'pipeline-lost')
      const lost = await stageOf(page, second.id)
      assert.equal(lost.status, 'lost')
      assert.equal(lost.lost_to_name, LOST_TO)

      // -- the list: won and lost deals with the totals of what matches
      await page.getByTestId('nav-pipeline-list').click()
      await page.getByTestId('pipeline-list').waitFor()
      await page.getByTestId('list-search').fill('云帆')
      await page.getByTestId('list-status').click()
      await pickOption(page, '已赢单')
      await seeText(page.getByTestId('list-table'), DEAL)
      await seeText(page.getByTestId('list-totals'), '匹配 1 个商机')
      await seeText(page.getByTestId('list-total-amount'), '¥1,860,000.00')
      await shot(page, 'pipeline-list')

      // -- the forecast: open deals weighted by probability per month
      await page.getByTestId('pipeline-view-forecast').click()
      await page.getByTestId('pipeline-forecast').waitFor()
      await page.getByTestId('forecast-chart').locator('canvas').waitFor()
      await seeText(page.getByTestId('forecast-table'), '刘洋')
      await seeText(page.getByTestId('forecast-table'), '合计')
      await shot(page, 'pipeline-forecast')
    })

    // -- the administrator's stage configuration
    await journey(async (page) => {
      await signIn(page, { username: ADMIN.username, password: ADMIN.password })
      await page.getByTestId('nav-admin').click()
      await page.getByTestId('nav-pipelines').click()
      await page.getByTestId('pipeline-admin').waitFor()
      await seeText(page.getByTestId('stages-table'), '至少 1 条市场调研记录')
      await shot(page, 'pipeline-admin')
      await page.getByTestId('stage-edit-签约').click()
      const dlg = page.getByTestId('stage-dialog')
      await seeText(dlg, '至少 1 条谈判记录')
      await shot(page, 'pipeline-admin-stage')
      await dlg.getByRole('button', { name: '取消' }).click()
    })
  })
}

/** YYYY-MM-DD of a day `months` months from now (day clamped to 28). */
function nextMonthDay(months, day) {
  const d = new Date()
  const t = new Date(d.getFullYear(), d.getMonth() + months, Math.min(day, 28))
  const p = (n) => String(n).padStart(2, '0')
  return `${t.getFullYear()}-${p(t.getMonth() + 1)}-${p(t.getDate())}`
}
