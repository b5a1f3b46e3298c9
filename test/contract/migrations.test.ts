import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { postgresMigrations } from '../../src/store/postgres/migrations.ts'
import { openPostgresStore } from '../../src/store/postgres/postgres-store.ts'
import type { Migration } from '../../src/store/sql/migrate.ts'
import { sqliteMigrations } from '../../src/store/sqlite/migrations.ts'
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.ts'
import type { Store } from '../../src/store/store.ts'
import { freshDatabase, postgresAvailable, postgresRequired } from '../support/postgres.ts'
import {
  type AllowedDifference,
  compareSchemas,
  type EngineOnlyTable,
  postgresSchema,
  type SchemaShape,
  sqliteSchema,
} from './schema-shape.ts'

describe('migrations', () => {
  it('keep the same numbers and names in both adapters', () => {
    const shape = (ms: readonly { version: number; name: string }[]) =>
      ms.map((m) => `${m.version} ${m.name}`)
    expect(shape(postgresMigrations)).toEqual(shape(sqliteMigrations))
    // Ascending and unique; numbers may leave gaps (capabilities built in parallel each own one).
    const versions = sqliteMigrations.map((m) => m.version)
    expect(versions).toEqual([...new Set(versions)].sort((a, b) => a - b))
  })

  it('never store a payload as jsonb', () => {
    expect(postgresMigrations.flatMap((m) => m.statements).join('\n')).not.toMatch(/jsonb/i)
  })
})

/**
 * A database at version 5 with two environments: one never rotated, one rotated once. Runs the
 * statements through `exec` the way the migration runner would have.
 */
async function atVersion5(ms: readonly Migration[], exec: (sql: string) => Promise<void>): Promise<void> {
  await exec(
    'create table schema_migrations (version integer primary key, name text not null, applied bigint not null)',
  )
  for (const m of ms.filter((m) => m.version <= 5)) {
    for (const s of m.statements) await exec(s)
    await exec(`insert into schema_migrations values (${m.version}, '${m.name}', 0)`)
  }
  await exec(`insert into environments (id, name, created) values ('env_a', 'a', 1), ('env_b', 'b', 1)`)
  await exec(`insert into signing_secrets (id, env_id, key_id, ciphertext, created, expires) values
    ('sec_1', 'env_a', 'k', 'c', 1, null),
    ('sec_2', 'env_b', 'k', 'c', 1, 5),
    ('sec_3', 'env_b', 'k', 'c', 5, null)`)
}

async function revealedAfterMigrating(store: Store): Promise<Record<string, boolean>> {
  await store.migrate()
  const rows = await store.secrets.listAll(null, 10)
  return Object.fromEntries(rows.map((r) => [r.id, r.revealed]))
}

// Under CI=true (postgresRequired) an unreachable PostgreSQL fails these tests, never skips them.
const postgres = await postgresAvailable()

// Before migration 6 only a rotation showed a secret: each environment's first one never was.
const expected = { sec_1: false, sec_2: false, sec_3: true }

describe('migration 6 (unrevealed_secrets)', () => {
  it('marks each environment’s first secret as never shown, on SQLite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hookpost-mig-'))
    try {
      const file = join(dir, 'old.db')
      const raw = new BetterSqlite3(file)
      await atVersion5(sqliteMigrations, async (s) => void raw.exec(s))
      raw.close()
      const store = openSqliteStore(file)
      try {
        expect(await revealedAfterMigrating(store)).toEqual(expected)
      } finally {
        await store.close()
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it.runIf(postgres.ok || postgresRequired)(
    'marks each environment’s first secret as never shown, on PostgreSQL',
    async () => {
      const db = await freshDatabase()
      try {
        const c = new pg.Client({ connectionString: db.url })
        await c.connect()
        await atVersion5(postgresMigrations, async (s) => void (await c.query(s)))
        await c.end()
        const store = openPostgresStore(db.url)
        try {
          expect(await revealedAfterMigrating(store)).toEqual(expected)
        } finally {
          await store.close()
        }
      } finally {
        await db.drop()
      }
    },
  )
})

// An attempt as every version before 15 wrote it: all its request headers, in the order sent.
const oldHeaders = {
  'content-type': 'application/json',
  'user-agent': 'Hookpost/0.1.0',
  'x-delivery-hmac-sha256': 'ab'.repeat(32),
  'webhook-id': 'dlv_old',
  'webhook-timestamp': '1',
  'webhook-signature': 'v1,c2ln',
  'x-delivery-event': 'site.publish',
  'x-delivery-attempt': '1',
}

async function withOldAttempt(ms: readonly Migration[], exec: (sql: string) => Promise<void>): Promise<void> {
  await exec(
    'create table schema_migrations (version integer primary key, name text not null, applied bigint not null)',
  )
  for (const m of ms.filter((m) => m.version <= 14)) {
    for (const s of m.statements) await exec(s)
    await exec(`insert into schema_migrations values (${m.version}, '${m.name}', 0)`)
  }
  await exec(`insert into attempts (delivery_id, number, started, duration_ms, status_code, error,
    response_body, request_headers, response_headers) values ('dlv_old', 1, 1000, 5, 500, 'http_500',
    'nope', '${JSON.stringify(oldHeaders)}', '{"content-type":"text/plain"}')`)
}

async function oldAttemptAfterMigrating(store: Store): Promise<void> {
  await store.migrate()
  const [a] = await store.deliveries.attempts('dlv_old')
  expect(a).toEqual({
    deliveryId: 'dlv_old',
    number: 1,
    started: 1000,
    durationMs: 5,
    statusCode: 500,
    error: 'http_500',
    responseBody: 'nope',
    requestHeaders: oldHeaders,
    responseHeaders: { 'content-type': 'text/plain' },
  })
  expect(Object.entries(a!.requestHeaders)).toEqual(Object.entries(oldHeaders))
}

describe('migration 15 (lean_attempt_headers)', () => {
  it('reads an attempt written before it with all its headers, on SQLite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hookpost-mig-'))
    try {
      const file = join(dir, 'old.db')
      const raw = new BetterSqlite3(file)
      await withOldAttempt(sqliteMigrations, async (s) => void raw.exec(s))
      raw.close()
      const store = openSqliteStore(file)
      try {
        await oldAttemptAfterMigrating(store)
      } finally {
        await store.close()
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it.runIf(postgres.ok || postgresRequired)(
    'reads an attempt written before it with all its headers, on PostgreSQL',
    async () => {
      const db = await freshDatabase()
      try {
        const c = new pg.Client({ connectionString: db.url })
        await c.connect()
        await withOldAttempt(postgresMigrations, async (s) => void (await c.query(s)))
        await c.end()
        const store = openPostgresStore(db.url)
        try {
          await oldAttemptAfterMigrating(store)
        } finally {
          await store.close()
        }
      } finally {
        await db.drop()
      }
    },
  )
})

/**
 * Intended differences between the two schemas, column by column. Anything else that differs
 * (a column, its type family, nullability or default, an index) fails the test below.
 */
const intendedDifferences: readonly AllowedDifference[] = [
  {
    table: 'events',
    column: 'body',
    sqlite: { type: 'blob' },
    postgres: { type: 'bytea' },
    // The received bytes, kept as they are (never jsonb): each engine's byte string.
    why: 'raw bytes',
  },
  // The feed's commit order: SQLite takes feed_seq from feed_sequence inside its single-writer
  // transaction (so the column has no default); PostgreSQL's columns default to a sequence and
  // the transaction id, read against pg_snapshot_xmin (docs/feed.md).
  ...(['feed_seq', 'feed_tx'] as const).map((column) => ({
    table: 'events',
    column,
    sqlite: { hasDefault: false },
    postgres: { hasDefault: true },
    why: 'feed order',
  })),
]

const engineOnlyTables: readonly EngineOnlyTable[] = [
  { table: 'feed_sequence', only: 'SQLite', why: "the feed's counter; PostgreSQL has a sequence" },
]

async function migratedSqlite(): Promise<SchemaShape> {
  const dir = mkdtempSync(join(tmpdir(), 'hookpost-shape-'))
  try {
    const file = join(dir, 'shape.db')
    const store = openSqliteStore(file)
    await store.migrate()
    await store.close()
    const raw = new BetterSqlite3(file, { readonly: true })
    try {
      return sqliteSchema(raw)
    } finally {
      raw.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

describe('the two schemas, column by column', () => {
  it.runIf(postgres.ok || postgresRequired)(
    'match after every migration, but for the intended differences',
    async () => {
      const db = await freshDatabase()
      try {
        const store = openPostgresStore(db.url)
        await store.migrate()
        await store.close()
        const c = new pg.Client({ connectionString: db.url })
        await c.connect()
        const pgShape = await postgresSchema(c).finally(() => c.end())
        const sqliteShape = await migratedSqlite()
        expect(Object.keys(sqliteShape.tables).length).toBeGreaterThan(10)
        expect(compareSchemas(sqliteShape, pgShape, intendedDifferences, engineOnlyTables)).toEqual([])
      } finally {
        await db.drop()
      }
    },
  )

  it('the comparison names each planted mismatch', async () => {
    const good = await migratedSqlite()
    const planted: SchemaShape = structuredClone(good)
    const deliveries = planted.tables['deliveries']!
    delete deliveries['lease_token']
    deliveries['next_attempt_at'] = { ...deliveries['next_attempt_at']!, notNull: true }
    planted.tables['events']!['body']!.type = 'text'
    planted.indexes['deliveries_due'] = { ...planted.indexes['deliveries_due']!, partial: false }
    planted.indexes['credentials(key)'] = { ...planted.indexes['credentials(key)']!, unique: false }
    delete planted.indexes['audit_log_action']
    expect(compareSchemas(good, good, intendedDifferences)).toEqual([])
    expect(compareSchemas(good, planted, intendedDifferences)).toEqual([
      'column deliveries.lease_token: only on SQLite',
      'column deliveries.next_attempt_at: notNull is false on SQLite, true on PostgreSQL',
      'column events.body: type is blob on SQLite, text on PostgreSQL',
      'index audit_log_action: only on SQLite',
      expect.stringMatching(/^index credentials\(key\): .*"unique":true.*"unique":false/),
      expect.stringMatching(/^index deliveries_due: .*"partial":true.*"partial":false/),
    ])
  })
})
