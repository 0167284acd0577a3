// Web chat (在线咨询) in the browser: the administrator allows the company
// website (a tiny static server on another 127.0.0.1 port: another origin)
// to embed the widget; a visitor on that website asks a question; the agent
// answers through the API (the inbox screens are built elsewhere); the
// visitor sees the answer live, a <script> message stays text, a reload
// keeps the conversation, and an English page gets the English widget.
// Registered by ../journeys.test.js before two-step verification is on.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import { it } from 'node:test'
import { BASE_URL, newPage, pickOption, poll, seeText, shot, signIn } from '../lib/prelude.js'

const SITE = '明湖软件官网'
const GREETING = '您好，欢迎咨询明湖软件！请问有什么可以帮您？'
const QUESTION = '你们的 CRM 支持私有化部署吗？大概多少钱？'
const ANSWER = '您好，支持私有化部署。标准版每年 9800 元，我把报价单发到您的手机。'
const EVIL = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'

/** The company website: a page that embeds the widget from Prelude, on its own origin. */
function startWebsite() {
  const state = { key: '' }
  const page = (lang, title, body) => `<!doctype html>
<html lang="${lang}">
<head><meta charset="utf-8"><title>${title}</title>
<style>body{font-family:sans-serif;margin:0;background:#f7f8fa;color:#222} header{background:#1d3557;color:#fff;padding:28px 48px}
main{padding:32px 48px;max-width:760px;line-height:1.7} h1{margin:0;font-size:28px} .card{background:#fff;border-radius:8px;padding:20px 24px;margin:16px 0;box-shadow:0 1px 3px rgba(0,0,0,.08)}</style>
</head>
<body><header><h1>${title}</h1></header><main>${body}</main>
<script src="${BASE_URL}/widget.js" data-site="${state.key}" async></script>
</body></html>`
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x')
    let html
    if (url.pathname === '/') {
      html = page('zh-CN', '明湖软件', '<div class="card"><h2>明湖 CRM</h2><p>面向中小企业的客户关系管理系统，支持公有云与私有化部署。</p></div><div class="card"><p>工作日 9:00–18:00 在线客服为您解答。</p></div>')
    } else if (url.pathname === '/en') {
      html = page('en', 'Minghu Software', '<div class="card"><h2>Minghu CRM</h2><p>Customer relationship management for growing companies.</p></div>')
    } else {
      res.writeHead(404).end()
      return
    }
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' })
    res.end(html)
  })
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      resolve({ origin: `http://127.0.0.1:${port}`, state, close: () => new Promise((r) => server.close(r)) })
    })
  })
}

async function api(page, method, path, body) {
  const res = await page.request.fetch(`/api/v1${path}`, {
    method,
    data: body === undefined ? undefined : body,
    headers: { 'Idempotency-Key': randomUUID(), 'Accept-Language': 'zh-CN' },
  })
  const text = await res.text()
  return { status: res.status(), body: text ? JSON.parse(text) : null }
}

/** The widget's elements (Playwright's locators pierce its open shadow root). */
const chat = (page) => ({
  launcher: page.getByTestId('prelude-chat-launcher'),
  panel: page.getByTestId('prelude-chat-panel'),
  log: page.getByTestId('prelude-chat-log'),
  input: page.getByTestId('prelude-chat-input'),
  send: page.getByTestId('prelude-chat-send'),
  name: page.getByTestId('prelude-chat-name'),
  phone: page.getByTestId('prelude-chat-phone'),
  messages: page.getByTestId('prelude-chat-message'),
})

/** Registers the web chat journey; `journey` runs it in a fresh browser context. */
export function webchatJourneys(journey) {
  it('web chat: the admin allows the website, a visitor asks there, the agent’s answer arrives live; script stays text', async () => {
    const site = await startWebsite()
    try {
      await journey(async (page) => {
        // -- the administrator creates the chat site for the website's origin
        await signIn(page)
        await page.getByTestId('nav-chat-sites').waitFor({ state: 'attached' })
        await page.goto('/admin/chat-sites')
        await page.getByTestId('chat-sites-page').waitFor()
        await page.getByTestId('chat-site-create').click()
        const dialog = page.getByTestId('chat-site-dialog')
        await seeText(dialog, '新建在线咨询站点')
        await page.getByTestId('chat-site-form-name').fill(SITE)
        // a path is refused with the line named
        await page.getByTestId('chat-site-form-origins').fill(`${site.origin}/index.html`)
        await page.getByTestId('chat-site-form-submit').click()
        await seeText(dialog.locator('.el-form-item__error'), '第 1 行')
        await page.getByTestId('chat-site-form-origins').fill(site.origin)
        await dialog.getByTestId('chat-site-form-team').click()
        await pickOption(page, '华东销售部')
        await page.getByTestId('chat-site-form-greeting-zh').fill(GREETING)
        await page.getByTestId('chat-site-form-ask-phone').click()
        await page.getByTestId('chat-site-form-submit').click()
        await dialog.waitFor({ state: 'hidden' })
        const card = page.getByTestId(`chat-site-${SITE}`)
        await seeText(card, site.origin)
        await seeText(card, '华东销售部')
        const embed = (await page.getByTestId(`chat-site-embed-${SITE}`).innerText()).trim()
        const m = /^<script src="([^"]+)\/widget\.js" data-site="(cs_[A-Za-z0-9_-]{24})" async><\/script>$/.exec(embed)
        assert.ok(m, `embed code: ${embed}`)
        site.state.key = m[2]
        await shot(page, 'widget-admin')

        // -- a visitor on the website, a fresh browser (no cookies, no storage)
        const visitor = await newPage(page.context().browser())
        const v = visitor.page
        const dialogs = []
        v.on('dialog', (d) => {
          dialogs.push(d.message())
          d.dismiss()
        })
        try {
          await v.goto(`${site.origin}/`)
          const w = chat(v)
          await w.launcher.click()
          await w.panel.waitFor()
          await seeText(w.log, GREETING)
          await w.name.fill('李先生')
          await w.phone.fill('13700001234')
          await w.input.fill(QUESTION)
          await shot(v, 'widget-visitor')
          await w.send.click()
          await seeText(w.messages.last(), QUESTION)
          await poll(async () => (await v.getByTestId('prelude-chat-pending').count()) === 0, { what: 'the question acknowledged' })
          // the name and phone are asked only before the first message
          await w.name.waitFor({ state: 'hidden' })
          await v.evaluate(() => {
            window.__samePage = true
          })

          // -- the agent finds it in the inbox and answers (through the API)
          const inquiry = await poll(async () => {
            const r = await api(page, 'GET', '/inquiries?channel=web_chat')
            return r.status === 200 && r.body.items.find((i) => i.subject.startsWith('你们的 CRM'))
          }, { what: 'the web chat in the inbox' })
          assert.equal(inquiry.channel, 'web_chat')
          assert.equal(inquiry.customer_name, '李先生')
          // -- typing shows on both sides: the agent, with the conversation
          // open in the inbox, sees the customer typing; the visitor sees
          // the agent typing (neither is stored)
          await page.goto(`/inbox/${inquiry.id}?view=all`)
          await page.getByTestId('conv-messages').waitFor()
          await page.locator('[data-testid="inbox-live"][data-live="1"]').waitFor()
          await w.input.fill('还想问一下')
          await seeText(page.getByTestId('conv-typing'), '客户 正在输入…')
          await shot(page, 'inbox-customer-typing')
          await w.input.fill('')
          const typing = await api(page, 'POST', `/inquiries/${inquiry.id}/typing`)
          assert.equal(typing.status, 204)
          await v.getByTestId('prelude-chat-typing').waitFor({ state: 'visible' })
          assert.equal(await v.getByTestId('prelude-chat-typing').innerText(), '客服正在输入…')

          const note = await api(page, 'POST', `/inquiries/${inquiry.id}/messages`, { direction: 'note', body: '内部：预算待确认' })
          assert.equal(note.status, 201, JSON.stringify(note.body))
          const reply = await api(page, 'POST', `/inquiries/${inquiry.id}/messages`, { body: ANSWER })
          assert.equal(reply.status, 201, JSON.stringify(reply.body))

          // -- the visitor sees the answer without reloading; never the note
          await seeText(w.log, ANSWER)
          await v.getByTestId('prelude-chat-typing').waitFor({ state: 'hidden' })
          assert.equal(await v.evaluate(() => window.__samePage), true, 'the page was not reloaded')
          assert.ok(!(await w.log.innerText()).includes('预算待确认'), 'the internal note reached the visitor')
          await shot(v, 'widget-chat')

          // -- script and markup are shown as text
          await w.input.fill(EVIL)
          await w.send.click()
          await poll(async () => (await w.messages.last().innerText()).includes('<script>'), { what: 'the script message shown as text' })
          const injected = await v.evaluate(() => {
            const root = document.querySelector('[data-prelude-chat]').shadowRoot
            return { scripts: root.querySelectorAll('.log script, .log img').length, pwned: window.__pwned || 0 }
          })
          assert.deepEqual(injected, { scripts: 0, pwned: 0 })
          assert.deepEqual(dialogs, [])
          const stored = await api(page, 'GET', `/inquiries/${inquiry.id}/messages`)
          assert.equal(stored.body.items.at(-1).body, EVIL, 'stored verbatim for the agent')

          // -- a reload keeps the conversation (token in localStorage)
          await v.reload()
          await w.launcher.click()
          await seeText(w.log, ANSWER)
          await seeText(w.log, QUESTION)
          assert.equal(await w.messages.count(), 3)

          // -- and the next answer still arrives live
          const again = await api(page, 'POST', `/inquiries/${inquiry.id}/messages`, { body: '报价单已发送，请查收。' })
          assert.equal(again.status, 201)
          await seeText(w.log, '报价单已发送')
          assert.deepEqual(visitor.errors, [], 'errors in the website page')
        } finally {
          await visitor.context.close()
        }

        // -- an English page gets the English widget
        const en = await newPage(page.context().browser(), { locale: 'en-US' })
        try {
          await en.page.goto(`${site.origin}/en`)
          const w = chat(en.page)
          await w.launcher.click()
          await seeText(w.log, 'Hello! How can we help you?')
          assert.equal(await w.send.innerText(), 'Send')
          await shot(en.page, 'widget-en')
          assert.deepEqual(en.errors, [])
        } finally {
          await en.context.close()
        }
      })
    } finally {
      await site.close()
    }
  })
}
