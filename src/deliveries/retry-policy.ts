// What happens after an attempt: a pure function of the outcome, the attempt count and the
// schedule. The numbers are data (HOOKPOST_RETRY_SCHEDULE); docs/delivery.md tabulates them.
import type { Completion, DeliveryRow } from '../store/store.ts'
import type { AttemptOutcome } from './sender.ts'

export interface RetryPolicy {
  /** Delays after attempt 1, 2, … in ms. */
  scheduleMs: readonly number[]
  /** ±fraction applied to each delay. */
  jitter: number
  /** Longest Retry-After honoured. */
  maxRetryAfterMs: number
}

export const defaultJitter = 0.2
export const defaultMaxRetryAfterMs = 6 * 3_600_000

export function attemptLimit(policy: RetryPolicy): number {
  return policy.scheduleMs.length + 1
}

/** A schedule's attempt limit: the first attempt and one per delay. */
export function scheduleAttemptLimit(scheduleMs: readonly number[]): number {
  return scheduleMs.length + 1
}

/**
 * The policy of a subscription's deliveries: its own retry schedule (jitter and Retry-After
 * bounds as the service's) or the service's. Read when an attempt ends, so that an updated
 * schedule applies from a pending delivery's next retry on; its attempt limit stays the one
 * fixed when it was created (docs/subscription-settings.md).
 */
export function policyFor(
  policy: RetryPolicy,
  retryScheduleMs: readonly number[] | null | undefined,
): RetryPolicy {
  return retryScheduleMs ? { ...policy, scheduleMs: retryScheduleMs } : policy
}

/**
 * The attempt limit after a consumer's "retry now": one attempt now, on top of what the delivery
 * has. A pending delivery keeps the rest of its schedule (the manual attempt is extra); a
 * delivered, failed or cancelled one gets that one attempt.
 */
export function manualRetryLimit(d: Pick<DeliveryRow, 'status' | 'attempts' | 'attemptLimit'>): number {
  return d.status === 'pending' ? Math.max(d.attemptLimit, d.attempts) + 1 : d.attempts + 1
}

/** Parses Retry-After (seconds or an HTTP date) into ms from now; undefined when absent or bad. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined
  const v = value.trim()
  if (/^\d+$/.test(v)) return Number(v) * 1000
  const at = Date.parse(v)
  if (Number.isNaN(at)) return undefined
  return Math.max(0, at - now)
}

export function isSuccess(o: AttemptOutcome): boolean {
  return o.kind === 'acknowledged' || (o.kind === 'response' && o.statusCode >= 200 && o.statusCode < 300)
}

/**
 * attempts: the number of this attempt (1-based); limit: the delivery's attempt limit.
 * random: a value in [0, 1) for jitter.
 */
export function nextStep(
  outcome: AttemptOutcome,
  attempts: number,
  limit: number,
  policy: RetryPolicy,
  now: number,
  random: number,
): Completion {
  if (isSuccess(outcome)) return { kind: 'delivered' }
  if (outcome.kind === 'response' && outcome.statusCode === 410) return { kind: 'gone' }
  if (attempts >= limit) return { kind: 'failed' }
  // The place in the schedule follows the attempts left, not the attempts made: a manual retry
  // or a replay adds attempts, and the delays go on from where the schedule stood.
  const idx = policy.scheduleMs.length - (limit - attempts)
  const base = policy.scheduleMs[Math.min(Math.max(0, idx), policy.scheduleMs.length - 1)] ?? 0
  let delay = base * (1 + policy.jitter * (2 * random - 1))
  if (outcome.kind === 'response' && (outcome.statusCode === 429 || outcome.statusCode === 503)) {
    const ra = parseRetryAfter(outcome.headers['retry-after'], now)
    if (ra !== undefined) delay = Math.max(delay, Math.min(ra, policy.maxRetryAfterMs))
  }
  return { kind: 'retry', at: now + Math.round(delay) }
}
