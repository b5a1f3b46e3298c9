import { Webhook } from 'standardwebhooks'
import { afterEach, describe, expect, it } from 'vitest'
import { completionRules } from '../../src/deliveries/completion-rules.ts'
import { OperatorNotifier } from '../../src/operations/operator-notifier.ts'
import { HttpSender } from '../../src/outbound/http-sender.ts'
import { newId } from '../../src/shared/ids.ts'
import { silentLogger } from '../../src/shared/logger.ts'
import { generateSigningSecret } from '../../src/signing/signature.ts'
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.ts'
import { freshHealth, type Store } from '../../src/store/store.ts'
import { TestReceiver } from '../support/receiver.ts'

describe('operator webhook', () => {
  let store: Store
  let rx: TestReceiver
  const sender = new HttpSender()
  afterEach(async () => {
    await store.close()
    await rx.stop()
  })

  async function failedDelivery(): Promise<string> {
    const t = Date.now()
    const env = { id: newId('env'), name: 'e', signatureEncoding: 'hex' as const, created: t }
    await store.environments.create(env, {
      id: newId('sec'),
      envId: env.id,
      keyId: 'k',
      ciphertext: 'c',
      created: t,
      expires: null,
      revealed: false,
    })
    const sub = {
      id: newId('sub'),
      envId: env.id,
      event: 'site.publish',
      url: 'https://x.example/',
      active: true,
      ordered: false,
      created: t,
      updated: t,
      health: freshHealth,
      deactivatedReason: null,
    }
    await store.subscriptions.create(sub)
    await store.events.publish({
      event: {
        id: newId('evt'),
        envId: env.id,
        eventName: 'site.publish',
        body: Buffer.from('{}'),
        orderingKey: null,
        created: t,
      },
      idempotencyKey: null,
      idempotencySince: 0,
      attemptLimit: 1,
      newDeliveryId: () => newId('dlv'),
    })
    const {
      deliveries: [c],
    } = await store.deliveries.claimDue({ now: t, limit: 1, leaseMs: 1000, scan: { exclude: [] } })
    await store.deliveries.complete(
      [
        {
          id: c!.id,
          leaseToken: c!.leaseToken,
          statusCode: 500,
          error: 'http_500',
          outcome: { kind: 'failed' },
          attempt: {
            deliveryId: c!.id,
            number: 1,
            started: t,
            durationMs: 1,
            statusCode: 500,
            error: 'http_500',
            responseBody: '',
            requestHeaders: {},
            responseHeaders: {},
          },
        },
      ],
      t,
      completionRules({ disableAfterMs: 1e12 }),
    )
    return c!.id
  }

  it('sends each operational event once, signed with the operator secret, and retries refusals later', async () => {
    store = openSqliteStore(':memory:')
    await store.migrate()
    rx = await new TestReceiver().start()
    const secret = generateSigningSecret()
    let now = Date.now()
    const n = new OperatorNotifier({
      store,
      sender,
      url: `${rx.url}/ops`,
      secret,
      userAgent: 'Hookpost/test',
      timeoutMs: 2000,
      log: silentLogger,
      now: () => now,
    })
    const deliveryId = await failedDelivery()
    rx.respond = () => ({ status: 503 })
    expect(await n.tick()).toBe(0)
    expect(rx.received).toHaveLength(1)
    expect(await n.tick()).toBe(0)
    expect(rx.received).toHaveLength(1)
    rx.respond = () => ({ status: 204 })
    now += 60_000
    expect(await n.tick()).toBe(1)
    expect(rx.received).toHaveLength(2)
    const got = rx.received[1]!
    const payload = new Webhook(secret).verify(got.body.toString('utf8'), {
      'webhook-id': String(got.headers['webhook-id']),
      'webhook-timestamp': String(got.headers['webhook-timestamp']),
      'webhook-signature': String(got.headers['webhook-signature']),
    }) as { type: string; data: { deliveryId: string } }
    expect(payload.type).toBe('delivery.failed')
    expect(payload.data.deliveryId).toBe(deliveryId)
    now += 3_600_000
    expect(await n.tick()).toBe(0)
    expect(rx.received).toHaveLength(2)
    const [op] = await store.operationalEvents.list({ limit: 1 })
    expect(op?.sentAt).not.toBeNull()
  })
})
