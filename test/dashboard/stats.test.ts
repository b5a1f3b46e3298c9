import { describe, expect, it } from 'vitest'
import { lastAttemptFailed, mostFailing, slowest, timeline } from '../../src/dashboard/stats.ts'
import { freshHealth, type SubscriptionRow } from '../../src/store/store.ts'

const now = 1_800_000_000_000
const min = 60_000
const d = (created: number, status: 'pending' | 'delivered' | 'failed' | 'cancelled', extra = {}) => ({
  created,
  status,
  attempts: 1,
  lastStatusCode: status === 'delivered' ? 200 : 500,
  lastError: null,
  ...extra,
})

const sub = (id: string, h: Partial<SubscriptionRow['health']>): SubscriptionRow => ({
  id,
  envId: 'env_1',
  event: 'site.publish',
  url: `https://${id}.example`,
  active: true,
  ordered: false,
  created: now,
  updated: now,
  deactivatedReason: null,
  health: { ...freshHealth, ...h },
})

describe('operator statistics', () => {
  it('buckets deliveries over the smallest window that holds them', () => {
    const t = timeline(
      [d(now - 5 * min, 'delivered'), d(now - 50 * min, 'failed'), d(now - min, 'pending')],
      now,
    )
    expect(t.end - t.start).toBe(60 * min)
    expect(t.buckets).toHaveLength(24)
    const sum = (k: 'delivered' | 'failed' | 'pending' | 'failing') => t.buckets.reduce((a, b) => a + b[k], 0)
    expect([sum('delivered'), sum('failed'), sum('pending'), sum('failing')]).toEqual([1, 1, 1, 2])
    expect(t.buckets[t.buckets.length - 1]!.pending).toBe(1)
    expect(
      timeline([d(now - 3 * 60 * min, 'delivered')], now).end -
        timeline([d(now - 3 * 60 * min, 'delivered')], now).start,
    ).toBe(6 * 60 * min)
    expect(timeline([], now).buckets.every((b) => b.delivered === 0)).toBe(true)
  })

  it('knows when the latest attempt failed', () => {
    expect(lastAttemptFailed(d(now, 'pending', { attempts: 0, lastStatusCode: null }))).toBe(false)
    expect(lastAttemptFailed(d(now, 'pending', { lastStatusCode: 503 }))).toBe(true)
    expect(lastAttemptFailed(d(now, 'pending', { lastStatusCode: null, lastError: 'timeout' }))).toBe(true)
    expect(lastAttemptFailed(d(now, 'delivered'))).toBe(false)
    expect(lastAttemptFailed(d(now, 'failed'))).toBe(true)
  })

  it('ranks the failing endpoints: failing now first, then by failures', () => {
    const r = mostFailing([
      sub('a', { failureCount: 50, successCount: 50 }),
      sub('b', { failureCount: 3, consecutiveFailures: 3, failingSince: now - min }),
      sub('c', {}),
      sub('d', { failureCount: 10, successCount: 0 }),
    ])
    expect(r.map((x) => x.subscriptionId)).toEqual(['b', 'a', 'd'])
    expect(r[1]!.successRate).toBe(0.5)
  })

  it('ranks the slowest endpoints by p95 of attempt durations', () => {
    const att = (ms: number[]) =>
      ms.map((durationMs, i) => ({
        deliveryId: 'dlv',
        number: i + 1,
        started: now,
        durationMs,
        statusCode: 200,
        error: null,
        responseBody: null,
        requestHeaders: {},
        responseHeaders: null,
      }))
    const r = slowest([
      { envId: 'e', subscriptionId: 'fast', url: 'u1', attempts: att([10, 20, 30]) },
      { envId: 'e', subscriptionId: 'slow', url: 'u2', attempts: att([100, 900]) },
      { envId: 'e', subscriptionId: 'slow', url: 'u2', attempts: att([200]) },
      { envId: 'e', subscriptionId: 'none', url: 'u3', attempts: [] },
    ])
    expect(r.map((x) => x.subscriptionId)).toEqual(['slow', 'fast'])
    expect(r[0]).toMatchObject({ attempts: 3, meanMs: 400, p95Ms: 900, maxMs: 900 })
  })
})
