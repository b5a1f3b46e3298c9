// Prepared queries: compiled once, bound per run; constants of the query stay, every
// placeholder takes its value, and a missing value is an error rather than a silent null.
import BetterSqlite3 from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'
import { afterAll, describe, expect, it } from 'vitest'
import { PreparedQueries } from '../../src/store/sql/prepared-queries.ts'

interface Db {
  t: { a: number; b: string; c: string | null }
}

const db = new Kysely<Db>({ dialect: new SqliteDialect({ database: new BetterSqlite3(':memory:') }) })
afterAll(() => db.destroy())

describe('PreparedQuery', () => {
  it('binds by name, keeps the constants, and reuses one compiled query', async () => {
    await db.schema
      .createTable('t')
      .addColumn('a', 'integer')
      .addColumn('b', 'text')
      .addColumn('c', 'text')
      .execute()
    const cache = new PreparedQueries()
    const insert = (p: Parameters<Parameters<PreparedQueries['get']>[1]>[0]) =>
      db.insertInto('t').values([
        { a: p('a0'), b: p('b0'), c: 'fixed' },
        { a: p('a1'), b: p('b1'), c: null },
      ])
    const q = cache.get('insert2', insert)
    expect(cache.get('insert2', insert)).toBe(q)
    await db.executeQuery(q.bind({ a0: 1, b0: 'x', a1: 2, b1: 'y' }))
    await db.executeQuery(q.bindInOrder([3, 'z', 4, 'w']))
    const find = cache.get('find', (p) =>
      db.selectFrom('t').selectAll().where('a', '>=', p('min')).where('a', '<=', p('max')).orderBy('a'),
    )
    const rows = (await db.executeQuery(find.bind({ min: 2, max: 3 }))).rows
    expect(rows).toEqual([
      { a: 2, b: 'y', c: null },
      { a: 3, b: 'z', c: 'fixed' },
    ])
  })

  it('refuses to run with a placeholder left without a value', () => {
    const q = new PreparedQueries().get('one', (p) => db.selectFrom('t').selectAll().where('a', '=', p('a')))
    expect(() => q.bind({})).toThrow(/no value for a/)
    expect(() => q.bindInOrder([])).toThrow(/0 values for 1/)
  })
})
