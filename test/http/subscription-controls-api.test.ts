// The subscription fields and routes of contract sections 12 and 13 over the API: filter,
// paused, verification (shown only when asked for), pause/resume/verify, trying a filter.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { eventTypes } from '../../src/events/event-types.ts'
import { type AppHarness, appHarness } from '../support/app-harness.ts'

const sub = { event: 'site.publish', url: 'https://example.com/hook', active: true }

describe('subscription filter, pause and verification API', () => {
  let h: AppHarness
  beforeEach(async () => {
    h = await appHarness()
  })
  afterEach(async () => {
    await h.close()
  })

  const call = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown, authorization = h.consumer) =>
    h.app.inject({
      method,
      url,
      headers: { authorization },
      ...(payload !== undefined ? { payload: payload as object } : {}),
    })

  it("BaseKit's form is unchanged: no filter, not paused, no verification field", async () => {
    const r = await call('POST', '/webhooks/subscription', sub)
    expect(r.statusCode).toBe(201)
    const s = r.json().subscription
    expect(s).toMatchObject({ ...sub, filter: null, paused: false })
    expect(s).not.toHaveProperty('verification')
  })

  it('saves, shows, replaces and removes a filter; keeps it when PUT leaves it out', async () => {
    const filter = {
      $or: [{ 'site.ref': { $in: [1, 2] } }, { 'site.primaryDomain.domainName': { $prefix: 'shop.' } }],
    }
    const created = (await call('POST', '/webhooks/subscription', { ...sub, filter })).json().subscription
    expect(created.filter).toEqual(filter)
    const id = created.id
    expect((await call('PUT', `/webhooks/subscription/${id}`, sub)).json().subscription.filter).toEqual(
      filter,
    )
    expect((await call('GET', `/webhooks/subscription/${id}`)).json().subscription.filter).toEqual(filter)
    const removed = await call('PUT', `/webhooks/subscription/${id}`, { ...sub, filter: null })
    expect(removed.json().subscription.filter).toBeNull()
  })

  it('answers 400 invalid_filter naming the bad part, and saves nothing', async () => {
    for (const [filter, path] of [
      [{ $and: [{ 'site.ref': 1 }, { amount: { $gt: {} } }] }, '/filter/$and/1/amount/$gt'],
      [{ 'site.ref': { $regex: 'x' } }, '/filter/site.ref/$regex'],
      [{ $or: {} }, '/filter/$or'],
    ] as const) {
      const r = await call('POST', '/webhooks/subscription', { ...sub, filter })
      expect(r.statusCode).toBe(400)
      expect(r.json().error.code).toBe('invalid_filter')
      expect(r.json().error.details[0].path).toBe(path)
    }
    // Not an object at all: the same error, naming the filter itself.
    for (const filter of [[1], 'x', 3, true]) {
      const r = await call('POST', '/webhooks/subscription', { ...sub, filter })
      expect(r.statusCode).toBe(400)
      expect(r.json().error).toMatchObject({ code: 'invalid_filter', details: [{ path: '/filter' }] })
    }
    expect((await call('GET', '/webhooks/subscription')).json().subscriptions).toEqual([])
  })

  it('pauses and resumes by PUT or by route, in its own environment only', async () => {
    const s = (await call('POST', '/webhooks/subscription', { ...sub, paused: true })).json().subscription
    expect(s.paused).toBe(true)
    expect((await call('POST', `/webhooks/subscription/${s.id}/resume`)).json().subscription.paused).toBe(
      false,
    )
    expect((await call('POST', `/webhooks/subscription/${s.id}/pause`)).json().subscription.paused).toBe(true)
    expect(
      (await call('PUT', `/webhooks/subscription/${s.id}`, { ...sub, paused: false })).json().subscription
        .paused,
    ).toBe(false)
    for (const action of ['pause', 'resume', 'verify']) {
      const other = await call(
        'POST',
        `/webhooks/subscription/${s.id}/${action}`,
        undefined,
        h.other.consumer,
      )
      expect(other.statusCode).toBe(404)
    }
    expect(
      (await call('POST', `/webhooks/subscription/${s.id}/pause`, undefined, h.publisher)).statusCode,
    ).toBe(403)
  })

  it('verify starts a verification and shows its state', async () => {
    const s = (await call('POST', '/webhooks/subscription', sub)).json().subscription
    const r = await call('POST', `/webhooks/subscription/${s.id}/verify`)
    expect(r.statusCode).toBe(202)
    expect(r.json().subscription).toMatchObject({
      verification: 'pending',
      verificationDetail: { attempts: 0, lastError: null },
    })
    // The challenge itself is never shown.
    expect(JSON.stringify(r.json())).not.toMatch(/challenge/)
  })

  it('publish counts only the deliveries a filter lets through', async () => {
    await call('POST', '/webhooks/subscription', { ...sub, filter: { 'site.ref': 3412 } })
    await call('POST', '/webhooks/subscription', { ...sub, filter: { 'site.ref': { $ne: 3412 } } })
    await call('POST', '/webhooks/subscription', sub)
    const payload = eventTypes.find((t) => t.name === 'site.publish')!.example
    const one = await call('POST', '/events', payload, h.publisher)
    expect(one.json().event.deliveries).toBe(2)
    const batch = await call(
      'POST',
      '/events/batch',
      {
        events: [{ payload }, { payload: { ...payload, site: { ...(payload['site'] as object), ref: 1 } } }],
      },
      h.publisher,
    )
    expect(batch.json().events.map((e: { deliveries: number }) => e.deliveries)).toEqual([2, 2])
  })

  it('tries a filter on a payload without saving or sending anything', async () => {
    const payload = eventTypes.find((t) => t.name === 'store.order_updated')!.example
    const yes = await call('POST', '/webhooks/filter/test', {
      filter: { 'order.price': { $gt: 50 } },
      payload,
    })
    expect(yes.json()).toEqual({ matches: true })
    const no = await call('POST', '/webhooks/filter/test', {
      filter: { 'order.status': 'dispatched' },
      payload,
    })
    expect(no.json()).toEqual({ matches: false })
    const bad = await call('POST', '/webhooks/filter/test', { filter: { x: { $nope: 1 } }, payload })
    expect(bad.statusCode).toBe(400)
    expect(bad.json().error.details[0].path).toBe('/filter/x/$nope')
  })
})
