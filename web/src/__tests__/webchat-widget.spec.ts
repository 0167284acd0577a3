// The embeddable chat widget (internal/webchat/widget.js, served as
// /widget.js): plain ES2019 outside the Vue build, exercised here in
// happy-dom with a fake server and a fake EventSource.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

const SRC = readFileSync(join(__dirname, '..', '..', '..', 'internal', 'webchat', 'widget.js'), 'utf8')
const KEY = 'cs_abcdefghijklmnopqrstuvwx'
const BASE = 'https://prelude.example.com'
const API = `${BASE}/api/v1/public/chat/sites/${KEY}`

interface Req {
  method: string
  path: string
  headers: Record<string, string>
  body: Record<string, unknown> | null
  credentials?: string
}

class FakeEventSource {
  static last: FakeEventSource | null = null
  url: string
  readyState = 1
  listeners: Record<string, ((e: { data: string }) => void)[]> = {}
  constructor(url: string) {
    this.url = url
    FakeEventSource.last = this
  }
  addEventListener(type: string, fn: (e: { data: string }) => void) {
    ;(this.listeners[type] ||= []).push(fn)
  }
  emit(type: string, data: unknown) {
    for (const fn of this.listeners[type] || []) fn({ data: JSON.stringify(data) })
  }
  close() {
    this.readyState = 2
  }
}

let requests: Req[]
let handler: (r: Req) => { status: number; body?: unknown } | 'network'

function respond(status: number, body?: unknown) {
  return { status, body }
}

function install(lang = 'zh-CN') {
  document.documentElement.setAttribute('lang', lang)
  const script = document.createElement('script')
  script.setAttribute('src', `${BASE}/widget.js`)
  script.setAttribute('data-site', KEY)
  Object.defineProperty(document, 'currentScript', { configurable: true, get: () => script })
  new Function(SRC)()
  Object.defineProperty(document, 'currentScript', { configurable: true, get: () => null })
}

const root = () => document.querySelector('[data-prelude-chat]')?.shadowRoot as ShadowRoot
const q = (id: string) => root().querySelector(`[data-testid="${id}"]`) as HTMLElement
const texts = () => Array.from(root().querySelectorAll('[data-testid="prelude-chat-message"] .b')).map((n) => n.textContent)

async function settle() {
  for (let i = 0; i < 10; i++) await vi.advanceTimersByTimeAsync(0)
}

function type(text: string) {
  const input = q('prelude-chat-input') as HTMLTextAreaElement
  input.value = text
  ;(q('prelude-chat-send') as HTMLButtonElement).click()
}

const site = { name: '明湖软件官网', lang: 'zh-CN', greeting: '您好！', online: false, offline_message: '我们现在不在线', ask_name: true, ask_phone: true, max_length: 2000 }
let seq = 0
const msg = (from: string, body: string) => ({ id: `0190000${++seq}-0000-7000-8000-000000000000`, from, author_name: from === 'agent' ? '客服小王' : '李先生', body, created_at: '2026-03-02T08:00:00Z' })

describe('chat widget', () => {
  beforeEach(() => {
    vi.useFakeTimers()
    localStorage.clear()
    requests = []
    seq = 0
    delete (window as unknown as Record<string, unknown>).__preludeChat
    FakeEventSource.last = null
    vi.stubGlobal('EventSource', FakeEventSource)
    handler = (r) => {
      if (r.method === 'GET' && r.path === '') return respond(200, site)
      if (r.method === 'POST' && r.path === '/conversations') return respond(201, { token: 'pcv_' + 'a'.repeat(43), expires_at: '2099-01-01T00:00:00Z', message: msg('visitor', String(r.body?.body)) })
      if (r.method === 'POST' && r.path === '/messages') return respond(201, msg('visitor', String(r.body?.body)))
      if (r.method === 'GET' && r.path.startsWith('/messages')) return respond(200, { items: [], next_cursor: null, total: 0 })
      return respond(404, { error: { code: 'not_found', message: 'x' } })
    }
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string, init: RequestInit) => {
        const req: Req = {
          method: init.method || 'GET',
          path: url.slice(API.length),
          headers: init.headers as Record<string, string>,
          body: typeof init.body === 'string' ? JSON.parse(init.body) : null,
          credentials: init.credentials,
        }
        requests.push(req)
        const out = handler(req)
        if (out === 'network') throw new TypeError('Failed to fetch')
        return new Response(out.body === undefined ? null : JSON.stringify(out.body), { status: out.status, headers: { 'Retry-After': '1' } })
      }),
    )
  })
  afterEach(() => {
    vi.useRealTimers()
    vi.unstubAllGlobals()
    document.body.innerHTML = ''
  })

  it('draws itself in a shadow root in the page language and asks name and phone first', async () => {
    install()
    await settle()
    expect(requests[0]).toMatchObject({ method: 'GET', path: '', credentials: 'omit' })
    expect(requests[0].headers['Accept-Language']).toBe('zh-CN')
    expect(document.body.querySelector('.launcher')).toBeNull() // styles and parts stay inside
    expect(q('prelude-chat-panel').hidden).toBe(true)
    q('prelude-chat-launcher').click()
    expect(q('prelude-chat-panel').hidden).toBe(false)
    expect(q('prelude-chat-log').textContent).toContain('您好！')
    expect(q('prelude-chat-offline').textContent).toBe('我们现在不在线')
    expect((q('prelude-chat-send') as HTMLButtonElement).textContent).toBe('发送')
    expect(q('prelude-chat-name')).toBeTruthy()
  })

  it('speaks English on an English page', async () => {
    install('en')
    await settle()
    expect(requests[0].headers['Accept-Language']).toBe('en')
    expect(q('prelude-chat-send').textContent).toBe('Send')
  })

  it('starts a conversation, keeps the token per site, and shows answers live as text only', async () => {
    install()
    await settle()
    q('prelude-chat-launcher').click()
    ;(q('prelude-chat-name') as HTMLInputElement).value = '李先生'
    ;(q('prelude-chat-phone') as HTMLInputElement).value = '13700001234'
    type('支持私有化部署吗？')
    await settle()
    const start = requests.find((r) => r.path === '/conversations')!
    expect(start.body).toMatchObject({ body: '支持私有化部署吗？', name: '李先生', phone: '13700001234' })
    expect(String(start.body!.client_id)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    const saved = JSON.parse(localStorage.getItem(`prelude.chat.${KEY}`)!)
    expect(saved.token).toMatch(/^pcv_/)
    expect(saved.outbox).toEqual([])
    expect(FakeEventSource.last!.url).toContain(`${API}/stream?token=pcv_`)
    expect(texts()).toEqual(['支持私有化部署吗？'])

    // The agent's answer, with markup and a link: text nodes and one safe <a>.
    FakeEventSource.last!.emit('message', msg('agent', '<img src=x onerror=alert(1)> 资料见 https://example.com/doc.pdf。'))
    const bubble = root().querySelectorAll('[data-testid="prelude-chat-message"] .b')[1]
    expect(bubble.textContent).toBe('<img src=x onerror=alert(1)> 资料见 https://example.com/doc.pdf。')
    expect(bubble.querySelector('img')).toBeNull()
    const a = bubble.querySelector('a')!
    expect(a.getAttribute('href')).toBe('https://example.com/doc.pdf')
    expect(a.rel).toContain('noopener')
    // the same event twice (a reconnect) is shown once
    FakeEventSource.last!.emit('message', { ...msg('agent', 'x'), id: bubble.parentElement!.getAttribute('data-id') })
    expect(texts()).toHaveLength(2)
    // the conversation ends and says so
    FakeEventSource.last!.emit('status', { status: 'resolved', closed: true })
    expect(q('prelude-chat-ended')).toBeTruthy()
  })

  it('keeps an unacknowledged message and resends it with the same client_id', async () => {
    install()
    await settle()
    q('prelude-chat-launcher').click()
    let down = true
    const base = handler
    handler = (r) => (down && r.method === 'POST' ? 'network' : base(r))
    type('在吗？')
    await settle()
    const first = requests.filter((r) => r.method === 'POST')
    expect(first).toHaveLength(1)
    expect(q('prelude-chat-pending').className).toContain('failed')
    const saved = JSON.parse(localStorage.getItem(`prelude.chat.${KEY}`)!)
    expect(saved.outbox).toHaveLength(1)
    down = false
    await vi.advanceTimersByTimeAsync(2100)
    await settle()
    const posts = requests.filter((r) => r.method === 'POST')
    expect(posts).toHaveLength(2)
    expect(posts[1].body!.client_id).toBe(posts[0].body!.client_id)
    expect(JSON.parse(localStorage.getItem(`prelude.chat.${KEY}`)!).outbox).toEqual([])
    expect(texts()).toEqual(['在吗？'])
  })

  it('starts over when the token has expired, sending the message in a new conversation', async () => {
    localStorage.setItem(`prelude.chat.${KEY}`, JSON.stringify({ token: 'pcv_' + 'b'.repeat(43), outbox: [] }))
    const base = handler
    handler = (r) => (r.path.startsWith('/messages') && r.headers['X-Chat-Token'] === 'pcv_' + 'b'.repeat(43) ? respond(401, { error: { code: 'chat_token_expired', message: '对话已过期' } }) : base(r))
    install()
    await settle()
    expect(requests[0].headers['X-Chat-Token']).toBeUndefined() // the site info is a simple request
    q('prelude-chat-launcher').click()
    type('还在吗？')
    await settle()
    expect(requests.some((r) => r.path === '/conversations' && r.body!.body === '还在吗？')).toBe(true)
    expect(JSON.parse(localStorage.getItem(`prelude.chat.${KEY}`)!).token).toBe('pcv_' + 'a'.repeat(43))
  })

  it('gives a refused message back to the visitor with the server’s reason', async () => {
    install()
    await settle()
    q('prelude-chat-launcher').click()
    const base = handler
    handler = (r) => (r.path === '/conversations' ? respond(422, { error: { code: 'validation_failed', message: '输入有误', fields: { phone: '不是有效的手机号码' } } }) : base(r))
    ;(q('prelude-chat-phone') as HTMLInputElement).value = '123'
    type('我的问题')
    await settle()
    expect(q('prelude-chat-error').textContent).toBe('不是有效的手机号码')
    expect((q('prelude-chat-input') as HTMLTextAreaElement).value).toBe('我的问题')
    expect(root().querySelector('[data-testid="prelude-chat-pending"]')).toBeNull()
  })

  it('stays out of the page when the site is not available', async () => {
    handler = () => respond(404, { error: { code: 'not_found', message: 'x' } })
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    install()
    await settle()
    expect(document.querySelector('[data-prelude-chat]')).toBeNull()
    expect(warn).toHaveBeenCalled()
  })
})
