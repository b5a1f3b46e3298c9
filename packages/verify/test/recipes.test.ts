// Each framework recipe in examples/ receives real signed deliveries over HTTP on 127.0.0.1:
// deliveries are signed with node:crypto exactly as the service signs them (contract section 6),
// independently of the library.
import { createServer, type Server } from 'node:http'
import express from 'express'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { POST } from '../examples/next-route.js'
import { verifyWebhook } from '../src/index.js'
import { deliveryId, newSecret, nodeSign, nowSeconds } from './helpers.js'
import { close, listen, type Running, recipes } from './recipe-servers.js'

async function post(url: string, body: Buffer | string, headers: Record<string, string>) {
  const res = await fetch(`${url}/webhooks/hookpost`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : new Uint8Array(body),
  })
  return { status: res.status, json: (await res.json()) as Record<string, unknown> }
}

// Bytes that parse + stringify would rewrite: "1.0" becomes "1", "\u00e9" becomes "é".
const payloadBody =
  '{"eventName":"store.order_updated","order":{"ref":7781,"price":1.0,"notes":"caf\\u00e9"}}'

describe.each(recipes.map((r) => [r.name, r] as const))('%s recipe', (_name, recipe) => {
  const secret = newSecret()
  let running: Running

  beforeAll(async () => {
    running = await recipe.start(secret)
  })
  afterAll(async () => {
    await running.stop()
  })
  afterEach(() => {
    running.events.length = 0
  })

  function signed(body: string | Buffer = payloadBody, timestamp = nowSeconds()) {
    const id = deliveryId()
    return {
      id,
      body,
      headers: nodeSign({ secrets: [secret], id, timestamp, body, eventName: 'store.order_updated' }),
    }
  }

  it('answers 200 to a genuine delivery and hands over the parsed payload once', async () => {
    const d = signed()
    const res = await post(running.url, d.body, d.headers)
    expect(res).toMatchObject({ status: 200, json: { received: true } })
    expect(running.events).toHaveLength(1)
    expect(running.events[0]!.id).toBe(d.id)
    if (running.events[0]!.payload !== null) {
      expect(running.events[0]!.payload).toEqual(JSON.parse(payloadBody))
    }
  })

  it('answers 200 to a retry of the same delivery id without handling it again', async () => {
    const d = signed()
    expect((await post(running.url, d.body, d.headers)).status).toBe(200)
    const retry = nodeSign({ secrets: [secret], id: d.id, timestamp: nowSeconds(), body: d.body, attempt: 2 })
    expect(await post(running.url, d.body, retry)).toMatchObject({ status: 200, json: { duplicate: true } })
    expect(running.events).toHaveLength(1)
  })

  it('refuses a tampered body', async () => {
    const d = signed()
    const tampered = Buffer.from(d.body.toString().replace('7781', '7782'))
    expect(await post(running.url, tampered, d.headers)).toMatchObject({
      status: 400,
      json: { error: 'bad_signature' },
    })
    expect(running.events).toHaveLength(0)
  })

  it('refuses a body re-serialized by JSON.parse + JSON.stringify', async () => {
    const d = signed()
    const reserialized = JSON.stringify(JSON.parse(d.body.toString()))
    expect(reserialized).not.toBe(d.body)
    expect(await post(running.url, reserialized, d.headers)).toMatchObject({
      status: 400,
      json: { error: 'bad_signature' },
    })
    expect(running.events).toHaveLength(0)
  })

  it('refuses a genuine delivery whose timestamp is older than the tolerance', async () => {
    const d = signed(payloadBody, nowSeconds() - 301)
    expect(await post(running.url, d.body, d.headers)).toMatchObject({
      status: 400,
      json: { error: 'timestamp_too_old' },
    })
    expect(running.events).toHaveLength(0)
  })

  it('refuses a delivery with no signature, or stripped down to the BaseKit header (no timestamp)', async () => {
    const d = signed()
    const unsigned = { 'content-type': 'application/json' }
    expect(await post(running.url, d.body, unsigned)).toMatchObject({
      status: 400,
      json: { error: 'missing_signature' },
    })
    const basekitOnly = { ...unsigned, 'x-delivery-hmac-sha256': d.headers['x-delivery-hmac-sha256']! }
    expect(await post(running.url, d.body, basekitOnly)).toMatchObject({
      status: 400,
      json: { error: 'missing_signature' },
    })
    expect((await post(running.url, d.body, { ...unsigned, ...d.headers })).status).toBe(200)
  })
})

describe('the raw-body pitfall', () => {
  let server: Server
  let url: string
  const secret = newSecret()

  beforeAll(async () => {
    // The classic mistake: a global express.json() runs before the webhook route.
    const app = express()
    app.use(express.json())
    app.post('/webhooks/hookpost', async (req, res) => {
      try {
        await verifyWebhook(req.body, req.headers, secret)
        res.sendStatus(200)
      } catch (err) {
        res.status(400).json({ error: (err as { code?: string }).code })
      }
    })
    server = createServer(app)
    url = await listen(server)
  })
  afterAll(async () => {
    await close(server)
  })

  it('is reported as not_raw_body, not as a bad signature', async () => {
    const id = deliveryId()
    const headers = nodeSign({ secrets: [secret], id, timestamp: nowSeconds(), body: payloadBody })
    expect(await post(url, payloadBody, headers)).toMatchObject({
      status: 400,
      json: { error: 'not_raw_body' },
    })
  })
})

describe('Next.js route handler called with a Request directly', () => {
  it('accepts a genuine delivery and refuses a tampered one', async () => {
    const secret = newSecret()
    process.env['HOOKPOST_WEBHOOK_SECRET'] = secret
    try {
      const id = deliveryId()
      const headers = nodeSign({ secrets: [secret], id, timestamp: nowSeconds(), body: payloadBody })
      const ok = await POST(
        new Request('https://example.com/api/webhooks/hookpost', {
          method: 'POST',
          headers,
          body: payloadBody,
        }),
      )
      expect(ok.status).toBe(200)
      expect(await ok.json()).toEqual({ received: true, id, eventName: 'store.order_updated' })
      const bad = await POST(
        new Request('https://example.com/api/webhooks/hookpost', {
          method: 'POST',
          headers,
          body: `${payloadBody} `,
        }),
      )
      expect(bad.status).toBe(400)
    } finally {
      delete process.env['HOOKPOST_WEBHOOK_SECRET']
    }
  })
})
