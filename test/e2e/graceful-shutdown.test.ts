// R08: SIGTERM under load stops claiming, lets the attempt in flight finish and record its
// outcome, and exits 0; nothing is attempted twice because of the shutdown.
import { afterAll, describe, expect, it } from 'vitest'
import { eventTypes } from '../../src/events/event-types.ts'
import { eventually } from '../support/eventually.ts'
import { TestReceiver } from '../support/receiver.ts'
import { client, freePort, type ServiceProcess, startService } from '../support/service-process.ts'
import { createTenant } from '../support/tenant.ts'

describe('graceful shutdown (R08)', () => {
  const rx = new TestReceiver()
  let svc: ServiceProcess | undefined
  afterAll(async () => {
    await svc?.stop('SIGKILL')
    svc?.cleanup()
    await rx.stop()
  })

  it('finishes the attempt in flight on SIGTERM and exits 0', async () => {
    await rx.start()
    rx.respond = () => ({ status: 200, delayMs: 1500 })
    const env = {
      HOOKPOST_ALLOW_HTTP: 'true',
      HOOKPOST_ALLOWED_CIDRS: '127.0.0.0/8',
      HOOKPOST_ADMIN_TOKEN: 'shutdown-admin-token-12345',
      HOOKPOST_PORT: String(await freePort()),
    }
    svc = await startService(env)
    const tenant = await createTenant(svc, 'x')
    const consumer = client(svc.url, tenant.consumer.authorization)
    await consumer('POST', '/webhooks/subscription', {
      event: 'site.publish',
      url: `${rx.url}/h`,
      active: true,
    })
    await client(svc.url, tenant.publisher.authorization)(
      'POST',
      '/events',
      eventTypes.find((t) => t.name === 'site.publish')!.example,
    )
    await eventually(() => expect(rx.received).toHaveLength(1))
    const code = await svc.stop('SIGTERM')
    expect(code).toBe(0)
    svc = await startService(env, { dataDir: svc.dataDir })
    const list = (await client(svc.url, tenant.consumer.authorization)('GET', '/webhooks/deliveries')).json
      .deliveries
    expect(list).toMatchObject([{ status: 'delivered', attempts: 1 }])
    await new Promise((r) => setTimeout(r, 500))
    expect(rx.received).toHaveLength(1)
  })
})
