// Endpoint ownership verification (contract section 13): the challenge a subscription's URL
// must echo before anything is sent to it, what counts as an echo, and the retry schedule of
// unanswered challenges. Pure: the sending is endpoint-verifier.ts over the Sender port.
import { randomBytes } from 'node:crypto'
import type { AttemptOutcome } from '../deliveries/sender.ts'
import type { EndpointVerification, VerificationOutcome } from '../store/store.ts'

/**
 * After the first challenge: the next ones 10 s, 1 min, 5 min, 30 min, 2 h and 6 h later; an
 * endpoint that has answered none of the 7 is `failed` (POST …/verify starts again).
 */
export const defaultVerificationScheduleMs: readonly number[] = [
  10_000, 60_000, 300_000, 1_800_000, 7_200_000, 21_600_000,
]

/** A fresh verification: a new random challenge, due now. */
export function startVerification(now: number): EndpointVerification {
  return {
    state: 'pending',
    challenge: randomBytes(24).toString('base64url'),
    attempts: 0,
    nextAt: now,
    lastError: null,
  }
}

/** The request body of a challenge. */
export function challengeBody(challenge: string): Buffer {
  return Buffer.from(JSON.stringify({ type: 'webhook.verification', challenge }))
}

/** Why an answer does not verify; null when it does (2xx with the challenge, bare or as JSON). */
export function challengeError(outcome: AttemptOutcome, challenge: string): string | null {
  if (outcome.kind === 'error') return `${outcome.code}: ${outcome.message}`
  if (outcome.kind === 'acknowledged') return 'not an HTTP answer'
  if (outcome.statusCode < 200 || outcome.statusCode >= 300) return `http_${outcome.statusCode}`
  const body = outcome.body.trim()
  if (body === challenge) return null
  try {
    const doc: unknown = JSON.parse(body)
    if (
      typeof doc === 'object' &&
      doc !== null &&
      (doc as Record<string, unknown>)['challenge'] === challenge
    )
      return null
  } catch {
    // Not JSON: only the bare challenge would do.
  }
  return 'challenge_mismatch: the answer must be the challenge string or {"challenge": "<the same>"}'
}

/** What a challenge's answer leads to, after `attempts` challenges of this verification. */
export function verificationStep(
  error: string | null,
  attempts: number,
  now: number,
  scheduleMs: readonly number[] = defaultVerificationScheduleMs,
): VerificationOutcome {
  if (error === null) return { kind: 'verified' }
  const delay = scheduleMs[attempts - 1]
  return delay === undefined ? { kind: 'failed', error } : { kind: 'retry', at: now + delay, error }
}
