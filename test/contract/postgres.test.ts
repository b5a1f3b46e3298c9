import { describe, expect, it } from 'vitest'
import { openPostgresStore } from '../../src/store/postgres/postgres-store.ts'
import { freshDatabase, postgresAvailable, postgresRequired } from '../support/postgres.ts'
import { accessContract } from './access.contract.ts'
import { feedContract } from './feed.contract.ts'
import { handOffContract } from './hand-off.contract.ts'
import { holdsContract } from './holds.contract.ts'
import { secretsContract } from './secrets.contract.ts'
import { settingsContract } from './settings.contract.ts'
import { storeContract } from './store.contract.ts'
import type { StoreHarness } from './store-harness.ts'

const available = await postgresAvailable()

if (available.ok) {
  const postgresHarness = async (): Promise<StoreHarness> => {
    const db = await freshDatabase()
    const store = openPostgresStore(db.url)
    return {
      store,
      announcesWork: true,
      second: async () => openPostgresStore(db.url),
      dispose: async () => {
        await store.close()
        await db.drop()
      },
    }
  }
  storeContract('postgres', postgresHarness)
  accessContract('postgres', postgresHarness)
  feedContract('postgres', postgresHarness)
  handOffContract('postgres', postgresHarness)
  holdsContract('postgres', postgresHarness)
  secretsContract('postgres', postgresHarness)
  settingsContract('postgres', postgresHarness)
  describe('postgres: migrations', () => {
    it('applies them once when several processes start together on a fresh database', async () => {
      const db = await freshDatabase()
      const stores = [1, 2, 3, 4].map(() => openPostgresStore(db.url, 2))
      try {
        const r = await Promise.allSettled(stores.map((s) => s.migrate()))
        expect(r.map((x) => x.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled'])
      } finally {
        for (const s of stores) await s.close()
        await db.drop()
      }
    })
  })
} else if (postgresRequired) {
  describe('postgres: Store contract', () => {
    it('needs PostgreSQL (CI=true makes it mandatory)', () => {
      throw new Error(available.reason)
    })
  })
} else {
  describe.skip(`postgres: Store contract (skipped: ${available.reason}; set TEST_DATABASE_URL)`, () => {
    it('runs against PostgreSQL', () => {})
  })
}
