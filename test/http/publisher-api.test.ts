import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { eventTypes } from '../../src/events/event-types.ts'
import { type AppHarness, appHarness } from '../support/app-harness.ts'

const example = (name: string) => eventTypes.find((t) => t.name === name)!.example

describe('publisher API', () => {
  let h: AppHarness
  let woken = 0
  beforeEach(async () => {
    woken = 0
    h = await appHarness({ eventBodyLimit: 4096, onWork: () => woken++ })
    for (const t of eventTypes) {
      await h.app.inject({
        method: 'POST',
        url: '/webhooks/subscription',
        headers: { authorization: h.consumer },
        payload: { event: t.name, url: 'https://example.com/' + t.name, active: true },
      })
    }
  })
  afterEach(async () => {
    await h.close()
  })

  const publish = (body: string | Buffer, headers: Record<string, string> = {}) =>
    h.app.inject({
      method: 'POST',
      url: '/events',
      headers: { authorization: h.publisher, 'content-type': 'application/json', ...headers },
      payload: body,
    })

  it('accepts every catalogue example with 202 and one delivery per active subscription', async () => {
    for (const t of eventTypes) {
      const r = await publish(JSON.stringify(t.example))
      expect(r.statusCode).toBe(202)
      const e = r.json().event
      expect(e).toMatchObject({ eventName: t.name, deliveries: 1 })
      expect(e.id).toMatch(/^evt_[0-9A-Za-z]+$/)
    }
    expect(woken).toBe(6)
  })

  it('stores the body byte-for-byte as received', async () => {
    const body = `{ "eventName" : "site.publish",\n  "site": {"ref": 1.0e0, "x": "\\u00e9\\/", "n": 9007199254740993, "ref": 12}\t}`
    const r = await publish(body)
    expect(r.statusCode).toBe(202)
    const {
      deliveries: [c],
    } = await h.store.deliveries.claimDue({
      now: Date.now() + 1,
      limit: 10,
      leaseMs: 1000,
      scan: { exclude: [] },
    })
    expect(c!.body.toString('utf8')).toBe(body)
  })

  it('keeps a valid traceparent header with the event, ignores an invalid one', async () => {
    const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
    const body = JSON.stringify(eventTypes[0]!.example)
    const ok = await publish(body, { traceparent: tp })
    expect((await h.store.events.get(h.envId, ok.json().event.id))?.traceparent).toBe(tp)
    const bad = await publish(body, { traceparent: '00-zz' })
    expect(bad.statusCode).toBe(202)
    expect((await h.store.events.get(h.envId, bad.json().event.id))?.traceparent).toBeNull()
  })

  it('needs a publisher credential', async () => {
    const r = await h.app.inject({
      method: 'POST',
      url: '/events',
      headers: { authorization: h.consumer },
      payload: example('site.publish'),
    })
    expect(r.statusCode).toBe(403)
    expect(
      (await h.app.inject({ method: 'POST', url: '/events', payload: example('site.publish') })).statusCode,
    ).toBe(401)
  })

  it('answers 400 for non-JSON or no known eventName, 422 naming the path for a schema failure', async () => {
    const cases: [string | Buffer, number, string][] = [
      ['not json', 400, 'invalid_json'],
      ['', 400, 'invalid_json'],
      [Buffer.from([0x7b, 0xff, 0x7d]), 400, 'invalid_json'],
      ['[1,2]', 400, 'missing_event_name'],
      ['{"eventName": 5}', 400, 'missing_event_name'],
      ['{"eventName": "site.unknown"}', 400, 'missing_event_name'],
      ['{"nope": 1}', 400, 'missing_event_name'],
      ['['.repeat(100) + ']'.repeat(100), 400, 'json_too_deep'],
    ]
    for (const [body, status, code] of cases) {
      const r = await publish(body)
      expect(r.statusCode, String(body)).toBe(status)
      expect(r.json().error.code, String(body)).toBe(code)
    }
    const bad = structuredClone(example('account_holder.created')) as { accountHolder: { ref: unknown } }
    bad.accountHolder.ref = '199'
    const r = await publish(JSON.stringify(bad))
    expect(r.statusCode).toBe(422)
    expect(r.json().error.code).toBe('payload_invalid')
    expect(r.json().error.details.map((d: { path: string }) => d.path)).toContain('/accountHolder/ref')
    expect(r.json().error.message).toContain('/accountHolder/ref')
    expect((await h.store.deliveries.list(h.envId, { limit: 10 })).length).toBe(0)
  })

  it('answers 413 over the body limit and 415 for other media types', async () => {
    const big = JSON.stringify({ ...example('site.publish'), pad: 'x'.repeat(5000) })
    const r = await publish(big)
    expect(r.statusCode).toBe(413)
    expect(r.json().error.code).toBe('body_too_large')
    const t = await publish(JSON.stringify(example('site.publish')), { 'content-type': 'text/plain' })
    expect(t.statusCode).toBe(415)
    expect(t.json().error.code).toBe('unsupported_media_type')
  })

  it('returns the first event for a repeated Idempotency-Key and creates nothing', async () => {
    const body = JSON.stringify(example('booking.updated'))
    const a = await publish(body, { 'idempotency-key': 'order-1' })
    const b = await publish(body, { 'idempotency-key': 'order-1' })
    expect(b.statusCode).toBe(202)
    expect(b.json().event).toEqual(a.json().event)
    expect(await h.store.deliveries.list(h.envId, { limit: 10 })).toHaveLength(1)
    const c = await publish(body, { 'idempotency-key': 'order-2' })
    expect(c.json().event.id).not.toBe(a.json().event.id)
    expect((await publish(body, { 'idempotency-key': 'x'.repeat(300) })).statusCode).toBe(400)
  })
})

describe('publisher API: reused idempotency keys and batches', () => {
  let h: AppHarness
  let woken = 0
  beforeEach(async () => {
    woken = 0
    h = await appHarness({ eventBodyLimit: 4096, batchBodyLimit: 512 * 1024, onWork: () => woken++ })
    for (const t of eventTypes) {
      await h.app.inject({
        method: 'POST',
        url: '/webhooks/subscription',
        headers: { authorization: h.consumer },
        payload: { event: t.name, url: `https://example.com/${t.name}`, active: true, ordered: true },
      })
    }
  })
  afterEach(async () => {
    await h.close()
  })

  const post = (url: string, body: string | Buffer, headers: Record<string, string> = {}) =>
    h.app.inject({
      method: 'POST',
      url,
      headers: { authorization: h.publisher, 'content-type': 'application/json', ...headers },
      payload: body,
    })
  const batch = (items: unknown[]) => post('/events/batch', JSON.stringify({ events: items }))
  const deliveryCount = async () => (await h.store.deliveries.list(h.envId, { limit: 5000 })).length
  const claimBodies = async () =>
    (
      await h.store.deliveries.claimDue({
        now: Date.now() + 1,
        limit: 5000,
        leaseMs: 1000,
        scan: { exclude: [] },
      })
    ).deliveries
  const site = (ref: number) => ({ ...(example('site.publish') as object), site: { ref } })

  it('answers 409 idempotency_key_reused when a key comes back with other bytes, and creates nothing', async () => {
    const body = JSON.stringify(example('booking.updated'))
    const a = await post('/events', body, { 'idempotency-key': 'order-1' })
    expect(a.statusCode).toBe(202)
    const b = await post('/events', `${body} `, { 'idempotency-key': 'order-1' })
    expect(b.statusCode).toBe(409)
    expect(b.json().error.code).toBe('idempotency_key_reused')
    expect(b.json().error.message).toContain(a.json().event.id)
    expect(await deliveryCount()).toBe(1)
    // The same bytes still answer the first event.
    const c = await post('/events', body, { 'idempotency-key': 'order-1' })
    expect(c.statusCode).toBe(202)
    expect(c.json().event).toEqual(a.json().event)
  })

  it('publishes a batch in order with one delivery per active subscription, and wakes the worker', async () => {
    const names = ['site.publish', 'booking.updated', 'account_holder.created']
    const r = await batch(names.map((n) => ({ payload: example(n) })))
    expect(r.statusCode).toBe(202)
    const events = r.json().events as { id: string; eventName: string; deliveries: number }[]
    expect(events.map((e) => e.eventName)).toEqual(names)
    expect(events.every((e) => /^evt_[0-9A-Za-z]+$/.test(e.id) && e.deliveries === 1)).toBe(true)
    expect(new Set(events.map((e) => e.id)).size).toBe(3)
    const ds = await h.store.deliveries.list(h.envId, { limit: 10 })
    expect(ds.map((d) => d.eventId).sort()).toEqual(events.map((e) => e.id).sort())
    expect(woken).toBe(1)
  })

  it('creates nothing when one item is invalid, and names each bad item by its index', async () => {
    const bad = structuredClone(example('account_holder.created')) as { accountHolder: { ref: unknown } }
    bad.accountHolder.ref = '199'
    const r = await batch([
      { payload: example('site.publish') },
      { payload: bad },
      { payload: example('site.publish') },
    ])
    expect(r.statusCode).toBe(422)
    expect(r.json().error.code).toBe('payload_invalid')
    expect(r.json().error.details.map((d: { path: string }) => d.path)).toContain(
      '/events/1/payload/accountHolder/ref',
    )
    const mixed = await batch([
      { payload: bad },
      { payload: { eventName: 'site.unknown' } },
      'not an object',
      { payload: example('site.publish'), idempotencyKey: '' },
      { payload: example('site.publish'), orderingKey: 5 },
      { payload: example('site.publish'), extra: 1 },
      {},
    ])
    expect(mixed.statusCode).toBe(400)
    expect(mixed.json().error.details.map((d: { path: string }) => d.path)).toEqual([
      '/events/0/payload/accountHolder/ref',
      '/events/1/payload/eventName',
      '/events/2',
      '/events/3/idempotencyKey',
      '/events/4/orderingKey',
      '/events/5/extra',
      '/events/6/payload',
    ])
    for (const body of ['{"events": []}', '[]', '{"events": {}}', '{"events": [1], "more": 1}', 'nope']) {
      const x = await post('/events/batch', body)
      expect(x.statusCode, body).toBe(400)
    }
    expect(await deliveryCount()).toBe(0)
  })

  it('answers an item whose key was seen with the first event, and fails the whole batch on a reused key', async () => {
    const first = await post('/events', JSON.stringify(site(1)), { 'idempotency-key': 'k-1' })
    const r = await batch([
      { payload: site(1), idempotencyKey: 'k-1' },
      { payload: site(2), idempotencyKey: 'k-2' },
      { payload: site(2), idempotencyKey: 'k-2' },
    ])
    expect(r.statusCode).toBe(202)
    const [a, b, c] = r.json().events
    expect(a).toEqual(first.json().event)
    expect(c).toEqual(b)
    expect(b.id).not.toBe(a.id)
    expect(await deliveryCount()).toBe(2)
    const reused = await batch([{ payload: site(3) }, { payload: site(4), idempotencyKey: 'k-2' }])
    expect(reused.statusCode).toBe(409)
    expect(reused.json().error.code).toBe('idempotency_key_reused')
    expect(reused.json().error.details).toEqual([
      { path: '/events/1/idempotencyKey', message: expect.any(String) },
    ])
    expect(await deliveryCount()).toBe(2)
  })

  it('answers 413 over 1000 items, over the batch body limit, or for a payload over the event limit', async () => {
    const many = await batch(Array.from({ length: 1001 }, (_, i) => ({ payload: site(i) })))
    expect(many.statusCode).toBe(413)
    expect(many.json().error.code).toBe('too_many_events')
    const heavy = await batch(
      Array.from({ length: 200 }, (_, i) => ({ payload: { ...site(i), pad: 'x'.repeat(3000) } })),
    )
    expect(heavy.statusCode).toBe(413)
    expect(heavy.json().error.code).toBe('body_too_large')
    const one = await batch([{ payload: site(1) }, { payload: { ...site(2), pad: 'x'.repeat(5000) } }])
    expect(one.statusCode).toBe(413)
    expect(one.json().error.details[0].path).toBe('/events/1/payload')
    expect(await deliveryCount()).toBe(0)
    const full = await batch(Array.from({ length: 1000 }, (_, i) => ({ payload: site(i) })))
    expect(full.statusCode).toBe(202)
    expect(await deliveryCount()).toBe(1000)
  })

  it('stores and delivers each payload as its exact bytes in the request', async () => {
    const payloads = [
      `{ "eventName" : "site.publish",\n  "site": {"ref": 1.0e0, "x": "\\u00e9\\/", "n": 9007199254740993, "ref": 12}\t}`,
      `{"eventName":"site.publish","site":{"ref":2},"name":"caf\u00e9 \u{1F600}","q":"a\\"}b\\\\","arr":[ {"k":"]"} ]}`,
      `{"site":{"ref":3},"eventName":"site.publish","payload":{"nested":"payload"}}`,
    ]
    const body =
      `\uFEFF {\r\n "events" : [ { "idempotencyKey": "b-1", "payload" : ${payloads[0]} } ,` +
      `{"payload":{"eventName":"ignored"},"payload":${payloads[1]}},\n\t{"orderingKey":"o-\\u0031","payload":${payloads[2]} }  ] }  `
    const r = await post('/events/batch', Buffer.from(body, 'utf8'))
    expect(r.statusCode).toBe(202)
    const ids = r.json().events.map((e: { id: string }) => e.id)
    const claimed = await claimBodies()
    const bodyOf = (id: string) => claimed.find((c) => c.eventId === id)!.body.toString('utf8')
    expect(ids.map(bodyOf)).toEqual(payloads)
    expect(claimed.find((c) => c.eventId === ids[2])!.orderingKey).toBe('o-1')
  })
})
