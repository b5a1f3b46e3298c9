import { describe, it } from 'vitest'
import { openPostgresStore } from '../../src/store/postgres/postgres-store.ts'
import { freshDatabase, postgresAvailable, postgresRequired } from '../support/postgres.ts'
import { storeContract } from './store.contract.ts'

const available = await postgresAvailable()

if (available.ok) {
  storeContract('postgres', async () => {
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
