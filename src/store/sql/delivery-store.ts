// Deliveries over Kysely (both adapters): the delivery log's reads, a retry asked for by hand, and
// the worker's queue (claim: delivery-claims.ts; outcomes: complete-deliveries.ts; give-backs).
import type { Store } from '../store.ts'
import { completeDeliveries } from './complete-deliveries.ts'
import { DeliveryClaims } from './delivery-claims.ts'
import { dueHanded, handed, notHanded } from './handed-deliveries.ts'
import { toAttempt, toDelivery } from './row-mappers.ts'
import type { SqlContext } from './sql-store.ts'
import { insertChunkMax, padded, pendingLiteral, stillLeased, stillLeasedValues } from './statement-shapes.ts'
import { holdWhereHeld } from './subscription-holds.ts'

export function sqlDeliveries(ctx: SqlContext): Store['deliveries'] {
  const { db, traits, run, relaxed, prepared } = ctx
  const claims = new DeliveryClaims(ctx)
  return {
    list: (envId, f) =>
      run(async () => {
        const rows = await db
          .selectFrom('deliveries')
          .selectAll()
          .where('env_id', '=', envId)
          .$if(f.subscriptionId !== undefined, (q) => q.where('subscription_id', '=', f.subscriptionId!))
          .$if(f.status !== undefined, (q) => q.where('status', '=', f.status!))
          .$if(f.beforeId !== undefined, (q) => q.where('id', '<', f.beforeId!))
          .orderBy('id', 'desc')
          .limit(f.limit)
          .execute()
        return rows.map(toDelivery)
      }),
    get: (envId, id) =>
      run(async () => {
        const r = await db
          .selectFrom('deliveries')
          .selectAll()
          .where('env_id', '=', envId)
          .where('id', '=', id)
          .executeTakeFirst()
        return r && toDelivery(r)
      }),
    attempts: (deliveryId) =>
      run(async () =>
        (
          await db
            .selectFrom('attempts')
            .selectAll()
            .where('delivery_id', '=', deliveryId)
            .orderBy('number')
            .execute()
        ).map(toAttempt),
      ),
    retryNow: (envId, id, now, { attemptLimit, seen }) =>
      run(async () => {
        const r = await db
          .updateTable('deliveries')
          .set({
            status: 'pending',
            next_attempt_at: now,
            attempt_limit: attemptLimit,
            handed: null,
            updated: now,
          })
          .where('env_id', '=', envId)
          .where('id', '=', id)
          .where('status', '=', seen.status)
          .where('attempts', '=', seen.attempts)
          .where('attempt_limit', '=', seen.attemptLimit)
          .where((w) =>
            w.not(
              w.exists(
                w
                  .selectFrom('subscriptions')
                  .select('subscriptions.id')
                  .whereRef('subscriptions.id', '=', 'deliveries.subscription_id')
                  .where('subscriptions.held', '=', 1),
              ),
            ),
          )
          // An attempt in flight holds a lease whose expiry is in the future.
          .where((w) =>
            w.or([
              w('lease_token', 'is', null),
              w('next_attempt_at', '<=', now),
              w('status', '!=', 'pending'),
            ]),
          )
          .returningAll()
          .executeTakeFirst()
        if (r) traits.announceWork?.()
        return r && toDelivery(r)
      }),
    claimDue: (input) => run(() => claims.claim(input)),
    complete: (results, now, rules) => run(() => completeDeliveries(ctx, results, now, rules)),
    dueSubscriptions: (now, limit) =>
      run(async () => {
        if (traits.handedOutsideDue) await relaxed((tx) => dueHanded(tx, now, prepared))
        return (
          await db
            .selectFrom('deliveries')
            // Read from deliveries_sub_due (pending rows only, by subscription): 50 ms with 300k
            // pending beside 300k delivered, where the (subscription_id, created) index walked
            // every delivery ever kept (435 ms, growing with the history).
            .select(['subscription_id', (eb) => eb.fn.min('next_attempt_at').as('oldest')])
            .where('status', '=', pendingLiteral)
            .where(notHanded)
            .where('next_attempt_at', '<=', now)
            .groupBy('subscription_id')
            .orderBy('oldest')
            .limit(limit)
            .execute()
        ).map((r) => r.subscription_id)
      }),
    backlog: (now) =>
      run(async () => {
        // The pending rows in the due indexes and the handed ones (deliveries_handed), each
        // counted from its own index: one query over both would read the table.
        const part = (inHanded: boolean) =>
          db
            .selectFrom('deliveries')
            .select((eb) => [
              eb.fn.countAll<number>().as('n'),
              // Held rows are the pending ones with no due time (count skips nulls).
              eb.fn.count<number>('id').filterWhere('next_attempt_at', 'is', null).as('held'),
              eb.fn.min('next_attempt_at').as('oldest'),
            ])
            .where('status', '=', pendingLiteral)
            .where(inHanded ? handed : notHanded)
            .executeTakeFirstOrThrow()
        const rs = await Promise.all([part(false), part(true)])
        const oldests = rs.filter((r) => r.oldest !== null).map((r) => Number(r.oldest))
        const oldest = oldests.length > 0 ? Math.min(...oldests) : null
        return {
          pending: rs.reduce((n, r) => n + Number(r.n), 0),
          held: rs.reduce((n, r) => n + Number(r.held), 0),
          oldestDueAt: oldest !== null && oldest <= now ? oldest : null,
        }
      }),
    release: (items, now) =>
      run(async () => {
        if (items.length === 0) return
        await relaxed(async (tx) => {
          const subs: string[] = []
          // Prepared, a chunk a statement: a stop or a paused subscription can give back a
          // whole overflow (tens of thousands) at once.
          for (let i = 0; i < items.length; i += insertChunkMax) {
            const chunk = padded(items.slice(i, i + insertChunkMax))
            const release = prepared.get(`deliveries.release:${chunk.length}`, (p) =>
              tx
                .updateTable('deliveries')
                .set((eb) => ({
                  lease_token: null,
                  handed: null,
                  next_attempt_at: p('now'),
                  attempts: eb('attempts', '-', 1),
                  updated: p('now'),
                }))
                .where('status', '=', pendingLiteral)
                .where(stillLeased(p, chunk.length))
                .returning('subscription_id'),
            )
            const { rows } = await tx.executeQuery(release.bind(stillLeasedValues(chunk, { now })))
            for (const r of rows) subs.push(r.subscription_id)
          }
          // Given back while its subscription is held: it waits there instead.
          await holdWhereHeld(tx, subs, now, traits.skipLocked)
        })
      }),
  }
}
