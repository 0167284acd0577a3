// Shared helpers for Prelude's browser tests: the browser, the server's
// addresses, screenshots, sign-in through the UI and RFC 6238 codes.
import { createHmac } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

export const BASE_URL = (process.env.PRELUDE_URL || '').replace(/\/+$/, '')
export const SETUP_URL = process.env.PRELUDE_SETUP_URL || ''
if (!BASE_URL || !SETUP_URL) {
  throw new Error('PRELUDE_URL and PRELUDE_SETUP_URL must be set: run ../scripts/e2e.sh')
}

/** The first administrator created by the setup journey. */
export const ADMIN = { username: 'admin', displayName: '系统管理员', password: 'Prelude-e2e-2024!' }

const here = dirname(fileURLToPath(import.meta.url))
export const IMAGES_DIR = join(here, '..', '..', 'docs', 'images')
mkdirSync(IMAGES_DIR, { recursive: true })

export const VIEWPORT = { width: 1440, height: 900 }

export function launch() {
  return chromium.launch({
    executablePath: process.env.PRELUDE_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}

/**
 * A fresh browser context (no cookies, no localStorage) like a new visitor
 * with a Chinese browser. Browser errors are collected into `errors`.
 */
export async function newPage(browser, { locale = 'zh-CN' } = {}) {
  const context = await browser.newContext({
    baseURL: BASE_URL,
    viewport: VIEWPORT,
    locale,
    timezoneId: 'Asia/Shanghai',
    colorScheme: 'light',
  })
  context.setDefaultTimeout(15_000)
  const page = await context.newPage()
  const errors = []
  page.on('pageerror', (e) => errors.push(String(e)))
  return { context, page, errors }
}

/**
 * Saves a screenshot for the user guide (docs/images/<name>.png). Toasts are
 * transient, so they are hidden; everything else is what the user sees.
 */
export async function shot(page, name) {
  // let loading masks settle, and park the mouse on an empty spot of the top
  // bar so no hover effect (tooltips, scrollbars, row highlight) is captured
  await page.locator('.el-loading-mask').first().waitFor({ state: 'hidden' }).catch(() => {})
  await page.mouse.move(VIEWPORT.width / 2, 20)
  await page.screenshot({
    path: join(IMAGES_DIR, `${name}.png`),
    animations: 'disabled',
    style: '.el-message { display: none !important; }',
  })
}

/**
 * Waits until the locator is visible and its text contains `text` (a string
 * or RegExp); on timeout the error shows what was there instead.
 */
export async function seeText(locator, text, { timeout = 15_000 } = {}) {
  try {
    await locator.filter({ hasText: text }).first().waitFor({ state: 'visible', timeout })
  } catch (e) {
    const actual = await locator
      .allInnerTexts()
      .then((t) => JSON.stringify(t))
      .catch(() => '(nothing)')
    throw new Error(`expected ${locator} to show ${text}; it shows ${actual}\n${e.message}`)
  }
}

/** Retries fn until it returns a truthy value (or throws the last failure). */
export async function poll(fn, { timeout = 15_000, interval = 250, what = 'condition' } = {}) {
  const end = Date.now() + timeout
  let last
  for (;;) {
    try {
      const v = await fn()
      if (v) return v
      last = new Error(`${what}: got ${JSON.stringify(v)}`)
    } catch (e) {
      last = e
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${last?.message ?? last}`)
    await new Promise((r) => setTimeout(r, interval))
  }
}

/** Signs in through the login page; the caller asserts what follows. */
export async function fillLogin(page, username, password) {
  await page.getByTestId('login-username').fill(username)
  await page.getByTestId('login-password').fill(password)
  await page.getByTestId('login-submit').click()
}

/** Opens /login and signs in as the administrator; waits for the workspace. */
export async function signIn(page, { username = ADMIN.username, password = ADMIN.password } = {}) {
  await page.goto('/login')
  await fillLogin(page, username, password)
  await page.getByTestId('home').waitFor()
}

/** Signs out through the user menu in the top bar. */
export async function signOut(page) {
  await page.getByTestId('user-menu').click()
  await page.getByTestId('logout').click()
  await page.getByTestId('login-form').waitFor()
}

/** Opens the user menu's language switch and picks a language. */
export async function switchLanguage(page, locale) {
  await page.getByTestId('lang-switch').click()
  await page.getByTestId(`lang-${locale}`).click()
}

/** Picks an option from the visible Element Plus dropdown (select or tree select). */
export async function pickOption(page, text) {
  const popper = page.locator('.el-popper:visible')
  const option = popper
    .locator('.el-select-dropdown__item, .el-tree-node__content')
    .filter({ hasText: new RegExp(`^\\s*${escapeRe(text)}\\s*$`) })
    .first()
  await option.click()
}

function escapeRe(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

// ---- RFC 6238 TOTP (HMAC-SHA1, 30-second steps, 6 digits) ----

function base32Decode(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  const clean = s.toUpperCase().replace(/[\s=-]/g, '')
  let bits = 0
  let value = 0
  const out = []
  for (const c of clean) {
    const i = alphabet.indexOf(c)
    if (i < 0) throw new Error(`not base32: ${c}`)
    value = (value << 5) | i
    bits += 5
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff)
      bits -= 8
    }
  }
  return Buffer.from(out)
}

export const totpStep = (ms = Date.now()) => Math.floor(ms / 1000 / 30)

/** The 6-digit code of a base32 secret for a 30-second step. */
export function totp(secret, step = totpStep()) {
  const counter = Buffer.alloc(8)
  counter.writeBigUInt64BE(BigInt(step))
  const mac = createHmac('sha1', base32Decode(secret)).update(counter).digest()
  const offset = mac[mac.length - 1] & 0x0f
  const bin = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000
  return String(bin).padStart(6, '0')
}

/** Waits until the 30-second step after `step` has begun (plus a margin). */
export async function waitForStepAfter(step) {
  const ms = (step + 1) * 30_000 + 500 - Date.now()
  if (ms > 0) await new Promise((r) => setTimeout(r, ms))
}
