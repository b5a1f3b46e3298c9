// Baseline for bench/store-floor.ts: the writes of publish, claim and completion as bare SQLite
// statements (better-sqlite3, nothing between) on Hookpost's schema, or with the queue state in a
// narrow table beside the delivery log.
import type Database from 'better-sqlite3'
import { newId } from '../../src/shared/ids.ts'
import type { Shape } from '../lib/storage-phases.ts'
import { benchBody, drive, eventName, fanOut, meter, type Phases } from '../lib/storage-phases.ts'

const deliveryColumns =
  'id, env_id, event_id, subscription_id, event, status, attempts, attempt_limit, next_attempt_at, lease_token, last_status_code, last_error, ordering_key, created, updated'
const attemptColumns =
  'delivery_id, number, started, duration_ms, status_code, error, response_body, request_headers, response_headers, lean_headers'

const rowsOf = (n: number, width: number) =>
  Array.from({ length: n }, () => `(${Array(width).fill('?').join(',')})`).join(',')

export function bareSqlite(db: Database.Database, events: number, shape: Shape): Promise<Phases> {
  const narrow = shape === 'narrow'
  const minimal = shape === 'minimal'
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  // No delivery log to read back: only the due index and no attempt rows (what a minimal
  // durable queue writes; the contract's log needs the rest).
  if (minimal)
    db.exec(`drop index deliveries_env; drop index deliveries_event; drop index deliveries_sub_created;
      drop index deliveries_sub_due; drop index deliveries_ordering`)
  if (narrow) {
    // The queue state apart: what is due, when, under which lease; the log keeps the rest.
    db.exec(`drop index deliveries_due; drop index deliveries_sub_due; drop index deliveries_ordering;
      create table queue (delivery_id text primary key, subscription_id text not null, due_at integer not null,
        lease_token text) without rowid;
      create index queue_due on queue(due_at); create index queue_sub_due on queue(subscription_id, due_at)`)
  }
  const body = benchBody()
  // Hookpost's ids (src/shared/ids.ts): the index entries are the size Hookpost's are.
  const envId = newId('env')
  const subs = Array.from({ length: fanOut }, () => newId('sub'))
  const insertEvent = db.prepare(
    'insert into events (id, env_id, event_name, body, idempotency_key, ordering_key, created, traceparent) values (?,?,?,?,?,?,?,?)',
  )
  const insertDeliveries = db.prepare(
    `insert into deliveries (${deliveryColumns}) values ${rowsOf(fanOut, 15)}`,
  )
  const insertQueue = narrow ? db.prepare(`insert into queue values ${rowsOf(fanOut, 4)}`) : undefined
  const due = narrow
    ? db.prepare('select delivery_id as id from queue where due_at <= ? order by due_at limit ?')
    : db.prepare(
        `select id from deliveries where status = 'pending' and next_attempt_at <= ? order by next_attempt_at limit ?`,
      )
  const lease = new Map<number, Database.Statement>()
  const leaseOf = (n: number) => {
    let s = lease.get(n)
    if (!s) {
      const list = Array(n).fill('?').join(',')
      s = narrow
        ? db.prepare(`update queue set lease_token = ?, due_at = ? where delivery_id in (${list})`)
        : db.prepare(
            `update deliveries set lease_token = ?, next_attempt_at = ?, attempts = attempts + 1 where id in (${list}) returning id, env_id, event_id, subscription_id, attempts, attempt_limit`,
          )
      lease.set(n, s)
    }
    return s
  }
  const readOf = new Map<number, Database.Statement>()
  const read = (n: number) => {
    let s = readOf.get(n)
    if (!s) {
      s = db.prepare(
        `select id, env_id, event_id, subscription_id, attempts, attempt_limit from deliveries where id in (${Array(n).fill('?').join(',')})`,
      )
      readOf.set(n, s)
    }
    return s
  }
  const bodies = new Map<number, Database.Statement>()
  const bodiesOf = (n: number) => {
    let s = bodies.get(n)
    if (!s) {
      s = db.prepare(`select id, body from events where id in (${Array(n).fill('?').join(',')})`)
      bodies.set(n, s)
    }
    return s
  }
  const doneOf = new Map<number, Database.Statement[]>()
  const done = (n: number) => {
    let s = doneOf.get(n)
    if (!s) {
      const pairs = Array(n).fill('(?,?)').join(',')
      const ids = Array(n).fill('?').join(',')
      s = narrow
        ? [
            db.prepare(
              `delete from queue where (delivery_id, lease_token) in (values ${pairs}) returning delivery_id`,
            ),
            db.prepare(
              `update deliveries set status = 'delivered', attempts = attempts + 1, last_status_code = 200, updated = ? where id in (${ids})`,
            ),
          ]
        : [
            db.prepare(
              `update deliveries set status = 'delivered', next_attempt_at = null, lease_token = null, last_status_code = 200, updated = ? where status = 'pending' and (id, lease_token) in (values ${pairs}) returning id`,
            ),
          ]
      s.push(db.prepare(`insert into attempts (${attemptColumns}) values ${rowsOf(n, 10)}`))
      doneOf.set(n, s)
    }
    return s
  }
  const events_ = new Map<string, string>()
  return drive(events, meter(), {
    publish(batch) {
      const now = Date.now()
      db.transaction(() => {
        for (let e = 0; e < batch; e++) {
          const ev = newId('evt', now)
          insertEvent.run(ev, envId, eventName, body, null, null, now, null)
          const rows: unknown[] = []
          const queue: unknown[] = []
          for (const s of subs) {
            const d = newId('dlv', now)
            events_.set(d, ev)
            rows.push(d, envId, ev, s, eventName, 'pending', 0, 10, now, null, null, null, null, now, now)
            queue.push(d, s, now, null)
          }
          insertDeliveries.run(rows)
          insertQueue?.run(queue)
        }
      })()
    },
    claim(limit) {
      const now = Date.now()
      return db.transaction(() => {
        const ids = (due.all(now, limit) as { id: string }[]).map((r) => r.id)
        if (ids.length === 0) return []
        leaseOf(ids.length)[narrow ? 'run' : 'all']('tok', now + 60_000, ...ids)
        if (narrow) read(ids.length).all(...ids)
        const evs = [...new Set(ids.map((d) => events_.get(d)!))]
        bodiesOf(evs.length).all(...evs)
        return ids
      })()
    },
    complete(ids) {
      const now = Date.now()
      const [first, second, third] = done(ids.length)
      db.pragma('synchronous = NORMAL')
      db.transaction(() => {
        const pairs = ids.flatMap((d) => [d, 'tok'])
        if (narrow) first!.all(...pairs)
        else first!.all(now, ...pairs)
        if (narrow) second!.run(now, ...ids)
        if (!minimal)
          (narrow ? third : second)!.run(ids.flatMap((d) => [d, 1, now, 2, 200, null, 'ok', '{}', null, 1]))
      })()
      db.pragma('synchronous = FULL')
      for (const d of ids) events_.delete(d)
    },
  })
}
