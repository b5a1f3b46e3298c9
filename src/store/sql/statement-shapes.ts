// The shapes of prepared statements: `in` lists padded to a power of two and multi-row inserts in
// power-of-two chunks, so that few statement shapes serve any number of items; the status literal
// that lets the partial indexes serve a query.
import { type Compilable, sql, type Transaction } from 'kysely'
import type { Database } from './database.ts'
import type { Param, PreparedQueries } from './prepared-queries.ts'

/**
 * 'pending' inlined as a literal: the partial indexes (`where status = 'pending'`) can serve a
 * query only when its condition visibly implies theirs, which a bound parameter does not.
 */
export const pendingLiteral = sql.lit('pending')

/**
 * Most rows per multi-row INSERT: keeps bound parameters (rows × columns) far under SQLite's and
 * PostgreSQL's limits.
 */
export const insertChunkMax = 256

/**
 * A list padded to the next power of two by repeating its last item: an `in (…)` list of any
 * length then takes one of a few prepared shapes, and a repeated item changes nothing.
 */
export function padded<T>(items: readonly T[]): T[] {
  let size = 1
  while (size < items.length) size *= 2
  const out = [...items]
  while (out.length < size) out.push(items[items.length - 1]!)
  return out
}

/**
 * `(id, lease_token) in (values …)` over n prepared pairs id0/token0, id1/token1, …: the rows
 * still leased under these tokens (a newer lease or a finished delivery is left alone).
 */
export function stillLeased(p: Param, n: number) {
  return sql<boolean>`(id, lease_token) in (values ${sql.join(
    Array.from({ length: n }, (_, i) => sql`(${p(`id${i}`)}, ${p(`token${i}`)})`),
  )})`
}

/** The values of stillLeased for these items, added to `values`. */
export function stillLeasedValues(
  items: readonly { id: string; leaseToken: string }[],
  values: Record<string, unknown>,
): Record<string, unknown> {
  for (const [i, r] of items.entries()) {
    values[`id${i}`] = r.id
    values[`token${i}`] = r.leaseToken
  }
  return values
}

/** The placeholders name0, name1, … of a prepared query's list of n items. */
export function listParams(p: Param, name: string, n: number): ReturnType<Param>[] {
  return Array.from({ length: n }, (_, i) => p(`${name}${i}`))
}

/** name0, name1, … → the items, for a prepared query's list placeholders. */
export function listValues(name: string, items: readonly unknown[]): Record<string, unknown> {
  const values: Record<string, unknown> = {}
  for (const [i, v] of items.entries()) values[`${name}${i}`] = v
  return values
}

/**
 * A multi-row insert as prepared statements: up to 32 rows in one statement of that size, more
 * in chunks of power-of-two sizes (at most insertChunkMax rows), so that a few shapes serve any
 * number of rows and the common fan-outs take one statement.
 */
export async function insertRows<C extends string>(
  tx: Transaction<Database>,
  prepared: PreparedQueries,
  key: string,
  columns: readonly C[],
  rows: readonly Partial<Record<C, unknown>>[],
  build: (values: Record<C, ReturnType<Param>>[]) => Compilable<unknown>,
): Promise<void> {
  for (let i = 0; i < rows.length; ) {
    let size = rows.length - i
    if (size > 32) {
      size = 1
      while (size * 2 <= Math.min(rows.length - i, insertChunkMax)) size *= 2
    }
    const chunk = rows.slice(i, i + size)
    i += size
    const insert = prepared.get(`${key}:${size}`, (p) => build(chunk.map((_, k) => rowParams(p, k, columns))))
    await tx.executeQuery(insert.bindInOrder(rowValues(chunk, columns)))
  }
}

/** Row k of a prepared multi-row insert: one placeholder per column. */
export function rowParams<C extends string>(
  p: Param,
  k: number,
  columns: readonly C[],
): Record<C, ReturnType<Param>> {
  return Object.fromEntries(columns.map((c) => [c, p(`${k}.${c}`)])) as Record<C, ReturnType<Param>>
}

/** The values of a prepared multi-row insert, in its placeholders' order (row by row). */
export function rowValues<C extends string>(
  rows: readonly Partial<Record<C, unknown>>[],
  columns: readonly C[],
): unknown[] {
  const values: unknown[] = []
  for (const r of rows) for (const c of columns) values.push(r[c] ?? null)
  return values
}
