// Dashboard sessions and portal links: HMAC-signed tokens under the session key, never stored.
// A session cookie names who signed in (the operator, a consumer credential, or an environment
// reached through a portal link) and carries its CSRF token; the principal is re-checked on
// every request, so a revoked credential stops working at once.
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto'

/** Idle expiry: every authenticated request pushes it forward, up to the absolute limit. */
export const sessionIdleMs = 60 * 60_000
/** Absolute expiry, counted from sign-in. */
export const sessionMaxMs = 12 * 60 * 60_000
/** Anonymous sessions only carry the sign-in form's CSRF token. */
export const anonymousSessionMs = 60 * 60_000

export const portalLinkDefaultMs = 60 * 60_000
export const portalLinkMinMs = 60_000
export const portalLinkMaxMs = 24 * 60 * 60_000

export const sessionCookieName = 'hookpost_session'
export const sessionCookiePath = '/dashboard'

/** The dashboard key derived from the master key, so every API process and restart agree. */
export function dashboardSessionKey(masterKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'hookpost dashboard sessions v1', 32))
}

export type SessionSubject =
  | { kind: 'anonymous' }
  | { kind: 'operator'; binding: string }
  | { kind: 'credential'; envId: string; credentialId: string; credentialKey: string }
  | { kind: 'portal'; envId: string }

export interface Session {
  subject: SessionSubject
  csrf: string
  /** When the subject signed in (anonymous: when the session began). */
  auth: number
  exp: number
}

const b64 = (b: Buffer) => b.toString('base64url')

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

const str = (v: unknown, max = 300): v is string => typeof v === 'string' && v.length > 0 && v.length <= max
const num = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v)

function parseSubject(v: unknown): SessionSubject | undefined {
  if (!isRecord(v)) return undefined
  switch (v['kind']) {
    case 'anonymous':
      return { kind: 'anonymous' }
    case 'operator':
      return str(v['binding']) ? { kind: 'operator', binding: v['binding'] } : undefined
    case 'credential':
      return str(v['envId']) && str(v['credentialId']) && str(v['credentialKey'])
        ? {
            kind: 'credential',
            envId: v['envId'],
            credentialId: v['credentialId'],
            credentialKey: v['credentialKey'],
          }
        : undefined
    case 'portal':
      return str(v['envId']) ? { kind: 'portal', envId: v['envId'] } : undefined
    default:
      return undefined
  }
}

/** Signs and checks the dashboard's tokens; each purpose has its own MAC domain. */
export class DashboardTokens {
  readonly #key: Buffer

  constructor(sessionKey: Buffer) {
    if (sessionKey.length < 32) throw new Error('the dashboard session key must be at least 32 bytes')
    this.#key = sessionKey
  }

  #mac(purpose: string, data: string): Buffer {
    return createHmac('sha256', this.#key).update(`hookpost.${purpose}.v1.`).update(data).digest()
  }

  #sign(purpose: string, payload: unknown): string {
    const data = b64(Buffer.from(JSON.stringify(payload), 'utf8'))
    return `${data}.${b64(this.#mac(purpose, data))}`
  }

  #open(purpose: string, token: string): Record<string, unknown> | undefined {
    if (token.length > 4096) return undefined
    const dot = token.indexOf('.')
    if (dot <= 0) return undefined
    const data = token.slice(0, dot)
    const sig = Buffer.from(token.slice(dot + 1), 'base64url')
    const expected = this.#mac(purpose, data)
    if (sig.length !== expected.length || !timingSafeEqual(sig, expected)) return undefined
    try {
      const v: unknown = JSON.parse(Buffer.from(data, 'base64url').toString('utf8'))
      return isRecord(v) ? v : undefined
    } catch {
      return undefined
    }
  }

  /** Ties operator sessions to the operator token: changing the token signs the operator out. */
  operatorBinding(adminToken: string): string {
    return b64(this.#mac('operator-binding', adminToken)).slice(0, 22)
  }

  newSession(subject: SessionSubject, now: number): Session {
    const ttl = subject.kind === 'anonymous' ? anonymousSessionMs : sessionIdleMs
    return { subject, csrf: b64(randomBytes(24)), auth: now, exp: now + ttl }
  }

  /** The same session with its idle expiry pushed forward (never past the absolute limit). */
  refreshed(s: Session, now: number): Session {
    if (s.subject.kind === 'anonymous') return s
    return { ...s, exp: Math.min(now + sessionIdleMs, s.auth + sessionMaxMs) }
  }

  sealSession(s: Session): string {
    return this.#sign('session', { v: 1, s: s.subject, c: s.csrf, a: s.auth, e: s.exp })
  }

  openSession(token: string, now: number): Session | undefined {
    const p = this.#open('session', token)
    if (p?.['v'] !== 1) return undefined
    const subject = parseSubject(p['s'])
    const csrf = p['c']
    const auth = p['a']
    const exp = p['e']
    if (!subject || !str(csrf, 100) || !num(auth) || !num(exp)) return undefined
    if (exp <= now || exp > auth + sessionMaxMs) return undefined
    return { subject, csrf, auth, exp }
  }

  /** A portal link token: consumer rights in one environment until it expires. */
  issuePortalLink(envId: string, ttlMs: number, now: number): { token: string; expires: number } {
    const expires = now + Math.min(Math.max(ttlMs, portalLinkMinMs), portalLinkMaxMs)
    return { token: this.#sign('portal-link', { v: 1, env: envId, exp: expires }), expires }
  }

  openPortalLink(token: string, now: number): { envId: string; expires: number } | undefined {
    const p = this.#open('portal-link', token)
    if (p?.['v'] !== 1 || !str(p['env']) || !num(p['exp']) || p['exp'] <= now) return undefined
    return { envId: p['env'], expires: p['exp'] }
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
