import { afterEach, describe, expect, it, vi } from 'vitest'
import { encodeFeedCursor, eventFeed } from '../../src/events/feed.ts'
import type { FeedEventRow, Store } from '../../src/store/store.ts'

const row: FeedEventRow = {
  id: 'evt_1',
  eventName: 'site.publish',
  created: 0,
  body: Buffer.from('{}'),
  position: { tx: 3, seq: 4 },
}

/** A store whose feed is empty until `arrive()`, and whose announcements the test makes. */
function fakeStore(duringRead?: () => void) {
  let rows: FeedEventRow[] = []
  let announce: ((envId: string) => void) | undefined
  const store = {
    feed: {
      read: async () => {
        const now = rows
        duringRead?.()
        return now
      },
      listen: async (on: (envId: string) => void) => {
        announce = on
        return async () => {}
      },
    },
  } as unknown as Store
  return { store, arrive: () => (rows = [row]), announce: (envId: string) => announce?.(envId) }
}

/** Whether p has settled once pending callbacks (but no timer) have run. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false
  void p.then(() => (done = true))
  await vi.advanceTimersByTimeAsync(0)
  return done
}

describe('event feed long-poll', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('wakes a waiting read when this process publishes to its environment, and only then', async () => {
    vi.useFakeTimers()
    const s = fakeStore()
    const feed = eventFeed({ store: s.store, isEventType: () => true })
    const page = feed.read('env_a', { wait: 30 })
    expect(await settled(page)).toBe(false)
    s.arrive()
    feed.published('env_b')
    expect(await settled(page)).toBe(false)
    feed.published('env_a')
    expect(await settled(page)).toBe(true)
    expect(await page).toEqual({ events: [row], nextCursor: encodeFeedCursor(row.position) })
  })

  it('does not miss a commit made while its first read was running', async () => {
    vi.useFakeTimers()
    let feed: ReturnType<typeof eventFeed> | undefined
    let once = true
    const s = fakeStore(() => {
      if (!once) return
      once = false
      s.arrive()
      feed!.published('env_a')
    })
    feed = eventFeed({ store: s.store, isEventType: () => true })
    const page = feed.read('env_a', { wait: 30 })
    expect(await settled(page)).toBe(true)
    expect((await page).events).toEqual([row])
  })

  it("wakes it on the store's announcement of another node's commit", async () => {
    vi.useFakeTimers()
    const s = fakeStore()
    const feed = eventFeed({ store: s.store, isEventType: () => true })
    const page = feed.read('env_a', { wait: 30 })
    expect(await settled(page)).toBe(false)
    s.arrive()
    s.announce('env_a')
    expect(await settled(page)).toBe(true)
  })

  it('answers nothing, with the cursor it was given, once the wait has passed or the client left', async () => {
    vi.useFakeTimers()
    const s = fakeStore()
    const feed = eventFeed({ store: s.store, isEventType: () => true })
    const after = encodeFeedCursor({ tx: 1, seq: 1 })
    const page = feed.read('env_a', { wait: 2, after })
    await vi.advanceTimersByTimeAsync(2000)
    expect(await page).toEqual({ events: [], nextCursor: after })
    const gone = new AbortController()
    const left = feed.read('env_a', { wait: 30, signal: gone.signal })
    expect(await settled(left)).toBe(false)
    gone.abort()
    expect(await settled(left)).toBe(true)
  })
})
