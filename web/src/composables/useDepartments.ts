import { computed, ref } from 'vue'
import { departmentsApi } from '@/api'
import type { Department } from '@/api/types'
import { buildDeptTree } from '@/utils/tree'

/** Loads the department list once per component and offers it as a tree. */
export function useDepartments() {
  const departments = ref<Department[]>([])
  const loading = ref(false)
  async function load() {
    loading.value = true
    try {
      departments.value = (await departmentsApi.list()).items ?? []
    } catch {
      /* message shown by the client */
    } finally {
      loading.value = false
    }
  }
  const tree = computed(() => buildDeptTree(departments.value))
  const byId = computed(() => new Map(departments.value.map((d) => [d.id, d])))
  return { departments, tree, byId, loading, load }
}
