// How the worker answers wake-ups, on a fake clock and a store that only counts claims: a wake
// must lead to a claim without waiting for the poll timer, and a burst of wakes during a claim
// to exactly one more claim.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { DeliveryWorker } from '../../src/deliveries/worker.ts'
import type { SigningKeyring } from '../../src/secrets/signing-keyring.ts'
import { silentLogger } from '../../src/shared/logger.ts'
import type { ClaimResult, Store } from '../../src/store/store.ts'

const pollMs = 60_000
const empty = (): ClaimResult => ({
  deliveries: [],
  scanExhausted: true,
  drained: new Set(),
  crowded: new Set(),
  throttled: new Map(),
})

describe('delivery worker wake-ups', () => {
  let claims: ((r: ClaimResult) => void)[]
  let worker: DeliveryWorker

  beforeEach(() => {
    vi.useFakeTimers()
    claims = []
    const store = {
      deliveries: {
        claimDue: () => new Promise<ClaimResult>((resolve) => claims.push(resolve)),
        dueSubscriptions: async () => [],
        release: async () => {},
        complete: async () => {},
      },
    } as unknown as Store
    worker = new DeliveryWorker({
      store,
      sender: {
        send: async () => ({ kind: 'error', code: 'network_error', message: 'unused', durationMs: 0 }),
        close: async () => {},
      },
      keyring: { keysFor: async () => new Map() } as unknown as SigningKeyring,
      policy: { scheduleMs: [1000], jitter: 0, maxRetryAfterMs: 1000 },
      requestTimeoutMs: 1000,
      concurrency: 8,
      perSubscription: 2,
      userAgent: 'Hookpost/test',
      log: silentLogger,
      pollIntervalMs: pollMs,
    })
    worker.start()
  })

  afterEach(async () => {
    const stopped = worker.stop(0)
    for (const c of claims.splice(0)) c(empty())
    await vi.advanceTimersByTimeAsync(10)
    await stopped
    vi.useRealTimers()
  })

  /** Ends the claim in progress (finding nothing) and lets a few milliseconds pass. */
  async function finishClaim(): Promise<void> {
    claims.at(-1)!(empty())
    await vi.advanceTimersByTimeAsync(5)
  }

  it('a wake while the worker sleeps starts a claim within milliseconds, not at the poll', async () => {
    expect(claims).toHaveLength(1)
    await finishClaim()
    expect(claims).toHaveLength(1)
    worker.wake()
    await vi.advanceTimersByTimeAsync(5)
    expect(claims).toHaveLength(2)
  })

  it('a wake during a claim that followed a timed-out poll leads to one more claim at once', async () => {
    await finishClaim()
    // Nothing announced: the poll timer ends the sleep and the next claim starts.
    await vi.advanceTimersByTimeAsync(pollMs)
    expect(claims).toHaveLength(2)
    worker.wake()
    await finishClaim()
    expect(claims).toHaveLength(3)
  })

  it('a burst of wakes during a claim leads to exactly one more claim', async () => {
    for (let i = 0; i < 5; i++) worker.wake()
    await finishClaim()
    expect(claims).toHaveLength(2)
    // The burst is spent: the worker sleeps until the next wake or poll.
    await finishClaim()
    expect(claims).toHaveLength(2)
  })
})
