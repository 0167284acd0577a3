import { reactive } from 'vue'
import { isApiError } from '@/api/client'

/** Server-side field errors (`error.fields`) for el-form-item's :error. */
export function useFieldErrors() {
  const errors = reactive<Record<string, string>>({})
  function clear() {
    for (const k of Object.keys(errors)) delete errors[k]
  }
  function apply(e: unknown) {
    clear()
    if (isApiError(e)) Object.assign(errors, e.fields)
  }
  return { errors, clear, apply }
}
