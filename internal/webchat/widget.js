/*! Prelude web chat widget (served by your Prelude server as /widget.js)
 *
 * <script src="https://prelude.example.com/widget.js" data-site="KEY" async></script>
 *
 * Plain ES2019, no dependencies. It talks only to the Prelude server it was
 * loaded from, draws itself inside a Shadow DOM (the page's styles do not
 * reach it, its styles do not leak out) and never turns text into HTML:
 * every text is set with textContent. The visitor's token lives in
 * localStorage (per site), so a reload keeps the conversation; messages not
 * yet acknowledged wait in an outbox there too and are sent again with the
 * same client_id, which the server stores once.
 */
(function () {
  'use strict'

  var script = document.currentScript || document.querySelector('script[data-site][src*="widget.js"]')
  if (!script) return
  var siteKey = script.getAttribute('data-site') || ''
  var registry = (window.__preludeChat = window.__preludeChat || {})
  if (!siteKey || registry[siteKey]) return
  registry[siteKey] = true

  var base = new URL(script.src, location.href).origin
  var api = base + '/api/v1/public/chat/sites/' + encodeURIComponent(siteKey)

  function pickLang() {
    var l = script.getAttribute('data-lang') || document.documentElement.getAttribute('lang') || navigator.language || ''
    return /^en\b/i.test(l) ? 'en' : 'zh-CN'
  }
  var lang = pickLang()
  var T = {
    'zh-CN': {
      open: '在线咨询',
      close: '关闭',
      title: '在线咨询',
      placeholder: '请输入您的问题，Enter 发送，Shift+Enter 换行',
      send: '发送',
      name: '您的称呼（选填）',
      phone: '手机号（选填）',
      sending: '发送中…',
      failed: '发送失败，正在重试…',
      tooFast: '发送太频繁，请稍后再试',
      tooLong: '消息太长，最多 {n} 个字',
      ended: '本次咨询已结束。如还有问题，可以继续留言。',
      restart: '对话已过期，已为您开始新的对话。',
      you: '我',
      agent: '客服',
      offline: '离线留言',
      unread: '条新消息',
      typing: '客服正在输入…',
    },
    en: {
      open: 'Chat with us',
      close: 'Close',
      title: 'Chat with us',
      placeholder: 'Type your question. Enter sends, Shift+Enter adds a line',
      send: 'Send',
      name: 'Your name (optional)',
      phone: 'Mobile number (optional)',
      sending: 'Sending…',
      failed: 'Not sent; retrying…',
      tooFast: 'Too many messages; please wait a moment',
      tooLong: 'Too long: at most {n} characters',
      ended: 'This conversation has ended. You can still write to us.',
      restart: 'The conversation expired; a new one has started.',
      you: 'You',
      agent: 'Agent',
      offline: 'Leave a message',
      unread: 'new messages',
      typing: 'An agent is typing…',
    },
  }[lang]

  // ---- storage (localStorage when allowed, memory otherwise) ----

  var storeKey = 'prelude.chat.' + siteKey
  var memory = {}
  function load() {
    try {
      var raw = window.localStorage.getItem(storeKey)
      return raw ? JSON.parse(raw) || {} : {}
    } catch (e) {
      return memory
    }
  }
  function save() {
    try {
      window.localStorage.setItem(storeKey, JSON.stringify(state))
    } catch (e) {
      memory = state
    }
  }
  var state = load()
  if (!Array.isArray(state.outbox)) state.outbox = []
  if (state.expires && Date.parse(state.expires) < Date.now()) {
    state.token = ''
  }

  function uuid() {
    var b = new Uint8Array(16)
    ;(window.crypto || window.msCrypto).getRandomValues(b)
    b[6] = (b[6] & 0x0f) | 0x40
    b[8] = (b[8] & 0x3f) | 0x80
    var h = ''
    for (var i = 0; i < 16; i++) h += (b[i] + 0x100).toString(16).slice(1)
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20)
  }

  // ---- HTTP ----

  function call(method, path, body) {
    var headers = { Accept: 'application/json', 'Accept-Language': lang }
    if (body !== undefined) headers['Content-Type'] = 'application/json'
    // Only the conversation's calls carry the token (the site's info stays
    // a simple request, without a CORS preflight).
    if (state.token && (path.indexOf('/messages') === 0 || path === '/typing')) headers['X-Chat-Token'] = state.token
    return fetch(api + path, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit',
      mode: 'cors',
      cache: 'no-store',
    }).then(function (res) {
      return res.text().then(function (text) {
        var data = null
        try {
          data = text ? JSON.parse(text) : null
        } catch (e) {
          data = null
        }
        return { status: res.status, data: data, retryAfter: Number(res.headers.get('Retry-After')) || 0 }
      })
    })
  }

  function errorText(r) {
    var e = r && r.data && r.data.error
    if (!e) return T.failed
    var fields = e.fields || {}
    var keys = Object.keys(fields)
    return keys.length ? fields[keys[0]] : e.message || T.failed
  }

  // ---- DOM helpers (text only) ----

  function el(tag, cls, text) {
    var n = document.createElement(tag)
    if (cls) n.className = cls
    if (text !== undefined) n.textContent = text
    return n
  }
  function svg(d) {
    var ns = 'http://www.w3.org/2000/svg'
    var s = document.createElementNS(ns, 'svg')
    s.setAttribute('viewBox', '0 0 24 24')
    s.setAttribute('aria-hidden', 'true')
    var p = document.createElementNS(ns, 'path')
    p.setAttribute('d', d)
    s.appendChild(p)
    return s
  }
  // Links in a message become <a> elements built from text (http/https
  // only); nothing is ever parsed as HTML.
  var urlRE = /https?:\/\/[^\s<>"'\u3000-\u303f\uff01-\uff60]+/g
  function fillText(node, text) {
    var last = 0
    var m
    urlRE.lastIndex = 0
    while ((m = urlRE.exec(text))) {
      var url = m[0].replace(/[.,;:!?)\]]+$/, '')
      if (m.index > last) node.appendChild(document.createTextNode(text.slice(last, m.index)))
      var a = el('a', '', url)
      a.href = url
      a.target = '_blank'
      a.rel = 'noopener noreferrer nofollow'
      node.appendChild(a)
      last = m.index + url.length
      urlRE.lastIndex = last
    }
    if (last < text.length) node.appendChild(document.createTextNode(text.slice(last)))
  }
  function hhmm(iso) {
    var d = iso ? new Date(iso) : new Date()
    if (isNaN(d.getTime())) return ''
    return ('0' + d.getHours()).slice(-2) + ':' + ('0' + d.getMinutes()).slice(-2)
  }

  var CSS =
    ':host{all:initial}' +
    '*{box-sizing:border-box;font-family:-apple-system,BlinkMacSystemFont,"PingFang SC","Microsoft YaHei","Noto Sans CJK SC","Helvetica Neue",Arial,sans-serif}' +
    '.launcher{position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;background:#409eff;color:#fff;' +
    'box-shadow:0 4px 14px rgba(0,0,0,.2);cursor:pointer;z-index:2147483000;display:flex;align-items:center;justify-content:center}' +
    '.launcher:hover{background:#337ecc}.launcher:focus-visible{outline:3px solid #a0cfff;outline-offset:2px}' +
    '.launcher svg{width:28px;height:28px;fill:currentColor}' +
    '.badge{position:absolute;top:-2px;right:-2px;min-width:20px;height:20px;padding:0 6px;border-radius:10px;background:#f56c6c;color:#fff;' +
    'font-size:12px;line-height:20px;text-align:center}' +
    '.panel{position:fixed;right:20px;bottom:88px;width:360px;height:520px;max-height:calc(100vh - 110px);background:#fff;color:#303133;' +
    'border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.22);display:flex;flex-direction:column;overflow:hidden;z-index:2147483000;font-size:14px}' +
    '.panel[hidden]{display:none}' +
    '.head{display:flex;align-items:center;gap:8px;padding:12px 14px;background:#409eff;color:#fff}' +
    '.head .t{flex:1;font-size:15px;font-weight:600;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}' +
    '.head .dot{width:8px;height:8px;border-radius:50%;background:#95d475}.head .dot.off{background:#c8c9cc}' +
    '.x{border:0;background:transparent;color:#fff;font-size:22px;line-height:1;cursor:pointer;padding:0 4px}' +
    '.log{flex:1;overflow-y:auto;padding:12px;background:#f5f7fa;display:flex;flex-direction:column;gap:8px}' +
    '.note{align-self:center;max-width:92%;font-size:12px;color:#909399;text-align:center;white-space:pre-wrap}' +
    '.msg{max-width:82%;display:flex;flex-direction:column;gap:2px}' +
    '.msg .b{padding:8px 11px;border-radius:10px;white-space:pre-wrap;word-break:break-word;line-height:1.5}' +
    '.msg .m{font-size:11px;color:#a8abb2}' +
    '.msg.agent{align-self:flex-start}.msg.agent .b{background:#fff;border:1px solid #e4e7ed}' +
    '.msg.visitor{align-self:flex-end;align-items:flex-end}.msg.visitor .b{background:#409eff;color:#fff}' +
    '.msg.visitor .b a{color:#fff}.msg.pending .b{opacity:.65}.msg.failed .b{background:#fef0f0;color:#c45656;border:1px solid #fab6b6}' +
    '.pre{display:flex;gap:6px;padding:8px 12px 0}.pre[hidden]{display:none}' +
    '.pre input{flex:1;min-width:0;padding:6px 8px;border:1px solid #dcdfe6;border-radius:6px;font-size:13px;color:#303133}' +
    '.form{display:flex;gap:8px;padding:10px 12px;border-top:1px solid #ebeef5;align-items:flex-end}' +
    'textarea{flex:1;resize:none;height:60px;padding:8px;border:1px solid #dcdfe6;border-radius:6px;font-size:14px;line-height:1.4;color:#303133}' +
    'textarea:focus,.pre input:focus{outline:none;border-color:#409eff}' +
    '.send{border:0;border-radius:6px;background:#409eff;color:#fff;padding:8px 14px;font-size:14px;cursor:pointer}' +
    '.send:disabled{background:#a0cfff;cursor:default}' +
    '.typing{padding:0 12px 4px;color:#909399;font-size:12px}.typing[hidden]{display:none}' +
    '.err{padding:0 12px 8px;color:#f56c6c;font-size:12px;min-height:0}.err:empty{display:none}' +
    '@media (max-width:480px){.panel{right:0;bottom:0;width:100vw;height:100vh;max-height:none;border-radius:0}}'

  // ---- the widget ----

  var site = null
  var ui = {}
  var shown = {} // message id -> element
  var pendingEls = {} // client_id -> element
  var unread = 0
  var es = null
  var lastId = state.last || ''
  var flushing = false
  var retryTimer = null
  var closedNote = null

  function build() {
    var host = document.createElement('div')
    host.setAttribute('data-prelude-chat', siteKey)
    var root = host.attachShadow({ mode: 'open' })
    root.appendChild(el('style', '', CSS))

    var launcher = el('button', 'launcher')
    launcher.type = 'button'
    launcher.setAttribute('aria-label', T.open)
    launcher.setAttribute('aria-expanded', 'false')
    launcher.setAttribute('data-testid', 'prelude-chat-launcher')
    launcher.appendChild(svg('M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z'))
    var badge = el('span', 'badge')
    badge.hidden = true
    badge.setAttribute('data-testid', 'prelude-chat-unread')
    launcher.appendChild(badge)

    var panel = el('div', 'panel')
    panel.hidden = true
    panel.setAttribute('role', 'dialog')
    panel.setAttribute('aria-label', site.name || T.title)
    panel.setAttribute('data-testid', 'prelude-chat-panel')
    var head = el('div', 'head')
    var dot = el('span', 'dot' + (site.online ? '' : ' off'))
    head.appendChild(dot)
    head.appendChild(el('span', 't', site.name || T.title))
    var x = el('button', 'x', '×')
    x.type = 'button'
    x.setAttribute('aria-label', T.close)
    head.appendChild(x)
    panel.appendChild(head)

    var log = el('div', 'log')
    log.setAttribute('role', 'log')
    log.setAttribute('aria-live', 'polite')
    log.setAttribute('data-testid', 'prelude-chat-log')
    log.appendChild(el('div', 'note', site.greeting))
    if (!site.online && site.offline_message) {
      var off = el('div', 'note', site.offline_message)
      off.setAttribute('data-testid', 'prelude-chat-offline')
      log.appendChild(off)
    }
    panel.appendChild(log)
    var typing = el('div', 'typing', T.typing)
    typing.hidden = true
    typing.setAttribute('aria-live', 'polite')
    typing.setAttribute('data-testid', 'prelude-chat-typing')
    panel.appendChild(typing)

    var pre = el('div', 'pre')
    var name = el('input')
    name.placeholder = T.name
    name.setAttribute('aria-label', T.name)
    name.maxLength = 64
    name.autocomplete = 'name'
    name.value = state.name || ''
    name.setAttribute('data-testid', 'prelude-chat-name')
    var phone = el('input')
    phone.placeholder = T.phone
    phone.setAttribute('aria-label', T.phone)
    phone.type = 'tel'
    phone.maxLength = 20
    phone.autocomplete = 'tel'
    phone.value = state.phone || ''
    phone.setAttribute('data-testid', 'prelude-chat-phone')
    if (site.ask_name) pre.appendChild(name)
    if (site.ask_phone) pre.appendChild(phone)
    panel.appendChild(pre)

    var form = el('form', 'form')
    var input = el('textarea')
    input.placeholder = T.placeholder
    input.setAttribute('aria-label', T.placeholder)
    input.maxLength = site.max_length || 2000
    input.setAttribute('data-testid', 'prelude-chat-input')
    var send = el('button', 'send', T.send)
    send.type = 'submit'
    send.setAttribute('data-testid', 'prelude-chat-send')
    form.appendChild(input)
    form.appendChild(send)
    panel.appendChild(form)
    var err = el('div', 'err')
    err.setAttribute('role', 'alert')
    err.setAttribute('data-testid', 'prelude-chat-error')
    panel.appendChild(err)

    root.appendChild(panel)
    root.appendChild(launcher)
    document.body.appendChild(host)

    ui = { host: host, launcher: launcher, badge: badge, panel: panel, log: log, typing: typing, pre: pre, name: name, phone: phone, input: input, send: send, err: err }
    updatePre()

    launcher.addEventListener('click', function () {
      setOpen(panel.hidden)
    })
    x.addEventListener('click', function () {
      setOpen(false)
      launcher.focus()
    })
    panel.addEventListener('keydown', function (e) {
      if (e.key === 'Escape') {
        setOpen(false)
        launcher.focus()
      }
    })
    input.addEventListener('input', announceTyping)
    input.addEventListener('keydown', function (e) {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault()
        submit()
      }
    })
    form.addEventListener('submit', function (e) {
      e.preventDefault()
      submit()
    })
  }

  // ---- typing indicators: ours to the agents (at most every 3 s, once a
  // conversation exists), theirs shown for 6 s after their last signal ----

  var typingSentAt = 0
  var typingTimer = null
  function announceTyping() {
    var now = Date.now()
    if (!state.token || !ui.input.value.trim() || now - typingSentAt < 3000) return
    typingSentAt = now
    call('POST', '/typing', {}).catch(function () {})
  }
  function showTyping(on) {
    clearTimeout(typingTimer)
    ui.typing.hidden = !on
    if (on) {
      typingTimer = setTimeout(function () {
        ui.typing.hidden = true
      }, 6000)
      scrollDown()
    }
  }

  function updatePre() {
    // The optional fields belong to the start of a conversation.
    ui.pre.hidden = !!state.token || (!site.ask_name && !site.ask_phone)
  }

  function setOpen(open) {
    ui.panel.hidden = !open
    ui.launcher.setAttribute('aria-expanded', open ? 'true' : 'false')
    if (open) {
      unread = 0
      ui.badge.hidden = true
      ui.input.focus()
      scrollDown()
    }
  }

  function scrollDown() {
    ui.log.scrollTop = ui.log.scrollHeight
  }

  function showError(text) {
    ui.err.textContent = text || ''
  }

  function bubble(from, body, meta) {
    var wrap = el('div', 'msg ' + from)
    wrap.setAttribute('data-from', from)
    var b = el('div', 'b')
    fillText(b, body)
    wrap.appendChild(b)
    wrap.appendChild(el('div', 'm', meta))
    return wrap
  }

  function metaOf(m) {
    var who = m.from === 'visitor' ? T.you : m.author_name || T.agent
    return who + ' · ' + hhmm(m.created_at)
  }

  function addMessage(m, live) {
    if (!m || !m.id || shown[m.id]) return
    var node = bubble(m.from === 'visitor' ? 'visitor' : 'agent', m.body || '', metaOf(m))
    node.setAttribute('data-id', m.id)
    node.setAttribute('data-testid', 'prelude-chat-message')
    shown[m.id] = node
    // Keep pending bubbles last.
    var firstPending = ui.log.querySelector('.msg.pending, .msg.failed')
    ui.log.insertBefore(node, firstPending)
    if (m.id > lastId || !lastId) {
      lastId = m.id
      state.last = lastId
      save()
    }
    if (live && m.from !== 'visitor' && ui.panel.hidden) {
      unread++
      ui.badge.textContent = String(unread)
      ui.badge.hidden = false
      ui.badge.setAttribute('aria-label', unread + ' ' + T.unread)
    }
    scrollDown()
  }

  function pendingBubble(item) {
    var node = bubble('visitor pending', item.body, T.you + ' · ' + T.sending)
    node.setAttribute('data-testid', 'prelude-chat-pending')
    pendingEls[item.client_id] = node
    ui.log.appendChild(node)
    scrollDown()
  }

  function settle(item, m) {
    var node = pendingEls[item.client_id]
    delete pendingEls[item.client_id]
    if (node && node.parentNode) node.parentNode.removeChild(node)
    addMessage(m, false)
  }

  function markPending(text) {
    for (var id in pendingEls) {
      var node = pendingEls[id]
      node.className = 'msg visitor failed'
      node.lastChild.textContent = T.you + ' · ' + text
    }
  }

  function submit() {
    var body = ui.input.value.trim()
    if (!body) return
    var max = site.max_length || 2000
    if (Array.from(body).length > max) {
      showError(T.tooLong.replace('{n}', max))
      return
    }
    showError('')
    var item = { client_id: uuid(), body: body }
    if (!state.token) {
      state.name = ui.name.value.trim()
      state.phone = ui.phone.value.trim()
    }
    state.outbox.push(item)
    save()
    ui.input.value = ''
    pendingBubble(item)
    flush()
  }

  // flush sends the outbox in order, one at a time; what the server has
  // not acknowledged stays in it.
  function flush() {
    if (flushing || !state.outbox.length) return
    flushing = true
    clearTimeout(retryTimer)
    var item = state.outbox[0]
    var req = state.token
      ? call('POST', '/messages', { body: item.body, client_id: item.client_id })
      : call('POST', '/conversations', { body: item.body, client_id: item.client_id, name: state.name || '', phone: state.phone || '' })
    req
      .then(function (r) {
        flushing = false
        if (r.status === 200 || r.status === 201) {
          state.outbox.shift()
          if (r.data && r.data.token) {
            state.token = r.data.token
            state.expires = r.data.expires_at
            updatePre()
            settle(item, r.data.message)
            save()
            openStream()
          } else {
            save()
            settle(item, r.data)
          }
          item.tries = 0
          return flush()
        }
        if (r.status === 401) {
          // Expired or unknown: the message starts a new conversation.
          resetConversation(true)
          return flush()
        }
        if (r.status === 422 || r.status === 400 || r.status === 413 || r.status === 403 || r.status === 404) {
          // Refused for good: give the text back to the visitor.
          state.outbox.shift()
          save()
          var node = pendingEls[item.client_id]
          delete pendingEls[item.client_id]
          if (node && node.parentNode) node.parentNode.removeChild(node)
          if (!ui.input.value) ui.input.value = item.body
          showError(errorText(r))
          return flush()
        }
        retry(r.status === 429 ? T.tooFast : T.failed, r.retryAfter)
      })
      .catch(function () {
        flushing = false
        retry(T.failed, 0)
      })
  }

  var backoff = 2
  function retry(text, after) {
    markPending(text)
    var wait = Math.max(after || 0, backoff)
    backoff = Math.min(backoff * 2, 30)
    clearTimeout(retryTimer)
    retryTimer = setTimeout(function () {
      for (var id in pendingEls) {
        pendingEls[id].className = 'msg visitor pending'
        pendingEls[id].lastChild.textContent = T.you + ' · ' + T.sending
      }
      flush()
    }, wait * 1000)
  }

  function resetConversation(notify) {
    closeStream()
    state.token = ''
    state.expires = ''
    state.last = ''
    lastId = ''
    save()
    updatePre()
    if (notify) ui.log.appendChild(el('div', 'note', T.restart))
  }

  function loadMessages(after) {
    return call('GET', '/messages?limit=200' + (after ? '&after=' + encodeURIComponent(after) : '')).then(function (r) {
      if (r.status === 401) {
        resetConversation(false)
        return false
      }
      if (r.status !== 200 || !r.data) return true
      var items = r.data.items || []
      for (var i = 0; i < items.length; i++) addMessage(items[i], false)
      if (r.data.next_cursor) return loadMessages(r.data.next_cursor)
      return true
    })
  }

  function closeStream() {
    if (es) {
      es.close()
      es = null
    }
  }

  function openStream() {
    closeStream()
    if (!state.token || typeof EventSource === 'undefined') return
    var url = api + '/stream?token=' + encodeURIComponent(state.token) + (lastId ? '&after=' + encodeURIComponent(lastId) : '')
    var source = new EventSource(url)
    es = source
    source.addEventListener('typing', function () {
      showTyping(true)
    })
    source.addEventListener('message', function (e) {
      try {
        var m = JSON.parse(e.data)
        if (m && m.from !== 'visitor') showTyping(false)
        addMessage(m, true)
      } catch (err) {
        /* not a message */
      }
    })
    source.addEventListener('status', function (e) {
      var st = {}
      try {
        st = JSON.parse(e.data)
      } catch (err) {
        st = {}
      }
      if (st.closed && !closedNote) {
        closedNote = el('div', 'note', T.ended)
        closedNote.setAttribute('data-testid', 'prelude-chat-ended')
        ui.log.appendChild(closedNote)
        scrollDown()
      } else if (!st.closed && closedNote) {
        closedNote.parentNode.removeChild(closedNote)
        closedNote = null
      }
    })
    source.addEventListener('error', function () {
      if (source.readyState !== 2 || es !== source) return // the browser reconnects by itself
      // Refused (an HTTP error): find out why before trying again.
      setTimeout(function () {
        if (es !== source) return
        loadMessages(lastId).then(function (ok) {
          if (ok && es === source) openStream()
        })
      }, 3000)
    })
  }

  function start() {
    call('GET', '')
      .then(function (r) {
        if (r.status !== 200 || !r.data) {
          if (window.console) console.warn('Prelude chat: site ' + siteKey + ' is not available here (' + r.status + ')')
          return
        }
        site = r.data
        build()
        for (var i = 0; i < state.outbox.length; i++) pendingBubble(state.outbox[i])
        var ready = state.token ? loadMessages('') : Promise.resolve(true)
        ready.then(function () {
          if (state.token) openStream()
          flush()
        })
      })
      .catch(function () {
        /* the server is unreachable: stay out of the page */
      })
  }

  window.addEventListener('online', function () {
    backoff = 2
    flush()
  })
  if (document.body) start()
  else document.addEventListener('DOMContentLoaded', start)
})()
