import { describe, expect, it } from 'vitest'
import { completionRules, countsForHealth } from '../../src/deliveries/completion-rules.ts'
import type { HealthBefore } from '../../src/store/store.ts'

const day = 86_400_000
const rules = completionRules({ disableAfterMs: 5 * day })
const healthy: HealthBefore = {
  active: true,
  consecutiveFailures: 0,
  failingSince: null,
  lastSuccessAt: null,
  lastFailureAt: null,
}

describe('completion rules (pure)', () => {
  it('a run of failures starts at the first and ends at a success', () => {
    const v = rules.settle(
      healthy,
      [
        { ok: false, at: 10 },
        { ok: false, at: 20 },
      ],
      false,
      30,
    )
    expect(v).toMatchObject({ consecutiveFailures: 2, failingSince: 10, lastFailureAt: 20, failures: 2 })
    expect(v.deactivate).toBeNull()
    const after = rules.settle({ ...healthy, ...v }, [{ ok: true, at: 40 }], false, 50)
    expect(after).toMatchObject({
      consecutiveFailures: 0,
      failingSince: null,
      lastSuccessAt: 40,
      lastFailureAt: 20,
      successes: 1,
      failures: 0,
      deactivate: null,
    })
  })

  it('deactivates an active subscription failing for disableAfterMs, or gone; never an inactive one', () => {
    const failing = { ...healthy, consecutiveFailures: 9, failingSince: 0 }
    expect(rules.settle(failing, [{ ok: false, at: 5 * day - 1 }], false, 5 * day - 1).deactivate).toBeNull()
    const v = rules.settle(failing, [{ ok: false, at: 5 * day }], false, 5 * day)
    expect(v.deactivate).toBe('failing')
    expect(rules.deactivated('sub_1', v)).toEqual({
      type: 'subscription.deactivated',
      data: { subscriptionId: 'sub_1', reason: 'failing', failingSince: 0, consecutiveFailures: 10 },
    })
    expect(rules.settle(healthy, [{ ok: false, at: 1 }], true, 1).deactivate).toBe('gone')
    expect(
      rules.settle({ ...failing, active: false }, [{ ok: false, at: 6 * day }], true, 6 * day).deactivate,
    ).toBeNull()
  })

  it('a failed or gone delivery emits delivery.failed; delivered, retried and cancelled ones emit nothing', () => {
    const d = {
      id: 'dlv_1',
      subscriptionId: 'sub_1',
      eventId: 'evt_1',
      attempts: 3,
      statusCode: 500,
      error: 'http_500',
    }
    expect(rules.deliveryEnded({ kind: 'failed' }, d)).toEqual({
      type: 'delivery.failed',
      data: {
        deliveryId: 'dlv_1',
        subscriptionId: 'sub_1',
        eventId: 'evt_1',
        attempts: 3,
        lastStatusCode: 500,
        lastError: 'http_500',
      },
    })
    expect(rules.deliveryEnded({ kind: 'gone' }, d)?.type).toBe('delivery.failed')
    expect(rules.deliveryEnded({ kind: 'delivered' }, d)).toBeNull()
    expect(rules.deliveryEnded({ kind: 'retry', at: 1 }, d)).toBeNull()
    expect(rules.deliveryEnded({ kind: 'cancelled' }, d)).toBeNull()
  })

  it('our own egress proxy failing says nothing about the endpoint', () => {
    expect(countsForHealth({ kind: 'error', code: 'proxy_error', message: 'x', durationMs: 1 })).toBe(false)
    expect(countsForHealth({ kind: 'error', code: 'timeout', message: 'x', durationMs: 1 })).toBe(true)
  })
})
