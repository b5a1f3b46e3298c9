// Forward-only numbered migrations. Both adapters keep the same numbers (a contract test checks).
// All pending migrations run in one transaction behind a lock, so that processes starting
// together on a fresh database (an API node beside workers) do not apply them twice.
import { type Kysely, sql, type Transaction } from 'kysely'
import type { Database } from './database.ts'

export interface Migration {
  version: number
  name: string
  /** Statements run in order inside the transaction. */
  statements: readonly string[]
}

export async function applyMigrations(
  db: Kysely<Database>,
  migrations: readonly Migration[],
  lock: (tx: Transaction<Database>) => Promise<void> = async () => {},
): Promise<void> {
  await db.transaction().execute(async (tx) => {
    await lock(tx)
    await sql`create table if not exists schema_migrations (version integer primary key, name text not null, applied bigint not null)`.execute(
      tx,
    )
    const done = new Set(
      (await tx.selectFrom('schema_migrations').select('version').execute()).map((r) => Number(r.version)),
    )
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(m.version)) continue
      for (const s of m.statements) await sql.raw(s).execute(tx)
      await tx
        .insertInto('schema_migrations')
        .values({ version: m.version, name: m.name, applied: Date.now() })
        .execute()
    }
  })
}
