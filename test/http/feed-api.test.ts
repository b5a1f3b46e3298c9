import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { eventTypes } from '../../src/events/event-types.ts'
import { type AppHarness, appHarness } from '../support/app-harness.ts'

const example = (name: string) => eventTypes.find((t) => t.name === name)!.example as Record<string, unknown>

describe('GET /webhooks/feed', () => {
  let h: AppHarness
  beforeEach(async () => {
    h = await appHarness()
  })
  afterEach(async () => {
    await h.close()
  })

  const publish = (body: string) =>
    h.app.inject({
      method: 'POST',
      url: '/events',
      headers: { authorization: h.publisher, 'content-type': 'application/json' },
      payload: body,
    })
  const feed = (query: string, authorization = h.consumer) =>
    h.app.inject({ method: 'GET', url: `/webhooks/feed${query}`, headers: { authorization } })

  it('answers the events in commit order with their payloads as published, page by page', async () => {
    // Odd spacing and key order: the answer must carry these bytes, not a re-serialisation.
    const first = JSON.stringify(example('site.publish'), null, 3).replace('{', '{  ')
    const one = (await publish(first)).json().event.id
    const batch = await h.app.inject({
      method: 'POST',
      url: '/events/batch',
      headers: { authorization: h.publisher, 'content-type': 'application/json' },
      payload: `{"events":[{"payload":${JSON.stringify(example('booking.updated'))}},{"payload": ${JSON.stringify(example('site.publish'))} }]}`,
    })
    const [two, three] = batch.json().events.map((e: { id: string }) => e.id)
    const all = await feed('')
    expect(all.statusCode).toBe(200)
    expect(all.headers['content-type']).toMatch(/^application\/json/)
    expect(all.body).toContain(`"payload":${first}}`)
    const body = all.json()
    expect(body.events.map((e: { id: string }) => e.id)).toEqual([one, two, three])
    expect(body.events[1]).toEqual({
      id: two,
      eventName: 'booking.updated',
      created: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
      payload: example('booking.updated'),
    })
    const page = (await feed('?limit=1')).json()
    expect(page.events.map((e: { id: string }) => e.id)).toEqual([one])
    const rest = (await feed(`?after=${page.nextCursor}&limit=1000`)).json()
    expect(rest.events.map((e: { id: string }) => e.id)).toEqual([two, three])
    const end = (await feed(`?after=${rest.nextCursor}`)).json()
    expect(end).toEqual({ events: [], nextCursor: rest.nextCursor })
    expect((await feed('?event=booking.updated')).json().events.map((e: { id: string }) => e.id)).toEqual([
      two,
    ])
  })

  it('shows an environment only its own events, and only to a consumer', async () => {
    await publish(JSON.stringify(example('site.publish')))
    expect((await feed('', h.other.consumer)).json()).toEqual({ events: [], nextCursor: null })
    const r = await feed('', h.publisher)
    expect(r.statusCode).toBe(403)
    expect((await h.app.inject({ method: 'GET', url: '/webhooks/feed' })).statusCode).toBe(401)
  })

  it('refuses bad queries with 400 and a stable code', async () => {
    for (const [q, code] of [
      ['?limit=0', 'invalid_request'],
      ['?limit=1001', 'invalid_request'],
      ['?limit=x', 'invalid_request'],
      ['?wait=31', 'invalid_request'],
      ['?wait=-1', 'invalid_request'],
      ['?after=bm9wZQ', 'invalid_cursor'],
      ['?after=%21%21', 'invalid_cursor'],
      ['?event=no.such', 'unknown_event_type'],
    ] as const) {
      const r = await feed(q)
      expect([q, r.statusCode, r.json().error.code]).toEqual([q, 400, code])
    }
  })

  it('holds a request with wait until an event is published, then answers it', async () => {
    const start = (await feed('')).json().nextCursor
    expect(start).toBeNull()
    const waiting = feed('?wait=30')
    // Both go through the same event loop: the read has started and found nothing before this publish.
    await new Promise((r) => setImmediate(r))
    const id = (await publish(JSON.stringify(example('site.publish')))).json().event.id
    const r = await waiting
    expect(r.json().events.map((e: { id: string }) => e.id)).toEqual([id])
  })

  it('answers an empty page with the same cursor when the wait passes', async () => {
    await publish(JSON.stringify(example('site.publish')))
    const { nextCursor } = (await feed('')).json()
    const r = await feed(`?after=${nextCursor}&wait=0.2`)
    expect(r.statusCode).toBe(200)
    expect(r.json()).toEqual({ events: [], nextCursor })
  })
})
