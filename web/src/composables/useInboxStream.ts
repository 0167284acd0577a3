import { onBeforeUnmount, ref } from 'vue'
import { INBOX_STREAM_URL } from '@/api/inbox'

/** An inbox event (internal/inquiries/live.go). */
export interface InboxEvent {
  type: 'inquiry_created' | 'inquiry_assigned' | 'message_added' | 'status_changed' | string
  inquiry_id: string
  assignee_id?: string
  department_id?: string
  status?: string
  message_id?: string
  direction?: string
  /** who is typing, on a "typing" event by a colleague */
  actor_id?: string
  at?: string
}

const EVENT_TYPES = ['inquiry_created', 'inquiry_assigned', 'message_added', 'status_changed', 'typing']

/** Reconnect delays: 1 s, 2 s, 4 s … at most 30 s, with a little jitter. */
export function backoff(attempt: number, random = Math.random): number {
  const base = Math.min(30_000, 1000 * 2 ** Math.max(0, attempt))
  return Math.round(base * (0.8 + 0.4 * random()))
}

/**
 * The live inbox: Server-Sent Events from /inbox/stream. Every event in the
 * user's scope is handed to onEvent; onResync is called when events may have
 * been missed (the server says "resync" after a slow read, and after every
 * reconnect), so the caller reloads what it shows. A dropped connection is
 * re-opened with growing pauses.
 */
export function useInboxStream(onEvent: (e: InboxEvent) => void, onResync: () => void) {
  const live = ref(false)
  let source: EventSource | null = null
  let timer: ReturnType<typeof setTimeout> | null = null
  let attempt = 0
  let stopped = true
  let opened = false

  function open() {
    if (typeof EventSource === 'undefined') return
    source = new EventSource(INBOX_STREAM_URL, { withCredentials: true })
    source.onopen = () => {
      live.value = true
      attempt = 0
      // reconnected: whatever happened meanwhile was not delivered
      if (opened) onResync()
      opened = true
    }
    source.onerror = () => {
      live.value = false
      source?.close()
      source = null
      if (!stopped) timer = setTimeout(open, backoff(attempt++))
    }
    for (const t of EVENT_TYPES) {
      source.addEventListener(t, (e) => {
        try {
          onEvent(JSON.parse((e as MessageEvent<string>).data) as InboxEvent)
        } catch {
          /* a malformed event is ignored */
        }
      })
    }
    source.addEventListener('resync', () => onResync())
  }

  function start() {
    if (!stopped) return
    stopped = false
    open()
  }

  function stop() {
    stopped = true
    if (timer) clearTimeout(timer)
    timer = null
    source?.close()
    source = null
    live.value = false
  }

  onBeforeUnmount(stop)
  return { live, start, stop }
}
