// Operational events over Kysely (both adapters): written by the transactions whose outcome they
// report (opEvent), listed, and leased to the operator webhook's sender.
import type { Insertable } from 'kysely'
import { newId } from '../../shared/ids.ts'
import type { OperationalEventType, Store } from '../store.ts'
import type { Database } from './database.ts'
import { toOperationalEvent } from './row-mappers.ts'
import type { SqlContext } from './sql-store.ts'

/** An operational event is offered to the operator webhook at most this many times. */
export const maxOperationalSendAttempts = 20

export function sqlOperationalEvents({ db, traits, run, relaxed }: SqlContext): Store['operationalEvents'] {
  return {
    list: (f) =>
      run(async () =>
        (
          await db
            .selectFrom('operational_events')
            .selectAll()
            .$if(f.envId !== undefined, (q) => q.where('env_id', '=', f.envId!))
            .$if(f.type !== undefined, (q) => q.where('type', '=', f.type!))
            .$if(f.beforeId !== undefined, (q) => q.where('id', '<', f.beforeId!))
            .orderBy('id', 'desc')
            .limit(f.limit)
            .execute()
        ).map(toOperationalEvent),
      ),
    claimUnsent: (now, limit, leaseMs) =>
      run(() =>
        relaxed(async (tx) => {
          const rows = await tx
            .updateTable('operational_events')
            .set((eb) => ({ next_send_at: now + leaseMs, send_attempts: eb('send_attempts', '+', 1) }))
            .where('id', 'in', (eb) =>
              eb
                .selectFrom('operational_events')
                .select('id')
                .where('sent_at', 'is', null)
                .where('send_attempts', '<', maxOperationalSendAttempts)
                .where((w) => w.or([w('next_send_at', 'is', null), w('next_send_at', '<=', now)]))
                .orderBy('id')
                .limit(limit)
                .$if(traits.skipLocked, (q) => q.forUpdate().skipLocked()),
            )
            .returningAll()
            .execute()
          return rows.map(toOperationalEvent)
        }),
      ),
    markSent: (ids, now) =>
      run(async () => {
        if (ids.length === 0) return
        await db
          .updateTable('operational_events')
          .set({ sent_at: now })
          .where('id', 'in', [...ids])
          .execute()
      }),
    markUnsent: (id, nextAt) =>
      run(async () => {
        await db
          .updateTable('operational_events')
          .set({ next_send_at: nextAt })
          .where('id', '=', id)
          .execute()
      }),
  }
}

/** The row of an operational event, inserted in the transaction that decided it. */
export function opEvent(
  envId: string | null,
  type: OperationalEventType,
  now: number,
  data: Record<string, unknown>,
): Insertable<Database['operational_events']> {
  return {
    id: newId('oev', now),
    env_id: envId,
    type,
    data: JSON.stringify(data),
    created: now,
    sent_at: null,
    next_send_at: null,
  }
}
