// The Store contract for dashboard sessions and portal links, run on every adapter beside the
// main suite (store.contract.ts): every node reads the same rows, so what one ends is ended.
import { describe, expect, it } from 'vitest'
import { newId } from '../../src/shared/ids.ts'
import type { DashboardSessionRow, PortalLinkRow, Store } from '../../src/store/store.ts'
import { anEnvironmentId, T0 } from './fixtures.ts'
import { freshStoreEachTest, type StoreHarness } from './store-harness.ts'

const hour = 3_600_000

function aSession(over: Partial<DashboardSessionRow> = {}): DashboardSessionRow {
  return {
    idHash: `h-${newId('plk')}`,
    kind: 'operator',
    envId: null,
    credentialId: null,
    portalLinkId: null,
    binding: 'bind',
    label: 'operator',
    created: T0,
    idleExpires: T0 + hour,
    expires: T0 + 12 * hour,
    ...over,
  }
}

function aLink(envId: string, over: Partial<PortalLinkRow> = {}): PortalLinkRow {
  return {
    id: newId('plk', T0),
    envId,
    tokenHash: `t-${newId('plk')}`,
    created: T0,
    expires: T0 + hour,
    used: null,
    ...over,
  }
}

const portalSession = (link: PortalLinkRow) =>
  aSession({
    kind: 'portal',
    envId: link.envId,
    portalLinkId: link.id,
    binding: null,
    label: 'portal link',
    expires: link.expires,
  })

export function accessContract(name: string, makeHarness: () => Promise<StoreHarness>): void {
  describe(`${name}: Store contract, dashboard sessions and portal links`, () => {
    let h: StoreHarness
    let store: Store
    freshStoreEachTest(makeHarness, (fresh) => {
      h = fresh
      store = fresh.store
    })

    it('finds a session until its idle or absolute expiry, moves the idle one, and ends it', async () => {
      const s = aSession()
      await store.dashboardSessions.create(s)
      expect(await store.dashboardSessions.get(s.idHash, T0 + 1)).toEqual(s)
      expect(await store.dashboardSessions.get(s.idHash, T0 + hour)).toBeUndefined()
      await store.dashboardSessions.touch(s.idHash, T0 + 2 * hour)
      expect((await store.dashboardSessions.get(s.idHash, T0 + hour))?.idleExpires).toBe(T0 + 2 * hour)
      await store.dashboardSessions.touch(s.idHash, T0 + 20 * hour)
      expect(await store.dashboardSessions.get(s.idHash, T0 + 12 * hour)).toBeUndefined()
      expect(await store.dashboardSessions.get('unknown', T0)).toBeUndefined()
      expect(await store.dashboardSessions.delete(s.idHash)).toBe(true)
      expect(await store.dashboardSessions.get(s.idHash, T0 + 1)).toBeUndefined()
      expect(await store.dashboardSessions.delete(s.idHash)).toBe(false)
    })

    it('ends every session at once, and sweeps the expired ones only', async () => {
      const live = aSession()
      const idle = aSession({ idleExpires: T0 + 10 })
      const old = aSession({ expires: T0 + 10 })
      for (const s of [live, idle, old]) await store.dashboardSessions.create(s)
      expect(await store.dashboardSessions.sweep(T0 + 10)).toBe(2)
      expect(await store.dashboardSessions.get(live.idHash, T0 + 10)).toBeDefined()
      await store.dashboardSessions.create(aSession())
      expect(await store.dashboardSessions.deleteAll()).toBe(2)
      expect(await store.dashboardSessions.get(live.idHash, T0 + 10)).toBeUndefined()
    })

    it("ends a credential's sessions when it is revoked, on another node's view too", async () => {
      const envId = await anEnvironmentId(store)
      const credentialId = newId('key')
      await store.credentials.create({
        id: credentialId,
        envId,
        role: 'consumer',
        name: null,
        key: `hpk_${credentialId}`,
        secretHash: 'h',
        created: T0,
        revoked: null,
      })
      const mine = aSession({ kind: 'credential', envId, credentialId, binding: null, label: 'web' })
      const operator = aSession()
      await store.dashboardSessions.create(mine)
      await store.dashboardSessions.create(operator)
      const other = h.second ? await h.second() : undefined
      const second = other ?? store
      try {
        expect(await second.dashboardSessions.get(mine.idHash, T0 + 1)).toEqual(mine)
        expect(await store.credentials.revoke(envId, credentialId, T0 + 1)).toBe(true)
        expect(await second.dashboardSessions.get(mine.idHash, T0 + 1)).toBeUndefined()
        expect(await second.dashboardSessions.get(operator.idHash, T0 + 1)).toBeDefined()
        // A sign-in that raced the revocation and inserted its session after it is not honoured.
        const late = aSession({ kind: 'credential', envId, credentialId, binding: null, label: 'web' })
        await store.dashboardSessions.create(late)
        expect(await second.dashboardSessions.get(late.idHash, T0 + 2)).toBeUndefined()
      } finally {
        await other?.close()
      }
    })

    it('redeems a link once, starting its session in the same step; lists links until they expire', async () => {
      const envId = await anEnvironmentId(store)
      const otherEnv = await anEnvironmentId(store)
      const link = aLink(envId)
      const later = aLink(envId, { id: newId('plk', T0 + 1), expires: T0 + 2 * hour })
      for (const l of [link, later, aLink(otherEnv)]) await store.portalLinks.create(l)
      expect((await store.portalLinks.list(envId, T0)).map((l) => l.id)).toEqual([later.id, link.id])

      let started: DashboardSessionRow | undefined
      const session = await store.portalLinks.redeem(link.tokenHash, T0 + 5, (l) => {
        expect(l).toEqual({ ...link, used: T0 + 5 })
        started = portalSession(l)
        return started
      })
      expect(session).toEqual(started)
      expect(await store.dashboardSessions.get(started!.idHash, T0 + 6)).toEqual(started)
      const again = await store.portalLinks.redeem(link.tokenHash, T0 + 6, () => {
        throw new Error('a used link must not start a session')
      })
      expect(again).toBeUndefined()
      expect((await store.portalLinks.list(envId, T0 + 6)).find((l) => l.id === link.id)?.used).toBe(T0 + 5)
      // Expired: not redeemed, not listed, swept.
      expect(await store.portalLinks.redeem(later.tokenHash, later.expires, portalSession)).toBeUndefined()
      expect((await store.portalLinks.list(envId, link.expires)).map((l) => l.id)).toEqual([later.id])
      // `link` and the other environment's, both expired by then.
      expect(await store.portalLinks.sweep(link.expires)).toBe(2)
      expect((await store.portalLinks.list(envId, T0)).map((l) => l.id)).toEqual([later.id])
    })

    it('gives one of two concurrent openings of a link the session', async () => {
      const envId = await anEnvironmentId(store)
      const link = aLink(envId)
      await store.portalLinks.create(link)
      const other = h.second ? await h.second() : undefined
      try {
        const r = await Promise.all(
          [store, other ?? store].map((s) => s.portalLinks.redeem(link.tokenHash, T0 + 1, portalSession)),
        )
        expect(r.filter((x) => x !== undefined)).toHaveLength(1)
      } finally {
        await other?.close()
      }
    })

    it('revokes a link of its own environment only, ending the session it started', async () => {
      const envId = await anEnvironmentId(store)
      const otherEnv = await anEnvironmentId(store)
      const link = aLink(envId)
      await store.portalLinks.create(link)
      const s = await store.portalLinks.redeem(link.tokenHash, T0 + 1, portalSession)
      expect(await store.portalLinks.revoke(otherEnv, link.id, T0 + 2)).toBe(false)
      expect(await store.portalLinks.revoke(envId, link.id, T0 + 2)).toBe(true)
      expect(await store.dashboardSessions.get(s!.idHash, T0 + 2)).toBeUndefined()
      expect(await store.portalLinks.list(envId, T0 + 2)).toEqual([])
      expect(await store.portalLinks.revoke(envId, link.id, T0 + 2)).toBe(false)
    })

    it('voids every link at once (master key rotation)', async () => {
      const envId = await anEnvironmentId(store)
      const link = aLink(envId)
      await store.portalLinks.create(link)
      await store.portalLinks.create(aLink(envId))
      expect(await store.portalLinks.deleteAll()).toBe(2)
      expect(await store.portalLinks.redeem(link.tokenHash, T0 + 1, portalSession)).toBeUndefined()
    })
  })
}
