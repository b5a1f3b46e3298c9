// The OAuth2 token cache's rules with a clock of its own (the real token server, the 401 and the
// expiry over the network are in test/e2e/endpoint-auth.test.ts): how long a token is kept, one
// request per grant at a time, a 401 forgetting only the token it was given, and the answers
// that are not a token.
import { describe, expect, it } from 'vitest'
import { OAuth2Tokens } from '../../src/deliveries/oauth2-tokens.ts'
import type { AttemptOutcome, OutboundRequest, Sender } from '../../src/deliveries/sender.ts'

const grant = { tokenUrl: 'https://id.example.com/token', clientId: 'c', clientSecret: 's' }

/** A token endpoint in memory: answers with what `next` gives, counting the requests. */
function endpoint(next: (n: number) => AttemptOutcome) {
  const seen: OutboundRequest[] = []
  const sender: Sender = {
    send: async (req) => {
      seen.push(req)
      return next(seen.length)
    },
    close: async () => {},
  }
  return { sender, seen }
}
const json = (statusCode: number, body: unknown): AttemptOutcome => ({
  kind: 'response',
  statusCode,
  headers: {},
  body: JSON.stringify(body),
  durationMs: 1,
})

describe('OAuth2 tokens', () => {
  it('keeps a token until a tenth of its lifetime before it expires, then asks again', async () => {
    let now = 1_000_000
    const e = endpoint((n) => json(200, { access_token: `t${n}`, token_type: 'bearer', expires_in: 100 }))
    const tokens = new OAuth2Tokens({ sender: e.sender, userAgent: 'test', now: () => now })
    expect(await tokens.get(grant, 1000)).toEqual({ ok: true, token: 't1', fresh: true })
    now += 89_000
    expect(await tokens.get(grant, 1000)).toEqual({ ok: true, token: 't1', fresh: false })
    now += 1_000
    expect(await tokens.get(grant, 1000)).toEqual({ ok: true, token: 't2', fresh: true })
    expect(e.seen).toHaveLength(2)
    const r = e.seen[0]!
    expect(r.headers['authorization']).toBe(`Basic ${Buffer.from('c:s').toString('base64')}`)
    expect(r.headers['content-type']).toBe('application/x-www-form-urlencoded')
    expect(r.body.toString()).toBe('grant_type=client_credentials')
  })

  it('shares one request between concurrent attempts, and renews early by at most a minute', async () => {
    let now = 0
    const e = endpoint((n) => json(200, { access_token: `t${n}`, expires_in: 3600 }))
    const tokens = new OAuth2Tokens({ sender: e.sender, userAgent: 'test', now: () => now })
    const all = await Promise.all([1, 2, 3].map(() => tokens.get({ ...grant, scope: 'a b' }, 1000)))
    expect(all.map((a) => a.ok && a.token)).toEqual(['t1', 't1', 't1'])
    expect(e.seen).toHaveLength(1)
    expect(e.seen[0]!.body.toString()).toBe('grant_type=client_credentials&scope=a+b')
    now = 3_600_000 - 60_001
    expect((await tokens.get({ ...grant, scope: 'a b' }, 1000)).ok && e.seen.length).toBe(1)
    now = 3_600_000 - 60_000
    await tokens.get({ ...grant, scope: 'a b' }, 1000)
    expect(e.seen).toHaveLength(2)
  })

  it('forgets a token an endpoint refused, not a newer one; another secret is another grant', async () => {
    const e = endpoint((n) => json(200, { access_token: `t${n}` }))
    const tokens = new OAuth2Tokens({ sender: e.sender, userAgent: 'test', now: () => 0 })
    await tokens.get(grant, 1000)
    tokens.reject(grant, 'stale')
    expect(await tokens.get(grant, 1000)).toMatchObject({ token: 't1', fresh: false })
    tokens.reject(grant, 't1')
    expect(await tokens.get(grant, 1000)).toMatchObject({ token: 't2', fresh: true })
    expect(await tokens.get({ ...grant, clientSecret: 'other' }, 1000)).toMatchObject({ token: 't3' })
  })

  it('fails as oauth2_token_error with a safe message, never the secret; a proxy failure stays proxy_error', async () => {
    const cases: [AttemptOutcome, RegExp][] = [
      [
        json(401, { error: 'invalid_client', error_description: 'secret s is wrong' }),
        /^the token endpoint answered 401 \(invalid_client\)$/,
      ],
      [json(200, { token_type: 'bearer' }), /without a usable access_token/],
      [json(200, { access_token: 'a b' }), /without a usable access_token/],
      [json(200, { access_token: 'x', token_type: 'mac' }), /token_type other than Bearer/],
      [
        { kind: 'response', statusCode: 200, headers: {}, body: 'not json', durationMs: 1 },
        /without a usable access_token/,
      ],
      [
        { kind: 'error', code: 'connection_refused', message: 'connect ECONNREFUSED', durationMs: 1 },
        /could not be reached \(connection_refused/,
      ],
    ]
    for (const [answer, message] of cases) {
      const tokens = new OAuth2Tokens({ sender: endpoint(() => answer).sender, userAgent: 'test' })
      const r = await tokens.get(grant, 1000)
      expect(r.ok).toBe(false)
      if (r.ok) continue
      expect(r.outcome.code).toBe('oauth2_token_error')
      expect(r.outcome.message).toMatch(message)
      expect(r.outcome.message).not.toContain('secret s')
    }
    const viaProxy = new OAuth2Tokens({
      sender: endpoint(() => ({
        kind: 'error',
        code: 'proxy_error',
        message: 'the egress proxy answered CONNECT with 502',
        durationMs: 1,
      })).sender,
      userAgent: 'test',
    })
    const p = await viaProxy.get(grant, 1000)
    expect(!p.ok && p.outcome.code).toBe('proxy_error')
  })
})
