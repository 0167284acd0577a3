import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount, type VueWrapper } from '@vue/test-utils'
import { createPinia, setActivePinia, type Pinia } from 'pinia'
import AccountFormDialog from '@/views/customers/AccountFormDialog.vue'
import { applyLocale, i18n } from '@/i18n'
import { useAuthStore } from '@/stores/auth'
import { resetClientConfig } from '@/api/client'
import { resetCustomerMeta } from '@/composables/useCustomerMeta'
import { splitFieldErrors, duplicatesOf, isValidUSCC } from '@/utils/customers'
import { ApiError } from '@/api/client'
import { apiError, json, mockFetch, sampleMe, type Call } from './helpers'
import { account, byTestId, click, meta, settle, typeInto, until } from './customers-helpers'

const DUPLICATES = [
  { id: 'a9', name: '深圳腾云科技有限公司', owner_id: 'u2', reasons: ['name', 'mobile'], visible: true },
  { id: '', name: '深****司', owner_id: '', reasons: ['uscc'], visible: false },
]

// Mounting the big Element Plus views in happy-dom takes seconds (more on a busy machine).
describe('account form: duplicates and field errors', { timeout: 120_000 }, () => {
  let wrapper: VueWrapper
  let pinia: Pinia
  let calls: Call[]
  let createAnswers: Response[]

  beforeEach(() => {
    localStorage.clear()
    applyLocale('zh-CN')
    resetCustomerMeta()
    pinia = createPinia()
    setActivePinia(pinia)
    createAnswers = []
    ;({ calls } = mockFetch((c) => {
      const m = meta(c)
      if (m) return m
      if (c.method === 'POST' && c.url === '/api/v1/accounts/duplicates') return json(200, { items: [] })
      if (c.method === 'POST' && c.url === '/api/v1/accounts') return createAnswers.shift() ?? json(500, {})
      return json(404, {})
    }))
    useAuthStore().me = { ...sampleMe, id: 'u1', permissions: ['customers.read', 'customers.create'] } as never
  })
  afterEach(() => {
    wrapper?.unmount()
    vi.unstubAllGlobals()
    resetClientConfig()
    document.body.innerHTML = ''
  })

  async function open() {
    wrapper = mount(AccountFormDialog, { props: { modelValue: true, account: null }, global: { plugins: [pinia, i18n] }, attachTo: document.body })
    await settle()
  }
  const creates = () => calls.filter((c) => c.method === 'POST' && c.url === '/api/v1/accounts')

  it('shows the 409 duplicates, links the visible ones and resubmits with confirm_duplicates after confirming', async () => {
    createAnswers.push(
      json(409, { error: { code: 'duplicate_suspected', message: '可能与已有客户重复', details: { duplicates: DUPLICATES } } }),
      json(201, account({ id: 'a-new' })),
    )
    await open()
    await typeInto('account-form-name', '深圳腾云科技')
    await typeInto('contact-name-0', '王强')
    await typeInto('contact-mobile-0', '13812345678')
    await click('account-form-submit')

    expect(creates()).toHaveLength(1)
    expect(creates()[0].body).toMatchObject({ name: '深圳腾云科技', contacts: [{ name: '王强', mobile: '13812345678', is_primary: true }] })
    expect((creates()[0].body as Record<string, unknown>).confirm_duplicates).toBeUndefined()
    expect(creates()[0].headers['idempotency-key']).toBeTruthy()

    const box = byTestId('duplicates-confirm')!
    expect(box).not.toBeNull()
    expect(box.textContent).toContain('可能与 2 个已有客户重复')
    const link = box.querySelector('a')!
    expect(link.getAttribute('href')).toBe('/customers/a9')
    expect(link.textContent).toBe('深圳腾云科技有限公司')
    expect(box.textContent).toContain('名称相同或相近')
    expect(box.textContent).toContain('联系人手机号相同')
    // the one outside the user's scope: masked name, no link
    expect(box.querySelectorAll('a')).toHaveLength(1)
    expect(box.textContent).toContain('深****司')
    expect(box.textContent).toContain('不在您的数据范围内')
    expect(wrapper.emitted('saved')).toBeUndefined()

    await click('account-confirm-duplicates')
    expect(creates()).toHaveLength(2)
    expect(creates()[1].body).toMatchObject({ name: '深圳腾云科技', confirm_duplicates: true, contacts: [{ name: '王强' }] })
    expect(wrapper.emitted('saved')?.[0]).toEqual([expect.objectContaining({ id: 'a-new' }), true])
  })

  it('going back from the duplicates keeps the form and does not create anything', async () => {
    createAnswers.push(json(409, { error: { code: 'duplicate_suspected', message: 'x', details: { duplicates: DUPLICATES.slice(0, 1) } } }))
    await open()
    await typeInto('account-form-name', '深圳腾云科技')
    await click('account-form-submit')
    expect(byTestId('duplicates-confirm')).not.toBeNull()
    await click('account-back-to-edit')
    expect(byTestId('duplicates-confirm')).toBeNull()
    expect((byTestId<HTMLInputElement>('account-form-name') as HTMLInputElement).value).toBe('深圳腾云科技')
    expect(creates()).toHaveLength(1)
  })

  it('shows server field errors next to the right inputs, counting only the contact rows that were sent', async () => {
    createAnswers.push(
      apiError(422, 'validation_failed', '提交的内容有误，请检查标出的字段', {
        uscc: '不是有效的统一社会信用代码',
        'contacts.0.mobile': '不是有效的手机号码',
      }),
    )
    await open()
    await typeInto('account-form-name', '深圳腾云科技')
    // row 0 stays empty (not sent); row 1 is the server's contacts.0
    await click('contact-add')
    await typeInto('contact-name-1', '李丽')
    await typeInto('contact-mobile-1', '13800000000')
    await click('account-form-submit')

    const sent = creates()[0].body as { contacts: unknown[] }
    expect(sent.contacts).toHaveLength(1)
    const row1 = byTestId('contact-row-1')!
    const row0 = byTestId('contact-row-0')!
    // Element Plus renders field errors after its own async validation tick:
    // wait for it rather than assume the machine is fast.
    await vi.waitFor(() => expect(row1.querySelector('.el-form-item__error')?.textContent).toContain('不是有效的手机号码'))
    expect(row1.classList.contains('contact-row--error')).toBe(true)
    expect(row0.querySelector('.el-form-item__error')).toBeNull()
    const usccItem = byTestId('account-form-uscc')!.closest('.el-form-item')!
    await vi.waitFor(() => expect(usccItem.querySelector('.el-form-item__error')?.textContent).toContain('不是有效的统一社会信用代码'))
  })

  it('checks the USCC check character before sending', async () => {
    await open()
    await typeInto('account-form-name', '深圳腾云科技')
    await typeInto('account-form-uscc', '91440300MA5FXXXXX1')
    await click('account-form-submit')
    expect(creates()).toHaveLength(0)
    const usccItem = byTestId('account-form-uscc')!.closest('.el-form-item')!
    await until(() => usccItem.querySelector('.el-form-item__error'))
    expect(usccItem.querySelector('.el-form-item__error')?.textContent).toContain('校验位')
  })

  it('asks for likely duplicates when the name loses focus', async () => {
    await open()
    await typeInto('account-form-name', '腾云科技')
    byTestId<HTMLInputElement>('account-form-name')!.dispatchEvent(new FocusEvent('blur'))
    await settle()
    const dup = calls.filter((c) => c.url === '/api/v1/accounts/duplicates')
    expect(dup).toHaveLength(1)
    expect(dup[0].body).toMatchObject({ name: '腾云科技', mobiles: [], emails: [] })
  })
})

describe('customer helpers', () => {
  it('splits nested field errors by contact row', () => {
    expect(splitFieldErrors({ name: 'a', 'contacts.0.mobile': 'b', 'contacts.0.email': 'c', 'contacts.12.name': 'd' })).toEqual({
      account: { name: 'a' },
      contacts: { 0: { mobile: 'b', email: 'c' }, 12: { name: 'd' } },
    })
    expect(splitFieldErrors(undefined)).toEqual({ account: {}, contacts: {} })
  })

  it('reads the duplicates of a duplicate_suspected 409 only', () => {
    expect(duplicatesOf(new ApiError(409, 'duplicate_suspected', 'x', {}, { duplicates: DUPLICATES }))).toEqual(DUPLICATES)
    expect(duplicatesOf(new ApiError(409, 'duplicate_suspected', 'x'))).toEqual([])
    expect(duplicatesOf(new ApiError(409, 'same_owner', 'x'))).toBeNull()
    expect(duplicatesOf(new Error('x'))).toBeNull()
  })

  it('validates the Unified Social Credit Code like the server', () => {
    expect(isValidUSCC('')).toBe(true)
    expect(isValidUSCC('91350100M000100Y43')).toBe(true)
    expect(isValidUSCC('９１３５０１００Ｍ０００１００Ｙ４３')).toBe(true) // full-width
    expect(isValidUSCC('91350100M000100Y44')).toBe(false) // wrong check character
    expect(isValidUSCC('91350100M000100Y4')).toBe(false)
    expect(isValidUSCC('91AB0100M000100Y43')).toBe(false)
  })
})
