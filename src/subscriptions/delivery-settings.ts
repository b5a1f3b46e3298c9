// A subscription's own delivery settings (contract section 12): retrySchedule, timeout, rateLimit
// and maxInFlight, parsed and bounded here, shown back in the same form. Absent or null: the
// service's settings apply, exactly as in v1. Pure: no clock, no store, no process.env.

import { formatDuration, parseDuration } from '../shared/duration.ts'
import { AppError } from '../shared/errors.ts'
import { noSettings, type SubscriptionSettings } from '../store/store.ts'

/** Delays a schedule may hold at most (as many as HOOKPOST_RETRY_SCHEDULE). */
export const maxScheduleDelays = 50
/** The longest delay of a schedule. */
export const maxScheduleDelayMs = 7 * 86_400_000
/** The shortest per-subscription timeout. */
export const minTimeoutMs = 100
/** The largest N of a rate limit (per second or per minute). */
export const maxRateCount = 100_000
/** The largest maxInFlight. */
export const maxInFlightLimit = 1000

/** The settings as the API takes them; undefined: unchanged on update (none on create), null: none. */
export interface DeliverySettingsIn {
  retrySchedule?: readonly string[] | null | undefined
  timeout?: string | null | undefined
  rateLimit?: string | null | undefined
  maxInFlight?: number | null | undefined
}

/** The settings as the API shows them (null: the service's setting). */
export interface DeliverySettingsOut {
  retrySchedule: string[] | null
  timeout: string | null
  rateLimit: string | null
  maxInFlight: number | null
}

const periods: Record<string, number> = { s: 1000, m: 60_000 }

function bad(
  code: 'invalid_retry_schedule' | 'invalid_timeout' | 'invalid_rate_limit' | 'invalid_max_in_flight',
  path: string,
  message: string,
): AppError {
  return new AppError(code, { message, details: [{ path, message }] })
}

function duration(raw: unknown): number | undefined {
  if (typeof raw !== 'string') return undefined
  try {
    return parseDuration(raw)
  } catch {
    return undefined
  }
}

export function parseRetrySchedule(raw: readonly unknown[]): number[] {
  if (raw.length === 0) throw bad('invalid_retry_schedule', '/retrySchedule', 'needs at least one delay')
  if (raw.length > maxScheduleDelays) {
    throw bad(
      'invalid_retry_schedule',
      `/retrySchedule/${maxScheduleDelays}`,
      `holds at most ${maxScheduleDelays} delays`,
    )
  }
  return raw.map((d, i) => {
    const ms = duration(d)
    if (ms === undefined || ms <= 0 || ms > maxScheduleDelayMs) {
      throw bad(
        'invalid_retry_schedule',
        `/retrySchedule/${i}`,
        `retrySchedule[${i}] ${JSON.stringify(d)} is not a positive duration of at most 7d (e.g. 10s, 5m, 2h)`,
      )
    }
    return ms
  })
}

export function parseTimeout(raw: unknown, maxTimeoutMs: number): number {
  const ms = duration(raw)
  if (ms === undefined || ms < minTimeoutMs || ms > maxTimeoutMs) {
    throw bad(
      'invalid_timeout',
      '/timeout',
      `timeout ${JSON.stringify(raw)} must be a duration from ${minTimeoutMs}ms to ${formatDuration(maxTimeoutMs)}`,
    )
  }
  return ms
}

export function parseRateLimit(raw: unknown): { count: number; periodMs: number } {
  const m = typeof raw === 'string' ? /^\s*(\d+)\s*\/\s*(s|m)\s*$/.exec(raw) : null
  const count = m ? Number(m[1]) : Number.NaN
  if (!m || !Number.isInteger(count) || count < 1 || count > maxRateCount) {
    throw bad(
      'invalid_rate_limit',
      '/rateLimit',
      `rateLimit ${JSON.stringify(raw)} must be "N/s" or "N/m" with N from 1 to ${maxRateCount}`,
    )
  }
  return { count, periodMs: periods[m[2]!]! }
}

export function parseMaxInFlight(raw: unknown): number {
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 1 || raw > maxInFlightLimit) {
    throw bad(
      'invalid_max_in_flight',
      '/maxInFlight',
      `maxInFlight must be an integer from 1 to ${maxInFlightLimit}`,
    )
  }
  return raw
}

/**
 * The settings after applying `input` to `current`: an absent field keeps its value (so that
 * BaseKit's `{event,url,active}` PUT leaves them alone), null clears it, a value replaces it.
 */
export function applySettings(
  current: SubscriptionSettings | undefined,
  input: DeliverySettingsIn,
  limits: { maxTimeoutMs: number },
): SubscriptionSettings {
  const base = current ?? noSettings
  const pick = <T>(v: unknown, keep: T, parse: (v: unknown) => T): T =>
    v === undefined ? keep : v === null ? (null as T) : parse(v)
  return {
    retryScheduleMs: pick(input.retrySchedule, base.retryScheduleMs, (v) => {
      if (!Array.isArray(v))
        throw bad('invalid_retry_schedule', '/retrySchedule', 'must be an array of durations')
      return parseRetrySchedule(v)
    }),
    timeoutMs: pick(input.timeout, base.timeoutMs, (v) => parseTimeout(v, limits.maxTimeoutMs)),
    rateLimit: pick(input.rateLimit, base.rateLimit, parseRateLimit),
    maxInFlight: pick(input.maxInFlight, base.maxInFlight, parseMaxInFlight),
  }
}

export function formatRateLimit(r: { count: number; periodMs: number }): string {
  return `${r.count}/${r.periodMs === 60_000 ? 'm' : 's'}`
}

export function presentSettings(s: SubscriptionSettings | undefined): DeliverySettingsOut {
  const v = s ?? noSettings
  return {
    retrySchedule: v.retryScheduleMs === null ? null : v.retryScheduleMs.map(formatDuration),
    timeout: v.timeoutMs === null ? null : formatDuration(v.timeoutMs),
    rateLimit: v.rateLimit === null ? null : formatRateLimit(v.rateLimit),
    maxInFlight: v.maxInFlight,
  }
}
