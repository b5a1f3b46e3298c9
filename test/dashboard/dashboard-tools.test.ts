// The dashboard's tools through app.inject: the payload a delivery sends (scoped, escaped,
// indented, copied exactly), replay presets, empty states that say what to do, copy buttons,
// environment names in the operator view. (In a browser: browser-layout.test.ts.)
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { completionRules } from '../../src/deliveries/completion-rules.ts'
import { findEventType } from '../../src/events/event-types.ts'
import { AppError } from '../../src/shared/errors.ts'
import { adminToken } from '../support/app-harness.ts'
import { Browser, type DashHarness, dashHarness } from './harness.ts'

const xss = '<img src=x onerror=alert(1)>'

/** Compact, with CRLF, a 1.50 and markup: bytes that JSON.stringify would not give back. */
const body = (() => {
  const example = JSON.stringify(findEventType('site.publish')!.example)
  return `{\r\n"note":${JSON.stringify(xss)},"amount":1.50,${example.slice(1)}`
})()

describe('dashboard tools', () => {
  let h: DashHarness
  let b: Browser
  beforeEach(async () => {
    h = await dashHarness()
    b = new Browser(h.app)
  })
  afterEach(async () => {
    await h.close()
  })

  const subscribe = (envId = h.envId, url = 'https://example.com/hook') =>
    h.hookpost.subscriptions.create(envId, { event: 'site.publish', url, active: true })

  const publish = async (envId = h.envId) => {
    await h.hookpost.publisher.publish(envId, Buffer.from(body))
    return (await h.hookpost.deliveries.list(envId, { limit: 1 })).deliveries[0]!.id
  }

  describe('payload', () => {
    it("gives the delivery's stored bytes in its own environment only", async () => {
      await subscribe()
      const id = await publish()
      expect((await h.hookpost.deliveries.payload(h.envId, id))?.toString()).toBe(body)
      const elsewhere = await h.hookpost.deliveries.payload(h.other.envId, id).catch((e: unknown) => e)
      expect(elsewhere).toBeInstanceOf(AppError)
      expect((elsewhere as AppError).code).toBe('delivery_not_found')
    })

    it('shows it on the delivery page: indented, escaped, with a copy button holding the exact bytes', async () => {
      await subscribe()
      const id = await publish()
      await b.signIn(h.consumer)
      const page = await b.get(`/dashboard/portal/deliveries/${id}`)
      expect(page.status).toBe(200)
      expect(page.body).toContain('id="payload"')
      expect(page.body).toContain('\n  &quot;amount&quot;: 1.50,\n')
      expect(page.body).toContain('&quot;note&quot;: &quot;&lt;img src=x onerror=alert(1)>&quot;')
      expect(page.body).not.toContain('<img src=x')
      const b64 = /aria-label="Copy payload" data-copy-b64="([^"]+)"/.exec(page.body)![1]!
      expect(Buffer.from(b64, 'base64').toString()).toBe(body)

      // Another environment's consumer: 404, and no payload in the page.
      const other = new Browser(h.app)
      await other.signIn(h.other.consumer)
      const refused = await other.get(`/dashboard/portal/deliveries/${id}`)
      expect(refused.status).toBe(404)
      expect(refused.body).not.toContain('amount')
    })
  })

  describe('replay presets', () => {
    it('replays the last 24 hours, ending now', async () => {
      const sub = await subscribe()
      await b.signIn(h.consumer)
      await b.get(`/dashboard/portal/subscriptions/${sub.id}`)
      const before = Date.now()
      const r = await b.post(`/dashboard/portal/subscriptions/${sub.id}/replay`, { range: '24h', status: '' })
      expect(r.status).toBe(303)
      const [job] = await h.hookpost.replays.list(h.envId, sub.id)
      expect(job!.until - job!.since).toBe(86_400_000)
      expect(job!.until).toBeGreaterThanOrEqual(before)
    })

    it('refuses dates beside a preset, and an unknown range, on the page', async () => {
      const sub = await subscribe()
      await b.signIn(h.consumer)
      await b.get(`/dashboard/portal/subscriptions/${sub.id}`)
      const url = `/dashboard/portal/subscriptions/${sub.id}/replay`
      const mixed = await b.post(url, { range: '1h', since: '2026-01-01T00:00' })
      expect(mixed.status).toBe(400)
      expect(mixed.body).toContain('Custom range')
      expect((await b.post(url, { range: '1y' })).status).toBe(400)
      expect(await h.hookpost.replays.list(h.envId, sub.id)).toEqual([])
    })

    it('offers the presets as radio buttons, the last hour checked', async () => {
      const sub = await subscribe()
      await b.signIn(h.consumer)
      const page = await b.get(`/dashboard/portal/subscriptions/${sub.id}`)
      expect(page.body).toMatch(/<input type="radio" name="range" value="1h" checked\s*\/?> Last hour/)
      expect(page.body).toContain('Last 24 hours')
      expect(page.body).toContain('Last 7 days')
      expect(page.body).toContain('value="custom"')
    })
  })

  describe('empty states and health', () => {
    it('tells a new portal user what to do first', async () => {
      await b.signIn(h.consumer)
      const subs = await b.get('/dashboard/portal/subscriptions')
      expect(subs.body).toContain('Get started')
      for (const link of ['event-types', 'subscriptions/new', 'signing-secret', 'deliveries']) {
        expect(subs.body).toContain(`href="/dashboard/portal/${link}"`)
      }
      expect((await b.get('/dashboard/portal/deliveries')).body).toContain('send a test event')
      expect((await b.get('/dashboard/portal/deliveries?status=failed')).body).toContain(
        'No deliveries match these filters.',
      )
    })

    it('refreshes the health panel with the test event and while deliveries are pending', async () => {
      const sub = await subscribe()
      await publish()
      await b.signIn(h.consumer)
      const page = await b.get(`/dashboard/portal/subscriptions/${sub.id}`)
      expect(page.body).toContain('id="health"')
      expect(page.body).toMatch(/hx-post="[^"]+\/test"[^>]*hx-select-oob="#health"/)
      expect(page.body).toMatch(/id="recent"[^>]*hx-select-oob="#health"/)
    })
  })

  describe('copy buttons', () => {
    it('offers them for a new signing secret, hidden until the script shows them', async () => {
      await b.signIn(h.consumer)
      await b.get('/dashboard/portal/signing-secret')
      const r = await b.post('/dashboard/portal/signing-secret')
      const secret = /(whsec_[A-Za-z0-9+/=]+)/.exec(r.body)![1]!
      expect(r.body).toContain(`hidden aria-label="Copy signing secret" data-copy="${secret}"`)
      const script = /src="(\/dashboard\/assets\/dashboard\.js\?v=\w+)"/.exec(r.body)![1]!
      const js = await h.app.inject({ method: 'GET', url: script })
      expect(js.statusCode).toBe(200)
      expect(js.headers['content-type']).toContain('javascript')
      expect(js.body).toContain('data-copy-b64')
    })

    it('offers them for a new credential key and secret', async () => {
      const op = new Browser(h.app)
      await op.signInOperator(adminToken)
      await op.get(`/dashboard/operator/environments/${h.envId}`)
      const r = await op.post(`/dashboard/operator/environments/${h.envId}/credentials`, { role: 'consumer' })
      const secret = /(hps_\w+)/.exec(r.body)![1]!
      expect(r.body).toContain(`aria-label="Copy credential secret" data-copy="${secret}"`)
      expect(r.body).toContain('aria-label="Copy credential key"')
    })
  })

  it('names environments, not ids, in the operator overview', async () => {
    await subscribe(h.other.envId, 'https://failing.example/hook')
    await publish(h.other.envId)
    const [claimed] = (
      await h.store.deliveries.claimDue({ now: Date.now(), limit: 1, leaseMs: 60_000, scan: { exclude: [] } })
    ).deliveries
    await h.store.deliveries.complete(
      [
        {
          id: claimed!.id,
          leaseToken: claimed!.leaseToken,
          statusCode: 500,
          error: null,
          outcome: { kind: 'failed' },
          attempt: {
            deliveryId: claimed!.id,
            number: 1,
            started: Date.now(),
            durationMs: 5,
            statusCode: 500,
            error: null,
            responseBody: 'no',
            requestHeaders: {},
            responseHeaders: null,
          },
        },
      ],
      Date.now(),
      completionRules({ disableAfterMs: 86_400_000 }),
    )
    const op = new Browser(h.app)
    await op.signInOperator(adminToken)
    const home = (await op.get('/dashboard/operator')).body
    const failing = home.slice(home.indexOf('id="failing-h"'), home.indexOf('id="slow-h"'))
    expect(failing).toContain(`href="/dashboard/operator/environments/${h.other.envId}">other-brand</a>`)
    const events = home.slice(home.indexOf('id="oev-h"'))
    expect(events).toContain('>other-brand</a>')
    expect(events).not.toContain(`<code>${h.other.envId}</code>`)
  })
})
