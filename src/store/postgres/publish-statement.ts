// A publish on PostgreSQL as one statement (one round trip, its own commit): the event and its
// deliveries inserted together, on condition that the subscriptions of its type are still those
// the deliveries were computed from. The multi-statement publish (publish-store.ts) took begin,
// insert event, read subscriptions, insert deliveries and commit: five round trips.
//
// The subscriptions of an (environment, event type) are remembered from the last statement with a
// signature of their rows. The statement compares the signature of what it sees with it: equal,
// it inserts; different (a subscription created, changed, paused), it inserts nothing and returns
// the current rows, and the publish is computed again from them. Filters and attempt limits stay
// the core's, computed here from those rows. A publish with an idempotency key, a batch, a
// hand-off to the local worker (role all: that saves the claim altogether) or a held
// subscription among the fan-out goes the long way. No text here may contain an asterisk:
// see nameStatements (postgres-store.ts).
import { CompiledQuery, type Kysely } from 'kysely'
import type { Database } from '../sql/database.ts'
import { fanOutRow } from '../sql/publish-store.ts'
import type { PublishInput, PublishResult } from '../store.ts'

const publishText = `with subs as (
  select id, ordered, retry_schedule, held, filter, updated from subscriptions
  where env_id = $1::text and event = $2::text and active = 1
),
seen as (
  select coalesce(md5(string_agg(concat_ws(',', id, ordered, held, updated, coalesce(md5(filter), '-'),
    coalesce(retry_schedule, '-')),
    ';' order by id collate "C")), '') as sig
  from subs
),
ev as (
  insert into events (id, env_id, event_name, body, idempotency_key, ordering_key, created, traceparent)
  select $3::text, $1, $2, $4::bytea, null, $5::text, $6::bigint, $7::text from seen where sig = $8::text
),
dl as (
  insert into deliveries (id, env_id, event_id, subscription_id, event, status, attempts, attempt_limit,
    next_attempt_at, lease_token, last_status_code, last_error, ordering_key, created, updated)
  select d.id, $1, $3, d.sub, $2, 'pending', 0, d.lim, $6, null, null, null, d.okey, $6, $6
  from unnest($9::text[], $10::text[], $11::int[], $12::text[]) as d(id, sub, lim, okey), seen
  where seen.sig = $8
)
select seen.sig, s.id, s.ordered, s.retry_schedule, s.held, s.filter, s.updated
from seen left join subs s on seen.sig <> $8`

interface FanOutSub {
  id: string
  ordered: number
  retry_schedule: string | null
  held: number
  filter: string | null
  updated: number
}

/** No subscriptions seen yet: a signature no statement computes. */
const unknown = '-'
const rememberedMax = 1000

/** Publishes in one statement, remembering each (environment, event type)'s subscriptions. */
export class PublishStatement {
  readonly #fanOuts = new Map<string, { sig: string; subs: FanOutSub[] }>()

  /** The publish's result, or undefined when it must go the long way (nothing was written). */
  async publish(db: Kysely<Database>, input: PublishInput): Promise<PublishResult | undefined> {
    const { event } = input
    // A hand-off (role all) leases some rows in the publish transaction: hand-offs.ts.
    if (input.idempotencyKey !== null || input.handOff) return undefined
    const key = `${event.envId}\u0000${event.eventName}`
    let known = this.#fanOuts.get(key) ?? { sig: unknown, subs: [] }
    // Twice at most: a fan-out that changes between two statements goes the long way.
    for (let round = 0; round < 3; round++) {
      if (known.subs.some((s) => Number(s.held) === 1)) return undefined
      const ids: string[] = []
      const subs: string[] = []
      const limits: number[] = []
      const keys: (string | null)[] = []
      for (const s of known.subs) {
        const row = fanOutRow(input, s)
        if (!row) continue
        ids.push(row.id)
        subs.push(s.id)
        limits.push(row.attempt_limit)
        keys.push(row.ordering_key ?? null)
      }
      // Before the statement that writes and commits (the first one for a type only reads).
      if (known.sig !== unknown) input.beforeCommit?.()
      const rows = (
        await db.executeQuery<FanOutSub & { sig: string }>(
          CompiledQuery.raw(publishText, [
            event.envId,
            event.eventName,
            event.id,
            event.body,
            event.orderingKey,
            event.created,
            event.traceparent ?? null,
            known.sig,
            ids,
            subs,
            limits,
            keys,
          ]),
        )
      ).rows
      const sig = rows[0]!.sig
      if (sig === known.sig) {
        return { eventId: event.id, eventName: event.eventName, deliveries: ids.length, replayed: false }
      }
      known = { sig, subs: rows.filter((r) => r.id !== null) }
      if (this.#fanOuts.size >= rememberedMax) this.#fanOuts.delete(this.#fanOuts.keys().next().value!)
      this.#fanOuts.set(key, known)
    }
    return undefined
  }
}
