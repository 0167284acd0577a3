import { defineStore } from 'pinia'
import { ref } from 'vue'
import { STREAM_URL, notificationsApi, type Notification } from '@/api/followups'
import { parseStreamState } from '@/utils/followups'

/** How often the count is polled when the browser has no EventSource. */
const POLL_MS = 30_000

/**
 * The signed-in user's in-app notifications: the unread count follows the
 * live stream (/me/stream, Server-Sent Events); the list is fetched when the
 * bell opens and whenever the stream says something changed while it is open.
 */
export const useNotificationsStore = defineStore('notifications', () => {
  const unread = ref(0)
  const latest = ref<Notification | null>(null)
  const items = ref<Notification[]>([])
  const loading = ref(false)
  /** the stream is connected (false while reconnecting) */
  const live = ref(false)
  /** the dropdown is open: keep its list fresh */
  const open = ref(false)

  let source: EventSource | null = null
  let timer: ReturnType<typeof setInterval> | null = null

  function apply(raw: string) {
    const st = parseStreamState(raw)
    if (!st) return
    const changed = st.unread !== unread.value || (st.latest as Notification | null)?.id !== latest.value?.id
    unread.value = st.unread
    latest.value = (st.latest as Notification | null) ?? null
    if (changed && open.value) load()
  }

  async function load() {
    loading.value = true
    try {
      const res = await notificationsApi.list({ limit: 10 })
      items.value = res.items ?? []
      unread.value = res.unread
    } catch {
      /* the client shows the message */
    } finally {
      loading.value = false
    }
  }

  function connect() {
    if (source || timer) return
    if (typeof EventSource === 'undefined') {
      load()
      timer = setInterval(load, POLL_MS)
      return
    }
    source = new EventSource(STREAM_URL, { withCredentials: true })
    source.addEventListener('notifications', (e) => apply((e as MessageEvent<string>).data))
    source.onopen = () => (live.value = true)
    // EventSource reconnects by itself (the server asks for 5 s).
    source.onerror = () => (live.value = false)
  }

  function disconnect() {
    source?.close()
    source = null
    if (timer) clearInterval(timer)
    timer = null
    live.value = false
  }

  async function markRead(id: string) {
    const n = items.value.find((x) => x.id === id)
    await notificationsApi.read(id)
    if (n && !n.read_at) {
      n.read_at = new Date().toISOString()
      unread.value = Math.max(0, unread.value - 1)
    }
  }

  async function readAll() {
    await notificationsApi.readAll()
    const now = new Date().toISOString()
    for (const n of items.value) n.read_at ??= now
    unread.value = 0
  }

  return { unread, latest, items, loading, live, open, apply, load, connect, disconnect, markRead, readAll }
})
