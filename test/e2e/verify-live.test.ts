// Every receiving recipe of @hookpost/verify and the Zapier snippet accept real deliveries from
// a running Hookpost, and refuse the same deliveries tampered, re-serialized or replayed late.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import vm from 'node:vm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { verifyWebhookDetailed } from '../../packages/verify/src/index.ts'
import { type Recipe, type Running, recipes } from '../../packages/verify/test/recipe-servers.ts'
import { eventTypes } from '../../src/events/event-types.ts'
import { eventually } from '../support/eventually.ts'
import { type Received, TestReceiver } from '../support/receiver.ts'
import { client, type ServiceProcess, startService } from '../support/service-process.ts'
import { createTenant } from '../support/tenant.ts'

describe('receiving real deliveries with @hookpost/verify', () => {
  let svc: ServiceProcess
  let secret: string
  let consumer: ReturnType<typeof client>
  let publisher: ReturnType<typeof client>
  const capture = new TestReceiver()
  let captured: Received
  // Bytes that a parse + stringify rewrites ("1.0" → "1", "\u00e9" → "é").
  const body = `{"eventName":"site.publish","site":{"ref":1.0,"name":"Caf\\u00e9"}}`

  beforeAll(async () => {
    await capture.start()
    svc = await startService({ HOOKPOST_ALLOW_HTTP: 'true', HOOKPOST_ALLOWED_CIDRS: '127.0.0.0/8' })
    const tenant = await createTenant(svc, 'verify', { signingSecret: true })
    consumer = client(svc.url, tenant.consumer.authorization)
    publisher = client(svc.url, tenant.publisher.authorization)
    secret = tenant.signingSecret
    // One real delivery captured as it arrived, to replay with changes below.
    const sub = (
      await consumer('POST', '/webhooks/subscription', {
        event: 'site.publish',
        url: `${capture.url}/c`,
        active: true,
      })
    ).json.subscription
    expect((await publisher('POST', '/events', body)).status).toBe(202)
    await eventually(() => expect(capture.received).toHaveLength(1))
    captured = capture.received[0]!
    await consumer('DELETE', `/webhooks/subscription/${sub.id}`)
  })
  afterAll(async () => {
    await svc?.stop()
    svc?.cleanup()
    await capture.stop()
  })

  const resend = (url: string, b: Buffer | string, headers: Record<string, string>) =>
    fetch(url, { method: 'POST', headers, body: typeof b === 'string' ? b : new Uint8Array(b) })
  const headersOf = (r: Received) =>
    Object.fromEntries(
      Object.entries(r.headers).filter(([k]) => !['host', 'content-length', 'connection'].includes(k)),
    ) as Record<string, string>

  describe.each(recipes.map((r) => [r.name, r] as [string, Recipe]))('%s', (_name, recipe) => {
    let running: Running
    beforeAll(async () => {
      running = await recipe.start(secret)
    })
    afterAll(async () => {
      await running.stop()
    })

    it('accepts a delivery straight from Hookpost', async () => {
      const sub = (
        await consumer('POST', '/webhooks/subscription', {
          event: 'site.publish',
          url: `${running.url}/webhooks/hookpost`,
          active: true,
        })
      ).json.subscription
      const before = running.events.length
      expect((await publisher('POST', '/events', body)).status).toBe(202)
      await eventually(() => expect(running.events.length).toBe(before + 1))
      await eventually(async () => {
        const d = (await consumer('GET', `/webhooks/deliveries?subscriptionId=${sub.id}`)).json.deliveries
        expect(d[0]).toMatchObject({ status: 'delivered', lastStatusCode: 200 })
      })
      await consumer('DELETE', `/webhooks/subscription/${sub.id}`)
    })

    it('refuses it tampered, re-serialized, or replayed after the tolerance', async () => {
      const url = `${running.url}/webhooks/hookpost`
      const h = headersOf(captured)
      expect((await resend(url, captured.body, h)).status).toBe(200)
      const tampered = Buffer.from(captured.body)
      tampered[tampered.length - 3] = 0x31
      expect((await resend(url, tampered, h)).status).not.toBe(200)
      const reserialized = JSON.stringify(JSON.parse(captured.body.toString('utf8')))
      expect(reserialized).not.toBe(captured.body.toString('utf8'))
      expect((await resend(url, reserialized, h)).status).not.toBe(200)
      const late = { ...h, 'webhook-timestamp': String(Number(h['webhook-timestamp']) - 3600) }
      expect((await resend(url, captured.body, late)).status).not.toBe(200)
    })
  })

  it('the library reports the delivery id, event and attempt of a real delivery', async () => {
    const v = await verifyWebhookDetailed(captured.body, headersOf(captured), secret)
    expect(v).toMatchObject({
      id: captured.headers['webhook-id'],
      eventName: 'site.publish',
      attempt: 1,
      scheme: 'standard',
    })
    await expect(
      verifyWebhookDetailed(captured.body, headersOf(captured), secret, { scheme: 'basekit' }),
    ).resolves.toBeTruthy()
  })

  it('the Zapier code step accepts the real delivery and refuses a tampered one', () => {
    const snippet = readFileSync(new URL('../../packages/verify/snippets/zapier.js', import.meta.url), 'utf8')
    const run = (raw: string): Record<string, unknown> => {
      const require = createRequire(import.meta.url)
      const sandbox: Record<string, unknown> = {
        // Zapier's sandbox: built-ins through require, no global crypto, inputData of strings.
        require: (m: string) => require(m === 'crypto' || m === 'buffer' ? `node:${m}` : 'node:nonexistent'),
        inputData: { raw_body: raw, secret, hmac: String(captured.headers['x-delivery-hmac-sha256']) },
      }
      try {
        vm.runInNewContext(snippet, sandbox)
        return sandbox['output'] as Record<string, unknown>
      } catch (e) {
        return { verified: false, error_code: (e as { code?: string }).code }
      }
    }
    const ok = run(captured.body.toString('utf8'))
    expect(ok).toMatchObject({ verified: true })
    const bad = run(captured.body.toString('utf8').replace('Caf', 'Kaf'))
    expect(bad['verified']).not.toBe(true)
  })

  it('uses an event type the catalogue knows', () => {
    expect(eventTypes.map((t) => t.name)).toContain('site.publish')
  })
})
