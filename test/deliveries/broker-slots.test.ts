// A subscription with a broker destination gets its own number of attempts in flight
// (HOOKPOST_BROKER_SUBSCRIPTION_CONCURRENCY), an HTTP one keeps HOOKPOST_SUBSCRIPTION_CONCURRENCY,
// and a subscription's maxInFlight still caps either. Counted at the Sender: attempts it holds
// open at once, per subscription.
import { afterEach, describe, expect, it } from 'vitest'
import type { AttemptOutcome, OutboundRequest, Sender } from '../../src/deliveries/sender.ts'
import { noSettings } from '../../src/store/store.ts'
import { aPlainPublish, aSubscription } from '../contract/fixtures.ts'
import { eventually } from '../support/eventually.ts'
import { type WorkerHarness, workerHarness } from '../support/worker-harness.ts'

/** Holds every send open until released; counts the open ones by destination (or URL). */
class HoldingSender implements Sender {
  readonly open = new Map<string, number>()
  readonly #waiting: (() => void)[] = []
  send(req: OutboundRequest): Promise<AttemptOutcome> {
    const key = req.destination ? req.destination.fields['stream']! : req.url
    this.open.set(key, (this.open.get(key) ?? 0) + 1)
    return new Promise((resolve) =>
      this.#waiting.push(() => resolve({ kind: 'acknowledged', answer: '1-0', durationMs: 1 })),
    )
  }
  releaseAll(): void {
    for (const go of this.#waiting.splice(0)) go()
  }
  async close(): Promise<void> {
    this.releaseAll()
  }
}

describe('attempts in flight per subscription, by destination', () => {
  let h: WorkerHarness | undefined
  let sender: HoldingSender | undefined
  afterEach(async () => {
    sender?.releaseAll()
    await h?.close()
    h = undefined
  })

  it('gives a broker subscription its own slots and an HTTP one the usual', async () => {
    sender = new HoldingSender()
    h = await workerHarness({
      worker: { sender, concurrency: 64, perSubscription: 3, perBrokerSubscription: 7 },
    })
    const redis = (stream: string) => ({
      type: 'redis',
      fields: { url: 'redis://127.0.0.1:6379/0', stream },
      sealedUrl: null,
    })
    await aSubscription(h.store, h.envId, { destination: redis('broker') })
    await aSubscription(h.store, h.envId, {
      destination: redis('capped'),
      settings: { ...noSettings, maxInFlight: 2 },
    })
    await aSubscription(h.store, h.envId, { url: 'https://example.com/http' })
    for (let k = 0; k < 20; k++) await h.store.events.publish(aPlainPublish(h.envId, Date.now() + k))
    h.worker.wake()
    await eventually(() => {
      expect(sender!.open.get('broker')).toBe(7)
      expect(sender!.open.get('https://example.com/http')).toBe(3)
      expect(sender!.open.get('capped')).toBe(2)
    }, 5000)
    // And no more while they stay open.
    await new Promise((r) => setTimeout(r, 200))
    expect(sender.open.get('broker')).toBe(7)
    expect(sender.open.get('https://example.com/http')).toBe(3)
    expect(sender.open.get('capped')).toBe(2)
  })
})
