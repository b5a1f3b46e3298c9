// The development relay of `hookpost listen`: the hub's session lifecycle, the relay routes'
// guards (through inject), and the sending policy's one narrow exemption for relay URLs.
import { afterEach, describe, expect, it } from 'vitest'
import { createHookpost } from '../../src/hookpost.ts'
import { buildApp } from '../../src/http/build-app.ts'
import { createSendingPolicy } from '../../src/outbound/sending-policy.ts'
import { RelayHub } from '../../src/relay/relay-hub.ts'
import { generateMasterKey, parseMasterKey, SecretBox } from '../../src/secrets/secret-box.ts'
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.ts'
import { basic } from '../support/basic-auth.ts'

const request = { method: 'POST', headers: { 'webhook-id': 'dlv_1' }, body: Buffer.from('{}') }

describe('RelayHub', () => {
  const hubs: RelayHub[] = []
  const hub = (o: Partial<ConstructorParameters<typeof RelayHub>[0]> = {}) => {
    const h = new RelayHub({ deadlineMs: 1000, ...o })
    hubs.push(h)
    return h
  }
  afterEach(() => {
    for (const h of hubs.splice(0)) h.closeAll()
  })

  it('pushes a request to the attached stream and resolves with its answer', async () => {
    const h = hub()
    const s = h.open('env_1')
    expect(s.token).toMatch(/^rly_[0-9A-Za-z]{32}$/)
    const pushed: string[] = []
    h.attach(
      s.token,
      (r) => {
        pushed.push(r.id)
        h.answer(s.token, r.id, { status: 201, headers: { a: 'b' }, body: Buffer.from('ok') })
      },
      () => {},
    )
    const outcome = await h.forward(s.token, request)
    expect(pushed).toHaveLength(1)
    expect(outcome).toEqual({
      kind: 'answer',
      answer: { status: 201, headers: { a: 'b' }, body: Buffer.from('ok') },
    })
    expect(h.answer(s.token, pushed[0]!, { status: 200, headers: {}, body: Buffer.alloc(0) })).toBe(false)
  })

  it('holds requests that arrive before the stream, then pushes them on attach', async () => {
    const h = hub()
    const s = h.open('env_1')
    const pending = h.forward(s.token, request)
    h.attach(
      s.token,
      (r) => h.answer(s.token, r.id, { status: 204, headers: {}, body: Buffer.alloc(0) }),
      () => {},
    )
    expect(await pending).toMatchObject({ kind: 'answer', answer: { status: 204 } })
  })

  it('answers timeout after the deadline, gone for unknown or closed sessions, busy when full', async () => {
    const h = hub({ deadlineMs: 50, maxPendingPerSession: 1 })
    const s = h.open('env_1')
    h.attach(
      s.token,
      () => {},
      () => {},
    )
    const first = h.forward(s.token, request)
    expect(await h.forward(s.token, request)).toEqual({ kind: 'busy' })
    expect(await first).toEqual({ kind: 'timeout' })
    expect(await h.forward('rly_unknown', request)).toEqual({ kind: 'gone' })
    const waiting = h.forward(s.token, request)
    let closed = false
    h.attach(
      s.token,
      () => {},
      () => {
        closed = true
      },
    )
    h.close(s.token)
    expect(await waiting).toEqual({ kind: 'gone' })
    expect(closed).toBe(true)
    expect(h.get(s.token)).toBeUndefined()
  })

  it('closes a session left without a stream for idleMs', async () => {
    const h = hub({ idleMs: 30 })
    const s = h.open('env_1')
    const detach = h.attach(
      s.token,
      () => {},
      () => {},
    )!
    await new Promise((r) => setTimeout(r, 60))
    expect(h.get(s.token)).toBeDefined()
    detach()
    await new Promise((r) => setTimeout(r, 60))
    expect(h.get(s.token)).toBeUndefined()
  })

  it('limits sessions per environment', () => {
    const h = hub({ maxSessionsPerEnvironment: 2 })
    h.open('env_1')
    h.open('env_1')
    expect(() => h.open('env_1')).toThrow(/already has 2 relay sessions/)
    expect(h.open('env_2').envId).toBe('env_2')
  })
})

describe('the sending policy and relay URLs', () => {
  const base = { allowHttp: false, allowedCidrs: [] }

  it('accepts exactly <public origin>/relay/<token>, and nothing else of our own API', () => {
    const p = createSendingPolicy(base, { host: '127.0.0.1', port: 8080 })
    expect(p.publicOrigin()).toBe('http://127.0.0.1:8080')
    const ok = 'http://127.0.0.1:8080/relay/rly_abcDEF123'
    expect(p.isRelayUrl(ok)).toBe(true)
    // Accepted although http:// and loopback are refused for everything else.
    expect(p.checkUrl(ok)).toMatchObject({ ok: true })
    expect(p.explainUrl(ok)).toMatchObject({ allowed: true })
    for (const bad of [
      'http://127.0.0.1:8080/admin/environments',
      'http://127.0.0.1:8080/relay/',
      'http://127.0.0.1:8080/relay/rly_a/events',
      'http://127.0.0.1:8080/relay/rly_a?x=1',
      'http://127.0.0.1:8080/relay/../admin/environments',
      'http://127.0.0.1:8080/relay/%2e%2e/admin',
      'http://u:p@127.0.0.1:8080/relay/rly_a',
      'http://127.0.0.1:8081/relay/rly_a',
      'http://localhost:8080/relay/rly_a',
      'https://127.0.0.1:8080/relay/rly_a',
      'http://10.0.0.1:8080/relay/rly_a',
    ]) {
      expect(p.isRelayUrl(bad), bad).toBe(false)
      expect(p.checkUrl(bad).ok, bad).toBe(false)
    }
  })

  it('follows the real port, or HOOKPOST_PUBLIC_URL when set', () => {
    const p = createSendingPolicy(base, { host: '0.0.0.0', port: 0 })
    p.setOwnPort(45_123)
    expect(p.isRelayUrl('http://127.0.0.1:45123/relay/rly_a')).toBe(true)
    const q = createSendingPolicy(base, {
      host: '0.0.0.0',
      port: 8080,
      publicUrl: 'https://hooks.example.com',
    })
    expect(q.isRelayUrl('https://hooks.example.com/relay/rly_a')).toBe(true)
    expect(q.isRelayUrl('http://127.0.0.1:8080/relay/rly_a')).toBe(false)
    expect(q.checkUrl('http://127.0.0.1:8080/relay/rly_a').ok).toBe(false)
  })
})

describe('relay routes', () => {
  it('open sessions for consumers only; the receiving side forwards only deliveries of the session environment', async () => {
    const store = openSqliteStore(':memory:')
    await store.migrate()
    const hookpost = createHookpost({
      store,
      box: new SecretBox(parseMasterKey(generateMasterKey())),
      checkUrl: (url) => ({ ok: true, url: new URL(url) }),
      retryPolicy: { scheduleMs: [1000], jitter: 0.2, maxRetryAfterMs: 60_000 },
      secretGraceMs: 0,
    })
    const hub = new RelayHub({ deadlineMs: 200 })
    const app = await buildApp({
      hookpost,
      adminToken: 'test-admin-token-0123456789',
      version: '0.0.0-test',
      eventBodyLimit: 1024 * 1024,
      relay: { hub, publicOrigin: () => 'http://hookpost.test' },
    })
    try {
      const env = await hookpost.environments.create({ name: 'a' })
      const c = await hookpost.environments.createCredential(env.id, { role: 'consumer' })
      const p = await hookpost.environments.createCredential(env.id, { role: 'publisher' })
      const other = await hookpost.environments.create({ name: 'b' })
      const oc = await hookpost.environments.createCredential(other.id, { role: 'consumer' })
      const consumer = basic(c.row.key, c.secret)

      expect((await app.inject({ method: 'POST', url: '/relay/sessions' })).statusCode).toBe(401)
      const asPublisher = await app.inject({
        method: 'POST',
        url: '/relay/sessions',
        headers: { authorization: basic(p.row.key, p.secret) },
      })
      expect(asPublisher.statusCode).toBe(403)
      const opened = await app.inject({
        method: 'POST',
        url: '/relay/sessions',
        headers: { authorization: consumer },
      })
      expect(opened.statusCode).toBe(201)
      const relay = opened.json().relay
      expect(relay.url).toBe(`http://hookpost.test/relay/${relay.token}`)
      expect(relay.deadlineMs).toBe(200)

      // Another environment's consumer does not see the session.
      const foreign = await app.inject({
        method: 'DELETE',
        url: `/relay/${relay.token}`,
        headers: { authorization: basic(oc.row.key, oc.secret) },
      })
      expect(foreign.statusCode).toBe(404)
      const stray = await app.inject({
        method: 'POST',
        url: `/relay/${relay.token}/responses/rq_nope`,
        headers: { authorization: consumer },
        payload: { status: 200 },
      })
      expect(stray.statusCode).toBe(404)

      // Not a delivery of this environment: refused before anything reaches the CLI.
      const unsigned = await app.inject({
        method: 'POST',
        url: `/relay/${relay.token}`,
        headers: { 'content-type': 'application/json' },
        payload: '{}',
      })
      expect(unsigned.statusCode).toBe(403)
      const unknownDelivery = await app.inject({
        method: 'POST',
        url: `/relay/${relay.token}`,
        headers: { 'content-type': 'application/json', 'webhook-id': 'dlv_0000000000000000000000000' },
        payload: '{}',
      })
      expect(unknownDelivery.statusCode).toBe(403)

      const closed = await app.inject({
        method: 'DELETE',
        url: `/relay/${relay.token}`,
        headers: { authorization: consumer },
      })
      expect(closed.statusCode).toBe(204)
      const gone = await app.inject({
        method: 'POST',
        url: `/relay/${relay.token}`,
        headers: { 'content-type': 'application/json' },
        payload: '{}',
      })
      expect(gone.statusCode).toBe(410)
    } finally {
      await app.close()
      await store.close()
    }
  })
})
