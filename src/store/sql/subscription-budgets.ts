// The per-subscription budget of a claim (rateLimit, maxInFlight): shared by every claimer
// because it lives in the claim's own transaction. A limited subscription's budget row is locked
// (PostgreSQL: FOR UPDATE, in id order so that claims never deadlock; SQLite has one writer),
// then the claim takes at most what the window has left and what fits beside its unexpired
// leases. The rest of its due rows are left as they are: pending, due, no attempt counted.
import { type Kysely, sql, type Transaction } from 'kysely'
import type { SubscriptionSettings } from '../store.ts'
import type { Database } from './database.ts'
import { notHanded } from './handed-deliveries.ts'

/** How soon a claimer asks again for a subscription held back by maxInFlight alone. */
export const inFlightRecheckMs = 500

/** The subscriptions table's settings columns, as written by create and update. */
export function settingsColumns(s: SubscriptionSettings | undefined) {
  return {
    retry_schedule: s?.retryScheduleMs ? JSON.stringify(s.retryScheduleMs) : null,
    timeout_ms: s?.timeoutMs ?? null,
    rate_limit_count: s?.rateLimit?.count ?? null,
    rate_limit_period_ms: s?.rateLimit?.periodMs ?? null,
    max_in_flight: s?.maxInFlight ?? null,
  }
}

export function toSettings(r: {
  retry_schedule: string | null
  timeout_ms: number | null
  rate_limit_count: number | null
  rate_limit_period_ms: number | null
  max_in_flight: number | null
}): SubscriptionSettings {
  return {
    retryScheduleMs: r.retry_schedule === null ? null : (JSON.parse(r.retry_schedule) as number[]),
    timeoutMs: r.timeout_ms === null ? null : Number(r.timeout_ms),
    rateLimit:
      r.rate_limit_count === null || r.rate_limit_period_ms === null
        ? null
        : { count: Number(r.rate_limit_count), periodMs: Number(r.rate_limit_period_ms) },
    maxInFlight: r.max_in_flight === null ? null : Number(r.max_in_flight),
  }
}

/** A subscription of a claim's due rows that has a rateLimit or a maxInFlight. */
export interface LimitedSubscription {
  id: string
  rate_limit_count: number | null
  rate_limit_period_ms: number | null
  max_in_flight: number | null
}

/**
 * The due rows (in due order) a claim may lease within each subscription's budget, and the
 * subscriptions held back with when to ask again. Spends the rate budget of what it returns.
 */
export async function withinBudgets<T extends { subscription_id: string }>(
  tx: Transaction<Database>,
  due: readonly T[],
  limited: readonly LimitedSubscription[],
  now: number,
  lockRows: boolean,
): Promise<{ rows: T[]; throttled: Map<string, number> }> {
  const throttled = new Map<string, number>()
  const room = new Map<string, number>()
  // Locked in id order: two claims never wait for each other's budget rows in a cycle.
  for (const s of [...limited].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    const period = s.rate_limit_period_ms === null ? null : Number(s.rate_limit_period_ms)
    const window = period === null ? 0 : Math.floor(now / period) * period
    await tx
      .insertInto('subscription_budgets')
      .values({ subscription_id: s.id, window_start: window, used: 0 })
      .onConflict((oc) => oc.column('subscription_id').doNothing())
      .execute()
    const budget = await tx
      .selectFrom('subscription_budgets')
      .select(['window_start', 'used'])
      .where('subscription_id', '=', s.id)
      .$if(lockRows, (q) => q.forUpdate())
      .executeTakeFirstOrThrow()
    const wanted = due.filter((r) => r.subscription_id === s.id).length
    let n = wanted
    let retryAt = now + inFlightRecheckMs
    if (s.max_in_flight !== null) {
      // Read after the lock: on PostgreSQL (read committed) this statement sees the leases of
      // every claim that held the lock before.
      const held = await tx
        .selectFrom('deliveries')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('subscription_id', '=', s.id)
        .where('status', '=', sql.lit('pending'))
        // A limited subscription's deliveries are never handed off (hand-off.ts), and setting a
        // limit moves those handed before into the due indexes (unmarkHanded): its leases are in
        // deliveries_sub_due, which this condition lets the query read.
        .where(notHanded)
        .where('next_attempt_at', '>', now)
        .where('lease_token', 'is not', null)
        .executeTakeFirstOrThrow()
      n = Math.min(n, Math.max(0, Number(s.max_in_flight) - Number(held.n)))
    }
    if (s.rate_limit_count !== null && period !== null) {
      // A claimer whose clock runs behind spends the newest window: budgets only move forward.
      const start = Math.max(Number(budget.window_start), window)
      const used = Number(budget.window_start) === start ? Number(budget.used) : 0
      const left = Math.max(0, Number(s.rate_limit_count) - used)
      if (left < n) retryAt = start + period
      n = Math.min(n, left)
      if (n > 0 || start !== Number(budget.window_start)) {
        await tx
          .updateTable('subscription_budgets')
          .set({ window_start: start, used: used + n })
          .where('subscription_id', '=', s.id)
          .execute()
      }
    }
    room.set(s.id, n)
    if (n < wanted) throttled.set(s.id, retryAt)
  }
  const rows: T[] = []
  for (const r of due) {
    const left = room.get(r.subscription_id)
    if (left === undefined) rows.push(r)
    else if (left > 0) {
      rows.push(r)
      room.set(r.subscription_id, left - 1)
    }
  }
  return { rows, throttled }
}

/** Forgets a deleted subscription's budget (after its deliveries were cancelled: see the lock order above). */
export async function deleteBudget(tx: Kysely<Database>, subscriptionId: string): Promise<void> {
  await tx.deleteFrom('subscription_budgets').where('subscription_id', '=', subscriptionId).execute()
}
