import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import { createPinia, setActivePinia, type Pinia } from 'pinia'
import ChatSitesView from '@/views/admin/ChatSitesView.vue'
import { applyLocale, i18n } from '@/i18n'
import { useAuthStore } from '@/stores/auth'
import { resetClientConfig } from '@/api/client'
import { originErrors, parseOrigins, type ChatSite } from '@/api/webchat'
import { apiError, json, mockFetch, sampleMe, type Call } from './helpers'

async function settle() {
  for (let i = 0; i < 6; i++) {
    await flushPromises()
    await new Promise((r) => setTimeout(r, 0))
  }
}

const site: ChatSite = {
  id: 's1',
  name: '公司官网',
  site_key: 'cs_abcdefghijklmnopqrstuvwx',
  allowed_origins: ['https://www.example.cn'],
  enabled: true,
  department_id: 'd1',
  greeting_zh: '',
  greeting_en: '',
  offline_zh: '',
  offline_en: '',
  ask_name: true,
  ask_phone: true,
  embed_code: '<script src="https://prelude.example.com/widget.js" data-site="cs_abcdefghijklmnopqrstuvwx" async></script>',
  version: 3,
  created_at: '2026-03-01T08:00:00Z',
  updated_at: '2026-03-02T08:00:00Z',
}

describe('web chat helpers', () => {
  it('splits origins on lines, spaces and commas', () => {
    expect(parseOrigins(' https://a.example\nhttps://b.example, https://c.example\uff0chttps://d.example\n\n')).toEqual([
      'https://a.example',
      'https://b.example',
      'https://c.example',
      'https://d.example',
    ])
  })
  it('names the line of a bad origin', () => {
    expect(originErrors({ 'allowed_origins.1': 'bad', name: 'x' }, (n) => `L${n}:`)).toBe('L2:bad')
    expect(originErrors({ allowed_origins: 'none' }, (n) => `L${n}:`)).toBe('none')
  })
})

describe('ChatSitesView', () => {
  let wrapper: VueWrapper
  let pinia: Pinia
  let calls: Call[]
  let responder: (c: Call) => Response

  beforeEach(() => {
    localStorage.clear()
    applyLocale('zh-CN')
    pinia = createPinia()
    setActivePinia(pinia)
    responder = (c) => {
      if (c.url.startsWith('/api/v1/departments')) return json(200, { items: [{ id: 'd1', name: '在线客服组', parent_id: null, manager_id: null }], next_cursor: null, total: 1 })
      if (c.url === '/api/v1/chat-sites' && c.method === 'GET') return json(200, { items: [site], next_cursor: null, total: 1 })
      return json(404, {})
    }
    calls = mockFetch((c) => responder(c)).calls
    useAuthStore().me = { ...sampleMe, permissions: ['chat_sites.manage'] }
  })
  afterEach(() => {
    wrapper?.unmount()
    vi.unstubAllGlobals()
    resetClientConfig()
    document.body.innerHTML = ''
  })

  it('lists sites with origins, team and the embed code to copy', async () => {
    wrapper = mount(ChatSitesView, { global: { plugins: [pinia, i18n] }, attachTo: document.body })
    await settle()
    const card = wrapper.find('[data-testid="chat-site-公司官网"]')
    expect(card.text()).toContain('https://www.example.cn')
    expect(card.text()).toContain('在线客服组')
    expect(card.text()).toContain('已启用')
    expect(wrapper.find('[data-testid="chat-site-embed-公司官网"]').text()).toBe(site.embed_code)
  })

  it('shows the empty state', async () => {
    responder = (c) => (c.url === '/api/v1/chat-sites' ? json(200, { items: [], next_cursor: null, total: 0 }) : json(200, { items: [], next_cursor: null, total: 0 }))
    wrapper = mount(ChatSitesView, { global: { plugins: [pinia, i18n] }, attachTo: document.body })
    await settle()
    expect(wrapper.find('[data-testid="chat-sites-empty"]').exists()).toBe(true)
  })

  it('creates a site from one origin per line and shows the server’s error on the right line', async () => {
    let posted: unknown = null
    const base = responder
    responder = (c) => {
      if (c.url === '/api/v1/chat-sites' && c.method === 'POST') {
        posted = c.body
        return apiError(422, 'validation_failed', '输入有误', { 'allowed_origins.1': '须为 https://域名 的形式' })
      }
      return base(c)
    }
    wrapper = mount(ChatSitesView, { global: { plugins: [pinia, i18n] }, attachTo: document.body })
    await settle()
    await wrapper.find('[data-testid="chat-site-create"]').trigger('click')
    await settle()
    const dialog = document.querySelector('[data-testid="chat-site-dialog"]')!
    const name = dialog.querySelector('[data-testid="chat-site-form-name"] input, input[data-testid="chat-site-form-name"]') as HTMLInputElement
    name.value = '商城'
    name.dispatchEvent(new Event('input'))
    const origins = dialog.querySelector('textarea') as HTMLTextAreaElement
    origins.value = 'https://shop.example.cn\nshop.example.cn/path'
    origins.dispatchEvent(new Event('input'))
    await settle()
    ;(document.querySelector('[data-testid="chat-site-form-submit"]') as HTMLButtonElement).click()
    await settle()
    expect(posted).toMatchObject({ name: '商城', allowed_origins: ['https://shop.example.cn', 'shop.example.cn/path'], enabled: true, ask_name: true })
    expect(calls.find((c) => c.method === 'POST')?.headers['idempotency-key']).toBeTruthy()
    await vi.waitFor(() => expect(dialog.querySelector('.el-form-item__error')?.textContent).toBe('第 2 行：须为 https://域名 的形式'))
  })

  it('edits with If-Match and reloads on a 412', async () => {
    const base = responder
    let patched: Call | null = null
    responder = (c) => {
      if (c.method === 'PATCH') {
        patched = c
        return apiError(412, 'version_conflict', '已被他人修改')
      }
      return base(c)
    }
    wrapper = mount(ChatSitesView, { global: { plugins: [pinia, i18n] }, attachTo: document.body })
    await settle()
    await wrapper.find('[data-testid="chat-site-edit-公司官网"]').trigger('click')
    await settle()
    ;(document.querySelector('[data-testid="chat-site-form-submit"]') as HTMLButtonElement).click()
    await settle()
    expect(patched!.headers['if-match']).toBe('"3"')
    expect(patched!.body).toMatchObject({ allowed_origins: ['https://www.example.cn'], department_id: 'd1', ask_phone: true })
    expect(calls.filter((c) => c.url === '/api/v1/chat-sites' && c.method === 'GET').length).toBe(2)
  })
})
