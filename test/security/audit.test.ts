// The audit log: every operator and secret action leaves one entry (who, what, which, request
// id), GET /admin/audit lists them in pages, and no entry ever holds a secret.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { auditLog, scrubDetail } from '../../src/audit/audit-log.ts'
import { type AppHarness, appHarness } from '../support/app-harness.ts'
import { basic } from '../support/basic-auth.ts'

describe('audit log', () => {
  let h: AppHarness
  beforeEach(async () => {
    h = await appHarness()
  })
  afterEach(async () => {
    await h.close()
  })

  const admin = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) =>
    h.app.inject({
      method,
      url,
      headers: { authorization: h.admin },
      ...(payload ? { payload } : {}),
    })

  it('records environment, credential, secret and portal link actions with actor and request id, and no secret', async () => {
    const env = (await admin('POST', '/admin/environments', { name: 'brand-7' })).json().environment
    const created = await admin('POST', `/admin/environments/${env.id}/credentials`, {
      role: 'consumer',
      name: 'ci',
    })
    expect(created.statusCode).toBe(201)
    const cred = created.json().credential
    const consumer = basic(cred.key, cred.secret)
    const rotated = await h.app.inject({
      method: 'POST',
      url: '/webhooks/hmac-secret',
      headers: { authorization: consumer },
    })
    expect(rotated.statusCode).toBe(201)
    const signingSecret = rotated.json().hmacSecret.secret as string
    const signingKey = await h.app.inject({
      method: 'POST',
      url: '/webhooks/signing-keys',
      headers: { authorization: consumer },
      payload: { type: 'ed25519' },
    })
    expect(signingKey.statusCode).toBe(201)
    const spk = signingKey.json().signingKey.id as string
    const keyDeleted = await h.app.inject({
      method: 'DELETE',
      url: `/webhooks/signing-keys/${spk}`,
      headers: { authorization: consumer },
    })
    expect(keyDeleted.statusCode).toBe(204)
    const link = await admin('POST', `/admin/environments/${env.id}/portal-links`, {})
    const portalToken =
      link.statusCode === 201 ? (link.json().portalLink.url as string).split('token=')[1] : null
    const revoked = await admin('DELETE', `/admin/environments/${env.id}/credentials/${cred.id}`)
    expect(revoked.statusCode).toBe(204)
    // Failures are not audited as actions.
    expect((await admin('DELETE', `/admin/environments/${env.id}/credentials/${cred.id}`)).statusCode).toBe(
      404,
    )
    expect((await admin('POST', '/admin/environments', { name: '' })).statusCode).toBe(400)

    const r = await admin('GET', `/admin/audit?envId=${env.id}`)
    expect(r.statusCode).toBe(200)
    const entries = r.json().entries as Record<string, unknown>[]
    const actions = entries.map((e) => e['action'])
    expect(actions).toEqual([
      'credential.revoked',
      ...(portalToken ? ['portal_link.issued'] : []),
      'signing_key.deleted',
      'signing_key.created',
      'signing_secret.rotated',
      'credential.created',
      'environment.created',
    ])
    const by = (action: string) => entries.find((e) => e['action'] === action)!
    expect(by('environment.created')).toMatchObject({
      environmentId: env.id,
      actor: 'operator',
      target: env.id,
      detail: { name: 'brand-7' },
      requestId: expect.stringMatching(/^req_/),
    })
    expect(by('credential.created')).toMatchObject({
      actor: 'operator',
      target: cred.id,
      detail: { role: 'consumer', name: 'ci' },
    })
    expect(by('signing_secret.rotated')).toMatchObject({ actor: cred.id, environmentId: env.id })
    expect(by('credential.revoked')).toMatchObject({ actor: 'operator', target: cred.id })
    expect(by('signing_key.created')).toMatchObject({ actor: cred.id, environmentId: env.id, target: spk })
    expect(by('signing_key.deleted')).toMatchObject({ actor: cred.id, environmentId: env.id, target: spk })
    for (const e of entries) expect(new Date(e['created'] as string).toISOString()).toBe(e['created'])
    const text = r.body + JSON.stringify(await h.store.audit.list({ limit: 100 }))
    for (const secret of [cred.secret, signingSecret, signingSecret.slice(6), h.admin.slice(7), portalToken])
      if (secret) expect(text).not.toContain(secret)
  })

  it('filters by action, pages with a cursor, and refuses a bad cursor, action or token', async () => {
    for (let i = 0; i < 5; i++) await admin('POST', '/admin/environments', { name: `e${i}` })
    const all = (await admin('GET', '/admin/audit?action=environment.created')).json().entries
    // The harness created two environments directly (not through the API): five entries.
    expect(all).toHaveLength(5)
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const q: string = cursor ? `&cursor=${cursor}` : ''
      const page = (await admin('GET', `/admin/audit?action=environment.created&limit=2${q}`)).json()
      expect(page.entries.length).toBeLessThanOrEqual(2)
      seen.push(...page.entries.map((e: { id: string }) => e.id))
      cursor = page.nextCursor
    } while (cursor)
    expect(seen).toEqual(all.map((e: { id: string }) => e.id))
    expect(new Set(seen).size).toBe(5)
    for (const [url, code] of [
      ['/admin/audit?cursor=bm9wZQ', 'invalid_cursor'],
      ['/admin/audit?action=secret.read', 'invalid_request'],
      ['/admin/audit?limit=0', 'invalid_request'],
      ['/admin/audit?limit=201', 'invalid_request'],
    ] as const) {
      const r = await admin('GET', url)
      expect(r.statusCode, url).toBe(400)
      expect(r.json().error.code, url).toBe(code)
    }
    for (const authorization of [undefined, 'Bearer nope', h.consumer]) {
      const r = await h.app.inject({
        method: 'GET',
        url: '/admin/audit',
        headers: authorization ? { authorization } : {},
      })
      expect(r.statusCode).toBe(401)
    }
  })

  it('scrubs secret-named fields and secret-looking values from details before storing', async () => {
    expect(
      scrubDetail({
        name: 'ok',
        secret: 'whsec_abc',
        adminToken: 'hpa_x',
        key: 'hpk_public',
        nested: { note: 'rotated to whsec_QUJD and hps_deadbeef', list: ['hpa_token1', 2] },
      }),
    ).toEqual({
      name: 'ok',
      nested: { note: 'rotated to whsec_[redacted] and hps_[redacted]', list: ['hpa_[redacted]', 2] },
    })
    const audit = auditLog({ store: h.store, now: () => 1_700_000_000_000 })
    const e = await audit.record({
      action: 'credential.created',
      actor: 'operator',
      envId: h.envId,
      detail: { secret: 'hps_leak', label: 'hps_leak2' },
      requestId: 'hps_leak3',
    })
    expect(e.id).toMatch(/^aud_[0-9A-Za-z]+$/)
    expect(JSON.stringify(await h.store.audit.list({ limit: 10 }))).not.toMatch(/hps_leak/)
  })
})
