import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { eventTypes } from '../../src/events/event-types.ts'
import { Maintenance } from '../../src/operations/maintenance.ts'
import { silentLogger } from '../../src/shared/logger.ts'
import { type AppHarness, appHarness } from '../support/app-harness.ts'

const example = (name: string) => eventTypes.find((t) => t.name === name)!.example

describe('engine API: replay, operational events, health, ordering, url-check', () => {
  let h: AppHarness
  beforeEach(async () => {
    h = await appHarness()
  })
  afterEach(async () => {
    await h.close()
  })
  const req = (auth: string, method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown) =>
    h.app.inject({
      method,
      url,
      headers: { authorization: auth },
      ...(payload !== undefined ? { payload: payload as object } : {}),
    })

  it('replays a subscription in a time range as a job: counted first, progress, same delivery ids', async () => {
    const sub = (
      await req(h.consumer, 'POST', '/webhooks/subscription', {
        event: 'site.publish',
        url: 'https://example.com/h',
        active: true,
      })
    ).json().subscription
    const since = new Date(Date.now() - 1000).toISOString()
    for (let i = 0; i < 3; i++) await req(h.publisher, 'POST', '/events', example('site.publish'))
    const before = (await req(h.consumer, 'GET', '/webhooks/deliveries'))
      .json()
      .deliveries.map((d: { id: string }) => d.id)
    const r = await req(h.consumer, 'POST', `/webhooks/subscription/${sub.id}/replay`, { since })
    expect(r.statusCode).toBe(202)
    const job = r.json().replay
    expect(job).toMatchObject({ subscriptionId: sub.id, state: 'running', total: 3, done: 0, status: null })
    const m = new Maintenance({
      store: h.store,
      log: silentLogger,
      retentionMs: 86_400_000,
      replayAttempts: 3,
    })
    await m.tick()
    const after = (await req(h.consumer, 'GET', `/webhooks/replays/${job.id}`)).json().replay
    expect(after).toMatchObject({ state: 'finished', done: 3, total: 3 })
    const list = (await req(h.consumer, 'GET', `/webhooks/replays?subscriptionId=${sub.id}`)).json().replays
    expect(list.map((x: { id: string }) => x.id)).toEqual([job.id])
    const ids = (await req(h.consumer, 'GET', '/webhooks/deliveries'))
      .json()
      .deliveries.map((d: { id: string }) => d.id)
    expect(ids).toEqual(before)
    const events = (await req(h.consumer, 'GET', '/webhooks/operational-events?type=replay.finished')).json()
      .events
    expect(events[0]).toMatchObject({ type: 'replay.finished', data: { replayId: job.id, requeued: 3 } })
  })

  it('refuses bad replays with 400/404 and cancels a running one', async () => {
    const sub = (
      await req(h.consumer, 'POST', '/webhooks/subscription', {
        event: 'site.publish',
        url: 'https://example.com/h',
        active: true,
      })
    ).json().subscription
    const now = Date.now()
    const bad = [
      {},
      { since: 'yesterday' },
      { since: new Date(now).toISOString(), until: new Date(now - 1000).toISOString() },
      { since: new Date(now - 100 * 86_400_000).toISOString() },
      { since: new Date(now - 1000).toISOString(), status: 'lost' },
    ]
    for (const body of bad) {
      const r = await req(h.consumer, 'POST', `/webhooks/subscription/${sub.id}/replay`, body)
      expect(r.statusCode, JSON.stringify(body)).toBe(400)
    }
    expect(
      (
        await req(h.consumer, 'POST', '/webhooks/subscription/sub_nope/replay', {
          since: new Date(now - 1000).toISOString(),
        })
      ).statusCode,
    ).toBe(404)
    await req(h.publisher, 'POST', '/events', example('site.publish'))
    const job = (
      await req(h.consumer, 'POST', `/webhooks/subscription/${sub.id}/replay`, {
        since: new Date(now - 60_000).toISOString(),
      })
    ).json().replay
    const c = await req(h.consumer, 'POST', `/webhooks/replays/${job.id}/cancel`)
    expect(c.statusCode).toBe(200)
    expect(c.json().replay.state).toBe('cancelled')
    expect((await req(h.other.consumer, 'GET', `/webhooks/replays/${job.id}`)).statusCode).toBe(404)
    expect((await req(h.consumer, 'GET', '/webhooks/replays/job_nope')).json().error.code).toBe(
      'replay_not_found',
    )
  })

  it('shows subscription health and takes ordering from X-Ordering-Key or the configured pointer', async () => {
    const sub = (
      await req(h.consumer, 'POST', '/webhooks/subscription', {
        event: 'account_holder.created',
        url: 'https://example.com/o',
        active: true,
        ordered: true,
      })
    ).json().subscription
    expect(sub).toMatchObject({
      ordered: true,
      deactivatedReason: null,
      health: { consecutiveFailures: 0, successRate: null },
    })
    // PUT without `ordered` (a BaseKit client) keeps it.
    const put = await req(h.consumer, 'PUT', `/webhooks/subscription/${sub.id}`, {
      event: 'account_holder.created',
      url: 'https://example.com/o',
      active: true,
    })
    expect(put.json().subscription.ordered).toBe(true)
    await h.app.inject({
      method: 'POST',
      url: '/events',
      headers: { authorization: h.publisher, 'x-ordering-key': 'holder-7' },
      payload: example('account_holder.created'),
    })
    const rows = await h.store.deliveries.list(h.envId, { limit: 5 })
    expect(rows[0]?.orderingKey).toBe('holder-7')
    const bad = await h.app.inject({
      method: 'POST',
      url: '/events',
      headers: { authorization: h.publisher, 'x-ordering-key': 'k'.repeat(300) },
      payload: example('account_holder.created'),
    })
    expect(bad.statusCode).toBe(400)
  })

  it("sends a test event (the type's example) to one subscription only", async () => {
    const a = (
      await req(h.consumer, 'POST', '/webhooks/subscription', {
        event: 'booking.updated',
        url: 'https://example.com/a',
        active: true,
      })
    ).json().subscription
    await req(h.consumer, 'POST', '/webhooks/subscription', {
      event: 'booking.updated',
      url: 'https://example.com/b',
      active: true,
    })
    const r = await req(h.consumer, 'POST', `/webhooks/subscription/${a.id}/test`)
    expect(r.statusCode).toBe(202)
    const list = (await req(h.consumer, 'GET', '/webhooks/deliveries')).json().deliveries
    expect(list).toHaveLength(1)
    expect(list[0]).toMatchObject({
      id: r.json().delivery.id,
      subscriptionId: a.id,
      eventId: r.json().event.id,
      event: 'booking.updated',
    })
    expect((await req(h.other.consumer, 'POST', `/webhooks/subscription/${a.id}/test`)).statusCode).toBe(404)
    await req(h.consumer, 'PUT', `/webhooks/subscription/${a.id}`, {
      event: 'booking.updated',
      url: 'https://example.com/a',
      active: false,
    })
    expect((await req(h.consumer, 'POST', `/webhooks/subscription/${a.id}/test`)).statusCode).toBe(409)
  })

  it('explains the sending policy for a URL without saving anything', async () => {
    const ok = await req(h.consumer, 'POST', '/webhooks/url-check', { url: 'https://example.com/x' })
    expect(ok.statusCode).toBe(200)
    expect(ok.json().allowed).toBe(true)
    const no = await req(h.consumer, 'POST', '/webhooks/url-check', { url: 'http://example.com/x' })
    expect(no.json()).toMatchObject({ allowed: false, code: 'url_not_allowed' })
    expect((await req(h.consumer, 'GET', '/webhooks/subscription')).json().subscriptions).toEqual([])
    expect((await req(h.consumer, 'POST', '/webhooks/url-check', {})).statusCode).toBe(400)
  })

  it('lists operational events per environment and, for the operator, across them', async () => {
    const r = await req(h.consumer, 'GET', '/webhooks/operational-events')
    expect(r.json()).toEqual({ events: [], nextCursor: null })
    expect((await req(h.consumer, 'GET', '/webhooks/operational-events?type=nope')).statusCode).toBe(400)
    const admin = await req(h.admin, 'GET', '/admin/operational-events?limit=5')
    expect(admin.statusCode).toBe(200)
    expect((await req(h.consumer, 'GET', '/admin/operational-events')).statusCode).toBe(401)
  })
})
