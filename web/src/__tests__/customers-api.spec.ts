import { afterEach, describe, expect, it, vi } from 'vitest'
import { dispositionFilename, request, resetClientConfig } from '@/api/client'
import { accountsApi, importsApi } from '@/api'
import { json, mockFetch } from './helpers'

describe('customer API helpers', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
    vi.restoreAllMocks()
    resetClientConfig()
  })

  it('keeps error.details (the duplicates of a 409)', async () => {
    mockFetch(() => json(409, { error: { code: 'duplicate_suspected', message: 'm', details: { duplicates: [{ id: 'a1' }] } } }))
    const e = await request('/accounts', { body: {}, silent: true }).catch((x) => x)
    expect(e.details).toEqual({ duplicates: [{ id: 'a1' }] })
  })

  it('reads UTF-8 file names from Content-Disposition', () => {
    const h = `attachment; filename="account-import-template.xlsx"; filename*=UTF-8''${encodeURIComponent('客户导入模板.xlsx')}`
    expect(dispositionFilename(h)).toBe('客户导入模板.xlsx')
    expect(dispositionFilename('attachment; filename="report.xlsx"')).toBe('report.xlsx')
    expect(dispositionFilename(null)).toBe('')
  })

  it('downloads the export with the list filters through a temporary link', async () => {
    const { calls } = mockFetch(
      () =>
        new Response(new Blob(['xlsx']), {
          status: 200,
          headers: { 'Content-Disposition': `attachment; filename="a.xlsx"; filename*=UTF-8''${encodeURIComponent('客户导出.xlsx')}` },
        }),
    )
    const clicked: { download: string; href: string }[] = []
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push({ download: this.download, href: this.href })
    })
    vi.spyOn(URL, 'createObjectURL').mockReturnValue('blob:x')
    vi.spyOn(URL, 'revokeObjectURL').mockImplementation(() => {})
    const name = await accountsApi.exportXlsx({ status: 'active', province_code: '440000' }, 'fallback.xlsx')
    expect(name).toBe('客户导出.xlsx')
    expect(calls[0].url).toBe('/api/v1/accounts/export.xlsx?status=active&province_code=440000')
    expect(calls[0].credentials).toBe('same-origin')
    expect(clicked).toEqual([{ download: '客户导出.xlsx', href: 'blob:x' }])
  })

  it('uploads an import as the raw body with mode, duplicate handling and file name', async () => {
    const { fn } = mockFetch(() => json(202, { id: 'im1', status: 'queued' }))
    const file = new File(['a,b'], '客户.csv', { type: 'text/csv' })
    await importsApi.start(file, 'preview', 'skip')
    const [url, init] = fn.mock.calls[0] as [string, RequestInit]
    expect(url).toBe(`/api/v1/account-imports?mode=preview&duplicates=skip&filename=${encodeURIComponent('客户.csv')}`)
    expect(init.method).toBe('POST')
    expect(init.body).toBe(file)
    expect((init.headers as Record<string, string>)['Content-Type']).toBe('text/csv')
    expect((init.headers as Record<string, string>)['Idempotency-Key']).toBeTruthy()
  })
})
