// The dashboard through app.inject: sign-in, sessions, CSRF, environment scoping, escaping, the
// portal's actions and the operator view.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { completionRules } from '../../src/deliveries/completion-rules.ts'
import { findEventType } from '../../src/events/event-types.ts'
import { adminToken } from '../support/app-harness.ts'
import { recordFailedAttempts, sentHeaders } from '../support/recorded-attempts.ts'
import { Browser, type DashHarness, dashHarness } from './harness.ts'

const xss = '<img src=x onerror=alert(1)>'

async function publishExample(h: DashHarness, event = 'site.publish'): Promise<string> {
  const example = findEventType(event)!.example
  await h.hookpost.publisher.publish(h.envId, Buffer.from(JSON.stringify(example)))
  const list = await h.hookpost.deliveries.list(h.envId, { limit: 1 })
  return list.deliveries[0]!.id
}

/** Records one failed attempt on every due delivery, the way the worker would. */
async function failDueDeliveries(h: DashHarness, responseBody: string): Promise<void> {
  const now = Date.now()
  const { deliveries: claimed } = await h.store.deliveries.claimDue({
    now,
    limit: 10,
    leaseMs: 60_000,
    scan: { exclude: [] },
  })
  await h.store.deliveries.complete(
    claimed.map((c) => ({
      id: c.id,
      leaseToken: c.leaseToken,
      statusCode: 500,
      error: null,
      outcome: { kind: 'failed' as const },
      attempt: {
        deliveryId: c.id,
        number: c.attempts,
        started: now,
        durationMs: 42,
        statusCode: 500,
        error: null,
        responseBody,
        requestHeaders: { 'content-type': 'application/json', 'webhook-id': c.id, 'x-evil': xss },
        responseHeaders: { 'content-type': 'text/html', server: xss },
      },
    })),
    now,
    completionRules({ disableAfterMs: 86_400_000 }),
  )
}

describe('dashboard', () => {
  let h: DashHarness
  let b: Browser
  beforeEach(async () => {
    h = await dashHarness()
    b = new Browser(h.app)
  })
  afterEach(async () => {
    await h.close()
  })

  describe('sessions', () => {
    it('sends an anonymous visitor to the sign-in page with a signed, HttpOnly, SameSite=Strict cookie', async () => {
      const r = await b.get('/dashboard')
      expect(r.status).toBe(303)
      expect(r.location).toBe('/dashboard/login')
      const portal = await b.get('/dashboard/portal/subscriptions')
      expect(portal.status).toBe(303)
      const login = await b.get('/dashboard/login')
      expect(login.status).toBe(200)
      const cookie = String(
        (await h.app.inject({ method: 'GET', url: '/dashboard/login' })).headers['set-cookie'],
      )
      expect(cookie).toMatch(
        /^hookpost_session=[\w-]+\.[\w-]+; Path=\/dashboard; Max-Age=\d+; HttpOnly; SameSite=Strict$/,
      )
      expect(cookie).not.toContain('Secure')
      expect(login.headers['content-security-policy']).toContain("script-src 'self'")
      expect(login.headers['cache-control']).toBe('no-store')
      expect(login.body).toContain('href="#main"')
    })

    it('signs in with a consumer credential and shows that environment only', async () => {
      const r = await b.signIn(h.consumer)
      expect(r.status).toBe(303)
      expect(r.location).toBe('/dashboard/portal/subscriptions')
      const page = await b.get('/dashboard/portal/subscriptions')
      expect(page.status).toBe(200)
      expect(page.body).toContain('acme')
      expect(page.body).not.toContain('other-brand')
    })

    it('refuses a wrong secret (401) and a publisher credential (403)', async () => {
      expect((await b.signIn({ key: h.consumer.key, secret: 'hps_wrong' })).status).toBe(401)
      const pub = await b.signIn(h.publisher)
      expect(pub.status).toBe(403)
      expect(pub.body).toContain('publisher credential')
      expect((await b.get('/dashboard/portal/subscriptions')).status).toBe(303)
    })

    it('re-checks the credential on every request: revoking it signs the session out at once', async () => {
      await b.signIn(h.consumer)
      expect((await b.get('/dashboard/portal/subscriptions')).status).toBe(200)
      await h.hookpost.environments.revokeCredential(h.envId, h.consumer.id)
      const r = await b.get('/dashboard/portal/subscriptions')
      expect(r.status).toBe(303)
      expect(r.location).toBe('/dashboard/login')
    })

    it('treats a tampered cookie as no session', async () => {
      await b.signIn(h.consumer)
      const token = b.cookie!.split('=')[1]!
      expect(token).toMatch(/^hds_\w{43}$/)
      b.cookie = `hookpost_session=${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`
      expect((await b.get('/dashboard/portal/subscriptions')).status).toBe(303)
    })

    it('signs out', async () => {
      await b.signIn(h.consumer)
      await b.get('/dashboard/portal/subscriptions')
      const r = await b.post('/dashboard/logout')
      expect(r.status).toBe(303)
      expect((await b.get('/dashboard/portal/subscriptions')).status).toBe(303)
    })
  })

  describe('CSRF', () => {
    it('refuses the sign-in form without its token (403)', async () => {
      await b.get('/dashboard/login')
      const r = await b.post('/dashboard/login', { mode: 'consumer', ...h.consumer }, { csrf: false })
      expect(r.status).toBe(403)
      expect(r.body).toContain('security token')
    })

    it('refuses a state-changing POST without the token, or with another session’s token', async () => {
      await b.signIn(h.consumer)
      await b.get('/dashboard/portal/subscriptions/new')
      const form = { event: 'site.publish', url: 'https://example.com/hook', active: 'true' }
      expect((await b.post('/dashboard/portal/subscriptions', form, { csrf: false })).status).toBe(403)
      const other = new Browser(h.app)
      await other.signIn(h.consumer)
      await other.get('/dashboard/portal/subscriptions')
      expect((await b.post('/dashboard/portal/subscriptions', form, { csrf: other.csrf! })).status).toBe(403)
      expect(await h.hookpost.subscriptions.list(h.envId)).toHaveLength(0)
      // The htmx header works as well as the hidden field.
      const ok = await b.post('/dashboard/portal/subscriptions', form, {
        csrf: false,
        headers: { 'x-csrf-token': b.csrf! },
      })
      expect(ok.status).toBe(303)
      expect(await h.hookpost.subscriptions.list(h.envId)).toHaveLength(1)
    })

    it('gives a new token at sign-in (no fixation of the anonymous one)', async () => {
      await b.get('/dashboard/login')
      const before = b.csrf
      await b.signIn(h.consumer)
      await b.get('/dashboard/portal/subscriptions')
      expect(b.csrf).toBeDefined()
      expect(b.csrf).not.toBe(before)
    })
  })

  describe('scoping', () => {
    it("answers 404 for another environment's subscription and delivery, read or write", async () => {
      const theirs = await h.hookpost.subscriptions.create(h.other.envId, {
        event: 'site.publish',
        url: 'https://other.example/hook',
        active: true,
      })
      await h.hookpost.publisher.publish(
        h.other.envId,
        Buffer.from(JSON.stringify(findEventType('site.publish')!.example)),
      )
      const theirDelivery = (await h.hookpost.deliveries.list(h.other.envId, { limit: 1 })).deliveries[0]!
      await b.signIn(h.consumer)
      await b.get('/dashboard/portal/subscriptions')
      const sub = `/dashboard/portal/subscriptions/${theirs.id}`
      expect((await b.get(sub)).status).toBe(404)
      for (const action of ['', '/toggle', '/delete', '/test', '/replay']) {
        expect(
          (await b.post(`${sub}${action}`, { event: 'site.publish', url: 'https://x.example' })).status,
        ).toBe(404)
      }
      expect((await b.get(`/dashboard/portal/deliveries/${theirDelivery.id}`)).status).toBe(404)
      expect((await b.post(`/dashboard/portal/deliveries/${theirDelivery.id}/retry`)).status).toBe(404)
      const log = await b.get(`/dashboard/portal/deliveries?subscriptionId=${theirs.id}`)
      expect(log.body).not.toContain(theirDelivery.id)
      expect((await h.hookpost.deliveries.list(h.other.envId, { limit: 10 })).deliveries).toHaveLength(1)
      expect((await h.hookpost.subscriptions.get(h.other.envId, theirs.id)).active).toBe(true)
    })

    it('keeps consumers out of the operator view and the operator out of the portal', async () => {
      await b.signIn(h.consumer)
      expect((await b.get('/dashboard/operator')).status).toBe(403)
      const op = new Browser(h.app)
      await op.signInOperator(adminToken)
      expect((await op.get('/dashboard/portal/subscriptions')).status).toBe(403)
    })
  })

  describe('escaping', () => {
    it('renders a hostile URL, response body, headers and environment name as text', async () => {
      const env = await h.hookpost.environments.create({ name: `<script>alert("env")</script>` })
      await b.signIn(h.consumer)
      await b.get('/dashboard/portal/subscriptions/new')
      const created = await b.post('/dashboard/portal/subscriptions', {
        event: 'site.publish',
        url: `https://example.com/?q=${xss}`,
        active: 'true',
      })
      expect(created.status).toBe(303)
      const dlv = await publishExample(h)
      await failDueDeliveries(h, `<script>alert("body")</script>${xss}`)
      const pages = [
        await b.get('/dashboard/portal/subscriptions'),
        await b.get(created.location!),
        await b.get('/dashboard/portal/deliveries'),
        await b.get(`/dashboard/portal/deliveries/${dlv}`),
      ]
      for (const p of pages) {
        expect(p.status).toBe(200)
        expect(p.body).not.toContain('<img src=x')
        expect(p.body).not.toContain('<script>alert')
      }
      expect(pages[0]!.body).toContain('&lt;img src=x onerror=alert(1)>')
      expect(pages[3]!.body).toContain('&lt;script>alert(&quot;body&quot;)&lt;/script>')
      expect(pages[3]!.body).toContain('x-evil')
      const op = new Browser(h.app)
      await op.signInOperator(adminToken)
      const home = await op.get('/dashboard/operator')
      expect(home.body).toContain('&lt;script>alert(&quot;env&quot;)&lt;/script>')
      expect(home.body).not.toContain('<script>alert')
      expect((await op.get(`/dashboard/operator/environments/${env.id}`)).body).not.toContain('<script>alert')
    })
  })

  describe('consumer portal', () => {
    beforeEach(async () => {
      await b.signIn(h.consumer)
      await b.get('/dashboard/portal/subscriptions')
    })

    it('creates, edits, toggles and deletes a subscription', async () => {
      const bad = await b.post('/dashboard/portal/subscriptions', {
        event: 'site.publish',
        url: 'http://plain.example',
      })
      expect(bad.status).toBe(400)
      expect(bad.body).toContain('only https:// URLs are allowed')
      expect(bad.body).toContain('value="http://plain.example"')
      const created = await b.post('/dashboard/portal/subscriptions', {
        event: 'booking.updated',
        url: 'https://example.com/a',
        active: 'true',
      })
      expect(created.status).toBe(303)
      const id = /subscriptions\/(sub_\w+)/.exec(created.location!)![1]!
      const page = await b.get(created.location!)
      expect(page.body).toContain('Subscription created.')
      expect(page.body).toContain('https://example.com/a')
      expect(
        (
          await b.post(`/dashboard/portal/subscriptions/${id}`, {
            event: 'site.publish',
            url: 'https://example.com/b',
            active: 'true',
          })
        ).status,
      ).toBe(303)
      expect(await h.hookpost.subscriptions.get(h.envId, id)).toMatchObject({
        event: 'site.publish',
        url: 'https://example.com/b',
      })
      expect((await b.post(`/dashboard/portal/subscriptions/${id}/toggle`)).location).toContain(
        'notice=deactivated',
      )
      expect((await h.hookpost.subscriptions.get(h.envId, id)).active).toBe(false)
      expect((await b.post(`/dashboard/portal/subscriptions/${id}/toggle`)).location).toContain(
        'notice=activated',
      )
      // htmx asks for a full navigation after a delete.
      const del = await b.post(
        `/dashboard/portal/subscriptions/${id}/delete`,
        {},
        { headers: { 'hx-request': 'true' } },
      )
      expect(del.status).toBe(204)
      expect(del.headers['hx-redirect']).toBe('/dashboard/portal/subscriptions?notice=deleted')
      expect(await h.hookpost.subscriptions.list(h.envId)).toHaveLength(0)
    })

    it('sets endpoint authentication and static headers, never rendering a stored secret', async () => {
      const created = await b.post('/dashboard/portal/subscriptions', {
        event: 'site.publish',
        url: 'https://example.com/auth',
        active: 'true',
      })
      const id = /subscriptions\/(sub_\w+)/.exec(created.location!)![1]!
      const saved = await b.post(`/dashboard/portal/subscriptions/${id}/auth`, {
        authType: 'basic',
        username: 'portal-user',
        password: 'portal-pass-1',
        headers: 'X-Api-Key: portal-header-1\nX-Tenant: acme-1',
      })
      expect(saved.location).toContain('notice=auth-saved')
      const page = await b.get(saved.location!)
      expect(page.body).toContain('Endpoint authentication saved.')
      expect(page.body).toContain('value="portal-user"')
      expect(page.body).toContain('x-api-key: ****')
      for (const s of ['portal-pass-1', 'portal-header-1', 'acme-1']) expect(page.body).not.toContain(s)
      // Empty secret and **** keep the stored ones; a removed line removes that header.
      expect(
        (
          await b.post(`/dashboard/portal/subscriptions/${id}/auth`, {
            authType: 'basic',
            username: 'portal-user-2',
            password: '',
            headers: 'x-api-key: ****',
          })
        ).status,
      ).toBe(303)
      const sub = await h.hookpost.subscriptions.get(h.envId, id)
      expect(sub.endpoint).toMatchObject({
        auth: { type: 'basic', username: 'portal-user-2' },
        headerNames: ['x-api-key'],
      })
      const again = await b.get(`/dashboard/portal/subscriptions/${id}`)
      expect(again.body).not.toContain('portal-pass-1')
      expect(again.body).not.toContain('portal-header-1')
      // Refusals are shown on the page, naming the problem.
      const refused = await b.post(`/dashboard/portal/subscriptions/${id}/auth`, {
        authType: 'bearer',
        token: '',
        headers: 'webhook-id: x',
      })
      expect(refused.status).toBe(400)
      expect(refused.body).toContain('required')
      const none = await b.post(`/dashboard/portal/subscriptions/${id}/auth`, {
        authType: 'none',
        headers: '',
      })
      expect(none.status).toBe(303)
      expect((await h.hookpost.subscriptions.get(h.envId, id)).endpoint).toBeNull()
    })

    it("sends a test event (the type's example) to that one subscription only", async () => {
      const sub = await h.hookpost.subscriptions.create(h.envId, {
        event: 'site.publish',
        url: 'https://example.com/t',
        active: true,
      })
      await h.hookpost.subscriptions.create(h.envId, {
        event: 'site.publish',
        url: 'https://example.com/u',
        active: true,
      })
      const r = await b.post(`/dashboard/portal/subscriptions/${sub.id}/test`)
      expect(r.status).toBe(303)
      const dlv = /sent=(dlv_\w+)$/.exec(r.location!)![1]!
      const all = (await h.hookpost.deliveries.list(h.envId, { limit: 10 })).deliveries
      expect(all.map((d) => [d.id, d.subscriptionId])).toEqual([[dlv, sub.id]])
      const page = await b.get(r.location!)
      expect(page.body).toContain('Test event queued as delivery')
      expect(page.body).toContain(dlv)
      // Pending: the recent deliveries poll themselves.
      expect(page.body).toContain('hx-trigger="every 2s"')
    })

    it('refuses a test event to an inactive subscription, on the page (409)', async () => {
      const sub = await h.hookpost.subscriptions.create(h.envId, {
        event: 'site.publish',
        url: 'https://example.com/t',
        active: false,
      })
      const page = await b.get(`/dashboard/portal/subscriptions/${sub.id}`)
      expect(page.body).toMatch(/<button type="submit" id="test-button" disabled/)
      const r = await b.post(`/dashboard/portal/subscriptions/${sub.id}/test`)
      expect(r.status).toBe(409)
      expect(r.body).toContain('inactive')
      expect((await h.hookpost.deliveries.list(h.envId, { limit: 10 })).deliveries).toHaveLength(0)
    })

    it('shows the log with filters, a delivery with its attempts, and retries it', async () => {
      await h.hookpost.subscriptions.create(h.envId, {
        event: 'site.publish',
        url: 'https://example.com/l',
        active: true,
      })
      const dlv = await publishExample(h)
      await failDueDeliveries(h, 'upstream down')
      const log = await b.get('/dashboard/portal/deliveries?status=failed')
      expect(log.body).toContain(dlv)
      expect((await b.get('/dashboard/portal/deliveries?status=delivered')).body).not.toContain(dlv)
      const bad = await b.get('/dashboard/portal/deliveries?status=nope')
      expect(bad.status).toBe(400)
      expect(bad.body).toContain('status must be one of')
      const detail = await b.get(`/dashboard/portal/deliveries/${dlv}`)
      expect(detail.body).toContain('HTTP 500')
      expect(detail.body).toContain('42 ms')
      expect(detail.body).toContain('webhook-id')
      expect(detail.body).toContain('upstream down')
      const retry = await b.post(`/dashboard/portal/deliveries/${dlv}/retry`)
      expect(retry.status).toBe(303)
      const after = await b.get(retry.location!)
      expect(after.body).toContain('Retry queued')
      expect((await h.hookpost.deliveries.get(h.envId, dlv)).delivery.status).toBe('pending')
      // Pending: the state region polls itself.
      expect(after.body).toContain('hx-trigger="every 2s"')
    })

    it('shows every request header of an attempt that stored only those that vary, as of one that stored all', async () => {
      for (const url of ['https://example.com/lean', 'https://example.com/full'])
        await h.hookpost.subscriptions.create(h.envId, { event: 'site.publish', url, active: true })
      await publishExample(h)
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
      for (const d of [lean!, full!]) {
        const page = (await b.get(`/dashboard/portal/deliveries/${d.id}`)).body
        const table = page.slice(page.indexOf('<caption>Request headers</caption>'))
        const rows = [
          ...table
            .slice(0, table.indexOf('</table>'))
            .matchAll(/<tr><td><code>([^<]*)<\/code><\/td><td><code>([^<]*)<\/code><\/td><\/tr>/g),
        ].map((m) => [m[1], m[2]])
        expect(rows).toEqual(Object.entries(sentHeaders(d, now)))
      }
    })

    it('lists the event catalogue with schemas and examples', async () => {
      const r = await b.get('/dashboard/portal/event-types')
      expect(r.status).toBe(200)
      for (const name of ['account_holder.created', 'store.order_updated']) expect(r.body).toContain(name)
      expect(r.body).toContain('JSON Schema')
      expect(r.body).toContain('&quot;eventName&quot;: &quot;store.order_updated&quot;')
    })

    it('rotates the signing secret and shows it once', async () => {
      const r = await b.post('/dashboard/portal/signing-secret')
      expect(r.status).toBe(200)
      expect(r.body).toMatch(/whsec_[A-Za-z0-9+/=]+/)
      // The environment's first secret was never shown: nothing signs beside the new one.
      expect(r.body).toContain('no earlier secret had been shown')
      expect((await b.post('/dashboard/portal/signing-secret')).body).toContain(
        'keeps signing beside it until',
      )
      expect((await b.get('/dashboard/portal/signing-secret')).body).not.toMatch(/whsec_[A-Za-z0-9+/=]{10,}/)
    })

    it('creates, lists and deletes Ed25519 signing keys, showing public keys only', async () => {
      expect((await b.get('/dashboard/portal/signing-secret')).body).toContain('No signing key.')
      const created = await b.post('/dashboard/portal/signing-keys')
      expect(created.status).toBe(303)
      const [key] = await h.hookpost.signingKeys.list(h.envId)
      const page = await b.get('/dashboard/portal/signing-secret?notice=key-created')
      expect(page.body).toContain(key!.publicKey)
      expect(page.body).toContain('Signing key created')
      expect(page.body).toContain(`data-copy="${key!.publicKey}"`)
      const deleted = await b.post(`/dashboard/portal/signing-keys/${key!.id}/delete`)
      expect(deleted.status).toBe(303)
      expect(await h.hookpost.signingKeys.list(h.envId)).toEqual([])
      expect((await b.post(`/dashboard/portal/signing-keys/${key!.id}/delete`)).status).toBe(404)
    })

    it('starts a replay from the UTC form fields', async () => {
      const sub = await h.hookpost.subscriptions.create(h.envId, {
        event: 'site.publish',
        url: 'https://example.com/r',
        active: true,
      })
      const bad = await b.post(`/dashboard/portal/subscriptions/${sub.id}/replay`, { since: 'yesterday' })
      expect(bad.status).toBe(400)
      const since = new Date(Date.now() - 3_600_000).toISOString().slice(0, 16)
      const r = await b.post(`/dashboard/portal/subscriptions/${sub.id}/replay`, { since, status: 'failed' })
      expect(r.status).toBe(303)
      expect(await h.hookpost.replays.list(h.envId, sub.id)).toHaveLength(1)
    })
  })

  describe('portal links', () => {
    const issue = (envId: string, payload?: object, auth = `Bearer ${adminToken}`) =>
      h.app.inject({
        method: 'POST',
        url: `/admin/environments/${envId}/portal-links`,
        headers: { authorization: auth },
        ...(payload ? { payload } : {}),
      })

    it('issues a signed link (1 h by default, 24 h at most) to the operator only', async () => {
      const r = await issue(h.envId)
      expect(r.statusCode).toBe(201)
      const link = r.json().portalLink
      expect(link.url).toMatch(/^\/dashboard\/portal-login\?token=[\w.%-]+$/)
      const ttl = Date.parse(link.expires) - Date.now()
      expect(ttl).toBeGreaterThan(3_590_000)
      expect(ttl).toBeLessThanOrEqual(3_600_000)
      expect((await issue(h.envId, { ttlSeconds: 120 })).statusCode).toBe(201)
      expect((await issue(h.envId, { ttlSeconds: 86_401 })).statusCode).toBe(400)
      expect((await issue('env_nope')).statusCode).toBe(404)
      expect((await issue(h.envId, undefined, 'Bearer wrong')).statusCode).toBe(401)
    })

    it('signs in with consumer rights in that environment only', async () => {
      const url: string = (await issue(h.envId)).json().portalLink.url
      const landing = await b.get(url)
      expect(landing.status).toBe(200)
      expect(landing.headers['referrer-policy']).toBe('no-referrer')
      const opened = await b.openPortalLink(url)
      expect(opened.status).toBe(303)
      expect(opened.location).toBe('/dashboard/portal/subscriptions')
      const page = await b.get('/dashboard/portal/subscriptions')
      expect(page.status).toBe(200)
      expect(page.body).toContain('acme')
      expect((await b.get('/dashboard/operator')).status).toBe(403)
      const theirs = await h.hookpost.subscriptions.create(h.other.envId, {
        event: 'site.publish',
        url: 'https://other.example/hook',
        active: true,
      })
      expect((await b.get(`/dashboard/portal/subscriptions/${theirs.id}`)).status).toBe(404)
    })

    it('refuses a changed or unknown link, and a session cookie as a link', async () => {
      const url: string = (await issue(h.envId)).json().portalLink.url
      const token = decodeURIComponent(url.split('token=')[1]!)
      const changed = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`
      expect((await b.openPortalLink(`/dashboard/portal-login?token=${changed}`)).status).toBe(401)
      expect((await b.openPortalLink('/dashboard/portal-login?token=hpl_nope')).status).toBe(401)
      expect((await b.get('/dashboard/portal-login')).status).toBe(401)
      const signedIn = new Browser(h.app)
      await signedIn.signIn(h.consumer)
      const sessionToken = signedIn.cookie!.split('=')[1]!
      expect((await b.openPortalLink(`/dashboard/portal-login?token=${sessionToken}`)).status).toBe(401)
      expect((await b.get('/dashboard/portal/subscriptions')).status).toBe(303)
      // The real link still works: none of the above spent it.
      expect((await b.openPortalLink(url)).status).toBe(303)
    })
  })

  describe('operator view', () => {
    beforeEach(async () => {
      const r = await b.signInOperator(adminToken)
      expect(r.location).toBe('/dashboard/operator')
      await b.get('/dashboard/operator') // the new session's CSRF token
    })

    it('refuses a wrong operator token', async () => {
      const other = new Browser(h.app)
      expect((await other.signInOperator('nope')).status).toBe(401)
    })

    it('shows environments, charts and endpoint rankings', async () => {
      await h.hookpost.subscriptions.create(h.envId, {
        event: 'site.publish',
        url: 'https://failing.example/hook',
        active: true,
      })
      await publishExample(h)
      await failDueDeliveries(h, 'nope')
      const r = await b.get('/dashboard/operator')
      expect(r.status).toBe(200)
      expect(r.body).toContain('acme')
      expect(r.body).toContain('other-brand')
      expect(r.body).toContain('<svg')
      expect(r.body).toContain('Deliveries over time, by status')
      expect(r.body).toContain('https://failing.example/hook')
      expect(r.body).toContain('42 ms')
      expect(r.body).toContain('delivery.failed')
    })

    it('creates an environment and a credential (secret shown once), issues a portal link, revokes', async () => {
      const created = await b.post('/dashboard/operator/environments', { name: 'brand-new' })
      expect(created.status).toBe(303)
      const envId = /environments\/(env_\w+)/.exec(created.location!)![1]!
      await b.get(created.location!)
      const cred = await b.post(`/dashboard/operator/environments/${envId}/credentials`, {
        role: 'consumer',
        name: 'web',
      })
      expect(cred.status).toBe(200)
      const key = /(hpk_\w+)/.exec(cred.body)![1]!
      const secret = /(hps_\w+)/.exec(cred.body)![1]!
      const credId = /(key_\w+)/.exec(cred.body)![1]!
      const consumer = new Browser(h.app)
      expect((await consumer.signIn({ key, secret })).status).toBe(303)
      const link = await b.post(`/dashboard/operator/environments/${envId}/portal-links`, {
        ttlMinutes: '15',
      })
      const url = /(http:\/\/[^<\s]+\/dashboard\/portal-login\?token=[^<\s]+)/.exec(link.body)![1]!
      const viaLink = new Browser(h.app)
      expect((await viaLink.openPortalLink(new URL(url).pathname + new URL(url).search)).status).toBe(303)
      expect((await viaLink.get('/dashboard/portal/subscriptions')).body).toContain('brand-new')
      const revoke = await b.post(`/dashboard/operator/environments/${envId}/credentials/revoke`, {
        credentialId: credId,
      })
      expect(revoke.status).toBe(303)
      expect((await consumer.get('/dashboard/portal/subscriptions')).status).toBe(303)
      const again = await b.post(`/dashboard/operator/environments/${envId}/credentials/revoke`, {
        credentialId: credId,
      })
      expect(again.status).toBe(404)
      expect(again.body).toContain('No such credential')
    })

    it('lists credentials when the port is wired', async () => {
      const listed = await dashHarness({
        listCredentials: async (envId) => [
          {
            id: 'key_LISTED',
            envId,
            role: 'consumer',
            name: xss,
            key: 'hpk_listed',
            secretHash: 'x',
            created: Date.now(),
            revoked: null,
          },
        ],
      })
      try {
        const op = new Browser(listed.app)
        await op.signInOperator(adminToken)
        const r = await op.get(`/dashboard/operator/environments/${listed.envId}`)
        expect(r.body).toContain('hpk_listed')
        expect(r.body).toContain('&lt;img src=x')
      } finally {
        await listed.close()
      }
    })
  })

  it('serves htmx from node_modules with a long cache life, and answers unknown pages with HTML 404', async () => {
    const page = await b.get('/dashboard/login')
    const src = /src="(\/dashboard\/assets\/htmx\.min\.js\?v=\w+)"/.exec(page.body)![1]!
    const js = await h.app.inject({ method: 'GET', url: src })
    expect(js.statusCode).toBe(200)
    expect(js.headers['content-type']).toContain('javascript')
    expect(js.headers['cache-control']).toContain('immutable')
    expect(js.body).toContain('htmx')
    const css = await h.app.inject({ method: 'GET', url: '/dashboard/assets/dashboard.css' })
    expect(css.body).toContain(':focus-visible')
    const missing = await b.get('/dashboard/nope')
    expect(missing.status).toBe(404)
    expect(missing.headers['content-type']).toContain('text/html')
  })
})
