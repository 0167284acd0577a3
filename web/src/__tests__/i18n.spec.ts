import { describe, expect, it } from 'vitest'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { parse as parseSfc } from 'vue/compiler-sfc'
import zhCN from '@/locales/zh-CN'
import en from '@/locales/en'
import { AUDIT_ACTIONS, AUDIT_ENTITY_TYPES, ROLE_NAMES, DATA_SCOPES, JOB_STATUSES, PERMISSION_AREAS } from '@/constants'
import { applyLocale, areaLabel, auditActionLabel, i18n, labelOr, permissionLabel, roleLabel } from '@/i18n'

type Tree = { [k: string]: string | Tree }

// @vue/compiler-core NodeTypes
const NodeTypes = { ELEMENT: 1, TEXT: 2, ATTRIBUTE: 6 } as const
interface TplNode {
  type: number
  content?: string
  tag?: string
  props?: { type: number; name: string; value?: { content: string } }[]
  children?: TplNode[]
}

function flatten(obj: Tree, prefix = ''): Map<string, string> {
  const out = new Map<string, string>()
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k
    if (typeof v === 'string') out.set(key, v)
    else for (const [k2, v2] of flatten(v, key)) out.set(k2, v2)
  }
  return out
}

const SRC = join(__dirname, '..')
function files(dir: string, exts: string[]): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) {
      if (name !== '__tests__' && name !== 'locales') out.push(...files(p, exts))
    } else if (exts.some((e) => name.endsWith(e)) && !name.endsWith('.d.ts')) {
      out.push(p)
    }
  }
  return out
}

const zh = flatten(zhCN as unknown as Tree)
const enMap = flatten(en as unknown as Tree)

describe('i18n catalogs', () => {
  it('zh-CN and en have exactly the same keys', () => {
    const a = [...zh.keys()].sort()
    const b = [...enMap.keys()].sort()
    expect(a.filter((k) => !enMap.has(k))).toEqual([])
    expect(b.filter((k) => !zh.has(k))).toEqual([])
    expect(a.length).toBeGreaterThan(200)
  })

  it('has no empty zh-CN texts and no untranslated Chinese in en', () => {
    expect([...zh].filter(([, v]) => v.trim() === '').map(([k]) => k)).toEqual([])
    const cjkInEn = [...enMap].filter(([k, v]) => /[\u4e00-\u9fff]/.test(v) && k !== 'lang.zhCN').map(([k]) => k)
    expect(cjkInEn).toEqual([])
  })

  it('uses no unescaped vue-i18n syntax characters (@ |) in texts', () => {
    const bad = [...zh, ...enMap].filter(([, v]) => /[@|]/.test(v)).map(([k]) => k)
    expect(bad).toEqual([])
  })

  it('labels every role, data scope, job status, permission area and permission in both languages', () => {
    const perms = [
      'users.read', 'users.manage', 'users.reveal', 'departments.manage', 'roles.manage', 'audit.read', 'jobs.manage', 'tokens.manage',
      'customers.read', 'customers.create', 'customers.update', 'customers.delete', 'customers.reveal',
      'customers.transfer', 'customers.merge', 'customers.import', 'customers.export',
    ]
    const needed = [
      ...ROLE_NAMES.map((r) => `roleNames.${r}`),
      ...DATA_SCOPES.map((s) => `dataScopes.${s}`),
      ...JOB_STATUSES.map((s) => `jobs.statuses.${s}`),
      ...PERMISSION_AREAS.map((a) => `permissionAreas.${a}`),
      ...perms.map((p) => `permissions.${p}`),
      ...AUDIT_ENTITY_TYPES.map((e) => `audit.entityTypes.${e}`),
    ]
    expect(needed.filter((k) => !zh.has(k) || !enMap.has(k))).toEqual([])
    expect(PERMISSION_AREAS).toContain('customers')
  })

  it('labels exactly the audit actions the server records', () => {
    const needed = AUDIT_ACTIONS.map((a) => `audit.actions.${a}`)
    expect(needed.filter((k) => !zh.has(k) || !enMap.has(k))).toEqual([])
    // no stale keys (e.g. me.update, user.reset_password) that the server never records
    const known = new Set<string>(needed)
    expect([...zh.keys()].filter((k) => k.startsWith('audit.actions.') && !known.has(k))).toEqual([])
  })

  it('translates labels by locale and falls back to the raw key', () => {
    applyLocale('zh-CN')
    expect(roleLabel('tech')).toBe('技术/产品')
    expect(permissionLabel('users.reveal')).toBe('查看完整联系方式')
    applyLocale('en')
    expect(roleLabel('tech')).toBe('Technical & product')
    expect(roleLabel('aftersales')).toBe('After-sales')
    expect(permissionLabel('customers.export')).toBe('Export customers')
    expect(areaLabel('customers')).toBe('Customer archive')
    expect(permissionLabel('reports.export')).toBe('reports.export')
    expect(auditActionLabel('user.totp_reset')).toBe('Two-step verification reset')
    expect(auditActionLabel('widget.frobnicate')).toBe('widget.frobnicate')
    expect(labelOr('permissions', 'users')).toBe('users')
    applyLocale('zh-CN')
    expect(i18n.global.locale.value).toBe('zh-CN')
    expect(areaLabel('customers')).toBe('客户档案')
    expect(permissionLabel('customers.reveal')).toBe('查看联系方式（明文）')
    expect(auditActionLabel('user.update_self')).toBe('修改个人资料')
    expect(auditActionLabel('account.merge')).toBe('合并客户')
  })
})

describe('source code uses the catalogs', () => {
  const sources = files(SRC, ['.vue', '.ts'])

  it('every literal translation key used in the code exists', () => {
    const missing: string[] = []
    // t('a.b'), $t("a.b"), rules.required('a.b'), label: 'nav.x', title: 'nav.x' …
    const patterns = [/\$?\bt\(\s*['"]([a-zA-Z][\w.]*)['"]/g, /\b(?:required|requiredSelect)\(\s*['"]([a-zA-Z][\w.]*)['"]/g, /\b(?:label|title|section): ['"]((?:nav|errors|setup|login|account|common)\.[\w.]+)['"]/g]
    for (const f of sources) {
      const text = readFileSync(f, 'utf8')
      for (const re of patterns) {
        for (const m of text.matchAll(re)) {
          if (!zh.has(m[1])) missing.push(`${relative(SRC, f)}: ${m[1]}`)
        }
      }
    }
    expect(missing).toEqual([])
  })

  it('has no Chinese text outside the catalogs', () => {
    const offenders: string[] = []
    for (const f of sources) {
      const lines = readFileSync(f, 'utf8').split('\n')
      lines.forEach((line, i) => {
        const code = line.replace(/\/\/.*$/, '').replace(/\/\*.*?\*\//g, '').replace(/<!--.*?-->/g, '')
        if (/[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]/.test(code)) offenders.push(`${relative(SRC, f)}:${i + 1}: ${line.trim()}`)
      })
    }
    expect(offenders).toEqual([])
  })

  it('templates have no hard-coded user-visible text', () => {
    const visibleAttrs = new Set([
      'placeholder', 'label', 'title', 'content', 'description', 'sub-title', 'alt', 'aria-label',
      'start-placeholder', 'end-placeholder', 'confirm-button-text', 'cancel-button-text', 'empty-text',
    ])
    const letters = /[A-Za-z\u4e00-\u9fff]/
    const offenders: string[] = []
    const walk = (nodes: TplNode[], file: string) => {
      for (const n of nodes) {
        if (n.type === NodeTypes.TEXT && letters.test(n.content ?? '')) {
          offenders.push(`${file}: text "${(n.content ?? '').trim()}"`)
        }
        if (n.type === NodeTypes.ELEMENT) {
          for (const p of n.props ?? []) {
            if (p.type === NodeTypes.ATTRIBUTE && visibleAttrs.has(p.name) && p.value && letters.test(p.value.content)) {
              offenders.push(`${file}: <${n.tag} ${p.name}="${p.value.content}">`)
            }
          }
        }
        if (Array.isArray(n.children)) walk(n.children, file)
      }
    }
    const vueFiles = sources.filter((f) => f.endsWith('.vue'))
    expect(vueFiles.length).toBeGreaterThan(15)
    for (const f of vueFiles) {
      const { descriptor } = parseSfc(readFileSync(f, 'utf8'), { filename: f })
      if (descriptor.template?.ast) walk([descriptor.template.ast as unknown as TplNode], relative(SRC, f))
    }
    expect(offenders).toEqual([])
  })
})
