// Subscriptions over Kysely (both adapters): their rows, and what changing one does to its pending
// deliveries (deactivated or deleted: cancelled; held or released: subscription-holds.ts).
import type { Store } from '../store.ts'
import { destinationColumns } from './destination-columns.ts'
import { unmarkHanded } from './handed-deliveries.ts'
import { type Db, endpointColumns, toSubscription } from './row-mappers.ts'
import type { SqlContext } from './sql-store.ts'
import { deleteBudget, settingsColumns } from './subscription-budgets.ts'
import { applyHeld, claimVerifications, holdColumns, recordVerification } from './subscription-holds.ts'

export function sqlSubscriptions({ db, traits, run, relaxed }: SqlContext): Store['subscriptions'] {
  const subscriptions: Store['subscriptions'] = {
    list: (envId) =>
      run(async () =>
        (
          await db.selectFrom('subscriptions').selectAll().where('env_id', '=', envId).orderBy('id').execute()
        ).map(toSubscription),
      ),
    get: (envId, id) =>
      run(async () => {
        const r = await db
          .selectFrom('subscriptions')
          .selectAll()
          .where('env_id', '=', envId)
          .where('id', '=', id)
          .executeTakeFirst()
        return r && toSubscription(r)
      }),
    getMany: (ids) =>
      run(async () =>
        ids.length === 0
          ? []
          : (
              await db
                .selectFrom('subscriptions')
                .selectAll()
                .where('id', 'in', [...ids])
                .execute()
            ).map(toSubscription),
      ),
    create: (s) =>
      run(async () => {
        await db
          .insertInto('subscriptions')
          .values({
            id: s.id,
            env_id: s.envId,
            event: s.event,
            url: s.url,
            active: s.active ? 1 : 0,
            ordered: s.ordered ? 1 : 0,
            created: s.created,
            updated: s.updated,
            ...destinationColumns(s),
            ...endpointColumns(s),
            ...settingsColumns(s.settings),
            transformation: s.transformation ?? null,
            ...holdColumns(s),
          })
          .execute()
      }),
    update: (s) =>
      run(async () => {
        let released = false
        const updated = await db.transaction().execute(async (tx) => {
          // Locked (PostgreSQL) so that a verification recorded meanwhile cannot interleave.
          const before = await tx
            .selectFrom('subscriptions')
            .select('held')
            .where('env_id', '=', s.envId)
            .where('id', '=', s.id)
            .$if(traits.skipLocked, (q) => q.forUpdate())
            .executeTakeFirst()
          if (!before) return false
          const r = await tx
            .updateTable('subscriptions')
            .set({
              event: s.event,
              url: s.url,
              active: s.active ? 1 : 0,
              ordered: s.ordered ? 1 : 0,
              updated: s.updated,
              deactivated_reason: s.deactivatedReason,
              transformation: s.transformation ?? null,
              consecutive_failures: s.health.consecutiveFailures,
              failing_since: s.health.failingSince,
              ...destinationColumns(s),
              ...endpointColumns(s),
              ...settingsColumns(s.settings),
              ...holdColumns(s),
            })
            .where('env_id', '=', s.envId)
            .where('id', '=', s.id)
            .executeTakeFirst()
          if (Number(r.numUpdatedRows) === 0) return false
          if ((s.settings?.maxInFlight ?? null) !== null) await unmarkHanded(tx, s.id)
          if (!s.active) await cancelPending(tx, s.id, s.updated, 'subscription_inactive')
          else released = await applyHeld(tx, s, Number(before.held) === 1, s.updated)
          return true
        })
        if (released) traits.announceWork?.()
        return updated
      }),
    delete: (envId, id, now) =>
      run(() =>
        db.transaction().execute(async (tx) => {
          const r = await tx
            .deleteFrom('subscriptions')
            .where('env_id', '=', envId)
            .where('id', '=', id)
            .executeTakeFirst()
          if (Number(r.numDeletedRows) === 0) return false
          await cancelPending(tx, id, now, 'subscription_deleted')
          await deleteBudget(tx, id)
          return true
        }),
      ),
    claimVerifications: (now, limit, leaseMs) =>
      run(async () => {
        const ids = await relaxed((tx) => claimVerifications(tx, now, limit, leaseMs, traits.skipLocked))
        return subscriptions.getMany(ids)
      }),
    recordVerification: (id, challenge, outcome, now) =>
      run(async () => {
        const r = await db.transaction().execute((tx) => recordVerification(tx, id, challenge, outcome, now))
        if (r.released) traits.announceWork?.()
        return r.applied
      }),
    listSealedEndpoints: (afterId, limit) =>
      run(async () =>
        (
          await db
            .selectFrom('subscriptions')
            .select(['id', 'env_id', 'endpoint_secret_key_id', 'endpoint_secret'])
            .where('endpoint_secret', 'is not', null)
            .$if(afterId !== null, (q) => q.where('id', '>', afterId!))
            .orderBy('id')
            .limit(limit)
            .execute()
        ).map((r) => ({
          id: r.id,
          envId: r.env_id,
          keyId: r.endpoint_secret_key_id ?? '',
          ciphertext: r.endpoint_secret ?? '',
        })),
      ),
    resealEndpoint: (id, keyId, ciphertext) =>
      run(async () => {
        const r = await db
          .updateTable('subscriptions')
          .set({ endpoint_secret_key_id: keyId, endpoint_secret: ciphertext })
          .where('id', '=', id)
          .where('endpoint_secret', 'is not', null)
          .executeTakeFirst()
        return Number(r.numUpdatedRows) > 0
      }),
  }
  return subscriptions
}

/** Cancels a subscription's pending deliveries (deactivated, deleted), with the reason as their last error. */
export async function cancelPending(
  tx: Db,
  subscriptionId: string,
  now: number,
  reason: string,
): Promise<void> {
  await tx
    .updateTable('deliveries')
    .set({ status: 'cancelled', next_attempt_at: null, lease_token: null, last_error: reason, updated: now })
    .where('subscription_id', '=', subscriptionId)
    .where('status', '=', 'pending')
    .execute()
}
