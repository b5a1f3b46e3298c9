// The health of the subscriptions a batch of outcomes touched, inside the completion's
// transaction: their rows read in one statement and written in one, whatever their number. The
// core's completion rules decide the health; this module only reads and persists it.
import { type Insertable, sql, type Transaction } from 'kysely'
import type { CompletionRules } from '../store.ts'
import type { Database } from './database.ts'
import { opEvent } from './operational-event-store.ts'
import type { PreparedQueries } from './prepared-queries.ts'
import { numOrNull } from './row-mappers.ts'
import { insertChunkMax, listParams, listValues, padded } from './statement-shapes.ts'
import { holdPending } from './subscription-holds.ts'
import { cancelPending } from './subscription-store.ts'

/** One subscription's outcomes of a batch, in order (`ok` = success), and whether one was 410 Gone. */
export interface SubscriptionOutcomes {
  envId: string
  results: { ok: boolean; at: number }[]
  gone: boolean
}

/**
 * Settles each subscription's health by the core's rules and records it; holds the retries of
 * held subscriptions and deactivates those the rules say to. Returns the operational events to
 * record.
 */
export async function settleSubscriptionHealth(
  tx: Transaction<Database>,
  prepared: PreparedQueries,
  lock: boolean,
  outcomes: ReadonlyMap<string, SubscriptionOutcomes>,
  now: number,
  rules: CompletionRules,
): Promise<Insertable<Database['operational_events']>[]> {
  const ops: Insertable<Database['operational_events']>[] = []
  // Health rows are shared between workers: read (and locked) in one order, by id, so that two
  // workers' batches cannot deadlock on PostgreSQL. Chunks keep the bound parameters in bounds.
  const ids = [...outcomes.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  for (let i = 0; i < ids.length; i += insertChunkMax) {
    const chunk = ids.slice(i, i + insertChunkMax)
    const rows = await readHealth(tx, prepared, lock, chunk)
    const health: HealthRow[] = []
    const deactivated: { id: string; reason: string }[] = []
    for (const sub of rows) {
      const entry = outcomes.get(sub.id)!
      // A retry scheduled for a held subscription waits for its release instead.
      if (Number(sub.held) === 1) await holdPending(tx, sub.id, now)
      const verdict = rules.settle(
        {
          active: Number(sub.active) === 1,
          consecutiveFailures: Number(sub.consecutive_failures),
          failingSince: numOrNull(sub.failing_since),
          lastSuccessAt: numOrNull(sub.last_success_at),
          lastFailureAt: numOrNull(sub.last_failure_at),
        },
        entry.results,
        entry.gone,
        now,
      )
      health.push([
        sub.id,
        verdict.consecutiveFailures,
        verdict.failingSince,
        verdict.lastSuccessAt,
        verdict.lastFailureAt,
        verdict.successes,
        verdict.failures,
      ])
      if (verdict.deactivate !== null) {
        deactivated.push({ id: sub.id, reason: verdict.deactivate })
        const event = rules.deactivated(sub.id, verdict)
        ops.push(opEvent(entry.envId, event.type, now, event.data))
      }
    }
    if (health.length > 0) await writeHealth(tx, prepared, health)
    // Rare: one statement each, beside the cancellation of the subscription's pending work.
    for (const d of deactivated) {
      await tx
        .updateTable('subscriptions')
        .set({ active: 0, deactivated_reason: d.reason, updated: now })
        .where('id', '=', d.id)
        .execute()
      await cancelPending(tx, d.id, now, `subscription_${d.reason}`)
    }
  }
  return ops
}

/** The rows of these subscriptions (a missing one has none), ordered by id. */
async function readHealth(
  tx: Transaction<Database>,
  prepared: PreparedQueries,
  lock: boolean,
  ids: string[],
) {
  const list = padded(ids)
  const read = prepared.get(`complete.health.read:${list.length}`, (p) =>
    tx
      .selectFrom('subscriptions')
      .select([
        'id',
        'active',
        'held',
        'consecutive_failures',
        'failing_since',
        'last_success_at',
        'last_failure_at',
      ])
      .where('id', 'in', listParams(p, 'id', list.length))
      .orderBy('id')
      // Locked (PostgreSQL; written below anyway): a release of a held subscription committing
      // meanwhile waits, then sees the retries this batch holds.
      .$if(lock, (q) => q.forUpdate()),
  )
  return (await tx.executeQuery(read.bind(listValues('id', list)))).rows
}

/** id, consecutive failures, failing since, last success, last failure, successes, failures. */
type HealthRow = [string, number, number | null, number | null, number | null, number, number]

const healthColumns = 7

/**
 * Writes the settled health of many subscriptions in one UPDATE … FROM a list of values (SQLite
 * ≥ 3.33 and PostgreSQL alike), padded like the other lists: a repeated row joins the same
 * subscription again, and either database updates a row once per statement.
 */
async function writeHealth(tx: Transaction<Database>, prepared: PreparedQueries, rows: HealthRow[]) {
  const list = padded(rows)
  const write = prepared.get(`complete.health.write:${list.length}`, (p) =>
    tx
      .with('v(id, consecutive, failing_since, last_success, last_failure, successes, failures)', () =>
        valuesList(list.length, (k) => listParams(p, `${k}.`, healthColumns)),
      )
      .updateTable('subscriptions')
      .from('v')
      // The values arrive untyped (text on PostgreSQL): cast to the columns' types.
      .set((eb) => ({
        consecutive_failures: sql<number>`cast(v.consecutive as integer)`,
        failing_since: sql<number | null>`cast(v.failing_since as bigint)`,
        last_success_at: sql<number | null>`cast(v.last_success as bigint)`,
        last_failure_at: sql<number | null>`cast(v.last_failure as bigint)`,
        success_count: eb('subscriptions.success_count', '+', sql<number>`cast(v.successes as bigint)`),
        failure_count: eb('subscriptions.failure_count', '+', sql<number>`cast(v.failures as bigint)`),
      }))
      .whereRef('subscriptions.id', '=', 'v.id'),
  )
  await tx.executeQuery(write.bindInOrder(list.flat()))
}

/** A row of the values the health UPDATE joins, as its statement names them. */
interface HealthValues {
  id: string
  consecutive: number
  failing_since: number | null
  last_success: number | null
  last_failure: number | null
  successes: number
  failures: number
}

/** `(values (…), (…))`: n rows of placeholders, parenthesized as a CTE body must be. */
function valuesList(n: number, row: (k: number) => ReturnType<typeof listParams>) {
  const rows = Array.from({ length: n }, (_, k) => sql`(${sql.join(row(k))})`)
  return sql<HealthValues>`(values ${sql.join(rows)})`
}
