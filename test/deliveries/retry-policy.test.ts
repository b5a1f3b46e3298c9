import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  manualRetryLimit,
  nextStep,
  parseRetryAfter,
  type RetryPolicy,
} from '../../src/deliveries/retry-policy.ts'
import type { AttemptOutcome } from '../../src/deliveries/sender.ts'

const policy: RetryPolicy = {
  scheduleMs: [5000, 300_000, 1_800_000],
  jitter: 0.2,
  maxRetryAfterMs: 3_600_000,
}
const res = (statusCode: number, headers: Record<string, string> = {}): AttemptOutcome => ({
  kind: 'response',
  statusCode,
  headers,
  body: '',
  durationMs: 1,
})
const err: AttemptOutcome = { kind: 'error', code: 'timeout', message: 't', durationMs: 1 }
const now = 1_000_000

describe('retry policy', () => {
  it('succeeds on any 2xx', () => {
    for (const s of [200, 201, 202, 204, 299])
      expect(nextStep(res(s), 1, 4, policy, now, 0.5)).toEqual({ kind: 'delivered' })
  })

  it('treats 410 as gone, and 3xx, 4xx, 5xx and transport errors as retryable failures', () => {
    expect(nextStep(res(410), 1, 4, policy, now, 0.5)).toEqual({ kind: 'gone' })
    for (const o of [res(301), res(302), res(400), res(404), res(500), err]) {
      expect(nextStep(o, 1, 4, policy, now, 0.5)).toEqual({ kind: 'retry', at: now + 5000 })
    }
  })

  it('walks the schedule, then fails when the attempts are used up', () => {
    expect(nextStep(err, 2, 4, policy, now, 0.5)).toEqual({ kind: 'retry', at: now + 300_000 })
    expect(nextStep(err, 3, 4, policy, now, 0.5)).toEqual({ kind: 'retry', at: now + 1_800_000 })
    expect(nextStep(err, 4, 4, policy, now, 0.5)).toEqual({ kind: 'failed' })
  })

  it('goes on with the schedule after attempts were added: the attempts left set the delay', () => {
    // A manual retry of a pending delivery after attempt 1 (limit 4 → 5) that fails: the next
    // delay is still the first one, and three scheduled attempts remain.
    expect(nextStep(err, 2, 5, policy, now, 0.5)).toEqual({ kind: 'retry', at: now + 5000 })
    expect(nextStep(err, 3, 5, policy, now, 0.5)).toEqual({ kind: 'retry', at: now + 300_000 })
    expect(nextStep(err, 5, 5, policy, now, 0.5)).toEqual({ kind: 'failed' })
    // A replay after 4 attempts (limit 4 + 4): a fresh schedule, from the first delay.
    expect(nextStep(err, 5, 8, policy, now, 0.5)).toEqual({ kind: 'retry', at: now + 5000 })
  })

  it('gives a manual retry one extra attempt: on top of the schedule when pending, one when finished', () => {
    expect(manualRetryLimit({ status: 'pending', attempts: 1, attemptLimit: 10 })).toBe(11)
    expect(manualRetryLimit({ status: 'pending', attempts: 11, attemptLimit: 10 })).toBe(12)
    expect(manualRetryLimit({ status: 'failed', attempts: 10, attemptLimit: 10 })).toBe(11)
    expect(manualRetryLimit({ status: 'delivered', attempts: 1, attemptLimit: 10 })).toBe(2)
  })

  it('keeps jitter within ±20 %', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 0.999999, noNaN: true }),
        fc.integer({ min: 1, max: 3 }),
        (r, attempt) => {
          const step = nextStep(err, attempt, 4, policy, now, r)
          if (step.kind !== 'retry') throw new Error('expected a retry')
          const base = policy.scheduleMs[attempt - 1]!
          expect(step.at - now).toBeGreaterThanOrEqual(Math.floor(base * 0.8))
          expect(step.at - now).toBeLessThanOrEqual(Math.ceil(base * 1.2))
        },
      ),
    )
  })

  it('honours Retry-After on 429 and 503 when it is longer, up to the cap', () => {
    expect(nextStep(res(429, { 'retry-after': '60' }), 1, 4, policy, now, 0.5)).toEqual({
      kind: 'retry',
      at: now + 60_000,
    })
    expect(nextStep(res(503, { 'retry-after': '1' }), 1, 4, policy, now, 0.5)).toEqual({
      kind: 'retry',
      at: now + 5000,
    })
    expect(nextStep(res(503, { 'retry-after': '999999' }), 1, 4, policy, now, 0.5)).toEqual({
      kind: 'retry',
      at: now + 3_600_000,
    })
    expect(nextStep(res(500, { 'retry-after': '60' }), 1, 4, policy, now, 0.5)).toEqual({
      kind: 'retry',
      at: now + 5000,
    })
  })

  it('parses Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('120', 0)).toBe(120_000)
    expect(parseRetryAfter(new Date(now + 30_000).toUTCString(), now)).toBe(30_000)
    expect(parseRetryAfter('soon', now)).toBeUndefined()
    expect(parseRetryAfter(undefined, now)).toBeUndefined()
  })
})
