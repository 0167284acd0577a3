// Follow-ups and promises (跟进/承诺) in the browser: a task and a promise on
// an account, "my day" with an overdue promise highlighted, completing a
// task, rescheduling by drag in the calendar (and a colleague's change in
// between reported, not overwritten), the live bell, promise stats,
// notification channels and the calendar feed. Registered by
// ../journeys.test.js before two-step verification is turned on.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { it } from 'node:test'
import { poll, seeText, shot, signIn } from '../lib/prelude.js'

const ACCOUNT = '杭州明湖软件有限公司'
/** Created through the API with a due time already past: "my day" must show it red. */
const LATE = {
  title: '发送三年维保报价',
  text: '周三前发送含三年维保的正式报价单',
  to: '王强',
}
const TASK = '电话确认部署环境'
const PROMISE = { title: '提供 POC 测试方案', text: '下周一前提供 POC 测试方案', to: '李丽' }

const ids = { account: '', late: '', task: '', promise: '' }

async function api(page, method, path, body, headers = {}) {
  const res = await page.request.fetch(`/api/v1${path}`, {
    method,
    data: body === undefined ? undefined : body,
    headers: { 'Idempotency-Key': randomUUID(), 'Accept-Language': 'zh-CN', ...headers },
  })
  const text = await res.text()
  return { status: res.status(), body: text ? JSON.parse(text) : null }
}

/** The unread count the bell shows ('' when the badge is hidden). */
// Read at once, without Playwright's waiting: the badge can vanish between
// a visibility check and reading its text (the count dropping to zero), and
// innerText would then wait out its whole timeout inside one poll.
async function bellCount(page) {
  const shown = await page
    .getByTestId('bell-count')
    .locator('sup')
    .evaluateAll((els) => els.filter((e) => e.offsetParent !== null && getComputedStyle(e).display !== 'none').map((e) => e.textContent || ''))
  return Number((shown[0] || '').trim()) || 0
}

const localDay = (iso) => {
  const d = new Date(iso)
  const p = (n) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`
}

/** Registers the follow-up journeys; `journey` runs one in a fresh browser context. */
export function followupJourneys(journey) {
  it('follow-ups: a task and a promise on an account; my day highlights the overdue promise; the bell counts live', async () => {
    await journey(async (page) => {
      await signIn(page)
      // the workspace has a "my day" glance
      await page.getByTestId('home-myday').waitFor()

      const acc = await api(page, 'POST', '/accounts', { name: ACCOUNT, kind: 'company', level: 'A' })
      assert.equal(acc.status, 201, JSON.stringify(acc.body))
      ids.account = acc.body.id

      // -- the bell before anything is due
      await page.getByTestId('bell').waitFor()
      const before = await bellCount(page)

      // -- a promise from a consultation whose time has already passed
      const due = new Date(Date.now() - 3 * 60 * 60 * 1000).toISOString()
      const late = await api(page, 'POST', '/tasks', {
        title: LATE.title,
        kind: 'send_material',
        due_at: due,
        account_id: ids.account,
        is_promise: true,
        promise_text: LATE.text,
        promised_to: LATE.to,
        source: 'consultation',
      })
      assert.equal(late.status, 201, JSON.stringify(late.body))
      ids.late = late.body.id

      // the reminder job notices it within seconds and the stream moves the bell, no reload
      await poll(async () => (await bellCount(page)) > before, { timeout: 20_000, what: 'the bell count to go up' })

      // -- on the account page: a task and a promise through the dialogs
      await page.goto(`/customers/${ids.account}?tab=tasks`)
      await page.getByTestId('tasks-panel').waitFor()
      await seeText(page.getByTestId('tasks-panel'), LATE.title)

      await page.getByTestId('tasks-new').click()
      let dialog = page.locator('.el-dialog').filter({ has: page.getByTestId('task-title') })
      await seeText(dialog, ACCOUNT)
      await page.getByTestId('task-title').fill(TASK)
      await page.getByTestId('task-save').click()
      await dialog.waitFor({ state: 'hidden' })
      await seeText(page.getByTestId('tasks-panel'), TASK)

      await page.getByTestId('tasks-new-promise').click()
      dialog = page.locator('.el-dialog').filter({ has: page.getByTestId('task-title') })
      await page.getByTestId('task-title').fill(PROMISE.title)
      // the promise text is required for a promise: the form says so
      await page.getByTestId('task-save').click()
      await seeText(dialog, '请输入承诺内容')
      await page.getByTestId('task-promise-text').fill(PROMISE.text)
      await page.getByTestId('task-promised-to').fill(PROMISE.to)
      await shot(page, 'followups-promise-dialog')
      await page.getByTestId('task-save').click()
      await dialog.waitFor({ state: 'hidden' })
      const panel = page.getByTestId('tasks-panel')
      await seeText(panel, PROMISE.text)
      await seeText(panel, PROMISE.to)
      await shot(page, 'followups-account-tasks')

      const list = await api(page, 'GET', `/tasks?account_id=${ids.account}&status=open`)
      ids.task = list.body.items.find((t) => t.title === TASK)?.id
      ids.promise = list.body.items.find((t) => t.title === PROMISE.title)?.id
      assert.ok(ids.task && ids.promise, 'both were saved')

      // -- my day: the overdue promise first, red, saying what was promised to whom
      await page.getByTestId('nav-myday').click()
      await page.getByTestId('myday-page').waitFor()
      const overdue = page.getByTestId('myday-overdue')
      const lateItem = overdue.getByTestId(`task-${ids.late}`)
      await seeText(lateItem.getByTestId('overdue-promise-label'), '已逾期承诺')
      await seeText(lateItem, LATE.text)
      await seeText(lateItem, LATE.to)
      await seeText(lateItem, /逾期 \d+ 小时/)
      assert.match(await lateItem.getAttribute('class'), /task--overdue-promise/)
      const red = await lateItem.evaluate((el) => getComputedStyle(el).borderLeftColor)
      assert.match(red, /rgb\(245, 108, 108\)/, 'the overdue promise has a red edge')
      assert.notEqual(await page.getByTestId('myday-count-overdue').innerText(), '0')
      await shot(page, 'followups-myday')

      // -- complete the plain task with a result note
      await page.getByTestId(`task-complete-${ids.task}`).click()
      dialog = page.locator('.el-dialog').filter({ has: page.getByTestId('complete-result') })
      await page.getByTestId('complete-result').fill('客户确认使用私有云部署，下周安排技术交流')
      await page.getByTestId('complete-save').click()
      await dialog.waitFor({ state: 'hidden' })
      await page.getByTestId(`task-${ids.task}`).waitFor({ state: 'detached' })
      assert.equal((await api(page, 'GET', `/tasks/${ids.task}`)).body.status, 'done')

      // -- the overdue promise met now counts as late, and needs evidence
      await page.getByTestId(`task-complete-${ids.late}`).click()
      dialog = page.locator('.el-dialog').filter({ has: page.getByTestId('complete-evidence') })
      await page.getByTestId('complete-save').click()
      await seeText(dialog, '请输入兑现依据')
      await page.getByTestId('complete-evidence').fill('已电话致歉并邮件发送报价单')
      await page.getByTestId('complete-save').click()
      await dialog.waitFor({ state: 'hidden' })
      await page.getByTestId(`task-${ids.late}`).waitFor({ state: 'detached' })
      assert.equal((await api(page, 'GET', `/tasks/${ids.late}`)).body.promise_state, 'late')

      // -- the bell: the notifications are listed with a link; read all clears the count
      await page.getByTestId('bell').click()
      const bellPanel = page.getByTestId('bell-panel')
      await seeText(bellPanel, LATE.title)
      await shot(page, 'followups-bell')
      await page.getByTestId('bell-read-all').click()
      await poll(async () => (await bellCount(page)) === 0, { what: 'the bell to clear' })
    })
  })

  it('follow-ups: drag a task to another day in the calendar; a colleague’s change in between is reported', async () => {
    await journey(async (page) => {
      await signIn(page)
      const before = (await api(page, 'GET', `/tasks/${ids.promise}`)).body
      const day = localDay(before.due_at)
      await page.goto(`/calendar?view=month&date=${day}`)
      await page.getByTestId('cal-month').waitFor()
      const chip = page.getByTestId(`cal-task-${ids.promise}`)
      await chip.waitFor()
      await seeText(page.getByTestId(`cal-day-${day}`), PROMISE.title)

      const next = new Date(before.due_at)
      next.setDate(next.getDate() + 1)
      const target = localDay(next.toISOString())
      await chip.dragTo(page.getByTestId(`cal-day-${target}`))
      await seeText(page.locator('.el-message'), '已改到新时间')
      await seeText(page.getByTestId(`cal-day-${target}`), PROMISE.title)
      const after = (await api(page, 'GET', `/tasks/${ids.promise}`)).body
      assert.equal(new Date(after.due_at).getTime() - new Date(before.due_at).getTime(), 24 * 60 * 60 * 1000, 'moved by one day, same time')
      assert.equal(after.version, before.version + 1)
      await shot(page, 'followups-calendar')

      // a colleague renames it meanwhile: the page still holds the old version
      const renamed = await api(page, 'PATCH', `/tasks/${ids.promise}`, { title: `${PROMISE.title}（已确认）` }, { 'If-Match': `"${after.version}"` })
      assert.equal(renamed.status, 200, JSON.stringify(renamed.body))
      await page.getByTestId(`cal-task-${ids.promise}`).dragTo(page.getByTestId(`cal-day-${day}`))
      await seeText(page.locator('.el-message'), '该任务刚被其他人修改过')
      // reloaded: the colleague's title, and the task stayed where it was
      await seeText(page.getByTestId(`cal-day-${target}`), '（已确认）')
      const kept = (await api(page, 'GET', `/tasks/${ids.promise}`)).body
      assert.equal(kept.due_at, after.due_at, 'no silent overwrite')

      await page.getByTestId('cal-view-week').click()
      await page.getByTestId('cal-week').waitFor()
    })
  })

  it('follow-ups: promise stats, notification channels and the calendar feed', async () => {
    await journey(async (page) => {
      await signIn(page)
      await page.goto('/promise-stats')
      await page.getByTestId('promise-stats-page').waitFor()
      const people = page.getByTestId('stats-people')
      await seeText(people, '系统管理员')
      await seeText(page.getByTestId('stats-total'), '逾期兑现 1')
      await shot(page, 'followups-stats')

      // -- a DingTalk robot whose address does not answer: the failure is visible
      await page.goto('/account?tab=notifications')
      await page.getByTestId('notifications-tab').waitFor()
      await page.getByTestId('channel-add').click()
      const dialog = page.locator('.el-dialog').filter({ has: page.getByTestId('channel-target') })
      await page.getByTestId('channel-kind-dingtalk').click()
      await page.getByTestId('channel-target').fill('not a url')
      await page.getByTestId('channel-secret').fill('SEC0123456789abcdef')
      await page.getByTestId('channel-save').click()
      await seeText(dialog, '网址')
      await page.getByTestId('channel-target').fill('http://127.0.0.1:9/robot/send?access_token=e2e')
      await page.getByTestId('channel-save').click()
      await dialog.waitFor({ state: 'hidden' })
      const table = page.getByTestId('channel-table')
      await seeText(table, '钉钉')
      await seeText(table, '已设置签名密钥')
      assert.ok(!(await table.innerText()).includes('SEC0123456789abcdef'), 'the secret is never shown')
      // only broken promises from now on: the secret stays although the form does not show it
      await page.getByTestId('channel-edit-dingtalk').click()
      assert.equal(await page.getByTestId('channel-secret').inputValue(), '', 'the secret is not sent back to the browser')
      await dialog.getByText('承诺未兑现').click()
      await page.getByTestId('channel-save').click()
      await dialog.waitFor({ state: 'hidden' })
      await seeText(table, '承诺未兑现')
      await seeText(table, '已设置签名密钥')
      await page.getByTestId('channel-test-dingtalk').click()
      await seeText(page.locator('.el-message'), '测试消息已排队')
      await poll(
        async () => {
          await page.getByTestId('deliveries-refresh').click()
          const text = await page.getByTestId('delivery-table').innerText()
          return text.includes('钉钉') && (text.includes('发送失败') || /connect|refused/i.test(text))
        },
        { timeout: 30_000, interval: 1_000, what: 'the failed delivery in the list' },
      )
      await shot(page, 'followups-notifications')

      // -- the personal calendar feed parses as iCalendar
      await page.goto('/account?tab=calendar')
      await page.getByTestId('feed-tab').waitFor()
      await page.getByTestId('feed-create').click()
      const url = await page.getByTestId('feed-url').inputValue()
      assert.match(url, /\/api\/v1\/public\/calendar\/.+\.ics$/)
      const ics = await page.request.get(new URL(url).pathname)
      assert.equal(ics.status(), 200)
      const body = await ics.text()
      assert.match(body, /^BEGIN:VCALENDAR/)
      assert.ok(body.includes('BEGIN:VEVENT'), 'open tasks are events')
      await shot(page, 'followups-feed')
    })
  })
}
