// The pure rules of per-subscription settings: absent keeps, null clears, each bound and the path
// a refusal names, the form answers show; and the retry policy of a subscription's own schedule,
// including a pending delivery whose schedule changed under it.
import { describe, expect, it } from 'vitest'
import { nextStep, policyFor, scheduleAttemptLimit } from '../../src/deliveries/retry-policy.ts'
import { AppError } from '../../src/shared/errors.ts'
import { noSettings } from '../../src/store/store.ts'
import { applySettings, presentSettings } from '../../src/subscriptions/delivery-settings.ts'

const limits = { maxTimeoutMs: 15_000 }
const refusal = (fn: () => unknown) => {
  try {
    fn()
  } catch (e) {
    if (e instanceof AppError) return { code: e.code, path: e.details?.[0]?.path, message: e.message }
    throw e
  }
  throw new Error('not refused')
}

describe('subscription delivery settings', () => {
  it('keeps an absent field, clears a null one, replaces a given one', () => {
    const set = applySettings(
      undefined,
      { retrySchedule: ['10s', '1.5m'], rateLimit: '5/m', maxInFlight: 3 },
      limits,
    )
    expect(set).toEqual({
      retryScheduleMs: [10_000, 90_000],
      timeoutMs: null,
      rateLimit: { count: 5, periodMs: 60_000 },
      maxInFlight: 3,
    })
    expect(applySettings(set, {}, limits)).toEqual(set)
    expect(applySettings(set, { rateLimit: null, timeout: '250ms' }, limits)).toEqual({
      ...set,
      rateLimit: null,
      timeoutMs: 250,
    })
    expect(applySettings(undefined, {}, limits)).toEqual(noSettings)
  })

  it.each([
    [{ retrySchedule: [] }, 'invalid_retry_schedule', '/retrySchedule'],
    [{ retrySchedule: ['1s', '2x'] }, 'invalid_retry_schedule', '/retrySchedule/1'],
    [{ retrySchedule: ['0ms'] }, 'invalid_retry_schedule', '/retrySchedule/0'],
    [{ retrySchedule: ['7d', '169h'] }, 'invalid_retry_schedule', '/retrySchedule/1'],
    [{ timeout: '99ms' }, 'invalid_timeout', '/timeout'],
    [{ timeout: '16s' }, 'invalid_timeout', '/timeout'],
    [{ rateLimit: '100001/s' }, 'invalid_rate_limit', '/rateLimit'],
    [{ rateLimit: '1.5/s' }, 'invalid_rate_limit', '/rateLimit'],
    [{ maxInFlight: Number.NaN }, 'invalid_max_in_flight', '/maxInFlight'],
  ])('refuses %j: %s at %s', (input, code, path) => {
    expect(refusal(() => applySettings(undefined, input as never, limits))).toMatchObject({ code, path })
  })

  it('accepts the bounds themselves', () => {
    const s = applySettings(
      undefined,
      { retrySchedule: Array(50).fill('7d'), timeout: '15s', rateLimit: '100000/s', maxInFlight: 1000 },
      limits,
    )
    expect(s.retryScheduleMs).toHaveLength(50)
    expect(
      applySettings(undefined, { timeout: '100ms', rateLimit: '1/m', maxInFlight: 1 }, limits),
    ).toMatchObject({
      timeoutMs: 100,
      maxInFlight: 1,
    })
  })

  it('shows durations in their shortest exact unit, null for the service setting', () => {
    expect(
      presentSettings({
        retryScheduleMs: [1500, 60_000, 90_000, 86_400_000],
        timeoutMs: 5000,
        rateLimit: { count: 10, periodMs: 1000 },
        maxInFlight: 2,
      }),
    ).toEqual({
      retrySchedule: ['1500ms', '1m', '90s', '1d'],
      timeout: '5s',
      rateLimit: '10/s',
      maxInFlight: 2,
    })
    expect(presentSettings(undefined)).toEqual({
      retrySchedule: null,
      timeout: null,
      rateLimit: null,
      maxInFlight: null,
    })
  })
})

describe("a subscription's own retry policy", () => {
  const service = { scheduleMs: [5000, 300_000], jitter: 0.2, maxRetryAfterMs: 3_600_000 }
  const fail = { kind: 'error', code: 'timeout', message: 't', durationMs: 1 } as const

  it('uses its own delays and keeps the jitter and Retry-After bounds of the service', () => {
    const own = policyFor(service, [100, 200, 300])
    expect(own).toEqual({ ...service, scheduleMs: [100, 200, 300] })
    expect(policyFor(service, null)).toBe(service)
    const limit = scheduleAttemptLimit([100, 200, 300])
    expect(limit).toBe(4)
    expect(nextStep(fail, 1, limit, own, 0, 0.5)).toEqual({ kind: 'retry', at: 100 })
    expect(nextStep(fail, 3, limit, own, 0, 0.5)).toEqual({ kind: 'retry', at: 300 })
    expect(nextStep(fail, 4, limit, own, 0, 0.5)).toEqual({ kind: 'failed' })
    expect(nextStep(fail, 1, limit, own, 0, 0)).toEqual({ kind: 'retry', at: 80 })
  })

  it('after a change, a pending delivery keeps its limit and takes the new delays by the attempts it has left', () => {
    // Created under five delays (limit 6), now under two: attempts 1–3 get the first delay
    // (more attempts left than the schedule has), attempts 4 and 5 the schedule's two delays.
    const changed = policyFor(service, [1000, 9000])
    const at = (n: number) => nextStep(fail, n, 6, changed, 0, 0.5)
    expect([1, 2, 3, 4, 5].map(at)).toEqual([
      { kind: 'retry', at: 1000 },
      { kind: 'retry', at: 1000 },
      { kind: 'retry', at: 1000 },
      { kind: 'retry', at: 1000 },
      { kind: 'retry', at: 9000 },
    ])
    expect(at(6)).toEqual({ kind: 'failed' })
  })
})
