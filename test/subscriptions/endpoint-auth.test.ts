// The core's rules for endpoint auth and static headers: what is refused (with the path named),
// what an update keeps, what is shown back, and the client certificate checks (a real
// certificate made with openssl, checked at a time after it expires).
import { X509Certificate } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateMasterKey, parseMasterKey, SecretBox } from '../../src/secrets/secret-box.ts'
import { AppError } from '../../src/shared/errors.ts'
import {
  buildEndpoint,
  checkClientIdentity,
  type EndpointInput,
  openEndpointSecrets,
  presentEndpoint,
} from '../../src/subscriptions/endpoint-auth.ts'
import { skipWithout } from '../support/external-tool.ts'
import { makeTestPki, openssl, type TestPki } from '../support/test-pki.ts'

const box = new SecretBox(parseMasterKey(generateMasterKey()))
const ctx = {
  box,
  envId: 'env_1',
  subscriptionId: 'sub_1',
  checkUrl: (u: string) =>
    u.startsWith('https://')
      ? ({ ok: true } as const)
      : ({ ok: false, code: 'url_not_allowed', reason: 'only https' } as const),
  now: Date.now(),
}

function refusal(input: EndpointInput, current?: Parameters<typeof buildEndpoint>[1]) {
  try {
    buildEndpoint(input, current, ctx)
  } catch (e) {
    if (e instanceof AppError) return { code: e.code, path: e.details?.[0]?.path }
    throw e
  }
  return undefined
}

describe('endpoint auth rules', () => {
  it('refuses Hookpost’s own headers and hop-by-hop ones, naming the header', () => {
    for (const name of [
      'webhook-signature',
      'x-delivery-attempt',
      'Content-Type',
      'user-agent',
      'traceparent',
      'host',
      'keep-alive',
      'te',
      'upgrade',
    ]) {
      expect(refusal({ headers: { [name]: 'v' } })).toEqual({
        code: 'header_not_allowed',
        path: `/headers/${name}`,
      })
    }
    expect(refusal({ headers: { authorization: 'x' } })).toBeUndefined()
    expect(
      refusal({ auth: { type: 'mtls', certificate: 'x', privateKey: 'y' }, headers: { authorization: 'x' } })
        ?.path,
    ).toMatch(/^\/(auth|headers)/)
    expect(refusal({ auth: { type: 'bearer', token: 't' }, headers: { Authorization: 'x' } })).toEqual({
      code: 'header_not_allowed',
      path: '/headers/Authorization',
    })
  })

  it('refuses bad names, values with control characters, and past the limits', () => {
    expect(refusal({ headers: { 'a b': 'v' } })?.code).toBe('header_invalid')
    expect(refusal({ headers: { 'x-a': 'v\nx' } })?.code).toBe('header_invalid')
    expect(refusal({ headers: { 'x-a': '' } })?.code).toBe('header_invalid')
    expect(refusal({ headers: { 'x-a': 'v'.repeat(2049) } })?.code).toBe('header_invalid')
    const many = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`x-${i}`, 'v']))
    expect(refusal({ headers: many })).toEqual({ code: 'header_invalid', path: '/headers' })
    const big = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`x-${i}`, 'v'.repeat(2000)]))
    expect(refusal({ headers: big })).toEqual({ code: 'header_invalid', path: '/headers' })
    expect(refusal({ headers: { 'X-A': 'v', 'x-a': 'w' } })?.code).toBe('header_invalid')
  })

  it('needs each secret on create; the token URL obeys the sending policy', () => {
    expect(refusal({ auth: { type: 'basic', username: 'u' } })).toEqual({
      code: 'endpoint_auth_invalid',
      path: '/auth/password',
    })
    expect(refusal({ auth: { type: 'bearer', token: '****' } })).toEqual({
      code: 'endpoint_auth_invalid',
      path: '/auth/token',
    })
    expect(refusal({ auth: { type: 'basic', username: 'a:b', password: 'p' } })?.path).toBe('/auth/username')
    expect(
      refusal({
        auth: { type: 'oauth2', tokenUrl: 'http://id.example.com/t', clientId: 'c', clientSecret: 's' },
      }),
    ).toEqual({ code: 'url_not_allowed', path: '/auth/tokenUrl' })
    expect(
      refusal({ auth: { type: 'oauth2', tokenUrl: 'https://id.example.com/t', clientId: 'c' } })?.path,
    ).toBe('/auth/clientSecret')
  })

  it('keeps stored secrets for **** or absent ones on update, of the same auth type only', () => {
    const first = buildEndpoint(
      { auth: { type: 'basic', username: 'u', password: 'p1' }, headers: { 'x-k': 'h1', 'x-l': 'l1' } },
      undefined,
      ctx,
    )!
    expect(presentEndpoint(first)).toEqual({
      auth: { type: 'basic', username: 'u', password: '****' },
      headers: { 'x-k': '****', 'x-l': '****' },
    })
    const kept = buildEndpoint(
      { auth: { type: 'basic', username: 'v', password: '****' }, headers: { 'x-k': '****' } },
      first,
      ctx,
    )!
    expect(openEndpointSecrets(box, 'env_1', 'sub_1', kept)).toEqual({
      password: 'p1',
      headers: { 'x-k': 'h1' },
    })
    const untouched = buildEndpoint({ headers: { 'x-k': 'h2' } }, first, ctx)!
    expect(untouched.auth).toEqual({ type: 'basic', username: 'u' })
    expect(openEndpointSecrets(box, 'env_1', 'sub_1', untouched)).toEqual({
      password: 'p1',
      headers: { 'x-k': 'h2' },
    })
    // Another type: its secret must be given.
    expect(refusal({ auth: { type: 'bearer', token: '****' } }, first)?.code).toBe('endpoint_auth_invalid')
    expect(refusal({ headers: { 'x-new': '****' } }, first)?.code).toBe('header_invalid')
    // Both removed: nothing stored.
    expect(buildEndpoint({ auth: null, headers: null }, first, ctx)).toBeNull()
    expect(buildEndpoint({}, first, ctx)).toBe(first)
  })
})

describe.skipIf(skipWithout(openssl))('client certificate checks', () => {
  let pki: TestPki
  beforeAll(() => {
    pki = makeTestPki()
  })
  afterAll(() => pki?.cleanup())

  it('accepts a matching pair valid now, refuses another key, garbage, and an expired certificate', () => {
    const now = Date.now()
    expect(() => checkClientIdentity(pki.client.cert, pki.client.key, now)).not.toThrow()
    const code = (f: () => void) => {
      try {
        f()
      } catch (e) {
        return (e as AppError).code
      }
      return undefined
    }
    expect(code(() => checkClientIdentity(pki.client.cert, pki.stranger.key, now))).toBe(
      'client_key_mismatch',
    )
    expect(code(() => checkClientIdentity('x', pki.client.key, now))).toBe('client_certificate_invalid')
    expect(code(() => checkClientIdentity(pki.client.cert, 'x', now))).toBe('client_certificate_invalid')
    const after = Date.parse(new X509Certificate(pki.client.cert).validTo) + 1000
    expect(code(() => checkClientIdentity(pki.client.cert, pki.client.key, after))).toBe(
      'client_certificate_expired',
    )
    const saved = buildEndpoint(
      { auth: { type: 'mtls', certificate: pki.client.cert, privateKey: pki.client.key } },
      undefined,
      ctx,
    )!
    expect(presentEndpoint(saved).auth).toEqual({
      type: 'mtls',
      certificate: pki.client.cert,
      privateKey: '****',
    })
    // **** keeps the stored key; the pair is checked again.
    expect(
      code(() =>
        buildEndpoint(
          { auth: { type: 'mtls', certificate: pki.stranger.cert, privateKey: '****' } },
          saved,
          ctx,
        ),
      ),
    ).toBe('client_key_mismatch')
  })
})
