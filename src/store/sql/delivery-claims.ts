// The claim of due deliveries over Kysely (both adapters), in steps: the due rows of the
// subscriptions served first, then a scan; within each subscription's budget; leased with their
// event's body and their subscription's url. PostgreSQL's one-statement claim
// (postgres/claim-statement.ts) goes first where the dialect has it.
import type { Kysely, Transaction } from 'kysely'
import { pooledRandomBytes } from '../../shared/random-pool.ts'
import type { ClaimedDelivery, ClaimInput, ClaimResult, ClaimScan } from '../store.ts'
import type { Database } from './database.ts'
import { dueHanded, notHanded } from './handed-deliveries.ts'
import type { PreparedQueries } from './prepared-queries.ts'
import type { Db } from './row-mappers.ts'
import type { SqlContext, SqlDialectTraits } from './sql-store.ts'
import { listParams, listValues, padded, pendingLiteral } from './statement-shapes.ts'
import { withinBudgets } from './subscription-budgets.ts'

export class DeliveryClaims {
  readonly #db: Kysely<Database>
  readonly #traits: SqlDialectTraits
  readonly #prepared: PreparedQueries
  readonly #relaxed: SqlContext['relaxed']

  constructor({ db, traits, prepared, relaxed }: SqlContext) {
    this.#db = db
    this.#traits = traits
    this.#prepared = prepared
    this.#relaxed = relaxed
  }

  async claim(input: ClaimInput): Promise<ClaimResult> {
    const token = pooledRandomBytes(12).toString('base64url')
    const leaseUntil = input.now + input.leaseMs
    if (this.#traits.claimStatement) {
      const orphans: string[] = []
      const claimed = await this.#traits.claimStatement(this.#db, input, token, orphans)
      if (orphans.length > 0) await cancelOrphans(this.#db, orphans, token)
      if (claimed) return claimed
    }
    const result = await this.#relaxed(async (tx) => {
      if (this.#traits.handedOutsideDue) await dueHanded(tx, input.now, this.#prepared)
      const due: DueRow[] = []
      const drained = new Set<string>()
      for (const s of input.serve ?? []) {
        const limit = Math.min(s.limit, input.limit - due.length)
        if (limit <= 0) break
        const rows = await this.#findDue(tx, { now: input.now, limit, only: s.subscriptionId })
        if (rows.length < limit) drained.add(s.subscriptionId)
        due.push(...rows)
      }
      let scanExhausted = false
      const crowded = new Set<string>()
      const scan = input.scan
      const left = input.limit - due.length
      if (scan && left > 0) {
        // With a per-subscription cap, look further than the limit: the first due rows may all
        // belong to one subscription with little room.
        const candidates = scan.room ? left * 2 : left
        const found = await this.#findDue(tx, {
          now: input.now,
          limit: candidates,
          exclude: scan.exclude,
          dueAfter: scan.dueAfter,
        })
        scanExhausted = found.length < candidates
        due.push(...(scan.room ? withinRoom(found, scan.room, left, crowded) : found))
      }
      const budgeted = await this.#withinBudgets(tx, due, input.now)
      const claimed =
        budgeted.rows.length === 0 ? [] : await this.#lease(tx, budgeted.rows, input, token, leaseUntil)
      return { deliveries: claimed, scanExhausted, drained, crowded, throttled: budgeted.throttled }
    })
    // What was just leased may come from a publish whose commit is not on disk yet.
    if (result.deliveries.length > 0) await this.#traits.durableSoFar?.()
    return result
  }

  /** The due rows within their subscriptions' budgets (rateLimit, maxInFlight): subscription-budgets.ts. */
  async #withinBudgets(
    tx: Transaction<Database>,
    due: DueRow[],
    now: number,
  ): Promise<{ rows: DueRow[]; throttled: Map<string, number> }> {
    if (due.length === 0) return { rows: due, throttled: new Map() }
    const subIds = padded([...new Set(due.map((r) => r.subscription_id))])
    const limitedOf = this.#prepared.get(`claim.limited:${subIds.length}`, (p) =>
      tx
        .selectFrom('subscriptions')
        .select(['id', 'rate_limit_count', 'rate_limit_period_ms', 'max_in_flight'])
        .where('id', 'in', listParams(p, 'id', subIds.length))
        .where((w) => w.or([w('rate_limit_count', 'is not', null), w('max_in_flight', 'is not', null)])),
    )
    const limited = (await tx.executeQuery(limitedOf.bind(listValues('id', subIds)))).rows
    if (limited.length === 0) return { rows: due, throttled: new Map() }
    return withinBudgets(tx, due, limited, now, this.#traits.skipLocked)
  }

  /** Due rows, oldest first: of one subscription (its own index range) or across all but some. */
  async #findDue(
    tx: Transaction<Database>,
    q: {
      now: number
      limit: number
      only?: string
      exclude?: readonly string[]
      dueAfter?: number | undefined
    },
  ): Promise<DueRow[]> {
    const exclude = q.exclude ?? []
    const only = q.only
    const after = q.dueAfter !== undefined
    // Prepared per shape (how many subscriptions are left out, one subscription or all).
    const findDue = this.#prepared.get(
      `claim.due:${exclude.length}:${only === undefined ? 0 : 1}:${after ? 1 : 0}`,
      (p) =>
        tx
          .selectFrom('deliveries as d')
          .select(['d.id', 'd.next_attempt_at', 'd.subscription_id'])
          .where('d.status', '=', pendingLiteral)
          .where(notHanded)
          .where('d.next_attempt_at', '<=', p('now'))
          .$if(after, (w) => w.where('d.next_attempt_at', '>', p('after')))
          .$if(exclude.length > 0, (w) =>
            w.where('d.subscription_id', 'not in', listParams(p, 'x', exclude.length)),
          )
          .$if(only !== undefined, (w) => w.where('d.subscription_id', '=', p('only')))
          // Ordered deliveries: only the head of each (subscription, key) chain may go.
          .where((w) =>
            w.or([
              w('d.ordering_key', 'is', null),
              w.not(
                w.exists(
                  w
                    .selectFrom('deliveries as p')
                    .select('p.id')
                    .whereRef('p.subscription_id', '=', 'd.subscription_id')
                    .whereRef('p.ordering_key', '=', 'd.ordering_key')
                    .where('p.status', '=', pendingLiteral)
                    .whereRef('p.id', '<', 'd.id'),
                ),
              ),
            ]),
          )
          .orderBy('d.next_attempt_at')
          .limit(p('limit'))
          .$if(this.#traits.skipLocked, (w) => w.forUpdate().skipLocked()),
    )
    const values: Record<string, unknown> = {
      now: q.now,
      limit: q.limit,
      only: only ?? null,
      after: q.dueAfter ?? null,
    }
    Object.assign(values, listValues('x', exclude))
    return (await tx.executeQuery(findDue.bind(values))).rows
  }

  async #lease(
    tx: Transaction<Database>,
    due: readonly DueRow[],
    input: ClaimInput,
    token: string,
    leaseUntil: number,
  ): Promise<ClaimedDelivery[]> {
    const dueAt = new Map(due.map((r) => [r.id, Number(r.next_attempt_at)]))
    const ids = padded([...dueAt.keys()])
    const lease = this.#prepared.get(`claim.lease:${ids.length}`, (p) =>
      tx
        .updateTable('deliveries')
        .set((eb) => ({
          lease_token: p('token'),
          next_attempt_at: p('leaseUntil'),
          attempts: eb('attempts', '+', 1),
          updated: p('now'),
        }))
        .where('id', 'in', listParams(p, 'id', ids.length))
        .returning([
          'id',
          'env_id',
          'event_id',
          'subscription_id',
          'event',
          'attempts',
          'attempt_limit',
          'ordering_key',
        ]),
    )
    const claimed = (
      await tx.executeQuery(lease.bind({ token, leaseUntil, now: input.now, ...listValues('id', ids) }))
    ).rows
    if (claimed.length === 0) return []
    const eventIds = padded([...new Set(claimed.map((c) => c.event_id))])
    const subIds = padded([...new Set(claimed.map((c) => c.subscription_id))])
    const bodiesOf = this.#prepared.get(`claim.bodies:${eventIds.length}`, (p) =>
      tx
        .selectFrom('events')
        .select(['id', 'body', 'traceparent'])
        .where('id', 'in', listParams(p, 'id', eventIds.length)),
    )
    const bodies = new Map<string, Buffer>()
    const traces = new Map<string, string | null>()
    for (const r of (await tx.executeQuery(bodiesOf.bind(listValues('id', eventIds)))).rows) {
      // Both drivers hand a BLOB back as a Buffer of its own: no copy needed.
      bodies.set(r.id, Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body))
      traces.set(r.id, r.traceparent)
    }
    const urlsOf = this.#prepared.get(`claim.urls:${subIds.length}`, (p) =>
      tx
        .selectFrom('subscriptions')
        .select(['id', 'url', 'updated'])
        .where('id', 'in', listParams(p, 'id', subIds.length)),
    )
    const urls = new Map<string, string>()
    const versions = new Map<string, number>()
    for (const r of (await tx.executeQuery(urlsOf.bind(listValues('id', subIds)))).rows) {
      urls.set(r.id, r.url)
      versions.set(r.id, Number(r.updated))
    }
    const out: ClaimedDelivery[] = []
    const orphans: string[] = []
    for (const c of claimed) {
      const body = bodies.get(c.event_id)
      const url = urls.get(c.subscription_id)
      if (body === undefined || url === undefined) {
        orphans.push(c.id)
        continue
      }
      out.push({
        id: c.id,
        envId: c.env_id,
        eventId: c.event_id,
        subscriptionId: c.subscription_id,
        event: c.event,
        attempts: c.attempts,
        attemptLimit: c.attempt_limit,
        leaseToken: token,
        url,
        subscriptionUpdated: versions.get(c.subscription_id) ?? 0,
        body,
        orderingKey: c.ordering_key,
        traceparent: traces.get(c.event_id) ?? null,
        dueAt: dueAt.get(c.id) ?? input.now,
      })
    }
    if (orphans.length > 0) await cancelOrphans(tx, orphans, token)
    // RETURNING gives rows in the table's order: hand them out oldest due first (ids break ties,
    // so a released backlog goes out in creation order).
    return out.sort((a, b) => a.dueAt - b.dueAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  }
}

/** A due row found by a claim, before its lease. */
interface DueRow {
  id: string
  next_attempt_at: number | null
  subscription_id: string
}

/** The first `limit` rows (in due order) that fit each subscription's room; `crowded` gets those over it. */
function withinRoom<T extends { subscription_id: string }>(
  rows: readonly T[],
  room: NonNullable<ClaimScan['room']>,
  limit: number,
  crowded: Set<string>,
): T[] {
  const taken = new Map<string, number>()
  const out: T[] = []
  for (const r of rows) {
    if (out.length >= limit) break
    const n = taken.get(r.subscription_id) ?? 0
    if (n >= (room.busy.get(r.subscription_id) ?? room.perSubscription)) {
      crowded.add(r.subscription_id)
      continue
    }
    taken.set(r.subscription_id, n + 1)
    out.push(r)
  }
  return out
}

/** Claimed rows whose subscription was deleted between publish and claim: nothing to send them to. */
async function cancelOrphans(tx: Db, ids: readonly string[], token: string): Promise<void> {
  await tx
    .updateTable('deliveries')
    .set({
      status: 'cancelled',
      lease_token: null,
      next_attempt_at: null,
      last_error: 'subscription_deleted',
    })
    .where('id', 'in', ids)
    .where('lease_token', '=', token)
    .execute()
}
