// The ledger oracle (reliability.md 7.1): several clients publish while the service is killed
// with SIGKILL at random moments and restarted; afterwards every acknowledged event must have
// reached every subscribed receiver. Lost must be 0; duplicates are counted and reported.
import { afterAll, describe, expect, it } from 'vitest'
import { eventTypes } from '../../src/events/event-types.ts'
import { eventually } from '../support/eventually.ts'
import { basekitHeaderValid } from '../support/independent-verify.ts'
import { TestReceiver } from '../support/receiver.ts'
import { client, freePort, type ServiceProcess, startService } from '../support/service-process.ts'
import { createTenant } from '../support/tenant.ts'

const events = 150
const clients = 3
const kills = 4
const example = eventTypes.find((t) => t.name === 'site.publish')!.example as Record<string, unknown>

describe('crash ledger: SIGKILL at random moments loses no acknowledged event', { timeout: 180_000 }, () => {
  const rx = new TestReceiver()
  let svc: ServiceProcess | undefined
  afterAll(async () => {
    await svc?.stop('SIGKILL')
    svc?.cleanup()
    await rx.stop()
  })

  it('delivers every acknowledged event to every subscription after repeated kills', async () => {
    await rx.start()
    const env = {
      HOOKPOST_ALLOW_HTTP: 'true',
      HOOKPOST_ALLOWED_CIDRS: '127.0.0.0/8',
      HOOKPOST_REQUEST_TIMEOUT: '1s',
      HOOKPOST_RETRY_SCHEDULE: '100ms,200ms,500ms,1s,1s,1s',
      HOOKPOST_ADMIN_TOKEN: 'ledger-admin-token-1234567',
      HOOKPOST_PORT: String(await freePort()),
      HOOKPOST_LOG_LEVEL: 'warn',
    }
    svc = await startService(env)
    const dataDir = svc.dataDir
    const tenant = await createTenant(svc, 'ledger', { signingSecret: true })
    const consumer = client(svc.url, tenant.consumer.authorization)
    const publisher = client(svc.url, tenant.publisher.authorization)
    const secret = tenant.signingSecret
    for (const path of ['a', 'b']) {
      await consumer('POST', '/webhooks/subscription', {
        event: 'site.publish',
        url: `${rx.url}/${path}`,
        active: true,
      })
    }

    const acked = new Set<number>()
    let next = 0
    let unknowns = 0
    const deadline = Date.now() + 90_000
    const publishOne = async (ref: number) => {
      // Retried with the same Idempotency-Key until it is definitely acknowledged.
      while (Date.now() < deadline) {
        try {
          const r = await publisher(
            'POST',
            '/events',
            { ...example, site: { ref } },
            { 'idempotency-key': `evt-${ref}` },
          )
          if (r.status === 202) {
            acked.add(ref)
            return
          }
        } catch {
          unknowns++
        }
        await new Promise((r) => setTimeout(r, 50))
      }
    }
    const workers = Array.from({ length: clients }, async () => {
      while (next < events && Date.now() < deadline) {
        const ref = next++
        await publishOne(ref)
        await new Promise((r) => setTimeout(r, 5))
      }
    })
    const killer = (async () => {
      for (let k = 0; k < kills; k++) {
        await new Promise((r) => setTimeout(r, 200 + Math.random() * 700))
        await svc!.stop('SIGKILL')
        svc = await startService(env, { dataDir })
      }
    })()
    await Promise.all([...workers, killer])
    expect(acked.size).toBe(events)

    const seen = (path: string) =>
      new Set(
        rx.received
          .filter((r) => r.path === `/${path}`)
          .map((r) => (JSON.parse(r.body.toString('utf8')) as { site: { ref: number } }).site.ref),
      )
    await eventually(
      () => {
        for (const path of ['a', 'b']) {
          const lost = [...acked].filter((ref) => !seen(path).has(ref))
          expect(lost, `lost on /${path}`).toEqual([])
        }
      },
      60_000,
      200,
    )
    const badSignatures = rx.received.filter(
      (r) => !basekitHeaderValid(secret, r.body, r.headers['x-delivery-hmac-sha256'] as string),
    ).length
    const duplicates = rx.received.length - 2 * acked.size
    const unexpected = rx.received.filter((r) => {
      const ref = (JSON.parse(r.body.toString('utf8')) as { site: { ref: number } }).site.ref
      return !acked.has(ref)
    }).length
    console.log(
      `crash ledger: ${events} events acknowledged, ${kills} SIGKILLs, ${unknowns} unknown outcomes retried; ` +
        `lost 0, duplicates ${duplicates}, unexpected ${unexpected}, bad signatures ${badSignatures}`,
    )
    expect(badSignatures).toBe(0)
    expect(unexpected).toBe(0)
    // Every duplicate keeps its webhook-id: distinct ids = exactly one per (event, subscription).
    expect(new Set(rx.received.map((r) => String(r.headers['webhook-id']))).size).toBe(2 * acked.size)
  })
})
