// A fuzz suite of malformed requests against every route of the OpenAPI document (fast-check,
// through app.inject): odd methods, ids (unicode, `..`, `%00`, very long), headers (credential
// variants, content types, huge values) and bodies (invalid JSON, deep JSON, wrong types, huge
// strings, prototype-pollution keys). Whatever comes in: never a 5xx, every 4xx in the API's
// error shape, and the service still healthy and working afterwards.
import fc from 'fast-check'
import type { InjectOptions } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventTypes } from '../../src/events/event-types.ts'
import { type AppHarness, adminToken, appHarness } from '../support/app-harness.ts'
import { basic } from '../support/basic-auth.ts'

interface Route {
  method: string
  path: string
}

const methods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'] as const
const example = eventTypes.find((t) => t.name === 'site.publish')!.example

/** encodeURIComponent throws on lone surrogates: those become raw bytes %ED%A0%80 instead. */
function encode(s: string): string {
  try {
    return encodeURIComponent(s)
  } catch {
    return '%ED%A0%80'
  }
}

const oddIds = fc.oneof(
  fc.constantFrom(
    '..',
    '%2e%2e',
    '..%2f..%2fetc%2fpasswd',
    '%00',
    'sub_%00',
    '%ff%fe',
    '%',
    '%zz',
    '%E2%80%AE',
    '%F0%9F%92%A9',
    'ünïcødé',
    '__proto__',
    'constructor',
    'prototype',
    "'%20OR%201=1--",
    '%3Cscript%3E',
    'null',
    '-1',
    '1e309',
    '0x0',
    'x'.repeat(201),
    '@long-id',
    '%20',
    '+',
    ';',
    '%5C',
  ),
  fc.string({ maxLength: 40 }).map(encode),
  fc.string({ unit: 'grapheme', maxLength: 20 }).map(encode),
  fc.string({ unit: 'binary', maxLength: 20 }).map(encode),
)

const suffixes = fc.constantFrom(
  '',
  '',
  '',
  '/',
  '//',
  '/..',
  '/%2e%2e',
  '?',
  '?__proto__[x]=1',
  '#frag',
  '/x',
  ';a=b',
)

const queries = fc.oneof(
  fc.constant(''),
  fc.constantFrom(
    'limit=0',
    'limit=-1',
    'limit=abc',
    'limit=99999999999999999999',
    'limit=50&limit=60',
    'cursor=%00',
    'cursor=' + 'A'.repeat(300),
    'cursor=ZXZ0XzEyMw',
    'status=delivered',
    'status=%00',
    'subscriptionId=..',
    'subscriptionId[]=a&subscriptionId[]=b',
    'envId=__proto__',
    'action=environment.created',
    'type=delivery.failed',
    '__proto__[polluted]=1',
    'constructor[prototype][polluted]=1',
    '@long-query',
    '%',
    '&&&===',
  ),
  fc
    .array(fc.tuple(fc.string({ maxLength: 10 }), fc.string({ maxLength: 20 })), { maxLength: 4 })
    .map((pairs) => pairs.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&')),
)

function deep(n: number, kind: 'array' | 'object'): string {
  return kind === 'array' ? '['.repeat(n) + ']'.repeat(n) : '{"a":'.repeat(n) + '1' + '}'.repeat(n)
}

/** Big values are drawn as short markers (so that a counterexample prints small), expanded here. */
const big: Record<string, () => string> = {
  '@long-id': () => 'sub_' + 'a'.repeat(5000),
  '@long-query': () => 'a=' + 'b'.repeat(3000),
  '@huge-body': () => '{"pad":"' + 'x'.repeat(70_000) + '"}',
  '@deep-10000': () => deep(10_000, 'array'),
  '@long-url-field': () => '{"url":"' + 'x'.repeat(3000) + '"}',
  '@long-event-name': () => JSON.stringify({ eventName: 'x'.repeat(10_000) }),
  '@long-content-type': () => 'x'.repeat(5000),
  '@long-cookie': () => 'a=' + 'b'.repeat(4000),
  '@long-idempotency-key': () => 'k'.repeat(5000),
}
const expand = (v: string): string => (Object.hasOwn(big, v) ? big[v]!() : v)

const pollution = [
  '{"__proto__":{"polluted":true},"event":"site.publish","url":"https://e.com/","active":true}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  '{"name":"x","__proto__":{"isAdmin":true}}',
  '{"role":"consumer","__proto__":{"role":"admin"}}',
  '{"eventName":"site.publish","__proto__":{"eventName":"x"}}',
  '{"prototype":1,"hasOwnProperty":2,"toString":3}',
]

const bodies: fc.Arbitrary<string | Buffer | undefined> = fc.oneof(
  { arbitrary: fc.constant(undefined), weight: 3 },
  {
    arbitrary: fc.constantFrom(
      '',
      ' ',
      'null',
      'true',
      '0',
      '-0',
      '1e999',
      '"string"',
      '[]',
      '{}',
      '{',
      '{"a":',
      '{"a":1,}',
      "{'a':1}",
      '\uFEFF{}',
      '{"a":"\\ud800"}',
      '{"a":"\u0000"}',
      '{"a":1}{"b":2}',
      '{"name":"a","name":"b"}',
      '{"event":5,"url":[],"active":"yes"}',
      '{"event":"site.publish","url":"javascript:alert(1)","active":true}',
      '{"event":"site.publish","url":"http://169.254.169.254/","active":true}',
      '{"since":"not-a-date"}',
      '{"since":"2020-01-01T00:00:00Z","until":"1999-01-01T00:00:00Z"}',
      '{"role":"admin"}',
      '@long-url-field',
      '{"ttlSeconds":1e308}',
      JSON.stringify(example),
      JSON.stringify({ ...example, eventName: 'site.publish', site: null }),
      '@long-event-name',
      deep(65, 'array'),
      deep(65, 'object'),
      '@deep-10000',
      deep(64, 'object'),
      '9'.repeat(400),
      ...pollution,
    ),
    weight: 6,
  },
  { arbitrary: fc.json({ maxDepth: 4 }), weight: 3 },
  {
    arbitrary: fc
      .dictionary(
        fc.constantFrom(
          'event',
          'url',
          'active',
          'ordered',
          'name',
          'role',
          'since',
          'until',
          'status',
          '__proto__',
        ),
        fc.jsonValue({ maxDepth: 2 }),
      )
      .map((o) => JSON.stringify(o)),
    weight: 3,
  },
  { arbitrary: fc.constant('@huge-body'), weight: 1 },
  { arbitrary: fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)), weight: 1 },
)

const contentTypes = fc.constantFrom(
  undefined,
  'application/json',
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'application/vnd.api+json',
  'application/problem+json',
  'text/plain',
  'text/html',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'application/octet-stream',
  'application/json, text/plain',
  'APPLICATION/JSON',
  ';;;',
  '@long-content-type',
  '',
)

describe('fuzz: malformed requests against every route', () => {
  let h: AppHarness
  let routes: Route[]
  let auths: (string | undefined)[]
  let realIds: string[]

  beforeAll(async () => {
    h = await appHarness()
    const doc = (await h.app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<string, Record<string, unknown>>
    }
    routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => ({ method: m.toUpperCase(), path })),
    )
    // Real resources, so that some requests get past the lookups into deeper code.
    const sub = await h.hookpost.subscriptions.create(h.envId, {
      event: 'site.publish',
      url: 'https://example.com/hook',
      active: true,
    })
    const pub = await h.app.inject({
      method: 'POST',
      url: '/events',
      headers: { authorization: h.publisher, 'content-type': 'application/json' },
      payload: JSON.stringify(example),
    })
    const delivery = (await h.store.deliveries.list(h.envId, { limit: 1 }))[0]!
    const cred = await h.hookpost.environments.createCredential(h.envId, { role: 'consumer' })
    expect(pub.statusCode).toBe(202)
    realIds = [sub.id, delivery.id, h.envId, h.other.envId, cred.row.id, pub.json().event.id]
    auths = [
      undefined,
      h.consumer,
      h.consumer,
      h.publisher,
      h.admin,
      h.admin,
      h.other.consumer,
      '',
      'Basic',
      'Basic !!!',
      'Basic ' + 'A'.repeat(20_000),
      basic('__proto__', 'constructor'),
      basic('hpk_ünï', 'sëcret'),
      basic('', ''),
      basic(cred.row.key, ''),
      'Bearer ' + 'x'.repeat(10_000),
      `Bearer ${adminToken} extra`,
      `bearer ${adminToken}`,
      'Digest username="x"',
      'Basic\u0000abc',
      h.consumer + ', ' + h.admin,
    ]
  })

  afterAll(async () => {
    await h?.close()
  })

  const request = () =>
    fc.record({
      route: fc.constantFrom(...routes),
      method: fc.option(fc.constantFrom(...methods), { freq: 4, nil: undefined }),
      ids: fc.array(fc.oneof(oddIds, fc.constantFrom(...realIds)), { minLength: 3, maxLength: 3 }),
      suffix: suffixes,
      query: queries,
      auth: fc.nat(auths.length - 1),
      contentType: contentTypes,
      body: bodies,
      extra: fc.record(
        {
          'idempotency-key': fc.oneof(fc.string({ maxLength: 10 }), fc.constant('@long-idempotency-key')),
          'x-ordering-key': fc.string({ maxLength: 300 }),
          'content-length': fc.constantFrom('0', '1', '-1', 'abc', '99999999'),
          'x-forwarded-for': fc.constant('127.0.0.1, 10.0.0.1'),
          'x-request-id': fc.oneof(
            fc.string({ maxLength: 200 }),
            fc.constantFrom('whsec_x', '../../x', 'a'.repeat(129)),
          ),
          cookie: fc.constantFrom('hp_session=forged', '@long-cookie', '__proto__=1'),
          accept: fc.constantFrom('text/html', '*/*', 'application/xml'),
        },
        { requiredKeys: [] },
      ),
    })

  type Drawn = ReturnType<typeof request> extends fc.Arbitrary<infer T> ? T : never
  const toInject = (r: Drawn): InjectOptions => {
    let i = 0
    const path = r.route.path.replace(/\{\w+\}/g, () => expand(r.ids[i++ % r.ids.length]!))
    const query = expand(r.query)
    const url = path + r.suffix + (query ? (r.suffix.includes('?') ? '&' : '?') + query : '')
    const authorization = auths[r.auth]
    const headers: Record<string, string> = {}
    for (const [k, v] of Object.entries(r.extra)) if (typeof v === 'string') headers[k] = expand(v)
    if (authorization !== undefined) headers['authorization'] = authorization
    if (r.contentType !== undefined) headers['content-type'] = expand(r.contentType)
    if (r.body === undefined) delete headers['content-length']
    const body = typeof r.body === 'string' ? expand(r.body) : r.body
    return {
      method: (r.method ?? r.route.method) as 'GET',
      url,
      headers,
      ...(body !== undefined ? { payload: body } : {}),
    }
  }

  let sent = 0
  const check = async (opts: InjectOptions) => {
    const res = await h.app.inject(opts)
    sent++
    const label = `${opts.method} ${String(opts.url).slice(0, 150)} → ${res.statusCode} ${res.body.slice(0, 200)}`
    expect(res.statusCode, label).toBeLessThan(500)
    if (res.statusCode >= 400 && opts.method !== 'HEAD') {
      const isPage =
        String(opts.url).startsWith('/dashboard') && /text\/html/.test(String(res.headers['content-type']))
      // The dashboard answers browsers with pages; everything else with the API's error shape.
      if (!isPage) {
        expect(res.headers['content-type'], label).toMatch(/^application\/json/)
        const body = JSON.parse(res.body) as { error?: { code?: unknown; message?: unknown } }
        expect(typeof body.error?.code, label).toBe('string')
        expect(typeof body.error?.message, label).toBe('string')
      }
    }
    return res
  }

  it('never answers 5xx, and answers every 4xx with an error code (1,200 random requests)', async () => {
    const started = Date.now()
    await fc.assert(
      fc.asyncProperty(request(), async (r) => {
        await check(toInject(r))
      }),
      { numRuns: Number(process.env['FUZZ_RUNS'] ?? 1200), endOnFailure: true },
    )
    expect(Date.now() - started).toBeLessThan(30_000)
  }, 60_000)

  it('every route × every method with a malformed body and the right credential (a systematic sweep)', async () => {
    const credFor = (path: string) =>
      path.startsWith('/admin') ? h.admin : path.startsWith('/events') ? h.publisher : h.consumer
    for (const route of routes) {
      for (const method of methods) {
        for (const payload of ['{', deep(100, 'array'), pollution[0]!, '"x"']) {
          const url = route.path.replace(/\{\w+\}/g, '..%2f%00')
          await check({
            method,
            url,
            headers: { authorization: credFor(route.path), 'content-type': 'application/json' },
            payload,
          })
        }
      }
    }
    expect(sent).toBeGreaterThan(1200 + routes.length * 10)
  }, 60_000)

  it('is still healthy and working afterwards, with nothing polluted', async () => {
    expect((await h.app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200)
    const list = await h.app.inject({
      method: 'GET',
      url: '/webhooks/subscription',
      headers: { authorization: h.consumer },
    })
    expect(list.statusCode).toBe(200)
    const pub = await h.app.inject({
      method: 'POST',
      url: '/events',
      headers: { authorization: h.publisher, 'content-type': 'application/json' },
      payload: JSON.stringify(example),
    })
    expect(pub.statusCode).toBe(202)
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
    expect(({} as Record<string, unknown>)['isAdmin']).toBeUndefined()
    expect(Object.prototype).not.toHaveProperty('polluted')
    // The other tenant's data was never touched by tenant A's requests, nor the reverse.
    expect((await h.store.subscriptions.list(h.other.envId)).every((s) => s.envId === h.other.envId)).toBe(
      true,
    )
  })
})
