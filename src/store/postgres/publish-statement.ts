// A publish on PostgreSQL as one statement (one round trip, its own commit): the events of one
// environment (one, or a batch of any mix of types) and all their deliveries inserted together
// from arrays, on condition that the subscriptions of each type are still those the deliveries
// were computed from. The multi-statement publish (publish-store.ts) took begin, then insert
// event, read subscriptions and insert deliveries per event, and commit.
//
// The subscriptions of an (environment, event type) are remembered from the last statement with a
// signature of their rows. The statement compares the signature of what it sees for every type
// of the publish with it: all equal, it inserts; one different (a subscription created, changed,
// paused), it inserts nothing and returns the current rows of the changed types, and the publish
// is computed again from them. Filters and attempt limits stay the core's, computed here from
// those rows. A publish with an idempotency key, events of several environments, a hand-off to
// the local worker (role all: that saves the claim altogether) or a held subscription among the
// fan-out goes the long way. Each array is one parameter, so any batch size is one named
// statement. No text here may contain an asterisk: see nameStatements (postgres-store.ts).
import { CompiledQuery, type Kysely } from 'kysely'
import type { Database } from '../sql/database.ts'
import { fanOutRow } from '../sql/publish-store.ts'
import type { PublishInput, PublishResult } from '../store.ts'

// Events are inserted in the batch's order, so that their feed_seq (the column's default, drawn
// per row after the sort) follows it as the long way's one insert after another does.
const publishText = `with subs as (
  select id, event, ordered, retry_schedule, held, filter, updated from subscriptions
  where env_id = $1::text and event = any($2::text[]) and active = 1
),
seen as (
  select t.event, t.known, (
    select coalesce(md5(string_agg(concat_ws(',', s.id, s.ordered, s.held, s.updated,
      coalesce(md5(s.filter), '-'), coalesce(s.retry_schedule, '-')),
      ';' order by s.id collate "C")), '')
    from subs s where s.event = t.event
  ) as sig
  from unnest($2, $3::text[]) as t(event, known)
),
ok as (
  select bool_and(sig = known) as ok from seen
),
ev as (
  insert into events (id, env_id, event_name, body, idempotency_key, ordering_key, created, traceparent)
  select e.id, $1, e.name, e.body, null, e.okey, e.created, e.tp
  from unnest($4::text[], $5::text[], $6::bytea[], $7::text[], $8::bigint[], $9::text[])
    with ordinality as e(id, name, body, okey, created, tp, n), ok
  where ok.ok
  order by e.n
),
dl as (
  insert into deliveries (id, env_id, event_id, subscription_id, event, status, attempts, attempt_limit,
    next_attempt_at, lease_token, last_status_code, last_error, ordering_key, created, updated)
  select d.id, $1, d.ev, d.sub, d.name, 'pending', 0, d.lim, d.at, null, null, null, d.okey, d.at, d.at
  from unnest($10::text[], $11::text[], $12::text[], $13::text[], $14::int[], $15::text[], $16::bigint[])
    as d(id, ev, name, sub, lim, okey, at), ok
  where ok.ok
)
select seen.event, seen.sig, s.id, s.ordered, s.retry_schedule, s.held, s.filter, s.updated
from seen cross join ok
left join subs s on not ok.ok and seen.sig <> seen.known and s.event = seen.event`

interface FanOutSub {
  id: string
  ordered: number
  retry_schedule: string | null
  held: number
  filter: string | null
  updated: number
}

interface Known {
  sig: string
  subs: FanOutSub[]
}

/** No subscriptions seen yet: a signature no statement computes. */
const unknown = '-'
const rememberedMax = 1000

/** Paused or its endpoint not verified: its deliveries are made the long way (not due, read under a lock). */
const held = (s: FanOutSub) => Number(s.held) === 1

/** The deliveries of one statement, column by column (each array is one parameter). */
class DeliveryArrays {
  readonly ids: string[] = []
  readonly events: string[] = []
  readonly names: string[] = []
  readonly subs: string[] = []
  readonly limits: number[] = []
  readonly keys: (string | null)[] = []
  readonly at: number[] = []

  /** Adds the input's deliveries; answers how many. */
  fanOut(input: PublishInput, subs: readonly FanOutSub[]): number {
    let n = 0
    for (const s of subs) {
      const row = fanOutRow(input, s)
      if (!row) continue
      this.ids.push(row.id)
      this.events.push(input.event.id)
      this.names.push(input.event.eventName)
      this.subs.push(s.id)
      this.limits.push(row.attempt_limit)
      this.keys.push(row.ordering_key ?? null)
      this.at.push(input.event.created)
      n++
    }
    return n
  }
}

/** Publishes in one statement, remembering each (environment, event type)'s subscriptions. */
export class PublishStatement {
  readonly #fanOuts = new Map<string, Known>()

  /** The publish's results in input order, or undefined when it must go the long way (nothing was written). */
  async publish(db: Kysely<Database>, inputs: readonly PublishInput[]): Promise<PublishResult[] | undefined> {
    const envId = inputs[0]?.event.envId
    if (envId === undefined) return undefined
    // A hand-off (role all) leases some rows in the publish transaction: hand-offs.ts.
    if (inputs.some((i) => i.idempotencyKey !== null || i.handOff || i.event.envId !== envId))
      return undefined
    const types = [...new Set(inputs.map((i) => i.event.eventName))]
    const known = new Map(
      types.map((t) => [t, this.#fanOuts.get(`${envId}\u0000${t}`) ?? { sig: unknown, subs: [] }]),
    )
    // A held subscription remembered from an earlier publish may be released by now: read again
    // (one statement that only reads) rather than take the long way for good.
    for (const [t, k] of known) if (k.subs.some(held)) known.set(t, { sig: unknown, subs: [] })
    // Twice at most: a fan-out that changes between two statements goes the long way.
    for (let round = 0; round < 3; round++) {
      if ([...known.values()].some((k) => k.subs.some(held))) return undefined
      const d = new DeliveryArrays()
      const counts = inputs.map((i) => d.fanOut(i, known.get(i.event.eventName)!.subs))
      // Before the statement that writes and commits (one with a type not yet seen only reads).
      if ([...known.values()].every((k) => k.sig !== unknown)) for (const i of inputs) i.beforeCommit?.()
      const rows = (
        await db.executeQuery<FanOutSub & { event: string; sig: string }>(
          CompiledQuery.raw(publishText, [
            envId,
            types,
            types.map((t) => known.get(t)!.sig),
            inputs.map((i) => i.event.id),
            inputs.map((i) => i.event.eventName),
            inputs.map((i) => i.event.body),
            inputs.map((i) => i.event.orderingKey),
            inputs.map((i) => i.event.created),
            inputs.map((i) => i.event.traceparent ?? null),
            d.ids,
            d.events,
            d.names,
            d.subs,
            d.limits,
            d.keys,
            d.at,
          ]),
        )
      ).rows
      if (rows.every((r) => r.sig === known.get(r.event)!.sig)) {
        return inputs.map((i, k) => ({
          eventId: i.event.id,
          eventName: i.event.eventName,
          deliveries: counts[k]!,
          replayed: false,
        }))
      }
      // At least one row per type; the current subscriptions of each changed one.
      const changed = new Map<string, Known>()
      for (const r of rows) {
        if (r.sig === known.get(r.event)!.sig) continue
        const next = changed.get(r.event) ?? { sig: r.sig, subs: [] }
        if (r.id !== null) next.subs.push(r)
        changed.set(r.event, next)
      }
      for (const [t, next] of changed) {
        known.set(t, next)
        this.#remember(`${envId}\u0000${t}`, next)
      }
    }
    return undefined
  }

  #remember(key: string, fanOut: Known): void {
    if (this.#fanOuts.size >= rememberedMax && !this.#fanOuts.has(key))
      this.#fanOuts.delete(this.#fanOuts.keys().next().value!)
    this.#fanOuts.set(key, fanOut)
  }
}
