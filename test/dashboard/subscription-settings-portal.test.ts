// The portal's "Delivery settings" section on a subscription's page: shows the settings (or the
// service's), saves them without touching the other fields, refuses a bad value with the core's
// message and keeps what was typed, and clears a field left empty.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Browser, type DashHarness, dashHarness } from './harness.ts'

describe('portal: subscription delivery settings', () => {
  let h: DashHarness
  let b: Browser
  beforeEach(async () => {
    h = await dashHarness()
    b = new Browser(h.app)
    await b.signIn(h.consumer)
  })
  afterEach(async () => {
    await h.close()
  })

  it('shows, saves, refuses and clears the settings', async () => {
    const sub = await h.hookpost.subscriptions.create(h.envId, {
      event: 'site.publish',
      url: 'https://example.com/hook',
      active: true,
      ordered: true,
    })
    const page = `/dashboard/portal/subscriptions/${sub.id}`
    const first = await b.get(page)
    expect(first.status).toBe(200)
    expect(first.body).toContain('Delivery settings')
    expect(first.body).toMatch(/Rate limit<\/dt>\s*<dd>none<\/dd>/)

    const saved = await b.post(`${page}/settings`, {
      retrySchedule: '10s, 1m',
      timeout: '5s',
      rateLimit: '10/s',
      maxInFlight: '4',
    })
    expect(saved.status).toBe(303)
    const after = await h.hookpost.subscriptions.get(h.envId, sub.id)
    expect(after.settings).toEqual({
      retryScheduleMs: [10_000, 60_000],
      timeoutMs: 5000,
      rateLimit: { count: 10, periodMs: 1000 },
      maxInFlight: 4,
    })
    // The rest of the subscription is as it was.
    expect(after).toMatchObject({ url: sub.url, active: true, ordered: true, event: sub.event })
    const shown = await b.get(page)
    expect(shown.body).toMatch(/Retry schedule<\/dt>\s*<dd>10s, 1m<\/dd>/)
    expect(shown.body).toContain('value="10/s"')

    const refused = await b.post(`${page}/settings`, {
      retrySchedule: '10s, soon',
      timeout: '5s',
      rateLimit: '10/s',
      maxInFlight: '4',
    })
    expect(refused.status).toBe(400)
    expect(refused.body).toContain('retrySchedule[1]')
    expect(refused.body).toContain('value="10s, soon"')
    const notANumber = await b.post(`${page}/settings`, { maxInFlight: 'lots' })
    expect(notANumber.status).toBe(400)
    expect(notANumber.body).toContain('maxInFlight must be an integer')
    expect((await h.hookpost.subscriptions.get(h.envId, sub.id)).settings?.maxInFlight).toBe(4)

    // The edit form of the subscription leaves the settings alone.
    await b.get(page)
    await b.post(page, { event: 'site.publish', url: 'https://example.com/other', active: 'true' })
    expect((await h.hookpost.subscriptions.get(h.envId, sub.id)).settings?.rateLimit).toEqual({
      count: 10,
      periodMs: 1000,
    })

    await b.get(page)
    expect(
      (
        await b.post(`${page}/settings`, {
          retrySchedule: '',
          timeout: '',
          rateLimit: '600/m',
          maxInFlight: '',
        })
      ).status,
    ).toBe(303)
    expect((await h.hookpost.subscriptions.get(h.envId, sub.id)).settings).toEqual({
      retryScheduleMs: null,
      timeoutMs: null,
      rateLimit: { count: 600, periodMs: 60_000 },
      maxInFlight: null,
    })
  })

  it("answers 404 for another environment's subscription", async () => {
    const theirs = await h.hookpost.subscriptions.create(h.other.envId, {
      event: 'site.publish',
      url: 'https://example.com/hook',
      active: true,
    })
    await b.get('/dashboard/portal/subscriptions')
    const r = await b.post(`/dashboard/portal/subscriptions/${theirs.id}/settings`, { rateLimit: '1/s' })
    expect(r.status).toBe(404)
    expect((await h.hookpost.subscriptions.get(h.other.envId, theirs.id)).settings?.rateLimit).toBeNull()
  })
})
