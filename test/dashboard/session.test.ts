import { describe, expect, it } from 'vitest'
import {
  DashboardTokens,
  dashboardSessionKey,
  portalLinkMaxMs,
  sameToken,
  serializeSessionCookie,
  sessionCookieOf,
  sessionIdleMs,
  sessionMaxMs,
} from '../../src/dashboard/session.ts'

const t0 = 1_800_000_000_000
const tokens = new DashboardTokens(Buffer.alloc(32, 1))

describe('dashboard sessions', () => {
  it('round-trips a session and refuses another key, a changed payload, or an expired one', () => {
    const s = tokens.newSession(
      { kind: 'credential', envId: 'env_1', credentialId: 'key_1', credentialKey: 'hpk_1' },
      t0,
    )
    const sealed = tokens.sealSession(s)
    expect(tokens.openSession(sealed, t0 + 1000)).toEqual(s)
    expect(new DashboardTokens(Buffer.alloc(32, 2)).openSession(sealed, t0)).toBeUndefined()
    const [data, sig] = sealed.split('.')
    const changed = JSON.parse(Buffer.from(data!, 'base64url').toString())
    changed.s.envId = 'env_2'
    expect(
      tokens.openSession(`${Buffer.from(JSON.stringify(changed)).toString('base64url')}.${sig}`, t0),
    ).toBeUndefined()
    expect(tokens.openSession(sealed, t0 + sessionIdleMs)).toBeUndefined()
    expect(tokens.openSession('garbage', t0)).toBeUndefined()
    expect(tokens.openSession('', t0)).toBeUndefined()
  })

  it('slides the idle expiry forward but never past the absolute limit', () => {
    const s = tokens.newSession({ kind: 'portal', envId: 'env_1' }, t0)
    const later = tokens.refreshed(s, t0 + sessionIdleMs - 1)
    expect(later.exp).toBe(t0 + 2 * sessionIdleMs - 1)
    const end = tokens.refreshed(s, t0 + sessionMaxMs - 1000)
    expect(end.exp).toBe(t0 + sessionMaxMs)
    expect(tokens.openSession(tokens.sealSession(end), t0 + sessionMaxMs)).toBeUndefined()
  })

  it('binds operator sessions to the operator token', () => {
    expect(tokens.operatorBinding('a')).toBe(tokens.operatorBinding('a'))
    expect(tokens.operatorBinding('a')).not.toBe(tokens.operatorBinding('b'))
  })

  it('keeps portal links and session cookies apart, and caps a link at 24 h', () => {
    const link = tokens.issuePortalLink('env_1', 10 * portalLinkMaxMs, t0)
    expect(link.expires).toBe(t0 + portalLinkMaxMs)
    expect(tokens.openPortalLink(link.token, t0)).toEqual({ envId: 'env_1', expires: link.expires })
    expect(tokens.openPortalLink(link.token, link.expires)).toBeUndefined()
    expect(tokens.openSession(link.token, t0)).toBeUndefined()
    const cookie = tokens.sealSession(tokens.newSession({ kind: 'portal', envId: 'env_1' }, t0))
    expect(tokens.openPortalLink(cookie, t0)).toBeUndefined()
  })

  it('derives a stable 32-byte key from the master key', () => {
    const a = dashboardSessionKey(Buffer.alloc(32, 9))
    expect(a).toHaveLength(32)
    expect(a.equals(dashboardSessionKey(Buffer.alloc(32, 9)))).toBe(true)
    expect(a.equals(Buffer.alloc(32, 9))).toBe(false)
    expect(() => new DashboardTokens(Buffer.alloc(16))).toThrow()
  })

  it('writes the cookie HttpOnly, SameSite=Strict, Secure only on https, and reads it back', () => {
    expect(serializeSessionCookie('v', { maxAgeMs: 60_000, secure: true })).toBe(
      'hookpost_session=v; Path=/dashboard; Max-Age=60; HttpOnly; SameSite=Strict; Secure',
    )
    expect(serializeSessionCookie('v', { maxAgeMs: 60_000, secure: false })).not.toContain('Secure')
    expect(sessionCookieOf('a=1; hookpost_session=abc.def; b=2')).toBe('abc.def')
    expect(sessionCookieOf('a=1')).toBeUndefined()
    expect(sameToken('abc', 'abc')).toBe(true)
    expect(sameToken('abd', 'abc')).toBe(false)
    expect(sameToken(undefined, 'abc')).toBe(false)
    expect(sameToken('ab', 'abc')).toBe(false)
  })
})
