// The portal's destination form on a Redis stream: create, edit (the masked password kept),
// toggle, and a test event that reaches the broker, consumed with Redis's own client and
// verified with @hookpost/verify. The worker publishes through the real DestinationSender.
import { Redis } from 'ioredis'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { verifyWebhookDetailed } from '../../packages/verify/src/index.ts'
import { destinationAssociatedData } from '../../src/subscriptions/destination.ts'
import { buildWebApp } from '../../src/web-app.ts'
import { type DestinationHarness, destinationHarness } from '../destinations/destination-harness.ts'
import { adminToken } from '../support/app-harness.ts'
import { describeWithBroker, unique } from '../support/brokers.ts'
import { eventually } from '../support/eventually.ts'
import { Browser, sessionKey } from './harness.ts'

await describeWithBroker('redis', 'portal: a message broker as the destination', () => {
  let h: DestinationHarness
  let app: Awaited<ReturnType<typeof buildWebApp>>
  let b: Browser
  let r: Redis
  const stream = unique('portal_stream')
  beforeEach(async () => {
    h = await destinationHarness()
    app = await buildWebApp({
      hookpost: h.hookpost,
      adminToken,
      version: '0.0.0-test',
      eventBodyLimit: 1 << 20,
      sessionKey,
    })
    const c = await h.hookpost.environments.createCredential(h.envId, { role: 'consumer' })
    b = new Browser(app)
    await b.signIn({ key: c.row.key, secret: c.secret })
    r = new Redis({ host: '127.0.0.1', port: 6379 })
  })
  afterEach(async () => {
    await r.del(stream)
    r.disconnect()
    await app.close()
    await h.close()
  })

  it('creates, shows masked, edits keeping the password, toggles, and sends a test event to the stream', async () => {
    const form = await b.get('/dashboard/portal/subscriptions/new')
    expect(form.body).toContain('name="destination_type"')
    expect(form.body).toContain('name="dest_redis_stream"')
    expect(form.body).toContain('name="dest_amqp_routingKey"')
    const refused = await b.post('/dashboard/portal/subscriptions', {
      event: 'site.publish',
      destination_type: 'redis',
      url: 'redis://:pw@127.0.0.1:6379/0',
      dest_redis_stream: 'has space',
      active: 'true',
    })
    expect(refused.status).toBe(400)
    expect(refused.body).toContain('stream')
    const created = await b.post('/dashboard/portal/subscriptions', {
      event: 'site.publish',
      destination_type: 'redis',
      url: 'redis://127.0.0.1:6379/0',
      dest_redis_stream: stream,
      active: 'true',
    })
    expect(created.status).toBe(303)
    const id = /subscriptions\/(sub_\w+)/.exec(created.location!)![1]!
    const page = await b.get(created.location!)
    expect(page.body).toContain('redis://127.0.0.1:6379/0')
    expect(page.body).toContain(stream)
    expect(page.body).toMatch(/<option value="redis" selected/)

    // A password in the URL: sealed, shown masked, and kept when the masked form is saved back.
    await b.post(`/dashboard/portal/subscriptions/${id}`, {
      event: 'site.publish',
      destination_type: 'redis',
      url: 'redis://:not-needed@127.0.0.1:6379/0',
      dest_redis_stream: stream,
      active: 'true',
    })
    const shown = await b.get(`/dashboard/portal/subscriptions/${id}`)
    expect(shown.body).not.toContain('not-needed')
    expect(shown.body).toContain('redis://:****@127.0.0.1:6379/0')
    await b.post(`/dashboard/portal/subscriptions/${id}`, {
      event: 'site.publish',
      destination_type: 'redis',
      url: 'redis://:****@127.0.0.1:6379/0',
      dest_redis_stream: stream,
      active: 'true',
    })
    const row = (await h.store.subscriptions.get(h.envId, id))!
    expect(h.box.open(row.destination!.sealedUrl!, destinationAssociatedData(h.envId))).toBe(
      'redis://:not-needed@127.0.0.1:6379/0',
    )
    // Toggling keeps the destination.
    await b.post(`/dashboard/portal/subscriptions/${id}/toggle`)
    expect((await h.hookpost.subscriptions.get(h.envId, id)).destination?.type).toBe('redis')
    await b.post(`/dashboard/portal/subscriptions/${id}/toggle`)
    // Redis here has no password: AUTH with one fails, so go back to no password for the test event.
    await b.post(`/dashboard/portal/subscriptions/${id}`, {
      event: 'site.publish',
      destination_type: 'redis',
      url: 'redis://127.0.0.1:6379/0',
      dest_redis_stream: stream,
      active: 'true',
    })
    await b.get(`/dashboard/portal/subscriptions/${id}`)
    const sent = await b.post(`/dashboard/portal/subscriptions/${id}/test`)
    expect(sent.status).toBe(303)
    const entries = await eventually(async () => {
      const e = await r.xrangeBuffer(stream, '-', '+')
      expect(e).toHaveLength(1)
      return e
    })
    const fields = entries[0]![1]
    const headers: Record<string, string> = {}
    let body: Buffer = Buffer.alloc(0)
    for (let i = 0; i < fields.length; i += 2) {
      if (fields[i]!.toString() === 'body') body = fields[i + 1]!
      else headers[fields[i]!.toString()] = fields[i + 1]!.toString()
    }
    const v = await verifyWebhookDetailed(body, headers, h.secret)
    expect(sent.location).toContain(`sent=${v.id}`)
  })
})
