import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import { createPinia, setActivePinia, type Pinia } from 'pinia'
import JobsView from '@/views/admin/JobsView.vue'
import { applyLocale, i18n } from '@/i18n'
import { useAuthStore } from '@/stores/auth'
import { resetClientConfig } from '@/api/client'
import { json, mockFetch, sampleMe } from './helpers'

async function settle() {
  for (let i = 0; i < 5; i++) {
    await flushPromises()
    await new Promise((r) => setTimeout(r, 0))
  }
}

const ID = '0195f3a2-7c4e-7b1a-9d2e-5f6a7b8c9d0e'

describe('JobsView', () => {
  let wrapper: VueWrapper
  let pinia: Pinia

  beforeEach(() => {
    localStorage.clear()
    applyLocale('zh-CN')
    pinia = createPinia()
    setActivePinia(pinia)
    mockFetch(() =>
      json(200, {
        items: [
          {
            id: ID,
            kind: 'search.index',
            status: 'dead',
            attempts: 5,
            max_attempts: 5,
            run_at: '2025-03-01T08:00:00Z',
            last_error: 'boom',
            created_at: '2025-03-01T08:00:00Z',
            updated_at: '2025-03-01T08:00:00Z',
          },
        ],
        next_cursor: null,
        total: 1,
      }),
    )
  })
  afterEach(() => {
    wrapper?.unmount()
    vi.unstubAllGlobals()
    resetClientConfig()
    document.body.innerHTML = ''
  })

  it('shows a short job ID with a copy button and keeps kind names on one line', async () => {
    useAuthStore().me = { ...sampleMe, permissions: ['jobs.manage'] }
    wrapper = mount(JobsView, { global: { plugins: [pinia, i18n] }, attachTo: document.body })
    await settle()
    expect(wrapper.find(`[data-testid="job-id-${ID}"]`).text()).toBe(ID.slice(0, 8))
    expect(wrapper.find(`[data-testid="job-copy-${ID}"]`).exists()).toBe(true)
    expect(wrapper.find(`[data-testid="job-retry-${ID}"]`).exists()).toBe(true)
    const kind = wrapper.findAll('.jobs__kind')
    expect(kind).toHaveLength(1)
    expect(kind[0].text()).toBe('search.index')
    // show-overflow-tooltip: one line with an ellipsis instead of mid-word breaks
    expect(kind[0].element.closest('.cell')?.classList.contains('el-tooltip')).toBe(true)
  })
})
