import { computed, ref, shallowRef } from 'vue'
import { customerMetaApi, directoryApi } from '@/api'
import type { CustomerOptions, DirectoryEntry, RegionNode } from '@/api/types'
import { CUSTOMER_ENUMS } from '@/constants'

// The option lists, the region tree and the colleague directory change rarely:
// they are loaded once per page load and shared by every customer screen.
let optionsP: Promise<CustomerOptions> | null = null
let regionsP: Promise<RegionNode[]> | null = null
let directoryP: Promise<DirectoryEntry[]> | null = null

const fallbackOptions = (): CustomerOptions => ({
  kinds: [...CUSTOMER_ENUMS.kinds],
  sizes: [...CUSTOMER_ENUMS.sizes],
  sources: [...CUSTOMER_ENUMS.sources],
  statuses: [...CUSTOMER_ENUMS.statuses],
  levels: ['A', 'B', 'C', 'D'],
  purchase_roles: [...CUSTOMER_ENUMS.purchaseRoles],
  activity_kinds: [...CUSTOMER_ENUMS.activityKinds],
})

export function loadCustomerOptions(): Promise<CustomerOptions> {
  optionsP ??= customerMetaApi.options().catch(() => {
    optionsP = null
    return fallbackOptions()
  })
  return optionsP
}

export function loadRegions(): Promise<RegionNode[]> {
  regionsP ??= customerMetaApi.regions().catch(() => {
    regionsP = null
    return []
  })
  return regionsP
}

export function loadDirectory(): Promise<DirectoryEntry[]> {
  directoryP ??= directoryApi
    .list()
    .then((r) => r.items ?? [])
    .catch(() => {
      directoryP = null
      return []
    })
  return directoryP
}

/** Forgets the cached lists (tests; after an administrator changes the levels). */
export function resetCustomerMeta(): void {
  optionsP = null
  regionsP = null
  directoryP = null
}

/** Reactive access to the shared lists; call load() (or the parts) in onMounted. */
export function useCustomerMeta() {
  const options = shallowRef<CustomerOptions>(fallbackOptions())
  const regions = shallowRef<RegionNode[]>([])
  const directory = shallowRef<DirectoryEntry[]>([])
  const loaded = ref(false)

  async function load(parts: { regions?: boolean; directory?: boolean } = { regions: true, directory: true }) {
    const jobs: Promise<unknown>[] = [loadCustomerOptions().then((o) => (options.value = o))]
    if (parts.regions) jobs.push(loadRegions().then((r) => (regions.value = r)))
    if (parts.directory) jobs.push(loadDirectory().then((d) => (directory.value = d)))
    await Promise.all(jobs)
    loaded.value = true
  }

  const people = computed(() => new Map(directory.value.map((d) => [d.id, d])))
  const userName = (id: string | null | undefined) => (id ? (people.value.get(id)?.display_name ?? '') : '')

  return { options, regions, directory, people, userName, loaded, load }
}
