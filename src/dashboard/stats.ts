// Pure aggregations for the operator view: deliveries per time bucket, the most failing and the
// slowest endpoints. Inputs are bounded samples read through the use cases (see operator-routes).
import type { AttemptRow, DeliveryRow, DeliveryStatus, SubscriptionRow } from '../store/store.ts'

export interface Bucket {
  start: number
  delivered: number
  failed: number
  pending: number
  cancelled: number
  /** Deliveries whose latest attempt failed (failed, or pending after a failed attempt). */
  failing: number
}

export interface Timeline {
  start: number
  end: number
  bucketMs: number
  buckets: Bucket[]
}

const hour = 3_600_000
/** Window sizes to pick from: the smallest that covers the sample. */
const spans = [hour, 6 * hour, 24 * hour, 7 * 24 * hour]

/** Did the delivery's latest attempt fail? */
export function lastAttemptFailed(
  d: Pick<DeliveryRow, 'status' | 'attempts' | 'lastStatusCode' | 'lastError'>,
) {
  if (d.status === 'failed') return true
  if (d.status !== 'pending' || d.attempts === 0) return false
  const code = d.lastStatusCode
  return d.lastError !== null || (code !== null && (code < 200 || code > 299))
}

/** Deliveries counted by creation time into `count` equal buckets ending at `now`. */
export function timeline(
  rows: readonly Pick<DeliveryRow, 'created' | 'status' | 'attempts' | 'lastStatusCode' | 'lastError'>[],
  now: number,
  count = 24,
): Timeline {
  const oldest = rows.reduce((m, r) => Math.min(m, r.created), now)
  const span = spans.find((s) => now - oldest <= s) ?? spans[spans.length - 1]!
  const bucketMs = span / count
  const start = now - span
  const buckets: Bucket[] = Array.from({ length: count }, (_, i) => ({
    start: start + i * bucketMs,
    delivered: 0,
    failed: 0,
    pending: 0,
    cancelled: 0,
    failing: 0,
  }))
  for (const r of rows) {
    if (r.created < start || r.created > now) continue
    const b = buckets[Math.min(count - 1, Math.floor((r.created - start) / bucketMs))]!
    const status: DeliveryStatus = r.status
    b[status]++
    if (lastAttemptFailed(r)) b.failing++
  }
  return { start, end: now, bucketMs, buckets }
}

export interface EndpointFailure {
  envId: string
  subscriptionId: string
  url: string
  event: string
  active: boolean
  failureCount: number
  successCount: number
  successRate: number | null
  consecutiveFailures: number
  failingSince: number | null
  lastFailureAt: number | null
}

export function successRate(h: { successCount: number; failureCount: number }): number | null {
  const total = h.successCount + h.failureCount
  return total === 0 ? null : h.successCount / total
}

/** Subscriptions with failed attempts, the currently failing first, then by failure count. */
export function mostFailing(subs: readonly SubscriptionRow[], limit = 10): EndpointFailure[] {
  return subs
    .filter((s) => s.health.failureCount > 0)
    .map((s) => ({
      envId: s.envId,
      subscriptionId: s.id,
      url: s.url,
      event: s.event,
      active: s.active,
      failureCount: s.health.failureCount,
      successCount: s.health.successCount,
      successRate: successRate(s.health),
      consecutiveFailures: s.health.consecutiveFailures,
      failingSince: s.health.failingSince,
      lastFailureAt: s.health.lastFailureAt,
    }))
    .sort(
      (a, b) =>
        b.consecutiveFailures - a.consecutiveFailures ||
        b.failureCount - a.failureCount ||
        a.subscriptionId.localeCompare(b.subscriptionId),
    )
    .slice(0, limit)
}

export interface EndpointLatency {
  envId: string
  subscriptionId: string
  url: string
  attempts: number
  meanMs: number
  p95Ms: number
  maxMs: number
}

/** Attempt durations grouped by subscription, slowest (by p95) first. */
export function slowest(
  samples: readonly { envId: string; subscriptionId: string; url: string; attempts: readonly AttemptRow[] }[],
  limit = 10,
): EndpointLatency[] {
  const by = new Map<string, { envId: string; subscriptionId: string; url: string; ms: number[] }>()
  for (const s of samples) {
    const e = by.get(s.subscriptionId) ?? {
      envId: s.envId,
      subscriptionId: s.subscriptionId,
      url: s.url,
      ms: [],
    }
    for (const a of s.attempts) e.ms.push(a.durationMs)
    by.set(s.subscriptionId, e)
  }
  const out: EndpointLatency[] = []
  for (const e of by.values()) {
    if (e.ms.length === 0) continue
    const sorted = [...e.ms].sort((a, b) => a - b)
    out.push({
      envId: e.envId,
      subscriptionId: e.subscriptionId,
      url: e.url,
      attempts: sorted.length,
      meanMs: Math.round(sorted.reduce((a, b) => a + b, 0) / sorted.length),
      p95Ms: sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.95) - 1)]!,
      maxMs: sorted[sorted.length - 1]!,
    })
  }
  return out.sort((a, b) => b.p95Ms - a.p95Ms || b.meanMs - a.meanMs).slice(0, limit)
}
