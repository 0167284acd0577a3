import { ref } from 'vue'
import { isApiError } from '@/api/client'
import type { ListResponse } from '@/api/types'
import { useCursorList } from './useCursorList'

/** Why a related-records list could not be shown. */
export interface RelatedFailure {
  /** forbidden: the server refused (403, e.g. a permission taken away since sign-in); failed: anything else */
  kind: 'forbidden' | 'failed'
  /** the server's message, if it gave one */
  message: string
}

/** Classifies an error of a related-records request. */
export function relatedFailure(e: unknown): RelatedFailure {
  if (isApiError(e)) return { kind: e.status === 403 ? 'forbidden' : 'failed', message: e.message }
  return { kind: 'failed', message: e instanceof Error ? e.message : '' }
}

/**
 * A small cursor-paged list of the records of another module that belong to
 * one account (its opportunities, inquiries, contracts), for a tab of the
 * account page. Requests are silent: a refusal or a failure is kept in
 * `failure` and shown inside the tab instead of a toast, so a tab the user
 * may not read never breaks the rest of the page. The server applies the
 * data scope: the list holds only what the user may see.
 */
export function useRelatedList<T, R extends ListResponse<T> = ListResponse<T>>(
  fetchPage: (p: { limit: number; cursor: string | null }) => Promise<R>,
  pageSize = 10,
  /** called with every page the server returned (its totals, say) */
  onPage?: (res: R) => void,
) {
  const failure = ref<RelatedFailure | null>(null)
  const loaded = ref(false)
  const list = useCursorList<T>(async (p) => {
    try {
      const res = await fetchPage(p)
      failure.value = null
      loaded.value = true
      onPage?.(res)
      return res
    } catch (e) {
      failure.value = relatedFailure(e)
      loaded.value = true
      throw e
    }
  }, pageSize)
  return { ...list, failure, loaded }
}

/**
 * Whether a row click landed on a link or button inside the row (which does
 * its own thing), so the row's "open the record" should not run as well.
 */
export function clickedControl(e: Event | undefined): boolean {
  const t = e?.target
  return typeof Element !== 'undefined' && t instanceof Element && t.closest('a, button') !== null
}
