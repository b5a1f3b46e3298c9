// What the contract suites run against: one adapter's store, made fresh and migrated for every
// test (an adapter's test file supplies the harness: sqlite.test.ts, postgres.test.ts).
import { afterEach, beforeEach } from 'vitest'
import type { Store } from '../../src/store/store.ts'

export interface StoreHarness {
  store: Store
  /** True where the store announces due work to other processes (PostgreSQL LISTEN/NOTIFY). */
  announcesWork: boolean
  /** A second store on the same database (another process's view), when the adapter has one. */
  second?: () => Promise<Store>
  dispose(): Promise<void>
}

/** In a suite: a fresh, migrated store before each test, handed to `use`; disposed after it. */
export function freshStoreEachTest(
  makeHarness: () => Promise<StoreHarness>,
  use: (h: StoreHarness) => void | Promise<void>,
): void {
  let h: StoreHarness | undefined
  beforeEach(async () => {
    h = await makeHarness()
    await h.store.migrate()
    await use(h)
  })
  afterEach(async () => {
    await h?.dispose()
  })
}
