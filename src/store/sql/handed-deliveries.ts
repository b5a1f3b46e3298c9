// Hand-offs outside the due indexes (SqlDialectTraits.handedOutsideDue): a delivery a publish
// hands to the local worker is inserted leased and `handed`, which keeps it out of
// deliveries_due and deliveries_sub_due (their predicate is `handed is null`): their
// per-subscription entries land in the middle of the index and were a third of a delivery's
// insert. Every statement that makes a pending row due again clears the mark; a lease that runs
// out before its delivery is settled (a crash, a worker that gave up) is moved into the due
// indexes here, through deliveries_handed, before anyone looks for due work. Queries that read
// the due indexes say `handed is null`, which is what lets SQLite use them.
import { sql } from 'kysely'
import type { PreparedQueries } from './prepared-queries.ts'
import type { Db } from './row-mappers.ts'
import { pendingLiteral } from './statement-shapes.ts'

/** `handed is null`, inlined: with it a query's condition implies the due indexes' predicate. */
export const notHanded = sql<boolean>`handed is null`

/** The rows deliveries_handed holds (with `status = 'pending'`). */
export const handed = sql<boolean>`handed is not null`

/**
 * Makes the handed deliveries whose lease ran out by `now` due, as any expired lease is: before
 * each claim and each look for due work, and before a hold. Prepared where it runs often.
 */
export async function dueHanded(tx: Db, now: number, prepared?: PreparedQueries): Promise<void> {
  const build = (at: number) =>
    tx
      .updateTable('deliveries')
      .set({ handed: null })
      .where('status', '=', pendingLiteral)
      .where('handed', 'is not', null)
      .where('next_attempt_at', '<=', at)
  if (!prepared) {
    await build(now).execute()
    return
  }
  await tx.executeQuery(prepared.get('handed.due', (p) => build(p('now'))).bind({ now }))
}

/**
 * A subscription given a budget (maxInFlight counts its leases in deliveries_sub_due): its
 * hand-offs still in flight enter the due indexes, so that the budget counts them too.
 */
export async function unmarkHanded(tx: Db, subscriptionId: string): Promise<void> {
  await tx
    .updateTable('deliveries')
    .set({ handed: null })
    .where('status', '=', pendingLiteral)
    .where('handed', 'is not', null)
    // Through deliveries_handed (the rows in flight), not through the subscription's history:
    // `|| ''` keeps the planner off deliveries_sub_created.
    .where(sql`subscription_id || ''`, '=', subscriptionId)
    .execute()
}
