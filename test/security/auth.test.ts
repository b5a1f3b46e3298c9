// S09 (credentials: missing, malformed, unknown, wrong secret, revoked, wrong environment,
// wrong role; no timing oracle) and S10 (BOLA sweep: every id-bearing route with another
// tenant's ids) of reliability.md 7.3.
import * as crypto from 'node:crypto'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { eventTypes } from '../../src/events/event-types.ts'
import { buildApp } from '../../src/http/build-app.ts'
import { type AppHarness, adminToken, appHarness } from '../support/app-harness.ts'
import { basic } from '../support/basic-auth.ts'

// Pass-through spies: they count what the credential check computes, never change it.
vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:crypto')>()
  return { ...real, createHash: vi.fn(real.createHash), timingSafeEqual: vi.fn(real.timingSafeEqual) }
})

const example = (name: string) => eventTypes.find((t) => t.name === name)!.example
const aUrl = 'https://tenant-a.example/hook'

describe('S09: credentials', () => {
  let h: AppHarness
  let key: string
  let secret: string
  let credentialId: string
  beforeEach(async () => {
    h = await appHarness()
    const c = await h.hookpost.environments.createCredential(h.envId, { role: 'consumer' })
    key = c.row.key
    secret = c.secret
    credentialId = c.row.id
  })
  afterEach(async () => {
    await h.close()
  })

  const list = (authorization?: string) =>
    h.app.inject({
      method: 'GET',
      url: '/webhooks/subscription',
      headers: authorization === undefined ? {} : { authorization },
    })

  it('answers 401 unauthorized with a Basic challenge for missing, malformed, unknown and wrong credentials', async () => {
    const cases: (string | undefined)[] = [
      undefined,
      '',
      'Basic',
      'Basic ',
      'Basic !!!',
      'Basic ' + Buffer.from('no-colon').toString('base64'),
      'Basic ' + Buffer.from(':').toString('base64'),
      'Bearer ' + secret,
      `Bearer ${adminToken}`,
      basic('hpk_unknown', secret),
      basic(key, 'hps_wrong'),
      basic(key, secret.slice(0, -1)),
      basic(key, `${secret}x`),
      basic(key, ''),
      basic(key.toUpperCase(), secret),
      basic(`${key} `, secret),
      basic('k'.repeat(10_000), secret),
      basic(key, secret.repeat(100)),
    ]
    for (const authorization of cases) {
      const r = await list(authorization)
      expect(r.statusCode, String(authorization)).toBe(401)
      expect(r.json().error.code).toBe('unauthorized')
      expect(r.headers['www-authenticate']).toMatch(/^Basic realm=/)
    }
    expect((await list(basic(key, secret))).statusCode).toBe(200)
  })

  it('revokes at once, on every node (no cache), and records who revoked what', async () => {
    const other = await buildApp({
      hookpost: h.hookpost,
      adminToken,
      version: 'test',
      eventBodyLimit: 1 << 20,
    })
    const auth = basic(key, secret)
    expect((await list(auth)).statusCode).toBe(200)
    expect(
      (await other.inject({ method: 'GET', url: '/webhooks/subscription', headers: { authorization: auth } }))
        .statusCode,
    ).toBe(200)
    const r = await h.app.inject({
      method: 'DELETE',
      url: `/admin/environments/${h.envId}/credentials/${credentialId}`,
      headers: { authorization: h.admin },
    })
    expect(r.statusCode).toBe(204)
    expect((await list(auth)).statusCode).toBe(401)
    expect(
      (await other.inject({ method: 'GET', url: '/webhooks/subscription', headers: { authorization: auth } }))
        .statusCode,
    ).toBe(401)
    // Revoking again, or from another environment, finds nothing.
    for (const envId of [h.envId, h.other.envId]) {
      const again = await h.app.inject({
        method: 'DELETE',
        url: `/admin/environments/${envId}/credentials/${credentialId}`,
        headers: { authorization: h.admin },
      })
      expect(again.statusCode).toBe(404)
      expect(again.json().error.code).toBe('credential_not_found')
    }
    const audit = await h.store.audit.list({ action: 'credential.revoked', limit: 10 })
    expect(audit).toHaveLength(1)
    expect(audit[0]).toMatchObject({ envId: h.envId, actor: 'operator', target: credentialId })
    await other.close()
  })

  it('cannot revoke another environment’s credential through its own environment id', async () => {
    const c2 = await h.hookpost.environments.createCredential(h.other.envId, { role: 'consumer' })
    const r = await h.app.inject({
      method: 'DELETE',
      url: `/admin/environments/${h.envId}/credentials/${c2.row.id}`,
      headers: { authorization: h.admin },
    })
    expect(r.statusCode).toBe(404)
    expect((await list(basic(c2.row.key, c2.secret))).statusCode).toBe(200)
  })

  it('answers 403 forbidden_role for the wrong role, and 401 for a credential on /admin', async () => {
    const asConsumer = await h.app.inject({
      method: 'POST',
      url: '/events',
      headers: { authorization: h.consumer, 'content-type': 'application/json' },
      payload: JSON.stringify(example('site.publish')),
    })
    expect(asConsumer.statusCode).toBe(403)
    expect(asConsumer.json().error.code).toBe('forbidden_role')
    const asPublisher = await list(h.publisher)
    expect(asPublisher.statusCode).toBe(403)
    expect(asPublisher.json().error.code).toBe('forbidden_role')
    for (const authorization of [h.consumer, h.publisher]) {
      const r = await h.app.inject({ method: 'GET', url: '/admin/audit', headers: { authorization } })
      expect(r.statusCode).toBe(401)
    }
    expect((await h.store.deliveries.list(h.envId, { limit: 10 })).length).toBe(0)
  })

  it('binds a credential to its environment: it sees its own data only', async () => {
    const created = await h.app.inject({
      method: 'POST',
      url: '/webhooks/subscription',
      headers: { authorization: h.consumer },
      payload: { event: 'site.publish', url: aUrl, active: true },
    })
    expect(created.statusCode).toBe(201)
    const mine = (await list(h.consumer)).json().subscriptions
    const theirs = (await list(h.other.consumer)).json().subscriptions
    expect(mine).toHaveLength(1)
    expect(theirs).toEqual([])
  })

  it('takes the same steps for an unknown key as for a wrong secret (no timing oracle)', async () => {
    const createHash = vi.mocked(crypto.createHash)
    const timingSafeEqual = vi.mocked(crypto.timingSafeEqual)
    const revoked = await h.hookpost.environments.createCredential(h.envId, { role: 'consumer' })
    await h.hookpost.environments.revokeCredential(h.envId, revoked.row.id)
    const cases = {
      'unknown key': basic('hpk_doesnotexist0000000000', secret),
      'wrong secret': basic(key, 'hps_' + 'x'.repeat(43)),
      'short wrong secret': basic(key, 'x'),
      'revoked key, right secret': basic(revoked.row.key, revoked.secret),
    }
    const steps: Record<string, { hashes: number; compares: number; lengths: number[] }> = {}
    for (const [name, authorization] of Object.entries(cases)) {
      // Many attempts, as an attacker would make: every one must take the same steps.
      for (let i = 0; i < 50; i++) {
        createHash.mockClear()
        timingSafeEqual.mockClear()
        const r = await list(authorization)
        expect(r.statusCode).toBe(401)
        const seen = {
          hashes: createHash.mock.calls.length,
          compares: timingSafeEqual.mock.calls.length,
          lengths: timingSafeEqual.mock.calls.flatMap(([a, b]) => [a.byteLength, b.byteLength]),
        }
        steps[name] ??= seen
        expect(seen, name).toEqual(steps[name])
      }
    }
    const all = Object.values(steps)
    for (const s of all) expect(s).toEqual(all[0])
    expect(all[0]).toEqual({ hashes: 1, compares: 1, lengths: [32, 32] })
    expect(createHash.mock.calls.every(([alg]) => alg === 'sha256')).toBe(true)
  })
})

describe('S10: BOLA sweep over every id-bearing route', () => {
  let h: AppHarness
  beforeEach(async () => {
    h = await appHarness()
  })
  afterEach(async () => {
    await h.close()
  })

  it("answers 404 with no data when a tenant uses another tenant's ids, and changes nothing", async () => {
    const a = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown, authorization = h.consumer) =>
      h.app.inject({
        method,
        url,
        headers: { authorization },
        ...(payload !== undefined ? { payload: payload as object } : {}),
      })
    // Tenant A's resources: a subscription, two deliveries, a replay job.
    const sub = (
      await a('POST', '/webhooks/subscription', { event: 'site.publish', url: aUrl, active: true })
    ).json().subscription
    for (let i = 0; i < 2; i++) {
      const p = await h.app.inject({
        method: 'POST',
        url: '/events',
        headers: { authorization: h.publisher, 'content-type': 'application/json' },
        payload: JSON.stringify(example('site.publish')),
      })
      expect(p.statusCode).toBe(202)
    }
    const page = (await a('GET', '/webhooks/deliveries?limit=1')).json()
    const delivery = page.deliveries[0]
    const cursor = page.nextCursor as string
    expect(cursor).toBeTruthy()
    const started = await a('POST', `/webhooks/subscription/${sub.id}/replay`, {
      since: new Date(Date.now() - 3_600_000).toISOString(),
    })
    expect(started.statusCode, started.body).toBe(202)
    const replay = started.json().replay
    const created = await a('POST', '/webhooks/signing-keys', { type: 'ed25519' })
    expect(created.statusCode, created.body).toBe(201)
    const signingKey = created.json().signingKey
    const ids: Record<string, string> = {
      subscriptionId: sub.id,
      deliveryId: delivery.id,
      replayId: replay.id,
      signingKeyId: signingKey.id,
    }
    const bodies: Record<string, unknown> = {
      'PUT /webhooks/subscription/{subscriptionId}': {
        event: 'site.publish',
        url: 'https://tenant-b.example/stolen',
        active: false,
      },
      'POST /webhooks/subscription/{subscriptionId}/transformation/test': {
        code: 'function handler(webhook) { return webhook }',
      },
      'POST /webhooks/subscription/{subscriptionId}/replay': {
        since: new Date(Date.now() - 3_600_000).toISOString(),
      },
    }
    const before = {
      sub: await h.store.subscriptions.get(h.envId, sub.id),
      delivery: await h.store.deliveries.get(h.envId, delivery.id),
      replay: await h.store.replays.get(h.envId, replay.id),
    }
    const secretsA = JSON.stringify(Object.values(ids)) + h.envId + aUrl

    const doc = (await h.app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<string, Record<string, { security?: Record<string, unknown>[] }>>
    }
    let swept = 0
    for (const [path, ops] of Object.entries(doc.paths)) {
      if (!path.includes('{')) continue
      for (const [method, op] of Object.entries(ops)) {
        // Tenant routes are those a Basic credential reaches; operator routes take the
        // environment id explicitly and are covered below.
        if (!op.security?.some((s) => 'basicAuth' in s)) continue
        const url = path.replace(/\{(\w+)\}/g, (_m, name: string) => {
          const id = ids[name]
          if (id === undefined) throw new Error(`the BOLA sweep has no id for {${name}} in ${path}: add one`)
          return encodeURIComponent(id)
        })
        const payload = bodies[`${method.toUpperCase()} ${path}`]
        const r = await h.app.inject({
          method: method.toUpperCase() as 'GET',
          url,
          headers: { authorization: h.other.consumer },
          ...(payload !== undefined ? { payload: payload as object } : {}),
        })
        expect(r.statusCode, `${method} ${path}`).toBe(404)
        expect(r.json().error.code, `${method} ${path}`).toMatch(/_not_found$/)
        for (const id of [...Object.values(ids), h.envId, aUrl]) expect(r.body).not.toContain(id)
        swept++
      }
    }
    expect(swept).toBeGreaterThanOrEqual(8)

    // Filters and cursors naming A's resources show B nothing of A's.
    const b = (url: string) => a('GET', url, undefined, h.other.consumer)
    for (const url of [
      `/webhooks/deliveries?subscriptionId=${sub.id}`,
      `/webhooks/deliveries?cursor=${cursor}`,
      `/webhooks/replays?subscriptionId=${sub.id}`,
      '/webhooks/operational-events',
      '/webhooks/subscription',
      '/webhooks/signing-keys',
    ]) {
      const r = await b(url)
      expect(r.statusCode, url).toBe(200)
      for (const id of secretsA.match(/[a-z]{3}_[0-9A-Za-z]+/g) ?? []) expect(r.body, url).not.toContain(id)
      expect(r.body).not.toContain(aUrl)
    }
    // B's publisher reaches B's subscriptions only.
    const p2 = await h.hookpost.environments.createCredential(h.other.envId, { role: 'publisher' })
    const pub = await h.app.inject({
      method: 'POST',
      url: '/events',
      headers: { authorization: basic(p2.row.key, p2.secret), 'content-type': 'application/json' },
      payload: JSON.stringify(example('site.publish')),
    })
    expect(pub.json().event.deliveries).toBe(0)

    // Nothing of A's moved.
    expect(await h.store.subscriptions.get(h.envId, sub.id)).toEqual(before.sub)
    expect(await h.store.deliveries.get(h.envId, delivery.id)).toEqual(before.delivery)
    expect(await h.store.replays.get(h.envId, replay.id)).toEqual(before.replay)
    const keys = (await a('GET', '/webhooks/signing-keys')).json().signingKeys as { id: string }[]
    expect(keys.map((k) => k.id)).toEqual([signingKey.id])
  })
})
