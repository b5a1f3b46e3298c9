// Held subscriptions (paused, or their endpoint not verified) over Kysely: one mechanism for
// both. A held subscription's pending deliveries have no due time (next_attempt_at null), so
// the claim query never sees them; releasing makes them due at their creation time, so they
// are claimed oldest first. An attempt in flight keeps its lease and finishes.
import { sql, type Transaction } from 'kysely'
import type {
  EndpointVerification,
  SubscriptionRow,
  VerificationOutcome,
  VerificationState,
} from '../store.ts'
import type { Database } from './database.ts'
import { dueHanded, notHanded } from './handed-deliveries.ts'
import type { Db } from './row-mappers.ts'

/** The columns of migration 11 as a row sets them (create and update). */
export function holdColumns(s: SubscriptionRow) {
  const v = s.verification ?? null
  return {
    filter: s.filter ?? null,
    paused: s.paused ? 1 : 0,
    held: s.held ? 1 : 0,
    verification: v?.state ?? null,
    verification_challenge: v?.challenge ?? null,
    verification_attempts: v?.attempts ?? 0,
    verification_next_at: v?.nextAt ?? null,
    verification_error: v?.lastError ?? null,
  }
}

/** Migration 11's fields of a subscription row. */
export function holdFieldsOf(r: {
  filter: string | null
  paused: number
  held: number
  verification: string | null
  verification_challenge: string | null
  verification_attempts: number
  verification_next_at: number | null
  verification_error: string | null
}): Pick<SubscriptionRow, 'filter' | 'paused' | 'held' | 'verification'> {
  const verification: EndpointVerification | null =
    r.verification === null
      ? null
      : {
          state: r.verification as VerificationState,
          challenge: r.verification_challenge,
          attempts: Number(r.verification_attempts),
          nextAt: r.verification_next_at === null ? null : Number(r.verification_next_at),
          lastError: r.verification_error,
        }
  return { filter: r.filter, paused: Number(r.paused) === 1, held: Number(r.held) === 1, verification }
}

/** Takes the due time off a subscription's pending deliveries that are not in flight. */
export async function holdPending(tx: Db, subscriptionId: string, now: number): Promise<void> {
  // Hand-offs whose lease ran out are held like any other (handed-deliveries.ts).
  await dueHanded(tx, now)
  await tx
    .updateTable('deliveries')
    .set({ next_attempt_at: null, lease_token: null, updated: now })
    .where('subscription_id', '=', subscriptionId)
    .where('status', '=', sql.lit('pending'))
    .where(notHanded)
    // A lease in the future is an attempt in flight: it finishes (its retry is held then).
    .where((w) => w.or([w('lease_token', 'is', null), w('next_attempt_at', '<=', now)]))
    .where((w) => w.or([w('next_attempt_at', 'is not', null), w('lease_token', 'is not', null)]))
    .execute()
}

/** Makes a subscription's held deliveries due, each at its creation: claimed oldest first. */
export async function releaseHeld(tx: Db, subscriptionId: string, now: number): Promise<number> {
  const r = await tx
    .updateTable('deliveries')
    .set((eb) => ({ next_attempt_at: eb.ref('created'), updated: now }))
    .where('subscription_id', '=', subscriptionId)
    .where('status', '=', sql.lit('pending'))
    .where(notHanded)
    .where('next_attempt_at', 'is', null)
    .executeTakeFirst()
  return Number(r.numUpdatedRows)
}

/**
 * Holds again the pending deliveries of those of these subscriptions that are held. `lock`
 * (PostgreSQL): the held rows are locked, so that a release committing meanwhile either waits
 * for this transaction (and then sees these deliveries) or is seen by it.
 */
export async function holdWhereHeld(
  tx: Db,
  subscriptionIds: readonly string[],
  now: number,
  lock: boolean,
): Promise<void> {
  if (subscriptionIds.length === 0) return
  const held = await tx
    .selectFrom('subscriptions')
    .select('id')
    .where('id', 'in', [...new Set(subscriptionIds)])
    .where('held', '=', 1)
    .orderBy('id')
    .$if(lock, (q) => q.forUpdate())
    .execute()
  for (const h of held) await holdPending(tx, h.id, now)
}

/**
 * The held flags of these subscriptions as committed now, their rows share-locked (PostgreSQL:
 * a release waits for this publish, or this publish sees it; never a delivery left held by a
 * publish that raced a resume).
 */
export async function heldNow(
  tx: Transaction<Database>,
  ids: readonly string[],
): Promise<Map<string, boolean>> {
  const rows = await tx
    .selectFrom('subscriptions')
    .select(['id', 'held'])
    .where('id', 'in', [...ids])
    .orderBy('id')
    .forShare()
    .execute()
  return new Map(rows.map((r) => [r.id, Number(r.held) === 1]))
}

/** After a subscription's row changed from `wasHeld`: holds or releases its deliveries. */
export async function applyHeld(tx: Db, s: SubscriptionRow, wasHeld: boolean, now: number): Promise<boolean> {
  const held = s.held ?? false
  if (held === wasHeld) return false
  if (held) await holdPending(tx, s.id, now)
  else return (await releaseHeld(tx, s.id, now)) > 0
  return false
}

export async function claimVerifications(
  tx: Transaction<Database>,
  now: number,
  limit: number,
  leaseMs: number,
  skipLocked: boolean,
): Promise<string[]> {
  const due = await tx
    .selectFrom('subscriptions')
    .select('id')
    .where('verification_next_at', '<=', now)
    .where('verification', '=', 'pending')
    .orderBy('verification_next_at')
    .limit(limit)
    .$if(skipLocked, (q) => q.forUpdate().skipLocked())
    .execute()
  if (due.length === 0) return []
  const ids = due.map((d) => d.id)
  await tx
    .updateTable('subscriptions')
    .set((eb) => ({
      verification_next_at: now + leaseMs,
      verification_attempts: eb('verification_attempts', '+', 1),
    }))
    .where('id', 'in', ids)
    // Another node may have taken one between the select and here (SQLite has no skip locked,
    // but one writer: this cannot happen there; PostgreSQL locked the rows above).
    .where('verification_next_at', '<=', now)
    .execute()
  return ids
}

/** Applies a challenge's outcome; false, changing nothing, when a newer challenge replaced it. */
export async function recordVerification(
  tx: Transaction<Database>,
  id: string,
  challenge: string,
  outcome: VerificationOutcome,
  now: number,
): Promise<{ applied: boolean; released: boolean }> {
  const fenced = tx
    .updateTable('subscriptions')
    .where('id', '=', id)
    .where('verification', '=', 'pending')
    .where('verification_challenge', '=', challenge)
  if (outcome.kind === 'retry') {
    const r = await fenced
      .set({ verification_next_at: outcome.at, verification_error: outcome.error })
      .executeTakeFirst()
    return { applied: Number(r.numUpdatedRows) > 0, released: false }
  }
  // The state shows in the row (and the worker's copy of it): a new version.
  const r = await fenced
    .set((eb) =>
      outcome.kind === 'verified'
        ? {
            verification: 'verified',
            verification_next_at: null,
            verification_error: null,
            held: eb.ref('paused'),
            updated: now,
          }
        : {
            verification: 'failed',
            verification_next_at: null,
            verification_error: outcome.error,
            updated: now,
          },
    )
    .returning(['held'])
    .executeTakeFirst()
  if (!r) return { applied: false, released: false }
  if (outcome.kind === 'verified' && Number(r.held) === 0)
    return { applied: true, released: (await releaseHeld(tx, id, now)) > 0 }
  return { applied: true, released: false }
}
