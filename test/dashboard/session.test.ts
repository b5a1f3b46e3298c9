import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  anonymousSessionMs,
  csrfOfSession,
  DashboardTokens,
  dashboardSessionKey,
  sameToken,
  serializeSessionCookie,
  sessionCookieOf,
} from '../../src/dashboard/session.ts'
import { KeyFileSecretBox, rotateKeyFiles } from '../../src/data-dir/master-key-files.ts'
import {
  hashToken,
  newSessionRow,
  sessionIdleMs,
  sessionMaxMs,
} from '../../src/sessions/dashboard-sessions.ts'

const t0 = 1_800_000_000_000
const tokens = new DashboardTokens(Buffer.alloc(32, 1))

describe('dashboard cookies', () => {
  it('round-trips an anonymous cookie and refuses another key, a changed payload, or an expired one', () => {
    const a = tokens.newAnonymous(t0)
    const sealed = tokens.sealAnonymous(a)
    expect(tokens.openAnonymous(sealed, t0 + 1000)).toEqual(a)
    expect(new DashboardTokens(Buffer.alloc(32, 2)).openAnonymous(sealed, t0)).toBeUndefined()
    const [data, sig] = sealed.split('.')
    const changed = JSON.parse(Buffer.from(data!, 'base64url').toString())
    changed.c = 'chosen-by-attacker'
    expect(
      tokens.openAnonymous(`${Buffer.from(JSON.stringify(changed)).toString('base64url')}.${sig}`, t0),
    ).toBeUndefined()
    expect(tokens.openAnonymous(sealed, t0 + anonymousSessionMs)).toBeUndefined()
    expect(tokens.openAnonymous('garbage', t0)).toBeUndefined()
    expect(tokens.openAnonymous('', t0)).toBeUndefined()
  })

  it('follows a key given as a function (the master key files)', () => {
    let key = Buffer.alloc(32, 3)
    const following = new DashboardTokens(() => key)
    const sealed = following.sealAnonymous(following.newAnonymous(t0))
    expect(following.openAnonymous(sealed, t0)).toBeDefined()
    key = Buffer.alloc(32, 4)
    expect(following.openAnonymous(sealed, t0)).toBeUndefined()
  })

  it("derives its key from the master key files' current key, following a rotation without a restart", () => {
    const dir = mkdtempSync(join(tmpdir(), 'hookpost-dashkey-'))
    try {
      rotateKeyFiles(dir)
      const box = new KeyFileSecretBox(dir)
      const first = box.currentKey()
      rotateKeyFiles(dir)
      expect(box.currentKey().id).not.toBe(first.id)
      expect(dashboardSessionKey(box.currentKey().key).equals(dashboardSessionKey(first.key))).toBe(false)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('binds operator sessions to the operator token', () => {
    expect(tokens.operatorBinding('a')).toBe(tokens.operatorBinding('a'))
    expect(tokens.operatorBinding('a')).not.toBe(tokens.operatorBinding('b'))
  })

  it('gives a signed-in session a CSRF token derived from, but not revealing, its token', () => {
    const { token, row } = newSessionRow({ kind: 'operator', binding: 'b' }, t0)
    expect(csrfOfSession(token)).toBe(csrfOfSession(token))
    expect(csrfOfSession(token)).not.toContain(token)
    expect(row.idHash).toBe(hashToken(token))
    expect(row.idHash).not.toBe(csrfOfSession(token))
  })

  it('ends a session after an idle hour, after 12 h, and a portal session when its link would have', () => {
    const op = newSessionRow({ kind: 'operator', binding: 'b' }, t0).row
    expect(op).toMatchObject({ idleExpires: t0 + sessionIdleMs, expires: t0 + sessionMaxMs })
    const portal = newSessionRow(
      { kind: 'portal', envId: 'env_1', portalLinkId: 'plk_1', until: t0 + 5 * 60_000 },
      t0,
    ).row
    expect(portal).toMatchObject({ idleExpires: t0 + 5 * 60_000, expires: t0 + 5 * 60_000 })
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
