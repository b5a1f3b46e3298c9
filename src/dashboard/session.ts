// The dashboard's cookie. Signed in, it holds a session token whose row in the store says who
// (src/sessions/dashboard-sessions.ts), so that signing out or revoking ends it on every node.
// Before that, it is an HMAC-signed anonymous token that only carries the sign-in form's CSRF
// token: nothing is stored for a visitor who has not signed in.
import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto'

/** Anonymous cookies only carry the sign-in form's CSRF token. */
export const anonymousSessionMs = 60 * 60_000

export const sessionCookieName = 'hookpost_session'
export const sessionCookiePath = '/dashboard'

/** The dashboard key derived from the master key, so every API process and restart agree. */
export function dashboardSessionKey(masterKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'hookpost dashboard sessions v1', 32))
}

export interface AnonymousSession {
  csrf: string
  exp: number
}

const b64 = (b: Buffer) => b.toString('base64url')

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** A signed-in session's CSRF token, derived from its (secret) session token. */
export function csrfOfSession(sessionToken: string): string {
  return b64(createHash('sha256').update('hookpost.csrf.v1.').update(sessionToken).digest()).slice(0, 32)
}

/** Signs and checks the anonymous cookie and the operator binding; each has its own MAC domain. */
export class DashboardTokens {
  readonly #key: () => Buffer

  /** key: at least 32 bytes; a function when it follows the master key files. */
  constructor(sessionKey: Buffer | (() => Buffer)) {
    const fixed = typeof sessionKey === 'function' ? undefined : sessionKey
    if (fixed && fixed.length < 32) throw new Error('the dashboard session key must be at least 32 bytes')
    this.#key = fixed ? () => fixed : (sessionKey as () => Buffer)
  }

  #mac(purpose: string, data: string): Buffer {
    return createHmac('sha256', this.#key()).update(`hookpost.${purpose}.v1.`).update(data).digest()
  }

  /** Ties operator sessions to the operator token: changing the token signs the operator out. */
  operatorBinding(adminToken: string): string {
    return b64(this.#mac('operator-binding', adminToken)).slice(0, 22)
  }

  newAnonymous(now: number): AnonymousSession {
    return { csrf: b64(randomBytes(24)), exp: now + anonymousSessionMs }
  }

  sealAnonymous(a: AnonymousSession): string {
    const data = b64(Buffer.from(JSON.stringify({ v: 2, c: a.csrf, e: a.exp }), 'utf8'))
    return `${data}.${b64(this.#mac('anonymous-session', data))}`
  }

  openAnonymous(token: string, now: number): AnonymousSession | undefined {
    if (token.length > 1024) return undefined
    const dot = token.indexOf('.')
    if (dot <= 0) return undefined
    const data = token.slice(0, dot)
    const sig = Buffer.from(token.slice(dot + 1), 'base64url')
    const expected = this.#mac('anonymous-session', data)
    if (sig.length !== expected.length || !timingSafeEqual(sig, expected)) return undefined
    let p: unknown
    try {
      p = JSON.parse(Buffer.from(data, 'base64url').toString('utf8'))
    } catch {
      return undefined
    }
    if (!isRecord(p) || p['v'] !== 2) return undefined
    const { c, e } = p
    if (typeof c !== 'string' || c.length === 0 || c.length > 100) return undefined
    if (typeof e !== 'number' || !Number.isSafeInteger(e) || e <= now || e > now + anonymousSessionMs)
      return undefined
    return { csrf: c, exp: e }
  }
}

/** Constant-time comparison of two CSRF tokens. */
export function sameToken(a: string | undefined, b: string): boolean {
  if (a === undefined) return false
  const x = Buffer.from(a, 'utf8')
  const y = Buffer.from(b, 'utf8')
  return x.length === y.length && timingSafeEqual(x, y)
}

export function serializeSessionCookie(value: string, opts: { maxAgeMs: number; secure: boolean }): string {
  const parts = [
    `${sessionCookieName}=${value}`,
    `Path=${sessionCookiePath}`,
    `Max-Age=${Math.max(0, Math.floor(opts.maxAgeMs / 1000))}`,
    'HttpOnly',
    'SameSite=Strict',
  ]
  if (opts.secure) parts.push('Secure')
  return parts.join('; ')
}

export function clearSessionCookie(secure: boolean): string {
  return serializeSessionCookie('', { maxAgeMs: 0, secure })
}

/** The session cookie's value from a Cookie header, if present. */
export function sessionCookieOf(header: string | undefined): string | undefined {
  if (!header) return undefined
  for (const part of header.split(';')) {
    const i = part.indexOf('=')
    if (i < 0) continue
    if (part.slice(0, i).trim() === sessionCookieName) return part.slice(i + 1).trim()
  }
  return undefined
}
