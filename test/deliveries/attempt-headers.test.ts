import { describe, expect, it } from 'vitest'
import {
  attemptAsSent,
  fullRequestHeaders,
  leanRequestHeaders,
} from '../../src/deliveries/attempt-headers.ts'

const a = { deliveryId: 'dlv_2x9', event: 'order.created', number: 3, started: 1_700_000_123_456 }

// As the worker sends them (worker.ts #send), in that order.
const own = {
  'content-type': 'application/json',
  'user-agent': 'Hookpost/0.1.0',
  'x-delivery-hmac-sha256': 'ab'.repeat(32),
  'webhook-id': 'dlv_2x9',
  'webhook-timestamp': '1700000123',
  'webhook-signature': 'v1,c2lnbmF0dXJl',
  'x-delivery-event': 'order.created',
  'x-delivery-attempt': '3',
}

/** The headers in order, so that a reordering fails too. */
const entries = (h: Record<string, string>) => Object.entries(h)

describe('the lean attempt log', () => {
  it('keeps only the signatures and the user agent of a plain attempt', () => {
    expect(leanRequestHeaders(own, a)).toEqual({
      'user-agent': 'Hookpost/0.1.0',
      'x-delivery-hmac-sha256': 'ab'.repeat(32),
      'webhook-signature': 'v1,c2lnbmF0dXJl',
    })
  })

  it.each([
    ['a plain attempt', own],
    [
      'one with a traceparent',
      { ...own, traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
    ],
    ['one with a transformation’s headers first', { 'x-tenant': 'acme', 'x-region': 'eu', ...own }],
    [
      'one with the endpoint’s static headers (masked) first and an OAuth2 token last',
      { 'x-api-key': '****', ...own, authorization: '****' },
    ],
  ])('gives back %s exactly, in the order sent', (_, sent: Record<string, string>) => {
    const kept = leanRequestHeaders(sent, a)
    expect(kept).toBeDefined()
    expect(Object.keys(kept!).length).toBeLessThan(Object.keys(sent).length)
    expect(entries(fullRequestHeaders(kept!, a))).toEqual(entries(sent))
  })

  it('keeps a derived header whose value differs from the derived one', () => {
    const sent = { ...own, 'webhook-timestamp': '1700000000' }
    const kept = leanRequestHeaders(sent, a)
    expect(kept?.['webhook-timestamp']).toBe('1700000000')
    expect(entries(fullRequestHeaders(kept!, a))).toEqual(entries(sent))
  })

  it('keeps every header when the derived ones would not come back in the order sent', () => {
    const { 'content-type': ct, ...rest } = own
    expect(leanRequestHeaders({ ...rest, 'content-type': ct }, a)).toBeUndefined()
  })

  it('gives back exactly what was sent, or keeps it all, for any order, gap or addition', () => {
    // A fixed pseudo-random sequence (mulberry32): the same cases on every run.
    let seed = 13
    const random = () => {
      seed = (seed + 0x6d2b79f5) | 0
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296
    }
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!
    let lean = 0
    for (let i = 0; i < 2000; i++) {
      let list: [string, string][] = Object.entries({ ...own, traceparent: '00-ab-cd-01' })
      if (random() < 0.3) list = list.filter(() => random() < 0.8)
      if (random() < 0.3) list.sort(() => random() - 0.5)
      if (random() < 0.3) list[Math.floor(random() * list.length)]![1] = 'changed'
      if (random() < 0.4) list.unshift(['x-tenant', 'acme'])
      if (random() < 0.4) list.push([pick(['authorization', 'x-late']), '****'])
      if (random() < 0.2) list.splice(Math.floor(random() * list.length), 0, ['x-middle', 'm'])
      const sent = Object.fromEntries(list)
      const kept = leanRequestHeaders(sent, a)
      if (kept === undefined) continue
      lean++
      expect(entries(fullRequestHeaders(kept, a))).toEqual(entries(sent))
    }
    expect(lean).toBeGreaterThan(200)
  })

  it('keeps every header when none of the worker’s own is kept to mark where later ones go', () => {
    const sent = {
      'content-type': 'application/json',
      'webhook-id': 'dlv_2x9',
      'webhook-timestamp': '1700000123',
      'x-delivery-event': 'order.created',
      'x-delivery-attempt': '3',
      authorization: '****',
    }
    expect(leanRequestHeaders(sent, a)).toBeUndefined()
  })

  it('keeps an attempt that sent nothing as it is (no derived header to add)', () => {
    expect(leanRequestHeaders({}, a)).toBeUndefined()
  })

  it('shows a stored lean attempt with its headers put back, and a full one untouched', () => {
    const row = {
      deliveryId: a.deliveryId,
      number: a.number,
      started: a.started,
      durationMs: 7,
      statusCode: 500,
      error: 'http_500',
      responseBody: 'nope',
      responseHeaders: { 'content-type': 'text/plain' },
    }
    const lean = attemptAsSent(
      { ...row, requestHeaders: leanRequestHeaders(own, a)!, leanHeaders: true },
      { event: a.event },
    )
    expect(lean).toEqual({ ...row, requestHeaders: own })
    expect(entries(lean.requestHeaders)).toEqual(entries(own))
    expect(attemptAsSent({ ...row, requestHeaders: {} }, { event: a.event })).toEqual({
      ...row,
      requestHeaders: {},
    })
  })
})
