// Portal links: a one-time link that opens an environment's consumer portal without a
// credential. The link holds a random token; the store keeps its SHA-256 and whether it was
// used. Opening it starts a session that ends no later than the link would have; the operator
// lists the links that have not expired and revokes one (ending the session it started).
import { AppError } from '../shared/errors.ts'
import { newId, randomToken } from '../shared/ids.ts'
import type { DashboardSessionRow, PortalLinkRow, Store } from '../store/store.ts'
import { hashToken, newSessionRow } from './dashboard-sessions.ts'

export const portalLinkDefaultMs = 60 * 60_000
export const portalLinkMinMs = 60_000
export const portalLinkMaxMs = 24 * 60 * 60_000

const linkTokenPattern = /^hpl_[0-9A-Za-z]{43}$/

export function portalLinks(deps: { store: Store; now: () => number }) {
  const { store, now } = deps

  async function requireEnvironment(envId: string): Promise<void> {
    if (!(await store.environments.get(envId))) throw new AppError('environment_not_found')
  }

  return {
    /** A new link (ttl clamped to 1 min..24 h); the token is shown this once. */
    async issue(envId: string, ttlMs = portalLinkDefaultMs): Promise<{ link: PortalLinkRow; token: string }> {
      await requireEnvironment(envId)
      const t = now()
      const token = `hpl_${randomToken(43)}`
      const link: PortalLinkRow = {
        id: newId('plk', t),
        envId,
        tokenHash: hashToken(token),
        created: t,
        expires: t + Math.min(Math.max(ttlMs, portalLinkMinMs), portalLinkMaxMs),
        used: null,
      }
      await store.portalLinks.create(link)
      return { link, token }
    },

    /** The environment's links that have not expired, used or not, newest first. */
    async list(envId: string): Promise<PortalLinkRow[]> {
      await requireEnvironment(envId)
      return store.portalLinks.list(envId, now())
    },

    /** Voids a link and ends the session it started. */
    async revoke(envId: string, id: string): Promise<void> {
      await requireEnvironment(envId)
      if (!(await store.portalLinks.revoke(envId, id, now()))) throw new AppError('portal_link_not_found')
    },

    /** Uses the link once: a session in its environment until the link would expire (12 h at most). */
    async redeem(token: string): Promise<{ token: string; session: DashboardSessionRow } | undefined> {
      if (!linkTokenPattern.test(token)) return undefined
      const t = now()
      let sessionToken: string | undefined
      const session = await store.portalLinks.redeem(hashToken(token), t, (link) => {
        const s = newSessionRow(
          { kind: 'portal', envId: link.envId, portalLinkId: link.id, until: link.expires },
          t,
        )
        sessionToken = s.token
        return s.row
      })
      return session && sessionToken !== undefined ? { token: sessionToken, session } : undefined
    },
  }
}

export type PortalLinks = ReturnType<typeof portalLinks>
