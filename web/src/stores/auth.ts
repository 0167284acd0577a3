import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { authApi, meApi, setupApi, type LoginBody } from '@/api'
import { isApiError } from '@/api/client'
import type { Locale, Me, MePatch } from '@/api/types'
import { applyLocale, normalizeLocale } from '@/i18n'

export const useAuthStore = defineStore('auth', () => {
  const me = ref<Me | null>(null)
  /** GET /me has been tried (successfully or not). */
  const loaded = ref(false)
  /** Result of GET /setup; null until asked. */
  const setupNeeded = ref<boolean | null>(null)

  const permissions = computed(() => new Set(me.value?.permissions ?? []))
  const signedIn = computed(() => me.value !== null)

  function can(...perms: string[]): boolean {
    return perms.some((p) => permissions.value.has(p))
  }

  function setMe(u: Me | null) {
    me.value = u
    loaded.value = true
    if (u) applyLocale(normalizeLocale(u.locale))
  }

  async function checkSetup(): Promise<boolean> {
    if (setupNeeded.value === null) {
      try {
        setupNeeded.value = (await setupApi.status()).needed === true
      } catch {
        setupNeeded.value = false
      }
    }
    return setupNeeded.value
  }

  async function fetchMe(): Promise<Me | null> {
    try {
      setMe(await meApi.get())
    } catch {
      me.value = null
      loaded.value = true
    }
    return me.value
  }

  async function login(body: LoginBody): Promise<Me> {
    const res = await authApi.login(body)
    // The login answer may omit permissions in a lean build: fill them from /me.
    let user = res.user
    if (!user || !Array.isArray(user.permissions)) {
      user = await meApi.get()
    }
    setMe(user)
    return user
  }

  async function logout(): Promise<void> {
    try {
      await authApi.logout()
    } finally {
      clear()
    }
  }

  async function logoutAll(): Promise<void> {
    await authApi.logoutAll()
    clear()
  }

  function clear() {
    me.value = null
    loaded.value = true
  }

  async function update(patch: MePatch): Promise<Me> {
    if (!me.value) throw new Error('not signed in')
    const u = await meApi.update(patch, me.value.version)
    setMe(u)
    return u
  }

  /** Switches the language; when signed in it is saved on the account too. */
  async function setLocale(l: Locale): Promise<void> {
    applyLocale(l)
    if (!me.value || me.value.locale === l) return
    try {
      me.value = await meApi.update({ locale: l }, me.value.version, { silent: true })
    } catch (e) {
      if (isApiError(e) && (e.status === 412 || e.status === 428)) {
        // Someone changed the profile meanwhile: reload it and try once more.
        const fresh = await meApi.get()
        me.value = await meApi.update({ locale: l }, fresh.version)
      } else {
        throw e
      }
    }
    applyLocale(l)
  }

  return { me, loaded, setupNeeded, permissions, signedIn, can, setMe, checkSetup, fetchMe, login, logout, logoutAll, clear, update, setLocale }
})
