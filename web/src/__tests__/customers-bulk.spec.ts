import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount, type VueWrapper } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import BulkDialog from '@/views/customers/BulkDialog.vue'
import { applyLocale, i18n } from '@/i18n'
import { resetClientConfig } from '@/api/client'
import { resetCustomerMeta } from '@/composables/useCustomerMeta'
import { bulkPayload } from '@/utils/customers'
import { json, mockFetch, type Call } from './helpers'
import { byTestId, click, meta, settle, typeInto } from './customers-helpers'

describe('bulk payload', () => {
  it('assigns an owner with a reason', () => {
    expect(bulkPayload(['a1', 'a2', 'a1'], 'assign', { owner_id: 'u2', reason: '  区域调整 ', tags: ['x'] })).toEqual({
      account_ids: ['a1', 'a2'],
      owner_id: 'u2',
      reason: '区域调整',
    })
  })
  it('adds or removes tags, and nothing else', () => {
    expect(bulkPayload(['a1'], 'addTags', { owner_id: 'u2', tags: [' 重点 ', '重点', '', '华南'] })).toEqual({ account_ids: ['a1'], add_tags: ['重点', '华南'] })
    expect(bulkPayload(['a1', 'a2'], 'removeTags', { tags: ['旧'] })).toEqual({ account_ids: ['a1', 'a2'], remove_tags: ['旧'] })
  })
})

// Mounting the big Element Plus views in happy-dom takes seconds (more on a busy machine).
describe('BulkDialog', { timeout: 120_000 }, () => {
  let wrapper: VueWrapper
  let calls: Call[]

  beforeEach(() => {
    applyLocale('zh-CN')
    resetCustomerMeta()
    setActivePinia(createPinia())
    ;({ calls } = mockFetch((c) => {
      const m = meta(c)
      if (m) return m
      if (c.method === 'POST' && c.url === '/api/v1/accounts/bulk') return json(200, { updated: 2 })
      return json(404, {})
    }))
  })
  afterEach(() => {
    wrapper?.unmount()
    vi.unstubAllGlobals()
    resetClientConfig()
    document.body.innerHTML = ''
  })

  const bulks = () => calls.filter((c) => c.url === '/api/v1/accounts/bulk')

  it('sends the selected ids with the new owner and the reason, and reports the count', async () => {
    wrapper = mount(BulkDialog, { props: { action: 'assign', ids: ['a1', 'a2'], tags: [] }, global: { plugins: [i18n] }, attachTo: document.body })
    await settle()
    expect(byTestId('bulk-dialog')!.textContent).toContain('为 2 个客户分配负责人')
    // the reason is required
    await click('bulk-submit')
    expect(bulks()).toHaveLength(0)

    // choose 李四 in the owner select
    ;(byTestId('bulk-owner')!.closest('.el-select')!.querySelector('.el-select__wrapper') as HTMLElement).click()
    await settle()
    const option = [...document.querySelectorAll('.el-select-dropdown__item')].find((o) => o.textContent?.trim() === '李四') as HTMLElement
    option.click()
    await settle()
    await typeInto('bulk-reason', '区域调整')
    await click('bulk-submit')

    expect(bulks()).toHaveLength(1)
    expect(bulks()[0].body).toEqual({ account_ids: ['a1', 'a2'], owner_id: 'u2', reason: '区域调整' })
    expect(wrapper.emitted('done')?.[0]).toEqual([2])
  })

  it('adds tags to the selection', async () => {
    wrapper = mount(BulkDialog, { props: { action: 'addTags', ids: ['a1'], tags: [] }, global: { plugins: [i18n] }, attachTo: document.body })
    await settle()
    const input = byTestId('bulk-tags')!.querySelector('input') ?? (byTestId('bulk-tags') as HTMLInputElement)
    input.value = '重点客户'
    input.dispatchEvent(new Event('input', { bubbles: true }))
    input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', code: 'Enter', bubbles: true }))
    await settle()
    await click('bulk-submit')
    expect(bulks()[0].body).toEqual({ account_ids: ['a1'], add_tags: ['重点客户'] })
  })
})
