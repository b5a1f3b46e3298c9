// Baseline for bench/store-floor.ts: the writes of publish, claim and completion as bare
// PostgreSQL statements (pg, nothing between) on Hookpost's schema, or with the queue state in a
// narrow table beside the delivery log.
import type pg from 'pg'
import { newId } from '../../src/shared/ids.ts'
import { benchBody, drive, eventName, fanOut, meter, type Phases, type Shape } from '../lib/storage-phases.ts'

export async function barePostgres(
  c: pg.Client,
  events: number,
  shape: Shape,
  database: string,
): Promise<Phases> {
  const narrow = shape === 'narrow'
  const minimal = shape === 'minimal'
  // No delivery log to read back: only the due index and no attempt rows (see bare-sqlite.ts).
  if (minimal)
    await c.query(`drop index deliveries_env; drop index deliveries_event; drop index deliveries_sub_created;
      drop index deliveries_sub_due; drop index deliveries_ordering`)
  if (narrow) {
    await c.query(`drop index deliveries_due; drop index deliveries_sub_due; drop index deliveries_ordering;
      create table queue (delivery_id text primary key, subscription_id text not null, due_at bigint not null,
        lease_token text);
      create index queue_due on queue(due_at); create index queue_sub_due on queue(subscription_id, due_at)`)
  }
  const body = benchBody()
  // Hookpost's ids (src/shared/ids.ts): the index entries are the size Hookpost's are.
  const envId = newId('env')
  const subs = Array.from({ length: fanOut }, () => newId('sub'))
  return drive(events, meter(database), {
    async publish(batch) {
      const now = Date.now()
      const evs: string[] = []
      const dls: string[] = []
      const dlEvents: string[] = []
      const dlSubs: string[] = []
      for (let e = 0; e < batch; e++) {
        const ev = newId('evt', now)
        evs.push(ev)
        for (let s = 0; s < fanOut; s++) {
          dls.push(newId('dlv', now))
          dlEvents.push(ev)
          dlSubs.push(subs[s]!)
        }
      }
      await c.query('begin')
      await c.query(
        `insert into events (id, env_id, event_name, body, created) select e, $5, $2, $3, $4 from unnest($1::text[]) e`,
        [evs, eventName, body, now, envId],
      )
      await c.query(
        `insert into deliveries (id, env_id, event_id, subscription_id, event, status, attempts, attempt_limit, next_attempt_at, created, updated)
         select d, $6, e, s, $4, 'pending', 0, 10, $5, $5, $5 from unnest($1::text[], $2::text[], $3::text[]) as t(d, e, s)`,
        [dls, dlEvents, dlSubs, eventName, now, envId],
      )
      if (narrow)
        await c.query(`insert into queue select d, s, $3 from unnest($1::text[], $2::text[]) as t(d, s)`, [
          dls,
          dlSubs,
          now,
        ])
      await c.query('commit')
    },
    async claim(limit) {
      const now = Date.now()
      const rows = narrow
        ? (
            await c.query(
              `with q as (update queue set lease_token = 'tok', due_at = $1 where delivery_id in
                 (select delivery_id from queue where due_at <= $2 order by due_at limit ${limit} for update skip locked)
                 returning delivery_id)
               select d.id, d.env_id, d.subscription_id, d.attempts, e.body from q join deliveries d on d.id = q.delivery_id
                 join events e on e.id = d.event_id`,
              [now + 60_000, now],
            )
          ).rows
        : (
            await c.query(
              `with l as (update deliveries set lease_token = 'tok', next_attempt_at = $1, attempts = attempts + 1 where id in
                 (select id from deliveries where status = 'pending' and next_attempt_at <= $2 order by next_attempt_at
                   limit ${limit} for update skip locked)
                 returning id, env_id, event_id, subscription_id, attempts)
               select l.*, e.body from l join events e on e.id = l.event_id`,
              [now + 60_000, now],
            )
          ).rows
      return rows.map((r: { id: string }) => r.id)
    },
    async complete(ids) {
      const now = Date.now()
      await c.query('begin')
      await c.query('set local synchronous_commit = off')
      if (narrow) {
        await c.query(`delete from queue where delivery_id = any($1) and lease_token = 'tok'`, [ids])
        await c.query(
          `update deliveries set status = 'delivered', attempts = attempts + 1, last_status_code = 200, updated = $2 where id = any($1)`,
          [ids, now],
        )
      } else {
        await c.query(
          `update deliveries set status = 'delivered', next_attempt_at = null, lease_token = null, last_status_code = 200, updated = $2
           where id = any($1) and lease_token = 'tok' and status = 'pending'`,
          [ids, now],
        )
      }
      if (!minimal)
        await c.query(
          `insert into attempts (delivery_id, number, started, duration_ms, status_code, response_body, request_headers, lean_headers)
         select d, 1, $2, 2, 200, 'ok', '{}', 1 from unnest($1::text[]) d`,
          [ids, now],
        )
      await c.query('commit')
    },
  })
}
