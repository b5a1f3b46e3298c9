import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type AppHarness, appHarness } from '../support/app-harness.ts'
import { basic } from '../support/basic-auth.ts'

describe('operator API', () => {
  let h: AppHarness
  beforeEach(async () => {
    h = await appHarness()
  })
  afterEach(async () => {
    await h.close()
  })

  it('refuses /admin without the bearer token, or with a wrong one, with 401 and a code', async () => {
    for (const authorization of [undefined, 'Bearer wrong', h.consumer, 'Bearer ']) {
      const r = await h.app.inject({
        method: 'GET',
        url: '/admin/environments',
        headers: authorization ? { authorization } : {},
      })
      expect(r.statusCode).toBe(401)
      expect(r.json().error.code).toBe('unauthorized')
    }
  })

  it('creates and lists environments', async () => {
    const r = await h.app.inject({
      method: 'POST',
      url: '/admin/environments',
      headers: { authorization: h.admin },
      payload: { name: 'brand-1' },
    })
    expect(r.statusCode).toBe(201)
    const env = r.json().environment
    expect(env.id).toMatch(/^env_[0-9A-Za-z]+$/)
    expect(env.name).toBe('brand-1')
    expect(new Date(env.created).toISOString()).toBe(env.created)
    const list = await h.app.inject({
      method: 'GET',
      url: '/admin/environments',
      headers: { authorization: h.admin },
    })
    expect(list.json().environments.map((e: { id: string }) => e.id)).toContain(env.id)
  })

  it('answers 400 with details for a bad environment body', async () => {
    for (const payload of [{}, { name: '' }, { name: 5 }, { name: 'x', extra: 1 }]) {
      const r = await h.app.inject({
        method: 'POST',
        url: '/admin/environments',
        headers: { authorization: h.admin },
        payload,
      })
      expect(r.statusCode).toBe(400)
      expect(r.json().error.code).toBe('invalid_request')
    }
  })

  it('issues credentials shown once, which work at once and stop at once when revoked', async () => {
    const r = await h.app.inject({
      method: 'POST',
      url: `/admin/environments/${h.envId}/credentials`,
      headers: { authorization: h.admin },
      payload: { role: 'consumer', name: 'zapier' },
    })
    expect(r.statusCode).toBe(201)
    const c = r.json().credential
    expect(c).toMatchObject({ role: 'consumer', name: 'zapier' })
    expect(c.id).toMatch(/^key_/)
    const auth = basic(c.key, c.secret)
    expect(
      (await h.app.inject({ method: 'GET', url: '/webhooks/subscription', headers: { authorization: auth } }))
        .statusCode,
    ).toBe(200)
    // Only a hash is stored.
    const row = await h.store.credentials.findByKey(c.key)
    expect(row?.secretHash).not.toContain(c.secret)
    expect(JSON.stringify(row)).not.toContain(c.secret)
    const del = await h.app.inject({
      method: 'DELETE',
      url: `/admin/environments/${h.envId}/credentials/${c.id}`,
      headers: { authorization: h.admin },
    })
    expect(del.statusCode).toBe(204)
    expect(
      (await h.app.inject({ method: 'GET', url: '/webhooks/subscription', headers: { authorization: auth } }))
        .statusCode,
    ).toBe(401)
    const again = await h.app.inject({
      method: 'DELETE',
      url: `/admin/environments/${h.envId}/credentials/${c.id}`,
      headers: { authorization: h.admin },
    })
    expect(again.json().error.code).toBe('credential_not_found')
  })

  it('lists credentials without their secrets', async () => {
    const r = await h.app.inject({
      method: 'GET',
      url: `/admin/environments/${h.envId}/credentials`,
      headers: { authorization: h.admin },
    })
    expect(r.statusCode).toBe(200)
    const list = r.json().credentials
    expect(list.map((c: { role: string }) => c.role).sort()).toEqual(['consumer', 'publisher'])
    expect(JSON.stringify(list)).not.toMatch(/hps_|secret/)
    expect(
      (
        await h.app.inject({
          method: 'GET',
          url: '/admin/environments/env_nope/credentials',
          headers: { authorization: h.admin },
        })
      ).statusCode,
    ).toBe(404)
  })

  it('answers 404 for credentials of an unknown environment and 400 for an unknown role', async () => {
    const r = await h.app.inject({
      method: 'POST',
      url: '/admin/environments/env_nope/credentials',
      headers: { authorization: h.admin },
      payload: { role: 'consumer' },
    })
    expect(r.statusCode).toBe(404)
    expect(r.json().error.code).toBe('environment_not_found')
    const bad = await h.app.inject({
      method: 'POST',
      url: `/admin/environments/${h.envId}/credentials`,
      headers: { authorization: h.admin },
      payload: { role: 'root' },
    })
    expect(bad.statusCode).toBe(400)
  })

  it('serves health without credentials and an OpenAPI 3.1 document listing every route', async () => {
    expect((await h.app.inject({ method: 'GET', url: '/health' })).json()).toEqual({ status: 'ok' })
    const doc = (await h.app.inject({ method: 'GET', url: '/openapi.json' })).json()
    expect(doc.openapi).toBe('3.1.0')
    for (const p of [
      '/admin/environments',
      '/admin/environments/{envId}/credentials',
      '/admin/environments/{envId}/credentials/{credentialId}',
      '/webhooks/subscription',
      '/webhooks/subscription/{subscriptionId}',
      '/webhooks/hmac-secret',
      '/webhooks/event-types',
      '/webhooks/deliveries',
      '/webhooks/deliveries/{deliveryId}',
      '/webhooks/deliveries/{deliveryId}/retry',
      '/events',
    ]) {
      expect(Object.keys(doc.paths)).toContain(p)
    }
    expect(
      doc.paths['/webhooks/subscription'].post.requestBody.content['application/json'].schema.required.sort(),
    ).toEqual(['active', 'event']) // and url or destination (docs/destinations.md)
  })

  it('answers unknown routes with a JSON 404', async () => {
    const r = await h.app.inject({ method: 'GET', url: '/nope' })
    expect(r.statusCode).toBe(404)
    expect(r.json().error.code).toBe('route_not_found')
  })
})
