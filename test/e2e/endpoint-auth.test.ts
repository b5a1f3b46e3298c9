// Endpoint authentication end to end (contract section 13), the real service against real peers
// on loopback, on SQLite and on PostgreSQL: basic, bearer and static headers arriving; OAuth2
// client credentials (a token server that counts its requests: caching, refresh on expiry,
// refresh after a 401, the token server down); mTLS against a receiver that requires a client
// certificate from a private CA (HOOKPOST_EXTRA_CA_CERTS trusts it). After each run, no secret
// is in the service's log or in the database (the SQLite file's bytes, PostgreSQL's tables).
import { readdirSync, readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventTypes } from '../../src/events/event-types.ts'
import { HttpsReceiver, TokenServer } from '../support/endpoint-peers.ts'
import { eventually } from '../support/eventually.ts'
import { skipWithout } from '../support/external-tool.ts'
import { freshDatabase, postgresAvailable, postgresRequired } from '../support/postgres.ts'
import { client, type ServiceProcess, startService } from '../support/service-process.ts'
import { createTenant } from '../support/tenant.ts'
import { makeTestPki, openssl, type TestPki } from '../support/test-pki.ts'

const pgState = await postgresAvailable()
const t = eventTypes[0]!
const body = JSON.stringify(t.example)

const backends = [
  { name: 'sqlite', skip: false },
  { name: 'postgres', skip: !pgState.ok && !postgresRequired },
] as const

describe.skipIf(skipWithout(openssl))('endpoint authentication', () => {
  for (const backend of backends) {
    describe.skipIf(backend.skip)(`${backend.name}`, () => {
      let pki: TestPki
      let svc: ServiceProcess
      let db: { url: string; drop(): Promise<void> } | undefined
      let rx: HttpsReceiver
      let mtls: HttpsReceiver
      let tokens: TokenServer
      let consumer: ReturnType<typeof client>
      let publisher: ReturnType<typeof client>
      const secrets = {
        password: `pw-${Math.random().toString(36).slice(2)}-basic`,
        bearer: `bearer-${Math.random().toString(36).slice(2)}-token`,
        header: `hdr-${Math.random().toString(36).slice(2)}-value`,
        clientSecret: `cs-${Math.random().toString(36).slice(2)}-oauth`,
      }
      /** Tokens the resource server takes; revoking makes it answer 401 to older ones. */
      let validTokens = new Set<string>()

      beforeAll(async () => {
        pki = makeTestPki()
        tokens = await new TokenServer(pki.server, 'hookpost-client', secrets.clientSecret).start()
        rx = await new HttpsReceiver(pki.server).start()
        rx.accept = (r) => {
          if (!r.path.startsWith('/oauth')) return 200
          const token = String(r.headers.authorization ?? '').replace(/^Bearer /, '')
          return validTokens.has(token) || tokens.issued.includes(token) ? 200 : 401
        }
        mtls = await new HttpsReceiver({ ...pki.server, clientCa: pki.ca }).start()
        if (backend.name === 'postgres') {
          if (!pgState.ok) throw new Error(pgState.reason)
          db = await freshDatabase()
        }
        svc = await startService({
          HOOKPOST_ALLOWED_CIDRS: '127.0.0.0/8',
          HOOKPOST_EXTRA_CA_CERTS: pki.caFile,
          HOOKPOST_RETRY_SCHEDULE: '1s,1s,1s',
          HOOKPOST_LOG_LEVEL: 'debug',
          ...(db ? { HOOKPOST_DATABASE_URL: db.url } : {}),
        })
        const tenant = await createTenant(svc, 'auth')
        consumer = client(svc.url, tenant.consumer.authorization)
        publisher = client(svc.url, tenant.publisher.authorization)
      }, 60_000)

      afterAll(async () => {
        await svc?.stop()
        svc?.cleanup()
        await db?.drop()
        await Promise.all([rx?.stop(), mtls?.stop(), tokens?.stop()])
        pki?.cleanup()
      })

      const subscribe = async (extra: Record<string, unknown>, url: string) => {
        const r = await consumer('POST', '/webhooks/subscription', {
          event: t.name,
          url,
          active: true,
          ...extra,
        })
        expect(r.status, JSON.stringify(r.json)).toBe(201)
        return r.json.subscription
      }
      /** Only one subscription active at a time: each publish goes to the one under test. */
      const only = async (id: string) => {
        for (const s of (await consumer('GET', '/webhooks/subscription')).json.subscriptions)
          if (s.id !== id && s.active)
            await consumer('PUT', `/webhooks/subscription/${s.id}`, {
              event: s.event,
              url: s.url,
              active: false,
            })
      }
      const lastAttempt = async (subId: string) => {
        const list = (await consumer('GET', `/webhooks/deliveries?subscriptionId=${subId}&limit=1`)).json
          .deliveries
        const d = (await consumer('GET', `/webhooks/deliveries/${list[0].id}`)).json.delivery
        return d.attemptLog[d.attemptLog.length - 1]
      }

      it('sends basic auth and static headers, shows them back as ****, keeps them on PUT', async () => {
        const s = await subscribe(
          {
            auth: { type: 'basic', username: 'hook', password: secrets.password },
            headers: { 'X-Api-Key': secrets.header },
          },
          rx.url('/basic'),
        )
        expect(s.auth).toEqual({ type: 'basic', username: 'hook', password: '****' })
        expect(s.headers).toEqual({ 'x-api-key': '****' })
        await only(s.id)
        await publisher('POST', '/events', body)
        await eventually(() => expect(rx.on('/basic')).toHaveLength(1), 15_000)
        const got = rx.on('/basic')[0]!
        expect(got.headers.authorization).toBe(
          `Basic ${Buffer.from(`hook:${secrets.password}`).toString('base64')}`,
        )
        expect(got.headers['x-api-key']).toBe(secrets.header)
        expect(got.headers['webhook-signature']).toMatch(/^v1,/)
        // The attempt log records the headers sent, secrets as ****.
        await eventually(async () => {
          const a = await lastAttempt(s.id)
          expect(a.requestHeaders['authorization']).toBe('****')
          expect(a.requestHeaders['x-api-key']).toBe('****')
        }, 15_000)

        // PUT in BaseKit's form keeps auth and headers; "****" keeps a secret while the username changes.
        const put = await consumer('PUT', `/webhooks/subscription/${s.id}`, {
          event: t.name,
          url: rx.url('/basic'),
          active: true,
          auth: { type: 'basic', username: 'hook2', password: '****' },
        })
        expect(put.status).toBe(200)
        expect(put.json.subscription.headers).toEqual({ 'x-api-key': '****' })
        await publisher('POST', '/events', body)
        await eventually(() => expect(rx.on('/basic')).toHaveLength(2), 15_000)
        const again = rx.on('/basic')[1]!
        expect(again.headers.authorization).toBe(
          `Basic ${Buffer.from(`hook2:${secrets.password}`).toString('base64')}`,
        )
        expect(again.headers['x-api-key']).toBe(secrets.header)
      })

      it('sends a bearer token', async () => {
        const s = await subscribe({ auth: { type: 'bearer', token: secrets.bearer } }, rx.url('/bearer'))
        expect(s.auth).toEqual({ type: 'bearer', token: '****' })
        expect(s).not.toHaveProperty('headers')
        // Without auth or headers, an answer is exactly v1's.
        const plain = await subscribe({}, rx.url('/plain'))
        expect(plain).not.toHaveProperty('auth')
        expect(plain).not.toHaveProperty('headers')
        await consumer('DELETE', `/webhooks/subscription/${plain.id}`)
        await only(s.id)
        await publisher('POST', '/events', body)
        await eventually(() => expect(rx.on('/bearer')).toHaveLength(1), 15_000)
        expect(rx.on('/bearer')[0]!.headers.authorization).toBe(`Bearer ${secrets.bearer}`)
      })

      it('refuses reserved headers, authorization beside auth, and secrets missing', async () => {
        const bad = async (extra: Record<string, unknown>) =>
          consumer('POST', '/webhooks/subscription', {
            event: t.name,
            url: rx.url('/x'),
            active: true,
            ...extra,
          })
        for (const name of [
          'webhook-id',
          'X-Delivery-Event',
          'content-type',
          'user-agent',
          'traceparent',
          'host',
          'connection',
          'transfer-encoding',
        ]) {
          const r = await bad({ headers: { [name]: 'v' } })
          expect(r.status, name).toBe(400)
          expect(r.json.error.code).toBe('header_not_allowed')
          expect(r.json.error.details[0].path).toBe(`/headers/${name}`)
        }
        const authz = await bad({ auth: { type: 'bearer', token: 'x' }, headers: { Authorization: 'y' } })
        expect(authz.json.error).toMatchObject({
          code: 'header_not_allowed',
          details: [{ path: '/headers/Authorization' }],
        })
        const crlf = await bad({ headers: { 'x-a': 'one\r\nx-b: two' } })
        expect(crlf.json.error.code).toBe('header_invalid')
        const missing = await bad({ auth: { type: 'basic', username: 'u' } })
        expect(missing.json.error).toMatchObject({
          code: 'endpoint_auth_invalid',
          details: [{ path: '/auth/password' }],
        })
        const masked = await bad({ auth: { type: 'bearer', token: '****' } })
        expect(masked.json.error.code).toBe('endpoint_auth_invalid')
        const httpToken = await bad({
          auth: {
            type: 'oauth2',
            tokenUrl: `http://localhost:${tokens.port}/t`,
            clientId: 'a',
            clientSecret: 'b',
          },
        })
        expect(httpToken.json.error).toMatchObject({
          code: 'url_not_allowed',
          details: [{ path: '/auth/tokenUrl' }],
        })
      })

      it('gets OAuth2 tokens: cached, renewed before expiry, renewed after a 401, an error when the token server is down', async () => {
        const s = await subscribe(
          {
            auth: {
              type: 'oauth2',
              tokenUrl: tokens.url,
              clientId: 'hookpost-client',
              clientSecret: secrets.clientSecret,
              scope: 'webhooks:write',
            },
          },
          rx.url('/oauth'),
        )
        expect(s.auth).toEqual({
          type: 'oauth2',
          tokenUrl: tokens.url,
          clientId: 'hookpost-client',
          clientSecret: '****',
          scope: 'webhooks:write',
        })
        await only(s.id)
        // Two deliveries, one token.
        await publisher('POST', '/events', body)
        await eventually(() => expect(rx.on('/oauth')).toHaveLength(1), 15_000)
        await publisher('POST', '/events', body)
        await eventually(() => expect(rx.on('/oauth')).toHaveLength(2), 15_000)
        expect(tokens.requests).toBe(1)
        expect(new URLSearchParams(tokens.bodies[0]).get('scope')).toBe('webhooks:write')
        const first = tokens.issued[0]!
        expect(rx.on('/oauth').map((r) => r.headers.authorization)).toEqual([
          `Bearer ${first}`,
          `Bearer ${first}`,
        ])

        // The resource server stops taking it: the 401 makes Hookpost fetch a new token and
        // send again within the same attempt.
        tokens.issued.length = 0
        validTokens = new Set()
        tokens.expiresIn = 2
        await publisher('POST', '/events', body)
        await eventually(
          () =>
            expect(rx.on('/oauth').filter((r) => r.headers.authorization !== `Bearer ${first}`)).toHaveLength(
              1,
            ),
          15_000,
        )
        expect(tokens.requests).toBe(2)
        const second = tokens.issued[0]!
        const last = rx.on('/oauth').slice(-2)
        expect(last.map((r) => r.headers.authorization)).toEqual([`Bearer ${first}`, `Bearer ${second}`])
        await eventually(async () => {
          const a = await lastAttempt(s.id)
          expect(a.statusCode).toBe(200)
          expect(a.requestHeaders['authorization']).toBe('****')
        }, 15_000)

        // expires_in 2 s: renewed shortly before it runs out.
        await new Promise((r) => setTimeout(r, 2100))
        await publisher('POST', '/events', body)
        await eventually(() => expect(tokens.requests).toBe(3), 15_000)
        await eventually(
          () => expect(rx.on('/oauth').at(-1)!.headers.authorization).toBe(`Bearer ${tokens.issued[1]}`),
          15_000,
        )

        // The token server goes away: once the token expires the attempt fails as oauth2_token_error.
        const port = tokens.port
        await tokens.stop()
        await new Promise((r) => setTimeout(r, 2100))
        const before = rx.on('/oauth').length
        await publisher('POST', '/events', body)
        await eventually(async () => {
          const att = await lastAttempt(s.id)
          expect(att.error).toMatch(
            /^oauth2_token_error: the token endpoint could not be reached \(connection_refused/,
          )
        }, 15_000)
        expect(rx.on('/oauth')).toHaveLength(before)
        await tokens.start(port)
      })

      it('applies the sending policy to the token URL at connect time (oauth2_token_error, blocked_address)', async () => {
        // This machine's name on the API's own port: accepted when saved (a name), refused when connecting.
        const port = new URL(svc.url).port
        const s = await subscribe(
          {
            auth: {
              type: 'oauth2',
              tokenUrl: `https://${hostname()}:${port}/token`,
              clientId: 'c',
              clientSecret: 'blocked-secret',
            },
          },
          rx.url('/blocked-token'),
        )
        await only(s.id)
        await publisher('POST', '/events', body)
        await eventually(async () => {
          const att = await lastAttempt(s.id)
          expect(att.error).toMatch(
            /^oauth2_token_error: the token endpoint could not be reached \(blocked_address: refused to connect/,
          )
        }, 15_000)
        expect(rx.on('/blocked-token')).toHaveLength(0)
      })

      it('presents the subscription’s client certificate to a receiver that requires one (mTLS)', async () => {
        const s = await subscribe(
          { auth: { type: 'mtls', certificate: pki.client.cert, privateKey: pki.client.key } },
          mtls.url('/mtls'),
        )
        expect(s.auth).toEqual({ type: 'mtls', certificate: pki.client.cert, privateKey: '****' })
        await only(s.id)
        await publisher('POST', '/events', body)
        await eventually(() => expect(mtls.on('/mtls')).toHaveLength(1), 15_000)
        expect(mtls.on('/mtls')[0]!.clientCn).toBe('hookpost-client')

        // A certificate of a CA the receiver does not trust: the handshake fails.
        const stranger = await subscribe(
          { auth: { type: 'mtls', certificate: pki.stranger.cert, privateKey: pki.stranger.key } },
          mtls.url('/stranger'),
        )
        await only(stranger.id)
        await publisher('POST', '/events', body)
        await eventually(
          async () =>
            expect((await lastAttempt(stranger.id))?.error).toMatch(
              /^(tls_failure|connection_reset|network_error)/,
            ),
          15_000,
        )
        expect(mtls.on('/stranger')).toHaveLength(0)

        // Checked when saved: a key of another certificate, garbage.
        const mismatch = await consumer('POST', '/webhooks/subscription', {
          event: t.name,
          url: mtls.url('/x'),
          active: true,
          auth: { type: 'mtls', certificate: pki.client.cert, privateKey: pki.stranger.key },
        })
        expect(mismatch.status).toBe(400)
        expect(mismatch.json.error).toMatchObject({
          code: 'client_key_mismatch',
          details: [{ path: '/auth/privateKey' }],
        })
        const garbage = await consumer('POST', '/webhooks/subscription', {
          event: t.name,
          url: mtls.url('/x'),
          active: true,
          auth: { type: 'mtls', certificate: 'not a pem', privateKey: pki.client.key },
        })
        expect(garbage.json.error).toMatchObject({
          code: 'client_certificate_invalid',
          details: [{ path: '/auth/certificate' }],
        })
      })

      it('keeps every secret out of the log and the database', async () => {
        const all = [
          secrets.password,
          secrets.bearer,
          secrets.header,
          secrets.clientSecret,
          Buffer.from(`hook:${secrets.password}`).toString('base64'),
          ...tokens.issued,
          // The private keys' base64 lines.
          ...[pki.client.key, pki.stranger.key].flatMap((k) =>
            k.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----')),
          ),
        ]
        expect(all.length).toBeGreaterThan(6)
        const log = svc.output()
        expect(log).toContain('"msg"')
        for (const s of all) expect(log.includes(s), `log holds ${s}`).toBe(false)
        let stored: string
        if (db) {
          const c = new pg.Client({ connectionString: db.url })
          await c.connect()
          const tables = await c.query(
            `select table_name from information_schema.tables where table_schema = 'public'`,
          )
          stored = ''
          for (const r of tables.rows)
            stored += (await c.query(`select t::text as row from "${r.table_name}" t`)).rows
              .map((x) => x.row)
              .join('\n')
          await c.end()
          expect(stored.includes('hook2'), 'the public part is there in the clear').toBe(true)
        } else {
          stored = readdirSync(svc.dataDir)
            .filter((f) => f.startsWith('hookpost.db'))
            .map((f) => readFileSync(join(svc.dataDir, f)).toString('latin1'))
            .join('\n')
          expect(stored.includes('hook2')).toBe(true)
        }
        for (const s of all) expect(stored.includes(s), `database holds ${s}`).toBe(false)
      })
    })
  }
})
