// The real process delivering to real brokers, killed with SIGKILL mid-publish and restarted on
// the same data: every delivery reaches the broker at least once (none lost), the one caught
// between the broker's ack and its record twice under the same webhook-id, all end delivered.
// The first process publishes from its sending thread, the restarted one from its main thread.
import { afterEach, expect, it } from 'vitest'
import { type Rig, rigs } from '../destinations/broker-rigs.ts'
import { describeWithBroker } from '../support/brokers.ts'
import { eventually } from '../support/eventually.ts'
import { client, freePort, type ServiceProcess, startService } from '../support/service-process.ts'
import { createTenant } from '../support/tenant.ts'

const base = {
  HOOKPOST_ALLOW_HTTP: 'true',
  HOOKPOST_ALLOWED_CIDRS: '127.0.0.0/8',
  HOOKPOST_REQUEST_TIMEOUT: '1s',
  HOOKPOST_RETRY_SCHEDULE: '200ms,500ms,1s,1s,1s',
  HOOKPOST_ADMIN_TOKEN: 'destination-crash-admin-token',
}
const events = 40

for (const broker of ['amqp', 'nats', 'redis'] as const) {
  await describeWithBroker(broker, `${broker}: crash of the worker mid-publish`, () => {
    let current: ServiceProcess | undefined
    let rig: Rig | undefined
    afterEach(async () => {
      await current?.stop('SIGKILL')
      current?.cleanup()
      await rig?.dispose()
    })

    it('loses nothing: killed after the broker acked (worker.after_send), restarted, all delivered', async () => {
      rig = await rigs[broker]()
      // The 5th attempt kills the process after the broker's ack, before the outcome is recorded.
      const env = {
        ...base,
        HOOKPOST_PORT: String(await freePort()),
        HOOKPOST_FAILPOINT: 'worker.after_send@5',
      }
      const svc = await startService(env)
      current = svc
      const tenant = await createTenant(svc, 'crash')
      const consumer = client(svc.url, tenant.consumer.authorization)
      const publisher = client(svc.url, tenant.publisher.authorization)
      const created = await consumer('POST', '/webhooks/subscription', {
        event: 'site.publish',
        destination: rig.destination(),
        active: true,
      })
      expect(created.status).toBe(201)
      // Each event under its own Idempotency-Key, as a publisher that retries must send it: the
      // one committed when the kill came, before its 202 went out, is answered again after the
      // restart instead of being published twice.
      const publish = (p: typeof publisher, i: number) =>
        p(
          'POST',
          '/events',
          { eventName: 'site.publish', site: { ref: i } },
          { 'idempotency-key': `crash-${i}` },
        )
      let accepted = 0
      for (let i = 0; i < events; i++) {
        // Publishes after the kill find no process; those before it are committed (202).
        const r = await publish(publisher, i).catch(() => null)
        if (r?.status === 202) accepted++
      }
      await eventually(() => expect(svc.child.exitCode ?? svc.child.signalCode).not.toBeNull(), 15_000)
      const { HOOKPOST_FAILPOINT: _, ...plain } = env
      // Restarted publishing from the main thread (the first process published from its sending
      // thread): both compositions of the broker publisher deliver.
      current = await startService({ ...plain, HOOKPOST_SEND_THREAD: 'false' }, { dataDir: svc.dataDir })
      const after = client(current.url, tenant.consumer.authorization)
      const publisherAfter = client(current.url, tenant.publisher.authorization)
      for (let i = accepted; i < events; i++) expect((await publish(publisherAfter, i)).status).toBe(202)
      await eventually(async () => {
        const l = (await after('GET', '/webhooks/deliveries?limit=100')).json.deliveries as {
          status: string
        }[]
        expect(l).toHaveLength(events)
        expect(l.every((d) => d.status === 'delivered')).toBe(true)
      }, 40_000)
      const all = (await after('GET', '/webhooks/deliveries?limit=100')).json.deliveries as { id: string }[]
      const got = await rig.received()
      const count = new Map<string, number>()
      for (const m of got) count.set(m.headers['webhook-id']!, (count.get(m.headers['webhook-id']!) ?? 0) + 1)
      // None lost: every delivery is on the broker; the one killed between ack and record, twice.
      for (const d of all) expect(count.get(d.id) ?? 0).toBeGreaterThanOrEqual(1)
      expect([...count.values()].some((n) => n >= 2)).toBe(true)
    })
  })
}
