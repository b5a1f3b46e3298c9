// Consumer use case: the catch-up feed (GET /webhooks/feed). An environment's events in the
// order they were committed, after an opaque cursor, optionally held open until one arrives
// (long-poll). Waiting holds no store connection: a waiter sleeps until a publish in this
// process or a store announcement (PostgreSQL NOTIFY from another node) wakes it, or its time is up.
import { AppError } from '../shared/errors.ts'
import type { FeedEventRow, FeedPosition, Store } from '../store/store.ts'

export const defaultFeedLimit = 100
export const maxFeedLimit = 1000
export const maxFeedWaitSeconds = 30

/** A safety net against a lost announcement (a LISTEN connection that dropped). */
const pollEveryMs = 5_000
/** After a wake that found nothing (a commit held back behind a running one), look again soon. */
const settleMs = [50, 100, 200, 400, 800, 1600]

export interface FeedQuery {
  event?: string | undefined
  after?: string | undefined
  limit?: number | undefined
  /** Seconds to hold the request while nothing is there (0 to 30). */
  wait?: number | undefined
  /** Ends a wait early (the client went away). */
  signal?: AbortSignal | undefined
}

export interface FeedPage {
  events: FeedEventRow[]
  /** Where the next read starts; the given cursor again when nothing came. */
  nextCursor: string | null
}

export interface FeedDeps {
  store: Store
  isEventType: (name: string) => boolean
  /** The safety-net poll of a waiting read (default 5 s). */
  pollEveryMs?: number
}

export function encodeFeedCursor(p: FeedPosition): string {
  return Buffer.from(`${p.tx}.${p.seq}`, 'utf8').toString('base64url')
}

export function decodeFeedCursor(cursor: string): FeedPosition {
  const m = /^(\d{1,16})\.(\d{1,16})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'))
  const tx = Number(m?.[1])
  const seq = Number(m?.[2])
  if (!m || !Number.isSafeInteger(tx) || !Number.isSafeInteger(seq)) throw new AppError('invalid_cursor')
  return { tx, seq }
}

function badQuery(name: string, message: string): AppError {
  return new AppError('invalid_request', {
    message: `${name}: ${message}`,
    details: [{ path: `/query/${name}`, message }],
  })
}

/** A waiting read's interest in one environment: set before its first read, so no commit slips by. */
interface Watch {
  woken: boolean
  poke: (() => void) | undefined
}

export function eventFeed(deps: FeedDeps) {
  const watches = new Map<string, Set<Watch>>()
  let listening: Promise<() => Promise<void>> | undefined
  const wake = (envId: string) => {
    for (const w of watches.get(envId) ?? []) {
      w.woken = true
      w.poke?.()
    }
  }
  const watch = (envId: string): { w: Watch; end: () => void } => {
    const w: Watch = { woken: false, poke: undefined }
    const set = watches.get(envId) ?? new Set()
    watches.set(envId, set)
    set.add(w)
    return {
      w,
      end: () => {
        set.delete(w)
        if (set.size === 0) watches.delete(envId)
      },
    }
  }
  /** Resolves at once if w was woken since its last read, else on a wake, after ms, or on abort. */
  const sleep = (w: Watch, ms: number, signal: AbortSignal | undefined) =>
    new Promise<void>((resolve) => {
      if (w.woken) return resolve()
      const finish = () => {
        clearTimeout(timer)
        w.poke = undefined
        signal?.removeEventListener('abort', finish)
        resolve()
      }
      const timer = setTimeout(finish, ms)
      w.poke = finish
      signal?.addEventListener('abort', finish)
    })

  return {
    /** Told by the publisher after a commit that added events to envId. */
    published: wake,

    async read(envId: string, q: FeedQuery): Promise<FeedPage> {
      if (q.event !== undefined && !deps.isEventType(q.event)) {
        throw new AppError('unknown_event_type', {
          message: `"${q.event.slice(0, 100)}" is not in the event catalogue.`,
          details: [{ path: '/query/event', message: 'unknown event type' }],
        })
      }
      const limit = q.limit ?? defaultFeedLimit
      if (!Number.isInteger(limit) || limit < 1 || limit > maxFeedLimit) {
        throw badQuery('limit', `must be an integer from 1 to ${maxFeedLimit}`)
      }
      const wait = q.wait ?? 0
      if (!Number.isFinite(wait) || wait < 0 || wait > maxFeedWaitSeconds) {
        throw badQuery('wait', `must be a number of seconds from 0 to ${maxFeedWaitSeconds}`)
      }
      const after = q.after === undefined ? null : decodeFeedCursor(q.after)
      const read = () =>
        deps.store.feed.read(envId, {
          after,
          limit,
          ...(q.event !== undefined ? { eventName: q.event } : {}),
        })
      const page = (events: FeedEventRow[]): FeedPage => ({
        events,
        nextCursor: events.length > 0 ? encodeFeedCursor(events.at(-1)!.position) : (q.after ?? null),
      })
      if (wait === 0) return page(await read())
      const deadline = Date.now() + wait * 1000
      const { w, end } = watch(envId)
      try {
        // Listening (the first wait opens it) and watching before the read: whatever commits
        // after the read wakes this wait.
        listening ??= deps.store.feed.listen(wake).catch(() => async () => {})
        await listening
        let events = await read()
        if (events.length > 0) return page(events)
        let settle = 0
        for (;;) {
          const left = deadline - Date.now()
          if (left <= 0 || q.signal?.aborted) return page(events)
          const poll = settle > 0 ? settleMs[settle - 1]! : (deps.pollEveryMs ?? pollEveryMs)
          await sleep(w, Math.min(left, poll), q.signal)
          const woken = w.woken
          w.woken = false
          events = await read()
          if (events.length > 0) return page(events)
          // Woken but nothing to show: a commit held back behind an older transaction; look soon.
          settle = woken ? 1 : settle > 0 && settle < settleMs.length ? settle + 1 : 0
        }
      } finally {
        end()
      }
    },

    /** Stops listening for other nodes' announcements. */
    async close(): Promise<void> {
      const stop = await listening
      listening = undefined
      await stop?.()
    },
  }
}

export type EventFeed = ReturnType<typeof eventFeed>
