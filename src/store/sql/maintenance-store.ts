// Maintenance over Kysely (both adapters): the retention sweep and the cluster locks that elect
// one node for a periodic task.
import type { Store } from '../store.ts'
import { maxOperationalSendAttempts } from './operational-event-store.ts'
import type { SqlContext } from './sql-store.ts'

export function sqlMaintenance({ db, run, relaxed }: SqlContext): Store['maintenance'] {
  return {
    sweep: (before, limit) =>
      run(() =>
        relaxed(async (tx) => {
          const old = (
            await tx
              .selectFrom('deliveries')
              .select('id')
              .where('created', '<', before)
              .where('status', '!=', 'pending')
              .orderBy('created')
              .limit(limit)
              .execute()
          ).map((r) => r.id)
          let attempts = 0
          let deliveries = 0
          if (old.length > 0) {
            attempts = Number(
              (await tx.deleteFrom('attempts').where('delivery_id', 'in', old).executeTakeFirst())
                .numDeletedRows,
            )
            deliveries = Number(
              (await tx.deleteFrom('deliveries').where('id', 'in', old).executeTakeFirst()).numDeletedRows,
            )
          }
          // An event goes once none of its deliveries is left (pending ones keep it).
          const events = Number(
            (
              await tx
                .deleteFrom('events')
                .where('id', 'in', (eb) =>
                  eb
                    .selectFrom('events as e')
                    .select('e.id')
                    .where('e.created', '<', before)
                    .where(({ not, exists, selectFrom }) =>
                      not(
                        exists(
                          selectFrom('deliveries as d').select('d.id').whereRef('d.event_id', '=', 'e.id'),
                        ),
                      ),
                    )
                    .limit(limit),
                )
                .executeTakeFirst()
            ).numDeletedRows,
          )
          const operationalEvents = Number(
            (
              await tx
                .deleteFrom('operational_events')
                .where('created', '<', before)
                .where((w) =>
                  w.or([w('sent_at', 'is not', null), w('send_attempts', '>=', maxOperationalSendAttempts)]),
                )
                .executeTakeFirst()
            ).numDeletedRows,
          )
          return { events, deliveries, attempts, operationalEvents }
        }),
      ),
    tryLock: (name, holder, now, ttlMs) =>
      run(async () => {
        await db
          .insertInto('cluster_locks')
          .values({ name, holder, expires: now + ttlMs })
          .onConflict((oc) =>
            oc
              .column('name')
              .doUpdateSet({ holder, expires: now + ttlMs })
              .where((w) =>
                w.or([w('cluster_locks.holder', '=', holder), w('cluster_locks.expires', '<=', now)]),
              ),
          )
          .execute()
        const r = await db
          .selectFrom('cluster_locks')
          .select('holder')
          .where('name', '=', name)
          .executeTakeFirst()
        return r?.holder === holder
      }),
  }
}
