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
