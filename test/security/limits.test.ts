// S11 (limits: body, JSON depth, URL length, headers, rate limits) and S06 (no caller-chosen
// headers or fields at registration) of reliability.md 7.3. Header limits live in Node's HTTP
// parser, which app.inject bypasses, so those cases go through a real socket.
import { connect } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/config/load.ts'
import { eventTypes } from '../../src/events/event-types.ts'
import { buildApp } from '../../src/http/build-app.ts'
import { TokenBuckets } from '../../src/http/rate-limit.ts'
import { maxHeaderSize, maxUrlLength } from '../../src/http/request-limits.ts'
import { generateMasterKey } from '../../src/secrets/secret-box.ts'
import { type AppHarness, adminToken, appHarness } from '../support/app-harness.ts'
import { basic } from '../support/basic-auth.ts'

const example = (name: string) => eventTypes.find((t) => t.name === name)!.example
const eventLimit = 4096
/** Node's fix for CVE-2026-58044 (22.23.2, 24.18.1, 26.5.1): more than maxHeadersCount → 431. */
const parserRefusesExtraHeaders = (() => {
  const [major = 0, minor = 0, patch = 0] = process.versions.node.split('.').map(Number)
  const fixed: Record<number, [number, number]> = { 22: [23, 2], 24: [18, 1], 26: [5, 1] }
  const since = fixed[major]
  if (since) return minor > since[0] || (minor === since[0] && patch >= since[1])
  return major > 26
})()

/** Sends raw bytes on a fresh connection; returns the status line's code, headers and body. */
async function rawRequest(
  port: number,
  request: string | Buffer,
): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    const s = connect(port, '127.0.0.1', () => s.end(request))
    s.on('data', (c: Buffer) => chunks.push(c))
    s.on('error', (e) => (chunks.length > 0 ? undefined : reject(e)))
    s.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8')
      const [head = '', body = ''] = text.split('\r\n\r\n')
      const [statusLine = '', ...lines] = head.split('\r\n')
      const headers: Record<string, string> = {}
      for (const l of lines) {
        const i = l.indexOf(':')
        headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim()
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body })
    })
  })
}

const get = (path: string, headers: string[] = []) =>
  `GET ${path} HTTP/1.1\r\nHost: localhost\r\n${headers.map((h) => `${h}\r\n`).join('')}Connection: close\r\n\r\n`

describe('S11: request limits', () => {
  let h: AppHarness
  beforeEach(async () => {
    h = await appHarness({ eventBodyLimit: eventLimit })
  })
  afterEach(async () => {
    await h.close()
  })

  const publish = (payload: string) =>
    h.app.inject({
      method: 'POST',
      url: '/events',
      headers: { authorization: h.publisher, 'content-type': 'application/json' },
      payload,
    })

  it('answers 413 for an event of the limit + 1 byte, and accepts one of exactly the limit', async () => {
    const base = JSON.stringify({ ...example('site.publish'), pad: '' })
    const padded = (size: number) => base.replace('"pad":""', `"pad":"${'x'.repeat(size - base.length)}"`)
    const over = await publish(padded(eventLimit + 1))
    expect(over.statusCode).toBe(413)
    expect(over.json().error.code).toBe('body_too_large')
    const at = await publish(padded(eventLimit))
    expect(Buffer.byteLength(padded(eventLimit))).toBe(eventLimit)
    expect(at.statusCode).not.toBe(413)
    expect(at.statusCode).toBeLessThan(500)
  })

  it('answers 413 for an API body over 64 KiB', async () => {
    const r = await h.app.inject({
      method: 'POST',
      url: '/webhooks/subscription',
      headers: { authorization: h.consumer, 'content-type': 'application/json' },
      payload: JSON.stringify({
        event: 'site.publish',
        url: 'https://e.com/' + 'a'.repeat(70_000),
        active: true,
      }),
    })
    expect(r.statusCode).toBe(413)
    expect(r.json().error.code).toBe('body_too_large')
  })

  it('answers 400 json_too_deep past 64 levels on the API and on /events, and takes 64', async () => {
    const nest = (n: number) => '['.repeat(n) + ']'.repeat(n)
    const api = (payload: string) =>
      h.app.inject({
        method: 'POST',
        url: '/webhooks/subscription',
        headers: { authorization: h.consumer, 'content-type': 'application/json' },
        payload,
      })
    expect((await api(nest(65))).json().error.code).toBe('json_too_deep')
    expect((await api(`{"event":${nest(65)}}`)).statusCode).toBe(400)
    expect((await publish(nest(65))).json().error.code).toBe('json_too_deep')
    // 64 levels parse; the body is then refused by the schema, not by the depth check.
    const ok = await api(nest(64))
    expect(ok.statusCode).toBe(400)
    expect(ok.json().error.code).not.toBe('json_too_deep')
    // Brackets inside strings do not count.
    const inString = await api(
      JSON.stringify({ event: '['.repeat(1000), url: 'https://e.com/', active: true }),
    )
    expect(inString.json().error.code).not.toBe('json_too_deep')
  })

  it(`answers 400 url_too_long past ${maxUrlLength} characters, before authentication`, async () => {
    const long = `/webhooks/deliveries?cursor=${'a'.repeat(maxUrlLength)}`
    const r = await h.app.inject({ method: 'GET', url: long })
    expect(r.statusCode).toBe(400)
    expect(r.json().error.code).toBe('url_too_long')
    const fine = await h.app.inject({
      method: 'GET',
      url: `/webhooks/deliveries?x=${'a'.repeat(maxUrlLength - 30)}`,
      headers: { authorization: h.consumer },
    })
    expect(fine.statusCode).toBe(200)
  })

  describe('over a real socket', () => {
    let port: number
    beforeEach(async () => {
      await h.app.listen({ host: '127.0.0.1', port: 0 })
      port = (h.app.server.address() as { port: number }).port
    })

    it('answers 431 headers_too_large, in the API error shape, past the header size limit', async () => {
      const r = await rawRequest(port, get('/health', [`X-Big: ${'a'.repeat(maxHeaderSize + 1)}`]))
      expect(r.status).toBe(431)
      expect(r.headers['content-type']).toMatch(/^application\/json/)
      expect(JSON.parse(r.body)).toEqual({
        error: { code: 'headers_too_large', message: expect.any(String) },
      })
      const ok = await rawRequest(port, get('/health', [`X-Big: ${'a'.repeat(8000)}`]))
      expect(ok.status).toBe(200)
    })

    it('answers 400 for a request the parser refuses (NUL, bare CR in a header), in the same shape', async () => {
      for (const bad of ['X-Bad: a\u0000b', 'X-Bad: a\rb', 'Bad Header: x']) {
        const r = await rawRequest(port, get('/health', [bad]))
        expect(r.status, JSON.stringify(bad)).toBe(400)
        expect(JSON.parse(r.body).error.code).toBe('invalid_request')
      }
    })

    it('refuses (Node 24) or drops (Node 20) headers past the 100th: 1,000 cost nothing, never a 5xx', async () => {
      const many = Array.from({ length: 1000 }, (_, i) => `X-H${i}: v`)
      const r = await rawRequest(
        port,
        get('/webhooks/subscription', [...many, `Authorization: ${h.consumer}`]),
      )
      const first = await rawRequest(
        port,
        get('/webhooks/subscription', [`Authorization: ${h.consumer}`, ...many]),
      )
      if (parserRefusesExtraHeaders) {
        for (const answer of [r, first]) {
          expect(answer.status).toBe(431)
          expect(JSON.parse(answer.body).error.code).toBe('headers_too_large')
        }
      } else {
        // The credential came after the 100th header, so it was never seen.
        expect(r.status).toBe(401)
        expect(JSON.parse(r.body).error.code).toBe('unauthorized')
        expect(first.status).toBe(200)
      }
      expect((await rawRequest(port, get('/health'))).status).toBe(200)
    })

    it('answers 431 for a URL past the header limit and stays healthy after all of this', async () => {
      const r = await rawRequest(port, get(`/health?${'a'.repeat(maxHeaderSize + 10)}`))
      expect(r.status).toBe(431)
      const health = await rawRequest(port, get('/health'))
      expect(health.status).toBe(200)
      expect(JSON.parse(health.body)).toEqual({ status: 'ok' })
    })
  })
})

describe('S11: rate limits', () => {
  let h: AppHarness
  let app: FastifyInstance
  let clock = 1_700_000_000_000
  beforeEach(async () => {
    h = await appHarness()
    app = await buildApp({
      hookpost: h.hookpost,
      adminToken,
      version: 'test',
      eventBodyLimit: 1024 * 1024,
      rateLimit: {
        perCredential: { perSecond: 2, burst: 5 },
        perEnvironment: { perSecond: 4, burst: 8 },
        now: () => clock,
      },
    })
  })
  afterEach(async () => {
    await app.close()
    await h.close()
  })

  const list = (authorization: string) =>
    app.inject({ method: 'GET', url: '/webhooks/subscription', headers: { authorization } })

  it('answers 429 rate_limited with Retry-After once a credential spends its burst, then refills', async () => {
    for (let i = 0; i < 5; i++) expect((await list(h.consumer)).statusCode).toBe(200)
    const r = await list(h.consumer)
    expect(r.statusCode).toBe(429)
    expect(r.json().error.code).toBe('rate_limited')
    expect(r.headers['retry-after']).toBe('1')
    // 2 tokens a second: one is back after 500 ms.
    clock += 500
    expect((await list(h.consumer)).statusCode).toBe(200)
    expect((await list(h.consumer)).statusCode).toBe(429)
    clock += 10_000
    expect((await list(h.consumer)).statusCode).toBe(200)
    expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200)
  })

  it('shares one bucket between the credentials of an environment, and not across environments', async () => {
    const extra = await h.hookpost.environments.createCredential(h.envId, { role: 'consumer' })
    const second = basic(extra.row.key, extra.secret)
    for (let i = 0; i < 5; i++) expect((await list(h.consumer)).statusCode).toBe(200)
    for (let i = 0; i < 3; i++) expect((await list(second)).statusCode).toBe(200)
    // The environment's burst of 8 is spent, though `second` has tokens of its own left.
    const r = await list(second)
    expect(r.statusCode).toBe(429)
    expect(r.json().error.message).toContain('environment')
    expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1)
    expect((await list(h.other.consumer)).statusCode).toBe(200)
  })

  it('does not charge the operator, unauthenticated requests, or refused requests', async () => {
    for (let i = 0; i < 20; i++) {
      expect(
        (await app.inject({ method: 'GET', url: '/admin/environments', headers: { authorization: h.admin } }))
          .statusCode,
      ).toBe(200)
      expect((await list('Basic bm9wZTpub3Bl')).statusCode).toBe(401)
    }
    for (let i = 0; i < 5; i++) expect((await list(h.consumer)).statusCode).toBe(200)
    expect((await list(h.consumer)).statusCode).toBe(429)
  })

  it('rate-limits publishers before their body is parsed', async () => {
    const p = await h.hookpost.environments.createCredential(h.other.envId, { role: 'publisher' })
    const publisher = basic(p.row.key, p.secret)
    const send = () =>
      app.inject({
        method: 'POST',
        url: '/events',
        headers: { authorization: publisher, 'content-type': 'application/json' },
        payload: JSON.stringify(example('site.publish')),
      })
    for (let i = 0; i < 5; i++) expect((await send()).statusCode).toBe(202)
    const r = await send()
    expect(r.statusCode).toBe(429)
    expect(r.headers['retry-after']).toBeDefined()
  })
})

describe('rate limit and key settings', () => {
  it('parse N/s, N/m, N/h with an optional burst, or off; refuse the rest without echoing keys', () => {
    expect(loadConfig({}).rateLimitPerCredential).toEqual({ perSecond: 1000, burst: 2000 })
    expect(loadConfig({}).rateLimitPerEnvironment).toEqual({ perSecond: 2000, burst: 4000 })
    const c = loadConfig({
      HOOKPOST_RATE_LIMIT_PER_CREDENTIAL: '6000/m,burst=500',
      HOOKPOST_RATE_LIMIT_PER_ENVIRONMENT: 'off',
    })
    expect(c.rateLimitPerCredential).toEqual({ perSecond: 100, burst: 500 })
    expect(c.rateLimitPerEnvironment).toBeNull()
    expect(loadConfig({ HOOKPOST_RATE_LIMIT_PER_CREDENTIAL: '36/h' }).rateLimitPerCredential).toEqual({
      perSecond: 0.01,
      burst: 36,
    })
    for (const bad of ['100', '0/s', '10/d', '10/s,burst=0', '-1/s', 'fast'])
      expect(() => loadConfig({ HOOKPOST_RATE_LIMIT_PER_CREDENTIAL: bad }), bad).toThrow(ConfigError)
    const key = generateMasterKey()
    expect(
      loadConfig({ HOOKPOST_MASTER_KEY_PREVIOUS: `${key}, ${generateMasterKey()}` }).masterKeyPrevious,
    ).toHaveLength(2)
    const leaked = 'bm90LWEta2V5LWJ1dC1hLXNlY3JldA=='
    try {
      loadConfig({ HOOKPOST_MASTER_KEY_PREVIOUS: `${key},${leaked}` })
      expect.unreachable()
    } catch (e) {
      expect((e as Error).message).toContain('key 2 is not 32 bytes')
      expect((e as Error).message).not.toContain(leaked)
    }
  })
})

describe('token buckets', () => {
  it('refill at the rate, cap at the burst and report the wait', () => {
    const b = new TokenBuckets({ perSecond: 10, burst: 3 })
    for (let i = 0; i < 3; i++) {
      expect(b.wait('k', 0)).toBe(0)
      b.take('k', 0)
    }
    expect(b.wait('k', 0)).toBeCloseTo(0.1)
    expect(b.wait('k', 50)).toBeCloseTo(0.05)
    expect(b.wait('k', 100)).toBe(0)
    expect(b.wait('other', 0)).toBe(0)
    // Idle for an hour: full again, not 36,000 tokens.
    b.take('k', 3_600_000)
    b.take('k', 3_600_000)
    b.take('k', 3_600_000)
    expect(b.wait('k', 3_600_000)).toBeGreaterThan(0)
  })

  it('keep memory bounded by dropping full buckets', () => {
    const b = new TokenBuckets({ perSecond: 1, burst: 1 })
    for (let i = 0; i < 10_050; i++) b.take(`k${i}`, i * 2000)
    expect(b.size).toBeLessThan(100)
  })
})

describe('S06: no caller-chosen headers or fields at registration', () => {
  let h: AppHarness
  beforeEach(async () => {
    h = await appHarness()
  })
  afterEach(async () => {
    await h.close()
  })

  it('refuses custom headers and mass-assigned fields on create and replace', async () => {
    const good = { event: 'site.publish', url: 'https://example.com/hook', active: true }
    const created = await h.app.inject({
      method: 'POST',
      url: '/webhooks/subscription',
      headers: { authorization: h.consumer },
      payload: good,
    })
    expect(created.statusCode).toBe(201)
    const id = created.json().subscription.id as string
    // Static headers exist since contract section 13, but never Hookpost's own, framing or
    // injected ones, and within limits (docs/security.md#endpoint-authentication).
    const extras: [Record<string, unknown>, string][] = [
      [{ headers: { host: 'internal', 'transfer-encoding': 'chunked' } }, 'header_not_allowed'],
      [{ headers: { 'X-Evil': 'a\r\nInjected: 1' } }, 'header_invalid'],
      [
        { headers: Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`x-${i}`, 'v'])) },
        'invalid_request',
      ],
      [{ headers: { 'metadata-flavor': 'Google', 'webhook-signature': 'v1,forged' } }, 'header_not_allowed'],
      ...[
        { envId: h.other.envId },
        { secret: 'whsec_mine' },
        { id: 'sub_chosen' },
        { health: { consecutiveFailures: 0 } },
        { deactivatedReason: null },
      ].map((e): [Record<string, unknown>, string] => [e, 'invalid_request']),
    ]
    for (const [extra, code] of extras) {
      for (const [method, url] of [
        ['POST', '/webhooks/subscription'],
        ['PUT', `/webhooks/subscription/${id}`],
      ] as const) {
        const r = await h.app.inject({
          method,
          url,
          headers: { authorization: h.consumer },
          payload: { ...good, ...extra },
        })
        expect(r.statusCode, `${method} ${Object.keys(extra)}`).toBe(400)
        expect(r.json().error.code).toBe(code)
      }
    }
    expect(await h.store.subscriptions.list(h.envId)).toHaveLength(1)
    expect(await h.store.subscriptions.list(h.other.envId)).toHaveLength(0)
  })
})
