import { computed, shallowRef } from 'vue'
import { departmentsApi, rolesApi } from '@/api'
import { DEFAULT_TAX_RATES, priceListsApi, quoteSettingsApi, type PriceList, type QuoteSettings } from '@/api/quotes'
import type { Department, DirectoryEntry, Role } from '@/api/types'
import { loadDirectory } from './useCustomerMeta'

// Lookups the quote screens share, loaded once per page load: the allowed VAT
// rates and letterhead (quote settings), the price lists, the colleague
// directory (approver names), roles and departments (approval rules).
let settingsP: Promise<QuoteSettings | null> | null = null
let priceListsP: Promise<PriceList[]> | null = null
let rolesP: Promise<Role[]> | null = null
let departmentsP: Promise<Department[]> | null = null

export function loadQuoteSettings(): Promise<QuoteSettings | null> {
  settingsP ??= quoteSettingsApi.get().catch(() => {
    settingsP = null
    return null
  })
  return settingsP
}

export function loadPriceLists(): Promise<PriceList[]> {
  priceListsP ??= priceListsApi
    .list()
    .then((r) => r.items ?? [])
    .catch(() => {
      priceListsP = null
      return []
    })
  return priceListsP
}

function loadRoles(): Promise<Role[]> {
  rolesP ??= rolesApi
    .list()
    .then((r) => r.items ?? [])
    .catch(() => {
      rolesP = null
      return []
    })
  return rolesP
}

function loadDepartments(): Promise<Department[]> {
  departmentsP ??= departmentsApi
    .list()
    .then((r) => r.items ?? [])
    .catch(() => {
      departmentsP = null
      return []
    })
  return departmentsP
}

/** Forgets the cached lookups (tests; after the settings or a price list changed). */
export function resetQuoteMeta(parts: { settings?: boolean; priceLists?: boolean } = { settings: true, priceLists: true }): void {
  if (parts.settings) settingsP = null
  if (parts.priceLists) priceListsP = null
  if (parts.settings && parts.priceLists) {
    rolesP = null
    departmentsP = null
  }
}

export function useQuoteMeta() {
  const settings = shallowRef<QuoteSettings | null>(null)
  const priceLists = shallowRef<PriceList[]>([])
  const directory = shallowRef<DirectoryEntry[]>([])
  const roles = shallowRef<Role[]>([])
  const departments = shallowRef<Department[]>([])

  async function load(parts: { priceLists?: boolean; directory?: boolean; roles?: boolean; departments?: boolean } = {}) {
    const jobs: Promise<unknown>[] = [loadQuoteSettings().then((s) => (settings.value = s))]
    if (parts.priceLists) jobs.push(loadPriceLists().then((p) => (priceLists.value = p)))
    if (parts.directory) jobs.push(loadDirectory().then((d) => (directory.value = d)))
    if (parts.roles) jobs.push(loadRoles().then((r) => (roles.value = r)))
    if (parts.departments) jobs.push(loadDepartments().then((d) => (departments.value = d)))
    await Promise.all(jobs)
  }

  const taxRates = computed(() => (settings.value?.tax_rates?.length ? settings.value.tax_rates : DEFAULT_TAX_RATES))
  const people = computed(() => new Map(directory.value.map((d) => [d.id, d.display_name])))
  const userName = (id: string | null | undefined) => (id ? (people.value.get(id) ?? '') : '')
  const departmentName = (id: string | null | undefined) => (id ? (departments.value.find((d) => d.id === id)?.name ?? '') : '')

  return { settings, priceLists, directory, roles, departments, taxRates, userName, departmentName, load }
}
