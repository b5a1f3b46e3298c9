// The publish transaction's writes: the event, then one delivery per subscription the core's
// rules accept (filters, holds, each subscription's own attempt limit), in one transaction.
import type { Insertable, Transaction } from 'kysely'
import type { PublishInput, PublishResult } from '../store.ts'
import type { Database } from './database.ts'
import type { HandOffs } from './hand-offs.ts'
import { priorEvent } from './idempotency-keys.ts'
import type { PreparedQueries } from './prepared-queries.ts'
import type { SqlDialectTraits } from './sql-store.ts'
import { insertRows } from './statement-shapes.ts'
import { heldNow } from './subscription-holds.ts'

export function deliveryRow(
  event: { id: string; envId: string; eventName: string; created: number },
  subscriptionId: string,
  id: string,
  attemptLimit: number,
  orderingKey: string | null,
): Insertable<Database['deliveries']> {
  return {
    id,
    env_id: event.envId,
    event_id: event.id,
    subscription_id: subscriptionId,
    event: event.eventName,
    status: 'pending',
    attempts: 0,
    attempt_limit: attemptLimit,
    next_attempt_at: event.created,
    lease_token: null,
    last_status_code: null,
    last_error: null,
    ordering_key: orderingKey,
    handed: null,
    created: event.created,
    updated: event.created,
  }
}

/** Subscriptions (id, ordered, retry schedule, held, filter, what a hand-off needs) per environment and event type, read once per transaction. */
export type FanOuts = Map<
  string,
  {
    id: string
    ordered: number
    retry_schedule: string | null
    held: number
    filter: string | null
    updated: number
    url: string
    rate_limit_count: number | null
    max_in_flight: number | null
  }[]
>

/** Publishes each input in order; the errors of a batch name the item by its index. */
export async function publishAllIn(
  tx: Transaction<Database>,
  traits: SqlDialectTraits,
  prepared: PreparedQueries,
  { inputs, batch }: { inputs: readonly PublishInput[]; batch: boolean },
  fanOuts: FanOuts,
  handOffs: HandOffs,
): Promise<PublishResult[]> {
  const out: PublishResult[] = []
  for (const [k, input] of inputs.entries()) {
    out.push(await publishIn(tx, traits, prepared, input, fanOuts, batch ? k : null, handOffs))
  }
  return out
}

export async function publishIn(
  tx: Transaction<Database>,
  traits: SqlDialectTraits,
  prepared: PreparedQueries,
  input: PublishInput,
  fanOuts: FanOuts,
  index: number | null,
  handOffs: HandOffs,
): Promise<PublishResult> {
  const { event, idempotencyKey } = input
  if (idempotencyKey !== null) {
    const prior = await priorEvent(tx, input, index)
    if (prior) return prior
    // A key older than the window is free again. Only an old one: on PostgreSQL this statement
    // sees a racing publish's event committed since priorEvent looked, and clearing its key
    // would let both events keep one key (the unique index must make this one retry instead).
    await tx
      .updateTable('events')
      .set({ idempotency_key: null })
      .where('env_id', '=', event.envId)
      .where('idempotency_key', '=', idempotencyKey)
      .where('created', '<=', input.idempotencySince)
      .execute()
  }
  // The statements below run for every event: prepared once (see prepared-queries.ts).
  const insertEvent = prepared.get('publish.insertEvent', (p) =>
    tx.insertInto('events').values({
      id: p('id'),
      env_id: p('envId'),
      event_name: p('eventName'),
      body: p('body'),
      idempotency_key: p('idempotencyKey'),
      ordering_key: p('orderingKey'),
      created: p('created'),
      traceparent: p('traceparent'),
      ...(traits.nextFeedSeq ? { feed_tx: p('feedSeq'), feed_seq: p('feedSeq') } : {}),
    }),
  )
  await tx.executeQuery(
    insertEvent.bind({
      id: event.id,
      envId: event.envId,
      eventName: event.eventName,
      body: event.body,
      idempotencyKey,
      orderingKey: event.orderingKey,
      created: event.created,
      traceparent: event.traceparent ?? null,
      ...(traits.nextFeedSeq ? { feedSeq: await traits.nextFeedSeq(tx) } : {}),
    }),
  )
  const fanOut = prepared.get('publish.subscriptions', (p) =>
    tx
      .selectFrom('subscriptions')
      .select([
        'id',
        'ordered',
        'retry_schedule',
        'held',
        'filter',
        'updated',
        'url',
        'rate_limit_count',
        'max_in_flight',
      ])
      .where('env_id', '=', p('envId'))
      .where('event', '=', p('eventName'))
      .where('active', '=', 1)
      .orderBy('id'),
  )
  const fanOutKey = `${event.envId}\u0000${event.eventName}`
  let subs = fanOuts.get(fanOutKey)
  if (!subs) {
    subs = (await tx.executeQuery(fanOut.bind({ envId: event.envId, eventName: event.eventName }))).rows
    fanOuts.set(fanOutKey, subs)
  }
  // Held ones (rare) read again under a share lock where writers are concurrent (PostgreSQL).
  const heldIds = traits.skipLocked ? subs.filter((s) => Number(s.held) === 1).map((s) => s.id) : []
  const held = heldIds.length > 0 ? await heldNow(tx, heldIds) : undefined
  const rows: Insertable<Database['deliveries']>[] = []
  for (const s of subs) {
    const row = fanOutRow(input, s)
    if (!row) continue
    // Held (paused, endpoint not verified): created and kept, not due until released.
    if (held?.get(s.id) ?? Number(s.held) === 1) row.next_attempt_at = null
    handOffs.offer(input, row, {
      id: s.id,
      url: s.url,
      updated: Number(s.updated),
      limited: s.rate_limit_count !== null || s.max_in_flight !== null,
    })
    rows.push(row)
  }
  await insertRows(tx, prepared, 'publish.deliveries', deliveryColumns, rows, (values) =>
    tx.insertInto('deliveries').values(values),
  )
  input.beforeCommit?.()
  return { eventId: event.id, eventName: event.eventName, deliveries: rows.length, replayed: false }
}

/** The delivery an event gets at one subscription of its type, if its filter accepts it. */
export function fanOutRow(
  input: PublishInput,
  s: { id: string; ordered: number; retry_schedule: string | null; filter: string | null; updated: number },
): Insertable<Database['deliveries']> | undefined {
  // The filter (the core's predicate): an event it does not match gets no delivery there.
  if (
    s.filter !== null &&
    input.accepts &&
    !input.accepts({ id: s.id, updated: Number(s.updated), filter: s.filter })
  )
    return undefined
  return deliveryRow(
    input.event,
    s.id,
    input.newDeliveryId(),
    // A subscription's own schedule gives its own limit (the core's rule, retry-policy.ts).
    s.retry_schedule !== null && input.attemptLimitFor
      ? input.attemptLimitFor(JSON.parse(s.retry_schedule) as number[])
      : input.attemptLimit,
    Number(s.ordered) === 1 ? input.event.orderingKey : null,
  )
}

export const deliveryColumns = [
  'id',
  'env_id',
  'event_id',
  'subscription_id',
  'event',
  'status',
  'attempts',
  'attempt_limit',
  'next_attempt_at',
  'lease_token',
  'last_status_code',
  'last_error',
  'ordering_key',
  'handed',
  'created',
  'updated',
] as const satisfies readonly (keyof Database['deliveries'])[]
