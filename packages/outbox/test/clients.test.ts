// Writing through a query builder inside its transaction (docs/outbox.md, "Writing from other
// clients"): Kysely with outbox.row() and with outbox.insert(), on PostgreSQL and MariaDB. A
// committed transaction leaves the rows, a rolled-back one none.
import { CompiledQuery, Kysely, MysqlDialect, PostgresDialect } from 'kysely'
import { createPool } from 'mysql2'
import pg from 'pg'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { HookpostEvent } from '../src/index.js'
import { databaseUrls, type OutboxFixture, outboxFixture, testDialects } from './databases.ts'

const dialects = await testDialects()
const event: HookpostEvent = { eventName: 'store.order_updated', order: { ref: 42, status: 'paid' } }

describe.each(dialects)('writing with Kysely on %s', (dialect) => {
  let fx: OutboxFixture
  let db: Kysely<Record<string, Record<string, unknown>>>
  beforeEach(async () => {
    fx = await outboxFixture(dialect)
    db = new Kysely({
      dialect:
        dialect === 'postgres'
          ? new PostgresDialect({ pool: new pg.Pool({ connectionString: databaseUrls.postgres, max: 1 }) })
          : new MysqlDialect({ pool: createPool({ uri: databaseUrls.mysql, connectionLimit: 1 }) }),
    })
  })
  afterEach(async () => {
    await db.destroy()
    await fx.drop()
  })

  it('inserts outbox.row() and runs outbox.insert() in a transaction; a rollback leaves nothing', async () => {
    await db.transaction().execute(async (trx) => {
      await trx.insertInto(fx.table).values(fx.outbox.row(event)).execute()
      const s = fx.outbox.insert(event, { orderingKey: 'order-42' })
      await trx.executeQuery(CompiledQuery.raw(s.sql, s.params))
    })
    await expect(
      db.transaction().execute(async (trx) => {
        await trx.insertInto(fx.table).values(fx.outbox.row(event)).execute()
        throw new Error('rolled back')
      }),
    ).rejects.toThrow('rolled back')
    const rows = await fx.rows()
    expect(rows.map((r) => [r.payload, r.ordering_key])).toEqual([
      [JSON.stringify(event), null],
      [JSON.stringify(event), 'order-42'],
    ])
    expect(rows.every((r) => r.idempotency_key.startsWith('outbox:'))).toBe(true)
  })
})
