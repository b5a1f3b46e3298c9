// Replay jobs over Kysely (both adapters): created with their count, then stepped by a worker,
// one chunk of re-queued deliveries a transaction.
import type { Store } from '../store.ts'
import type { Database } from './database.ts'
import { opEvent } from './operational-event-store.ts'
import { type Db, toReplay } from './row-mappers.ts'
import type { SqlContext } from './sql-store.ts'
import { holdWhereHeld } from './subscription-holds.ts'

export function sqlReplays({ db, traits, run, relaxed }: SqlContext): Store['replays'] {
  return {
    create: (job) =>
      run(() =>
        db.transaction().execute(async (tx) => {
          const n = await replayTargets(
            tx,
            job.envId,
            job.subscriptionId,
            job.since,
            job.until,
            job.statusFilter,
            null,
          )
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
          const row: Database['replay_jobs'] = {
            id: job.id,
            env_id: job.envId,
            subscription_id: job.subscriptionId,
            since: job.since,
            until: job.until,
            status_filter: job.statusFilter,
            state: Number(n.n) === 0 ? 'finished' : 'running',
            total: Number(n.n),
            done: 0,
            cursor: null,
            lease_until: null,
            created: job.created,
            updated: job.created,
          }
          await tx.insertInto('replay_jobs').values(row).execute()
          return toReplay(row)
        }),
      ),
    get: (envId, id) =>
      run(async () => {
        const r = await db
          .selectFrom('replay_jobs')
          .selectAll()
          .where('env_id', '=', envId)
          .where('id', '=', id)
          .executeTakeFirst()
        return r && toReplay(r)
      }),
    list: (envId, subscriptionId) =>
      run(async () =>
        (
          await db
            .selectFrom('replay_jobs')
            .selectAll()
            .where('env_id', '=', envId)
            .$if(subscriptionId !== undefined, (q) => q.where('subscription_id', '=', subscriptionId!))
            .orderBy('id', 'desc')
            .limit(100)
            .execute()
        ).map(toReplay),
      ),
    cancel: (envId, id, now) =>
      run(async () => {
        const r = await db
          .updateTable('replay_jobs')
          .set({ state: 'cancelled', updated: now })
          .where('env_id', '=', envId)
          .where('id', '=', id)
          .where('state', '=', 'running')
          .returningAll()
          .executeTakeFirst()
        if (r) return toReplay(r)
        const cur = await db
          .selectFrom('replay_jobs')
          .selectAll()
          .where('env_id', '=', envId)
          .where('id', '=', id)
          .executeTakeFirst()
        return cur && toReplay(cur)
      }),
    step: (now, opts) =>
      run(async () => {
        let requeued = false
        const step = await relaxed(async (tx) => {
          const job = await tx
            .selectFrom('replay_jobs')
            .selectAll()
            .where('state', '=', 'running')
            .orderBy('id')
            .limit(1)
            .$if(traits.skipLocked, (q) => q.forUpdate().skipLocked())
            .executeTakeFirst()
          if (!job) return undefined
          // One row past the chunk tells whether this step is the last: a job is finished by the
          // step that re-queues its last deliveries, not by an empty step after it.
          const found = (
            await replayTargets(
              tx,
              job.env_id,
              job.subscription_id,
              Number(job.since),
              Number(job.until),
              job.status_filter,
              job.cursor,
            )
              .select('id')
              .orderBy('id')
              .limit(opts.chunk + 1)
              .execute()
          ).map((r) => r.id)
          const ids = found.slice(0, opts.chunk)
          if (ids.length > 0) {
            // A fresh budget of the subscription's own schedule when it has one.
            const sub = await tx
              .selectFrom('subscriptions')
              .select('retry_schedule')
              .where('id', '=', job.subscription_id)
              .executeTakeFirst()
            const extra =
              sub?.retry_schedule != null && opts.extraAttemptsFor
                ? opts.extraAttemptsFor(JSON.parse(sub.retry_schedule) as number[])
                : opts.extraAttempts
            await tx
              .updateTable('deliveries')
              .set((eb) => ({
                status: 'pending',
                next_attempt_at: now,
                lease_token: null,
                handed: null,
                attempt_limit: eb('attempts', '+', extra),
                updated: now,
              }))
              .where('id', 'in', ids)
              // One in flight right now keeps its lease; it is being attempted anyway.
              .where((w) =>
                w.or([
                  w('status', '!=', 'pending'),
                  w('lease_token', 'is', null),
                  w('next_attempt_at', '<=', now),
                ]),
              )
              .execute()
            await holdWhereHeld(tx, [job.subscription_id], now, traits.skipLocked)
            requeued = true
          }
          const done = Number(job.done) + ids.length
          const finished = found.length <= opts.chunk
          const updated = await tx
            .updateTable('replay_jobs')
            .set({
              done: Math.min(done, Number(job.total)),
              cursor: ids.length > 0 ? ids[ids.length - 1]! : job.cursor,
              state: finished ? 'finished' : 'running',
              updated: now,
            })
            .where('id', '=', job.id)
            .returningAll()
            .executeTakeFirstOrThrow()
          if (finished) {
            await tx
              .insertInto('operational_events')
              .values(
                opEvent(job.env_id, 'replay.finished', now, {
                  replayId: job.id,
                  subscriptionId: job.subscription_id,
                  requeued: done,
                }),
              )
              .execute()
          }
          return toReplay(updated)
        })
        if (requeued) traits.announceWork?.()
        return step
      }),
  }
}

/** The deliveries a replay job re-queues, after its cursor. */
function replayTargets(
  db: Db,
  envId: string,
  subscriptionId: string,
  since: number,
  until: number,
  status: string | null,
  afterId: string | null,
) {
  return db
    .selectFrom('deliveries')
    .where('env_id', '=', envId)
    .where('subscription_id', '=', subscriptionId)
    .where('created', '>=', since)
    .where('created', '<', until)
    .$if(status !== null, (q) => q.where('status', '=', status!))
    .$if(afterId !== null, (q) => q.where('id', '>', afterId!))
}
