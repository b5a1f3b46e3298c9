// Forward-only numbered migrations. Both adapters keep the same numbers (a contract test checks).
import { type Kysely, sql } from 'kysely'
import type { Database } from './database.ts'

export interface Migration {
  version: number
  name: string
  /** Statements run in order inside one transaction. */
  statements: readonly string[]
}

export async function applyMigrations(db: Kysely<Database>, migrations: readonly Migration[]): Promise<void> {
  await sql`create table if not exists schema_migrations (version integer primary key, name text not null, applied bigint not null)`.execute(
    db,
  )
  const done = new Set(
    (await db.selectFrom('schema_migrations').select('version').execute()).map((r) => Number(r.version)),
  )
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (done.has(m.version)) continue
    await db.transaction().execute(async (tx) => {
      // Another node may have applied it while we waited for the lock.
      const again = await tx
        .selectFrom('schema_migrations')
        .select('version')
        .where('version', '=', m.version)
        .executeTakeFirst()
      if (again) return
      for (const s of m.statements) await sql.raw(s).execute(tx)
      await tx
        .insertInto('schema_migrations')
        .values({ version: m.version, name: m.name, applied: Date.now() })
        .execute()
    })
  }
}
