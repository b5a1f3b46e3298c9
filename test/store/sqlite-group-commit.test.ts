// SQLite's group commit: the publishes that reach the store in one turn are committed together,
// 64 at most a transaction, and the event loop gets a turn between those transactions (the
// driver is synchronous: without one, a long queue would hold the thread for all of them).
import { afterEach, describe, expect, it } from 'vitest'
import type { SqlStore } from '../../src/store/sql/sql-store.ts'
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.ts'
import { anEnvironmentId, aPlainPublish, aSubscription, T0 } from '../contract/fixtures.ts'

let store: SqlStore | undefined
afterEach(async () => {
  await store?.close()
})

describe('SQLite group commit', () => {
  it('lets the event loop run between the transactions of a long queue of publishes', async () => {
    store = openSqliteStore(':memory:')
    await store.migrate()
    const envId = await anEnvironmentId(store)
    await aSubscription(store, envId)
    const order: string[] = []
    const publishes = Array.from({ length: 200 }, (_, k) =>
      store!.events.publish(aPlainPublish(envId, T0 + k)).then(() => order.push('published')),
    )
    // Queued after the publishes' own turn: it runs between two of their transactions.
    setImmediate(() => setImmediate(() => order.push('turn')))
    await Promise.all(publishes)
    const turn = order.indexOf('turn')
    expect(turn).toBeGreaterThan(0)
    expect(turn).toBeLessThan(200)
  })
})
