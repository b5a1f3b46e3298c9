import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { eventTypes } from '../../src/events/event-types.ts'
import { type AppHarness, appHarness } from '../support/app-harness.ts'
import { recordFailedAttempts, sentHeaders } from '../support/recorded-attempts.ts'

const sub = { event: 'site.publish', url: 'https://example.com/hook', active: true }

describe('consumer API', () => {
  let h: AppHarness
  beforeEach(async () => {
    h = await appHarness()
  })
  afterEach(async () => {
    await h.close()
  })

  const as = (authorization: string) => ({
    get: (url: string) => h.app.inject({ method: 'GET', url, headers: { authorization } }),
    post: (url: string, payload?: unknown) =>
      h.app.inject({
        method: 'POST',
        url,
        headers: { authorization },
        ...(payload !== undefined ? { payload: payload as object } : {}),
      }),
    put: (url: string, payload: unknown) =>
      h.app.inject({ method: 'PUT', url, headers: { authorization }, payload: payload as object }),
    del: (url: string) => h.app.inject({ method: 'DELETE', url, headers: { authorization } }),
  })

  it('needs a consumer credential: 401 without, 403 with a publisher one', async () => {
    expect((await h.app.inject({ method: 'GET', url: '/webhooks/subscription' })).statusCode).toBe(401)
    const wrong = await as('Basic ' + Buffer.from('hpk_nope:secret').toString('base64')).get(
      '/webhooks/subscription',
    )
    expect(wrong.statusCode).toBe(401)
    expect(wrong.headers['www-authenticate']).toMatch(/^Basic/)
    const r = await as(h.publisher).get('/webhooks/subscription')
    expect(r.statusCode).toBe(403)
    expect(r.json().error.code).toBe('forbidden_role')
    for (const bad of [
      'Basic',
      'Basic !!!',
      'Basic ' + Buffer.from('nocolon').toString('base64'),
      'Bearer x',
    ]) {
      expect((await as(bad).get('/webhooks/subscription')).statusCode).toBe(401)
    }
  })

  it('creates, gets, lists, replaces and deletes a subscription', async () => {
    const c = as(h.consumer)
    const created = await c.post('/webhooks/subscription', sub)
    expect(created.statusCode).toBe(201)
    const s = created.json().subscription
    expect(s).toMatchObject(sub)
    expect(s.id).toMatch(/^sub_/)
    expect(s.created).toBe(s.updated)
    expect((await c.get(`/webhooks/subscription/${s.id}`)).json().subscription).toEqual(s)
    const inactive = await c.post('/webhooks/subscription', { ...sub, active: false })
    const list = (await c.get('/webhooks/subscription')).json().subscriptions
    expect(list.map((x: { id: string }) => x.id).sort()).toEqual(
      [s.id, inactive.json().subscription.id].sort(),
    )
    const put = await c.put(`/webhooks/subscription/${s.id}`, {
      event: 'booking.updated',
      url: 'https://example.org/b',
      active: false,
    })
    expect(put.statusCode).toBe(200)
    expect(put.json().subscription).toMatchObject({
      id: s.id,
      event: 'booking.updated',
      url: 'https://example.org/b',
      active: false,
    })
    expect((await c.del(`/webhooks/subscription/${s.id}`)).statusCode).toBe(204)
    expect((await c.get(`/webhooks/subscription/${s.id}`)).statusCode).toBe(404)
    expect((await c.del(`/webhooks/subscription/${s.id}`)).json().error.code).toBe('subscription_not_found')
  })

  it('refuses bad subscriptions with 400 and creates nothing', async () => {
    const c = as(h.consumer)
    const cases: [unknown, string][] = [
      [{ url: sub.url, active: true }, 'invalid_request'],
      [{ event: 'site.publish', active: true }, 'invalid_request'],
      [{ event: 'site.publish', url: sub.url }, 'invalid_request'],
      [{ ...sub, active: 'yes' }, 'invalid_request'],
      [{ ...sub, event: 'site.unpublish' }, 'unknown_event_type'],
      [{ ...sub, url: 'not a url' }, 'invalid_url'],
      [{ ...sub, url: 'http://example.com/x' }, 'url_not_allowed'],
      [{ ...sub, url: 'https://e.com/' + 'a'.repeat(3000) }, 'invalid_request'],
      [[sub], 'invalid_request'],
    ]
    for (const [body, code] of cases) {
      const r = await c.post('/webhooks/subscription', body)
      expect(r.statusCode, JSON.stringify(body)).toBe(400)
      expect(r.json().error.code, JSON.stringify(body)).toBe(code)
      expect(typeof r.json().error.message).toBe('string')
    }
    const raw = await h.app.inject({
      method: 'POST',
      url: '/webhooks/subscription',
      headers: { authorization: h.consumer, 'content-type': 'application/json' },
      payload: '{"event": "site.publish", ',
    })
    expect(raw.statusCode).toBe(400)
    expect(raw.json().error.code).toBe('invalid_json')
    const xml = await h.app.inject({
      method: 'POST',
      url: '/webhooks/subscription',
      headers: { authorization: h.consumer, 'content-type': 'application/xml' },
      payload: '<a/>',
    })
    expect(xml.statusCode).toBe(415)
    expect((await c.get('/webhooks/subscription')).json().subscriptions).toEqual([])
    const bad = await c.put('/webhooks/subscription/sub_nope', sub)
    expect(bad.statusCode).toBe(404)
  })

  it("isolates environments: another environment's ids answer 404", async () => {
    const mine = (await as(h.consumer).post('/webhooks/subscription', sub)).json().subscription
    const them = as(h.other.consumer)
    expect((await them.get(`/webhooks/subscription/${mine.id}`)).statusCode).toBe(404)
    expect((await them.put(`/webhooks/subscription/${mine.id}`, sub)).statusCode).toBe(404)
    expect((await them.del(`/webhooks/subscription/${mine.id}`)).statusCode).toBe(404)
    expect((await them.get('/webhooks/subscription')).json().subscriptions).toEqual([])
    await as(h.publisher).post('/events', eventTypes.find((t) => t.name === 'site.publish')!.example)
    const [d] = (await as(h.consumer).get('/webhooks/deliveries')).json().deliveries
    expect((await them.get(`/webhooks/deliveries/${d.id}`)).statusCode).toBe(404)
    expect((await them.post(`/webhooks/deliveries/${d.id}/retry`)).statusCode).toBe(404)
    expect((await them.get('/webhooks/deliveries')).json().deliveries).toEqual([])
  })

  it('rotates the signing secret: whsec_ + 32 bytes, shown once, a shown previous one valid for 24 h', async () => {
    const before = Date.now()
    const r = await as(h.consumer).post('/webhooks/hmac-secret')
    expect(r.statusCode).toBe(201)
    const s = r.json().hmacSecret
    expect(s.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/)
    expect(Buffer.from(s.secret.slice(6), 'base64')).toHaveLength(32)
    expect(Date.parse(s.created)).toBeGreaterThanOrEqual(before - 1000)
    // The environment's first secret was never shown to anyone: replaced at once, no grace.
    expect(s.previousExpires).toBeNull()
    expect(await h.store.secrets.listValid([h.envId], Date.now())).toHaveLength(1)
    // With an empty JSON body and a content type, as many clients send it.
    const again = await h.app.inject({
      method: 'POST',
      url: '/webhooks/hmac-secret',
      headers: { authorization: h.consumer, 'content-type': 'application/json' },
    })
    expect(again.statusCode).toBe(201)
    const s2 = again.json().hmacSecret
    expect(s2.secret).not.toBe(s.secret)
    // The first answer showed its secret: it keeps signing beside the new one for the grace.
    expect(Date.parse(s2.previousExpires) - Date.parse(s2.created)).toBe(86_400_000)
    const valid = await h.store.secrets.listValid([h.envId], Date.now())
    expect(valid).toHaveLength(2)
    // Encrypted at rest: the ciphertext does not contain the secret.
    expect(valid.some((v) => v.ciphertext.includes(s.secret.slice(6, 30)))).toBe(false)
  })

  it('serves the event catalogue: six types, each example valid against its schema', async () => {
    const r = await as(h.consumer).get('/webhooks/event-types')
    const types = r.json().eventTypes
    expect(types.map((t: { name: string }) => t.name)).toEqual([
      'account_holder.created',
      'account_holder.package_change',
      'booking.updated',
      'site.first_publish',
      'site.publish',
      'store.order_updated',
    ])
    for (const t of types) {
      expect(t.schema.type).toBe('object')
      expect(t.example.eventName).toBe(t.name)
      expect(typeof t.description).toBe('string')
    }
  })

  it('pages deliveries newest first, filters them, and refuses bad queries with 400', async () => {
    const c = as(h.consumer)
    const s1 = (await c.post('/webhooks/subscription', sub)).json().subscription
    await c.post('/webhooks/subscription', { ...sub, url: 'https://example.com/2' })
    const example = eventTypes.find((t) => t.name === 'site.publish')!.example
    for (let i = 0; i < 3; i++) expect((await as(h.publisher).post('/events', example)).statusCode).toBe(202)
    const page1 = (await c.get('/webhooks/deliveries?limit=4')).json()
    expect(page1.deliveries).toHaveLength(4)
    expect(page1.nextCursor).toEqual(expect.any(String))
    const page2 = (await c.get(`/webhooks/deliveries?limit=4&cursor=${page1.nextCursor}`)).json()
    expect(page2.deliveries).toHaveLength(2)
    expect(page2.nextCursor).toBeNull()
    const ids = [...page1.deliveries, ...page2.deliveries].map((d: { id: string }) => d.id)
    expect(ids).toEqual([...ids].sort().reverse())
    const d = page1.deliveries[0]
    expect(Object.keys(d).sort()).toEqual(
      [
        'attempts',
        'created',
        'event',
        'eventId',
        'id',
        'lastError',
        'lastStatusCode',
        'nextAttemptAt',
        'status',
        'subscriptionId',
        'updated',
      ].sort(),
    )
    expect(d).toMatchObject({ status: 'pending', attempts: 0, event: 'site.publish', lastStatusCode: null })
    expect((await c.get(`/webhooks/deliveries?subscriptionId=${s1.id}`)).json().deliveries).toHaveLength(3)
    expect((await c.get('/webhooks/deliveries?status=delivered')).json().deliveries).toHaveLength(0)
    for (const q of ['limit=0', 'limit=201', 'limit=abc', 'status=done', 'cursor=%%%', 'cursor=bm9wZQ']) {
      const r = await c.get(`/webhooks/deliveries?${q}`)
      expect(r.statusCode, q).toBe(400)
    }
    const one = (await c.get(`/webhooks/deliveries/${d.id}`)).json().delivery
    expect(one).toMatchObject({ id: d.id, attemptLog: [] })
    expect((await c.get('/webhooks/deliveries/dlv_nope')).statusCode).toBe(404)
  })

  it('shows an attempt the same whether it stored every request header or only those that vary', async () => {
    const c = as(h.consumer)
    await c.post('/webhooks/subscription', sub)
    await c.post('/webhooks/subscription', sub)
    await as(h.publisher).post('/events', eventTypes.find((t) => t.name === 'site.publish')!.example)
    const now = Date.now()
    const { deliveries } = await h.store.deliveries.claimDue({
      now,
      limit: 10,
      leaseMs: 60_000,
      scan: { exclude: [] },
    })
    const [lean, full] = deliveries
    await recordFailedAttempts(
      h.store,
      [
        { d: lean!, lean: true },
        { d: full!, lean: false },
      ],
      now,
    )
    expect(Object.keys((await h.store.deliveries.attempts(lean!.id))[0]!.requestHeaders)).toHaveLength(4)
    for (const d of [lean!, full!]) {
      const [a] = (await c.get(`/webhooks/deliveries/${d.id}`)).json().delivery.attemptLog
      expect(a).toEqual({
        number: 1,
        started: new Date(now).toISOString(),
        durationMs: 12,
        statusCode: 500,
        error: 'http_500',
        responseBody: 'nope',
        requestHeaders: sentHeaders(d, now),
        responseHeaders: { 'content-type': 'text/plain' },
      })
      // In the order sent, too.
      expect(Object.keys(a.requestHeaders)).toEqual(Object.keys(sentHeaders(d, now)))
    }
  })

  it('retries a delivery under the same id: 202, due now', async () => {
    const c = as(h.consumer)
    await c.post('/webhooks/subscription', sub)
    await as(h.publisher).post('/events', eventTypes.find((t) => t.name === 'site.publish')!.example)
    const [d] = (await c.get('/webhooks/deliveries')).json().deliveries
    const r = await c.post(`/webhooks/deliveries/${d.id}/retry`)
    expect(r.statusCode).toBe(202)
    expect(r.json().delivery).toMatchObject({ id: d.id, status: 'pending' })
    expect(Date.parse(r.json().delivery.nextAttemptAt)).toBeLessThanOrEqual(Date.now())
    expect((await c.post('/webhooks/deliveries/dlv_nope/retry')).statusCode).toBe(404)
  })
})
