// A claim on PostgreSQL as one statement (one round trip, its own commit): it picks the due rows
// (served subscriptions from their own index ranges, then the scan with its exclusions, dueAfter
// and per-subscription room), locks them FOR UPDATE SKIP LOCKED, leases them and returns them
// with their event's body and their subscription's url. The multi-statement claim (sql/delivery-claims.ts)
// took 7 round trips (begin, serve, scan, budgets, lease, bodies, urls, commit) for the same.
//
// Budgets (rateLimit, maxInFlight) stay in that multi-statement claim: when a picked row belongs to
// a limited subscription, this statement leases nothing and says so, and the caller claims again
// the long way. No text here may contain an asterisk: see nameStatements (postgres-store.ts).
//
// Its commit does not wait for the WAL flush (synchronous_commit off for this transaction, as
// SQLite's relaxed bookkeeping transactions): a lease lost to a crash of the database only means
// the delivery is attempted again, and a claim that waited for the disk delayed every attempt by
// an fsync (several ms on a busy disk).
import { CompiledQuery, type Kysely } from 'kysely'
import type { Database } from '../sql/database.ts'
import type { ClaimedDelivery, ClaimInput, ClaimResult } from '../store.ts'

/** Only the head of each (subscription, ordering key) chain may go. */
const chainHead = `(d.ordering_key is null or not exists (
      select 1 from deliveries p
      where p.subscription_id = d.subscription_id and p.ordering_key = d.ordering_key
        and p.status = 'pending' and p.id < d.id))`

// 'pending' is a literal so that the partial indexes (where status = 'pending') serve the query.
const claimText = `with relaxed as (
  select set_config('synchronous_commit', 'off', true) as off
),
serve as (
  select s.sub, s.lim, s.ord from unnest($3::text[], $4::int[]) with ordinality as s(sub, lim, ord)
),
served as (
  select d.id, d.next_attempt_at, d.subscription_id, s.ord
  from serve s cross join lateral (
    select d.id, d.next_attempt_at, d.subscription_id from deliveries d
    where d.status = 'pending' and d.next_attempt_at <= $1 and d.subscription_id = s.sub
      and ${chainHead}
    order by d.next_attempt_at limit s.lim
    for update skip locked
  ) d
),
served_ranked as (
  select id, next_attempt_at, subscription_id,
    row_number() over (order by ord, next_attempt_at, id collate "C") as k
  from served
),
scan_room as (
  select case when $5 then greatest(0, $2 - (select count(1) from served_ranked where k <= $2)) else 0 end as n
),
scan_found as (
  select d.id, d.next_attempt_at, d.subscription_id from deliveries d
  where d.status = 'pending' and d.next_attempt_at <= $1 and d.next_attempt_at > coalesce($7::bigint, -1)
    and d.subscription_id <> all($6::text[])
    and ${chainHead}
  order by d.next_attempt_at
  limit (select case when $8 then n + n else n end from scan_room)
  for update skip locked
),
scan_ranked as (
  select f.id, f.next_attempt_at, f.subscription_id,
    row_number() over (partition by f.subscription_id order by f.next_attempt_at, f.id collate "C") as rn,
    coalesce(b.room, $9::int) as cap
  from scan_found f left join unnest($10::text[], $11::int[]) as b(sub, room) on b.sub = f.subscription_id
),
scan_kept as (
  select id, next_attempt_at, subscription_id from (
    select id, next_attempt_at, subscription_id,
      row_number() over (order by next_attempt_at, id collate "C") as k
    from scan_ranked where cap is null or rn <= cap
  ) x
  where k <= (select n from scan_room)
),
picked as (
  select id, next_attempt_at, subscription_id from served_ranked where k <= $2
  union
  select id, next_attempt_at, subscription_id from scan_kept
),
limited as (
  select 1 as yes from subscriptions s
  where s.id in (select subscription_id from picked)
    and (s.rate_limit_count is not null or s.max_in_flight is not null)
  limit 1
),
leased as (
  update deliveries d
  set lease_token = $12, next_attempt_at = $13, attempts = d.attempts + 1, updated = $1
  where d.id = any(array(select id from picked)) and not exists (select 1 from limited)
  returning d.id, d.env_id, d.event_id, d.subscription_id, d.event, d.attempts, d.attempt_limit, d.ordering_key
)
select l.id, l.env_id, l.event_id, l.subscription_id, l.event, l.attempts, l.attempt_limit,
  l.ordering_key, p.next_attempt_at as due_at, e.body, e.traceparent, s.url, s.updated as sub_updated,
  null::text[] as drained, null::text[] as crowded, null::boolean as exhausted, null::boolean as limited,
  null::text as relaxed
from leased l
  join picked p on p.id = l.id
  left join events e on e.id = l.event_id
  left join subscriptions s on s.id = l.subscription_id
union all
-- The summary: every column of a row is computed, so this one always runs set_config.
select null, null, null, null, null, null, null, null, null, null, null, null, null,
  array(
    select s.sub from serve s
    where (select count(1) from served_ranked r where r.subscription_id = s.sub) < s.lim
      and not exists (select 1 from served_ranked r where r.subscription_id = s.sub and r.k > $2)
  ),
  array(select distinct subscription_id from scan_ranked where rn > cap),
  (select count(1) from scan_found) < (select case when $8 then n + n else n end from scan_room),
  exists (select 1 from limited),
  (select off from relaxed)`

interface ClaimRow {
  id: string | null
  env_id: string
  event_id: string
  subscription_id: string
  event: string
  attempts: number
  attempt_limit: number
  ordering_key: string | null
  due_at: number
  body: Buffer | null
  traceparent: string | null
  url: string | null
  sub_updated: number | null
  drained: string[] | null
  crowded: string[] | null
  exhausted: boolean | null
  limited: boolean | null
}

/**
 * Claims in one statement, or answers undefined (nothing leased) when a picked row's subscription
 * has a budget. `orphans` gets the leased rows whose subscription or event is gone.
 */
export async function claimInOneStatement(
  db: Kysely<Database>,
  input: ClaimInput,
  token: string,
  orphans: string[],
): Promise<ClaimResult | undefined> {
  const serve = input.serve ?? []
  const scan = input.scan
  const busy = scan?.room ? [...scan.room.busy] : []
  const q = CompiledQuery.raw(claimText, [
    input.now,
    input.limit,
    serve.map((s) => s.subscriptionId),
    serve.map((s) => s.limit),
    scan !== undefined,
    scan ? [...scan.exclude] : [],
    scan?.dueAfter ?? null,
    scan?.room !== undefined,
    scan?.room ? scan.room.perSubscription : null,
    busy.map(([s]) => s),
    busy.map(([, n]) => n),
    token,
    input.now + input.leaseMs,
  ])
  const rows = (await db.executeQuery<ClaimRow>(q)).rows
  // The summary row comes last (union all of a single-row select after the leased rows).
  const summary = rows[rows.length - 1]!
  if (summary.id !== null) throw new Error('claim statement: no summary row')
  if (summary.limited) return undefined
  const deliveries: ClaimedDelivery[] = []
  for (let k = 0; k < rows.length - 1; k++) {
    const r = rows[k]!
    if (r.body === null || r.url === null) {
      orphans.push(r.id!)
      continue
    }
    deliveries.push({
      id: r.id!,
      envId: r.env_id,
      eventId: r.event_id,
      subscriptionId: r.subscription_id,
      event: r.event,
      attempts: r.attempts,
      attemptLimit: r.attempt_limit,
      leaseToken: token,
      url: r.url,
      subscriptionUpdated: Number(r.sub_updated),
      body: r.body,
      orderingKey: r.ordering_key,
      traceparent: r.traceparent,
      dueAt: Number(r.due_at),
    })
  }
  // Oldest due first (ids break ties, so a released backlog goes out in creation order).
  deliveries.sort((a, b) => a.dueAt - b.dueAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  return {
    deliveries,
    scanExhausted: summary.exhausted === true,
    drained: new Set(summary.drained),
    crowded: new Set(summary.crowded),
    throttled: new Map(),
  }
}
