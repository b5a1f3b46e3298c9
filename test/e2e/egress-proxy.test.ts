// HOOKPOST_EGRESS_PROXY end to end: the real service behind a real HTTP proxy on loopback. The
// proxy is asked for the address the sending policy checked, never the name (CONNECT for https,
// absolute-form for http), TLS is still verified for the name (a private CA through
// HOOKPOST_EXTRA_CA_CERTS), token requests and mTLS go the same way, and a failing proxy is
// `proxy_error`, retried, without touching the subscription's health.
import { readdirSync, readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventTypes } from '../../src/events/event-types.ts'
import { ConnectProxy, HttpReceiver, HttpsReceiver, TokenServer } from '../support/endpoint-peers.ts'
import { eventually } from '../support/eventually.ts'
import { skipWithout } from '../support/external-tool.ts'
import { client, type ServiceProcess, startService } from '../support/service-process.ts'
import { createTenant } from '../support/tenant.ts'
import { makeTestPki, openssl, type TestPki } from '../support/test-pki.ts'

const t = eventTypes[0]!
const body = JSON.stringify(t.example)

describe.skipIf(skipWithout(openssl))('deliveries through the egress proxy', () => {
  let pki: TestPki
  let svc: ServiceProcess
  let proxy: ConnectProxy
  let rx: HttpsReceiver
  let refused: HttpsReceiver
  let mtls: HttpsReceiver
  let plain: HttpReceiver
  let tokens: TokenServer
  let consumer: ReturnType<typeof client>
  let publisher: ReturnType<typeof client>
  const clientSecret = `cs-${Math.random().toString(36).slice(2)}-proxy`

  beforeAll(async () => {
    pki = makeTestPki()
    proxy = await new ConnectProxy().start()
    rx = await new HttpsReceiver(pki.server).start()
    refused = await new HttpsReceiver(pki.server).start()
    mtls = await new HttpsReceiver({ ...pki.server, clientCa: pki.ca }).start()
    plain = await new HttpReceiver().start()
    tokens = await new TokenServer(pki.server, 'proxied', clientSecret).start()
    proxy.refuse = (authority) => authority.endsWith(`:${refused.port}`)
    svc = await startService({
      HOOKPOST_ALLOW_HTTP: 'true',
      HOOKPOST_ALLOWED_CIDRS: '127.0.0.0/8',
      HOOKPOST_EXTRA_CA_CERTS: pki.caFile,
      HOOKPOST_EGRESS_PROXY: proxy.url,
      HOOKPOST_RETRY_SCHEDULE: '1s,1s,1s,1s,1s',
    })
    const tenant = await createTenant(svc, 'proxy')
    consumer = client(svc.url, tenant.consumer.authorization)
    publisher = client(svc.url, tenant.publisher.authorization)
  }, 60_000)

  afterAll(async () => {
    await svc?.stop()
    svc?.cleanup()
    await Promise.all([
      proxy?.stop(),
      rx?.stop(),
      refused?.stop(),
      mtls?.stop(),
      plain?.stop(),
      tokens?.stop(),
    ])
    pki?.cleanup()
  })

  const subscribe = async (url: string, extra: Record<string, unknown> = {}) => {
    const r = await consumer('POST', '/webhooks/subscription', { event: t.name, url, active: true, ...extra })
    expect(r.status, JSON.stringify(r.json)).toBe(201)
    const id: string = r.json.subscription.id
    for (const s of (await consumer('GET', '/webhooks/subscription')).json.subscriptions)
      if (s.id !== id && s.active)
        await consumer('PUT', `/webhooks/subscription/${s.id}`, { event: s.event, url: s.url, active: false })
    return id
  }
  const attempts = async (subId: string) => {
    const list = (await consumer('GET', `/webhooks/deliveries?subscriptionId=${subId}&limit=1`)).json
      .deliveries
    if (list.length === 0) return []
    return (await consumer('GET', `/webhooks/deliveries/${list[0].id}`)).json.delivery.attemptLog as {
      error: string | null
      statusCode: number | null
    }[]
  }

  it('tunnels https to the checked address, TLS still verified for the name', async () => {
    await subscribe(rx.url('/via-proxy'))
    await publisher('POST', '/events', body)
    await eventually(() => expect(rx.on('/via-proxy')).toHaveLength(1), 15_000)
    expect(proxy.connects).toContain(`127.0.0.1:${rx.port}`)
    expect(proxy.connects.some((a) => a.startsWith('localhost'))).toBe(false)
    expect(rx.on('/via-proxy')[0]!.headers.host).toBe(`localhost:${rx.port}`)
  })

  it('sends plain http in absolute-form to the checked address, Host the name', async () => {
    await subscribe(`http://localhost:${plain.port}/plain`)
    await publisher('POST', '/events', body)
    await eventually(() => expect(plain.received).toHaveLength(1), 15_000)
    expect(proxy.forwarded).toEqual([
      { target: `http://127.0.0.1:${plain.port}/plain`, host: `localhost:${plain.port}` },
    ])
  })

  it('fetches OAuth2 tokens and presents client certificates through the proxy', async () => {
    await subscribe(mtls.url('/both'), {
      auth: { type: 'mtls', certificate: pki.client.cert, privateKey: pki.client.key },
    })
    await publisher('POST', '/events', body)
    await eventually(() => expect(mtls.on('/both')).toHaveLength(1), 15_000)
    expect(mtls.on('/both')[0]!.clientCn).toBe('hookpost-client')
    expect(proxy.connects).toContain(`127.0.0.1:${mtls.port}`)

    await subscribe(rx.url('/oauth'), {
      auth: { type: 'oauth2', tokenUrl: tokens.url, clientId: 'proxied', clientSecret },
    })
    await publisher('POST', '/events', body)
    await eventually(() => expect(rx.on('/oauth')).toHaveLength(1), 15_000)
    expect(tokens.requests).toBe(1)
    expect(rx.on('/oauth')[0]!.headers.authorization).toBe(`Bearer ${tokens.issued[0]}`)
    expect(proxy.connects).toContain(`127.0.0.1:${tokens.port}`)
  })

  it('never asks the proxy for an address the policy refuses (our own API port)', async () => {
    // This machine's name: it resolves to one of our own addresses (refused on the API's port)
    // or to one outside HOOKPOST_ALLOWED_CIDRS; either way the guard refuses before the proxy.
    const port = new URL(svc.url).port
    const id = await subscribe(`http://${hostname()}:${port}/webhooks/subscription`)
    await publisher('POST', '/events', body)
    await eventually(async () => expect((await attempts(id))[0]?.error).toMatch(/^blocked_address/), 15_000)
    expect(proxy.forwarded.some((f) => f.target.includes(`:${port}/`))).toBe(false)
    expect(proxy.connects.some((a) => a.endsWith(`:${port}`))).toBe(false)
  })

  it('a proxy that answers CONNECT with 502 or is down is proxy_error, retried, health untouched', async () => {
    const id = await subscribe(refused.url('/refused'))
    await publisher('POST', '/events', body)
    await eventually(async () => {
      const a = await attempts(id)
      expect(a.length).toBeGreaterThanOrEqual(2)
      for (const x of a) expect(x.error).toMatch(/^proxy_error: the egress proxy answered CONNECT with 502/)
    }, 15_000)
    expect(refused.received).toHaveLength(0)
    const sub = (await consumer('GET', `/webhooks/subscription/${id}`)).json.subscription
    expect(sub.health).toMatchObject({ consecutiveFailures: 0, failureCount: 0, failingSince: null })
    const d = (await consumer('GET', `/webhooks/deliveries?subscriptionId=${id}`)).json.deliveries[0]
    expect(d.status).toBe('pending')

    // The proxy goes away altogether: the same.
    const down = await subscribe(rx.url('/down'))
    await proxy.stop()
    await publisher('POST', '/events', body)
    await eventually(async () => {
      expect((await attempts(down))[0]?.error).toMatch(/^proxy_error: the egress proxy could not be reached/)
    }, 15_000)
    const s2 = (await consumer('GET', `/webhooks/subscription/${down}`)).json.subscription
    expect(s2.health).toMatchObject({ consecutiveFailures: 0, failureCount: 0 })
  })
  it('keeps the client secret, the tokens and the private key out of the log and the database', () => {
    const secrets = [
      clientSecret,
      ...tokens.issued,
      ...pki.client.key.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----')),
    ]
    expect(secrets.length).toBeGreaterThan(2)
    const stored = readdirSync(svc.dataDir)
      .filter((f) => f.startsWith('hookpost.db'))
      .map((f) => readFileSync(join(svc.dataDir, f)).toString('latin1'))
      .join('\n')
    expect(stored.includes('proxied')).toBe(true)
    for (const s of secrets) {
      expect(svc.output().includes(s), `log holds ${s}`).toBe(false)
      expect(stored.includes(s), `database holds ${s}`).toBe(false)
    }
  })
})
