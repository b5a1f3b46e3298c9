// Per-subscription delivery settings over the API (contract section 12): accepted on POST and
// PUT, shown in answers, absent = the service's settings, bad values a 400 naming the part.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type AppHarness, appHarness } from '../support/app-harness.ts'

const base = { event: 'site.publish', url: 'https://example.com/hook', active: true }

describe('subscription settings API', () => {
  let h: AppHarness
  beforeEach(async () => {
    h = await appHarness()
  })
  afterEach(async () => {
    await h.close()
  })

  const send = (method: 'POST' | 'PUT', url: string, payload: object) =>
    h.app.inject({ method, url, headers: { authorization: h.consumer }, payload })
  const get = (url: string) => h.app.inject({ method: 'GET', url, headers: { authorization: h.consumer } })

  it('shows null settings for a BaseKit subscription, and keeps them through a BaseKit PUT', async () => {
    const created = await send('POST', '/webhooks/subscription', base)
    expect(created.statusCode).toBe(201)
    expect(created.json().subscription).toMatchObject({
      retrySchedule: null,
      timeout: null,
      rateLimit: null,
      maxInFlight: null,
    })
    const id = created.json().subscription.id
    const set = await send('PUT', `/webhooks/subscription/${id}`, {
      ...base,
      retrySchedule: ['10s', '90s', '1.5s'],
      timeout: '5000ms',
      rateLimit: '10/s',
      maxInFlight: 4,
    })
    expect(set.statusCode).toBe(200)
    const shown = {
      retrySchedule: ['10s', '90s', '1500ms'],
      timeout: '5s',
      rateLimit: '10/s',
      maxInFlight: 4,
    }
    expect(set.json().subscription).toMatchObject(shown)
    // BaseKit's form leaves them as they are.
    const again = await send('PUT', `/webhooks/subscription/${id}`, { ...base, active: false })
    expect(again.json().subscription).toMatchObject({ ...shown, active: false })
    expect((await get(`/webhooks/subscription/${id}`)).json().subscription).toMatchObject(shown)
    // null goes back to the service's setting.
    const cleared = await send('PUT', `/webhooks/subscription/${id}`, {
      ...base,
      retrySchedule: null,
      rateLimit: null,
    })
    expect(cleared.json().subscription).toMatchObject({
      retrySchedule: null,
      timeout: '5s',
      rateLimit: null,
      maxInFlight: 4,
    })
  })

  it('creates with settings and lists them', async () => {
    const r = await send('POST', '/webhooks/subscription', {
      ...base,
      rateLimit: '600/m',
      retrySchedule: ['1m'],
    })
    expect(r.statusCode).toBe(201)
    const list = (await get('/webhooks/subscription')).json().subscriptions
    expect(list[0]).toMatchObject({ rateLimit: '600/m', retrySchedule: ['1m'], timeout: null })
  })

  it.each([
    [{ retrySchedule: [] }, 'invalid_retry_schedule', '/retrySchedule'],
    [{ retrySchedule: ['10s', 'soon', '1m'] }, 'invalid_retry_schedule', '/retrySchedule/1'],
    [{ retrySchedule: ['10s', '0s'] }, 'invalid_retry_schedule', '/retrySchedule/1'],
    [{ retrySchedule: ['8d'] }, 'invalid_retry_schedule', '/retrySchedule/0'],
    [
      { retrySchedule: Array.from({ length: 51 }, () => '1s') },
      'invalid_retry_schedule',
      '/retrySchedule/50',
    ],
    [{ timeout: '50ms' }, 'invalid_timeout', '/timeout'],
    [{ timeout: '10m' }, 'invalid_timeout', '/timeout'],
    [{ timeout: 'fast' }, 'invalid_timeout', '/timeout'],
    [{ rateLimit: '10/h' }, 'invalid_rate_limit', '/rateLimit'],
    [{ rateLimit: '0/s' }, 'invalid_rate_limit', '/rateLimit'],
    [{ rateLimit: 'ten' }, 'invalid_rate_limit', '/rateLimit'],
    [{ maxInFlight: 0 }, 'invalid_max_in_flight', '/maxInFlight'],
    [{ maxInFlight: 1001 }, 'invalid_max_in_flight', '/maxInFlight'],
    [{ maxInFlight: 1.5 }, 'invalid_request', '/maxInFlight'],
    [{ retrySchedule: '10s' }, 'invalid_request', '/retrySchedule'],
  ])('refuses %j with 400 %s at %s, creating nothing', async (settings, code, path) => {
    const r = await send('POST', '/webhooks/subscription', { ...base, ...settings })
    expect(r.statusCode).toBe(400)
    expect(r.json().error.code).toBe(code)
    expect(r.json().error.details.map((d: { path: string }) => d.path)).toContain(path)
    expect((await get('/webhooks/subscription')).json().subscriptions).toEqual([])
  })

  it('refuses a bad setting on PUT and leaves the subscription as it was', async () => {
    const id = (await send('POST', '/webhooks/subscription', { ...base, maxInFlight: 2 })).json().subscription
      .id
    const r = await send('PUT', `/webhooks/subscription/${id}`, { ...base, retrySchedule: ['1s', '-1s'] })
    expect(r.statusCode).toBe(400)
    expect(r.json().error).toMatchObject({
      code: 'invalid_retry_schedule',
      details: [{ path: '/retrySchedule/1' }],
    })
    expect(r.json().error.message).toContain('retrySchedule[1]')
    expect((await get(`/webhooks/subscription/${id}`)).json().subscription).toMatchObject({
      maxInFlight: 2,
      retrySchedule: null,
    })
  })

  it("gives a published event's and a test event's delivery the subscription's own attempt limit", async () => {
    const own = (
      await send('POST', '/webhooks/subscription', { ...base, retrySchedule: ['1s', '2s', '3s'] })
    ).json().subscription
    const plain = (await send('POST', '/webhooks/subscription', base)).json().subscription
    const publish = await h.app.inject({
      method: 'POST',
      url: '/events',
      headers: { authorization: h.publisher },
      payload: JSON.parse(
        JSON.stringify(h.hookpost.eventTypes.find((t) => t.name === 'site.publish')!.example),
      ),
    })
    expect(publish.statusCode).toBe(202)
    const limits = async (subscriptionId: string) =>
      (await h.store.deliveries.list(h.envId, { subscriptionId, limit: 10 })).map((d) => d.attemptLimit)
    // The harness's service schedule has two delays: three attempts.
    expect(await limits(own.id)).toEqual([4])
    expect(await limits(plain.id)).toEqual([3])
    const test = await h.app.inject({
      method: 'POST',
      url: `/webhooks/subscription/${own.id}/test`,
      headers: { authorization: h.consumer },
    })
    expect(test.statusCode).toBe(202)
    expect(await limits(own.id)).toEqual([4, 4])
  })

  it('documents the settings in /openapi.json', async () => {
    const doc = (await h.app.inject({ method: 'GET', url: '/openapi.json' })).json()
    const text = JSON.stringify(doc)
    for (const f of ['retrySchedule', 'rateLimit', 'maxInFlight', 'HOOKPOST_SUBSCRIPTION_TIMEOUT_MAX'])
      expect(text).toContain(f)
  })
})
