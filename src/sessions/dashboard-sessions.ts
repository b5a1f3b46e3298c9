// Dashboard sessions, kept in the store so that every node agrees on them: signing out,
// revoking a credential or a portal link, and master key rotation end a session everywhere at
// once. The cookie holds a random token; the store keeps only its SHA-256, so a copy of the
// database signs no one in.
import { createHash } from 'node:crypto'
import { randomToken } from '../shared/ids.ts'
import type { DashboardSessionRow, Store } from '../store/store.ts'

/** Idle expiry: use pushes it forward, up to the absolute limit. */
export const sessionIdleMs = 60 * 60_000
/** Absolute expiry, counted from sign-in (a portal link's session: at most the link's expiry). */
export const sessionMaxMs = 12 * 60 * 60_000
/** The idle expiry is written again only when use moved it this much (one write a minute at most). */
export const sessionTouchMs = 60_000

const sessionTokenPrefix = 'hds_'
const sessionTokenPattern = /^hds_[0-9A-Za-z]{43}$/

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex')
}

export type SessionStart =
  | { kind: 'operator'; binding: string }
  | { kind: 'credential'; envId: string; credentialId: string; label: string }

/** A new session row (idle and absolute expiry from now; never past `until`) and its token. */
export function newSessionRow(
  start: SessionStart | { kind: 'portal'; envId: string; portalLinkId: string; until: number },
  now: number,
): { token: string; row: DashboardSessionRow } {
  const token = `${sessionTokenPrefix}${randomToken(43)}`
  const expires = Math.min(now + sessionMaxMs, start.kind === 'portal' ? start.until : Infinity)
  return {
    token,
    row: {
      idHash: hashToken(token),
      kind: start.kind,
      envId: start.kind === 'operator' ? null : start.envId,
      credentialId: start.kind === 'credential' ? start.credentialId : null,
      portalLinkId: start.kind === 'portal' ? start.portalLinkId : null,
      binding: start.kind === 'operator' ? start.binding : null,
      label: start.kind === 'credential' ? start.label : start.kind === 'portal' ? 'portal link' : 'operator',
      created: now,
      idleExpires: Math.min(now + sessionIdleMs, expires),
      expires,
    },
  }
}

export function isSessionToken(v: string): boolean {
  return sessionTokenPattern.test(v)
}

export function dashboardSessions(deps: { store: Store; now: () => number }) {
  const { store, now } = deps
  return {
    async start(start: SessionStart): Promise<{ token: string; session: DashboardSessionRow }> {
      const { token, row } = newSessionRow(start, now())
      await store.dashboardSessions.create(row)
      return { token, session: row }
    },

    /** The live session this token names, its idle expiry pushed forward; undefined otherwise. */
    async resolve(token: string): Promise<DashboardSessionRow | undefined> {
      if (!isSessionToken(token)) return undefined
      const t = now()
      const s = await store.dashboardSessions.get(hashToken(token), t)
      if (!s) return undefined
      const idle = Math.min(t + sessionIdleMs, s.expires)
      if (idle - s.idleExpires < sessionTouchMs) return s
      await store.dashboardSessions.touch(s.idHash, idle)
      return { ...s, idleExpires: idle }
    },

    /** Signs out: the token stops working on every node. */
    async end(token: string): Promise<void> {
      if (isSessionToken(token)) await store.dashboardSessions.delete(hashToken(token))
    },
  }
}

export type DashboardSessions = ReturnType<typeof dashboardSessions>

/** Master key rotation (the answer to a suspected compromise): every session and portal link ends. */
export async function endAllAccess(store: Store): Promise<{ sessions: number; portalLinks: number }> {
  const portalLinks = await store.portalLinks.deleteAll()
  const sessions = await store.dashboardSessions.deleteAll()
  return { sessions, portalLinks }
}
