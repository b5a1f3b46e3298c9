import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.ts'
import { accessContract } from './access.contract.ts'
import { feedContract } from './feed.contract.ts'
import { handOffContract } from './hand-off.contract.ts'
import { holdsContract } from './holds.contract.ts'
import { secretsContract } from './secrets.contract.ts'
import { settingsContract } from './settings.contract.ts'
import { storeContract } from './store.contract.ts'
import type { StoreHarness } from './store-harness.ts'

async function sqliteHarness(): Promise<StoreHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'hookpost-contract-'))
  const file = join(dir, 'test.db')
  const store = openSqliteStore(file)
  return {
    store,
    announcesWork: false,
    // No `second`: better-sqlite3 is synchronous, so two connections in one thread would wait on
    // each other's lock; several processes on one file are covered by the e2e tests.
    dispose: async () => {
      await store.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

storeContract('sqlite', sqliteHarness)
accessContract('sqlite', sqliteHarness)
feedContract('sqlite', sqliteHarness)
handOffContract('sqlite', sqliteHarness)
holdsContract('sqlite', sqliteHarness)
secretsContract('sqlite', sqliteHarness)
settingsContract('sqlite', sqliteHarness)
