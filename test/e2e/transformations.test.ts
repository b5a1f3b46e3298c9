// The real process (`hookpost serve`, the sender thread, the sandbox loaded by main.ts): a
// transformation reshapes, moves and cancels deliveries, @hookpost/verify accepts the
// transformed bytes, and a URL the sending policy refuses fails the delivery at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { verifyWebhookDetailed } from '../../packages/verify/src/index.ts'
import { eventually } from '../support/eventually.ts'
import { TestReceiver } from '../support/receiver.ts'
import { client, type ServiceProcess, startService } from '../support/service-process.ts'
import { createTenant } from '../support/tenant.ts'

describe('transformations in the running service', () => {
  let svc: ServiceProcess
  let secret: string
  let consumer: ReturnType<typeof client>
  let publisher: ReturnType<typeof client>
  const rx = new TestReceiver()

  beforeAll(async () => {
    await rx.start()
    // Loopback receivers are allowed; 10.0.0.0/8 stays refused by the sending policy.
    svc = await startService({ HOOKPOST_ALLOW_HTTP: 'true', HOOKPOST_ALLOWED_CIDRS: '127.0.0.0/8' })
    const tenant = await createTenant(svc, 'transform', { signingSecret: true })
    consumer = client(svc.url, tenant.consumer.authorization)
    publisher = client(svc.url, tenant.publisher.authorization)
    secret = tenant.signingSecret
  })
  afterAll(async () => {
    await svc?.stop()
    svc?.cleanup()
    await rx.stop()
  })

  const subscribe = async (path: string, code: string, extra: Record<string, unknown> = {}) => {
    const r = await consumer('POST', '/webhooks/subscription', {
      event: 'site.publish',
      url: `${rx.url}${path}`,
      active: true,
      transformation: { code },
      ...extra,
    })
    expect(r.status, JSON.stringify(r.json)).toBe(201)
    return r.json.subscription as { id: string }
  }
  const deliveryOf = async (subscriptionId: string) => {
    const list = await consumer('GET', `/webhooks/deliveries?subscriptionId=${subscriptionId}`)
    return (await consumer('GET', `/webhooks/deliveries/${list.json.deliveries[0].id}`)).json.delivery
  }

  it('reshapes, moves and cancels; verify accepts the transformed bytes; a refused URL fails at once', async () => {
    await subscribe(
      '/original',
      `function handler(webhook) {
        return {
          url: webhook.url.replace('/original', '/moved'),
          headers: { 'x-site': String(webhook.payload.site.ref), 'x-tenant': 'from-handler' },
          payload: { text: 'site ' + webhook.payload.site.ref + ' published' },
        }
      }`,
      // Static headers (secrets, not shown to the handler) go out beside the handler's; a header
      // the handler sets replaces the static one of the same name.
      { headers: { 'x-static': 'kept', 'x-tenant': 'static' } },
    )
    const cancelled = await subscribe('/never', 'function handler(w) { return { cancel: true } }')
    const refused = await subscribe(
      '/refused',
      "function handler(w) { w.url = 'http://10.1.2.3/hook'; return w }",
    )
    const published = await publisher('POST', '/events', { eventName: 'site.publish', site: { ref: 42 } })
    expect(published.status).toBe(202)
    expect(published.json.event.deliveries).toBe(3)

    await eventually(() => expect(rx.received.filter((r) => r.path === '/moved')).toHaveLength(1))
    const got = rx.received.find((r) => r.path === '/moved')!
    expect(got.body.toString()).toBe('{"text":"site 42 published"}')
    expect(got.headers['x-site']).toBe('42')
    expect(got.headers['x-static']).toBe('kept')
    expect(got.headers['x-tenant']).toBe('from-handler')
    // Throws unless a signature over exactly these bytes verifies.
    const verified = await verifyWebhookDetailed(got.body, got.headers as Record<string, string>, secret)
    expect(verified).toMatchObject({ eventName: 'site.publish', payload: { text: 'site 42 published' } })

    await eventually(async () => {
      expect(await deliveryOf(cancelled.id)).toMatchObject({
        status: 'cancelled',
        lastError: 'transformation_cancelled',
      })
      const d = await deliveryOf(refused.id)
      expect(d).toMatchObject({ status: 'failed', attempts: 1, lastError: 'transformation_error' })
      expect(d.attemptLog[0].error).toMatch(/^transformation_error: url refused by the sending policy/)
    })
    expect(rx.received.filter((r) => r.path !== '/moved')).toEqual([])
  })
})
