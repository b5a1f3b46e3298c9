// The outcomes of attempts over Kysely (both adapters), one batch a transaction: each delivery
// fenced by its lease token and its attempt recorded; then the health of the batch's
// subscriptions settled by the core's completion rules (settle-subscription-health.ts).
import type { Insertable } from 'kysely'
import type { CompleteInput, CompletionRules, DeliveryStatus } from '../store.ts'
import type { Database } from './database.ts'
import { opEvent } from './operational-event-store.ts'
import { type SubscriptionOutcomes, settleSubscriptionHealth } from './settle-subscription-health.ts'
import type { SqlContext } from './sql-store.ts'
import { insertRows, padded, pendingLiteral, stillLeased, stillLeasedValues } from './statement-shapes.ts'

export async function completeDeliveries(
  { traits, prepared, relaxed }: SqlContext,
  results: readonly CompleteInput[],
  now: number,
  rules: CompletionRules,
): Promise<string[]> {
  if (results.length === 0) return []
  return relaxed(async (tx) => {
    const applied: string[] = []
    const attempts: Database['attempts'][] = []
    const ops: Insertable<Database['operational_events']>[] = []
    // Per subscription, the outcomes of this batch in order (ok: a success, at: when it ended).
    const outcomes = new Map<string, SubscriptionOutcomes>()
    // Plain successes (the common case) are fenced and applied in one statement per status
    // code; the rest one by one. A row whose lease token no longer matches changes nothing.
    const fenced = new Map<
      string,
      { subscription_id: string; env_id: string; event_id: string; attempts: number }
    >()
    const plain = new Map<string, CompleteInput[]>()
    for (const r of results) {
      if (r.outcome.kind === 'delivered' && r.error === null) {
        const k = String(r.statusCode)
        const group = plain.get(k)
        if (group) group.push(r)
        else plain.set(k, [r])
      }
    }
    for (const group of plain.values()) {
      const done = padded(group)
      const delivered = prepared.get(`complete.delivered:${done.length}`, (p) =>
        tx
          .updateTable('deliveries')
          .set({
            status: 'delivered',
            next_attempt_at: null,
            lease_token: null,
            handed: null,
            last_status_code: p('statusCode'),
            last_error: null,
            updated: p('now'),
          })
          .where('status', '=', pendingLiteral)
          .where(stillLeased(p, done.length))
          .returning(['id', 'subscription_id', 'env_id', 'event_id', 'attempts']),
      )
      const values = stillLeasedValues(done, { statusCode: group[0]!.statusCode, now })
      for (const u of (await tx.executeQuery(delivered.bind(values))).rows) fenced.set(u.id, u)
    }
    for (const r of results) {
      const o = r.outcome
      let u = fenced.get(r.id)
      if (!u && !(o.kind === 'delivered' && r.error === null)) {
        const status: DeliveryStatus =
          o.kind === 'delivered'
            ? 'delivered'
            : o.kind === 'retry'
              ? 'pending'
              : o.kind === 'cancelled'
                ? 'cancelled'
                : 'failed'
        u = await tx
          .updateTable('deliveries')
          .set({
            status,
            next_attempt_at: o.kind === 'retry' ? o.at : null,
            lease_token: null,
            // A retry goes into the due indexes (handed-deliveries.ts).
            handed: null,
            last_status_code: r.statusCode,
            last_error: r.error,
            updated: now,
          })
          .where('id', '=', r.id)
          .where('lease_token', '=', r.leaseToken)
          .where('status', '=', pendingLiteral)
          .returning(['id', 'subscription_id', 'env_id', 'event_id', 'attempts'])
          .executeTakeFirst()
      }
      if (!u) continue // fenced: a newer lease or a cancel owns this delivery now
      applied.push(r.id)
      // The core decides which attempts speak about the endpoint (src/deliveries/completion-rules.ts):
      // the others neither count nor trigger a deactivation; nor does a delivery its
      // transformation cancelled.
      if (r.countsForHealth !== false && o.kind !== 'cancelled') {
        const entry = outcomes.get(u.subscription_id) ?? { envId: u.env_id, results: [], gone: false }
        entry.results.push({ ok: o.kind === 'delivered', at: r.attempt.started + r.attempt.durationMs })
        if (o.kind === 'gone') entry.gone = true
        outcomes.set(u.subscription_id, entry)
      }
      const ended = rules.deliveryEnded(o, {
        id: r.id,
        subscriptionId: u.subscription_id,
        eventId: u.event_id,
        attempts: u.attempts,
        statusCode: r.statusCode,
        error: r.error,
      })
      if (ended) ops.push(opEvent(u.env_id, ended.type, now, ended.data))
      const a = r.attempt
      attempts.push({
        delivery_id: a.deliveryId,
        number: a.number,
        started: a.started,
        duration_ms: a.durationMs,
        status_code: a.statusCode,
        error: a.error,
        response_body: a.responseBody,
        request_headers: JSON.stringify(a.requestHeaders),
        response_headers: a.responseHeaders === null ? null : JSON.stringify(a.responseHeaders),
        lean_headers: a.leanHeaders ? 1 : 0,
      })
    }
    await insertRows(tx, prepared, 'complete.attempts', attemptColumns, attempts, (values) =>
      tx
        .insertInto('attempts')
        .values(values)
        .onConflict((oc) => oc.columns(['delivery_id', 'number']).doNothing()),
    )
    ops.push(...(await settleSubscriptionHealth(tx, prepared, traits.skipLocked, outcomes, now, rules)))
    if (ops.length > 0) await tx.insertInto('operational_events').values(ops).execute()
    return applied
  })
}

const attemptColumns = [
  'delivery_id',
  'number',
  'started',
  'duration_ms',
  'status_code',
  'error',
  'response_body',
  'request_headers',
  'response_headers',
  'lean_headers',
] as const satisfies readonly (keyof Database['attempts'])[]
