// Signing secrets in the Store: a rotation adds the new current secret and gives every older
// one without an expiry its date (at once if nobody was shown it, after the grace period if
// someone was). Run on SQLite and PostgreSQL.
import { describe, expect, it } from 'vitest'
import type { SigningSecretRow, Store } from '../../src/store/store.ts'
import { anEnvironment, aSecret, T0 } from './fixtures.ts'
import { freshStoreEachTest, type StoreHarness } from './store-harness.ts'

const grace = 86_400_000

export function secretsContract(name: string, makeHarness: () => Promise<StoreHarness>): void {
  describe(`${name}: signing secrets`, () => {
    let h: StoreHarness
    let store: Store
    freshStoreEachTest(makeHarness, (fresh) => {
      h = fresh
      store = fresh.store
    })

    it('rotates secrets: the previous one stays valid until it expires, current first', async () => {
      const env = await anEnvironment(store)
      const [first] = await store.secrets.listValid([env.id], T0)
      expect(first).toMatchObject({ revealed: false, expires: null })
      const next = aSecret(env.id, T0 + 10)
      await store.secrets.rotate(next, { revealed: T0 + 5000, unrevealed: T0 + 1000 })
      const valid = await store.secrets.listValid([env.id], T0 + 500)
      expect(valid.map((s) => s.id)).toEqual([next.id, first!.id])
      expect((await store.secrets.listValid([env.id], T0 + 1000)).map((s) => s.id)).toEqual([next.id])
    })

    it('expires the previous secret at the date given for its kind, shown or never shown, and returns it', async () => {
      const env = await anEnvironment(store)
      const [first] = await store.secrets.listValid([env.id], T0)
      const second = aSecret(env.id, T0 + 10)
      const dates = (t: number) => ({ revealed: t + 86_400_000, unrevealed: t })
      expect(await store.secrets.rotate(second, dates(T0 + 10))).toEqual([
        { ...first, expires: T0 + 10, revealed: false },
      ])
      expect((await store.secrets.listValid([env.id], T0 + 10)).map((s) => s.id)).toEqual([second.id])
      const third = aSecret(env.id, T0 + 20)
      expect(await store.secrets.rotate(third, dates(T0 + 20))).toEqual([
        { ...second, expires: T0 + 20 + 86_400_000 },
      ])
      const valid = await store.secrets.listValid([env.id], T0 + 30)
      expect(valid).toEqual([third, { ...second, expires: T0 + 20 + 86_400_000 }])
    })

    it('leaves one current secret after rotations started at once from several stores', async () => {
      const env = await anEnvironment(store)
      const stores = [store]
      if (h.second) stores.push(await h.second(), await h.second())
      try {
        // As the core rotates at t: the replaced secret, shown to someone, is kept for the grace.
        const rows = Array.from({ length: 12 }, (_, i) => aSecret(env.id, T0 + 100 + i))
        const replaced = await Promise.all(
          rows.map((row, i) =>
            stores[i % stores.length]!.secrets.rotate(row, {
              revealed: row.created + grace,
              unrevealed: row.created,
            }),
          ),
        )
        const all = await store.secrets.listAll(null, 100)
        const current = all.filter((s) => s.expires === null)
        expect(current).toHaveLength(1)
        // One chain: each rotation replaced the one secret current before it, each but the last once.
        expect(replaced.map((r) => r.length)).toEqual(rows.map(() => 1))
        expect(replaced.flatMap((r) => r.map((s) => s.id)).sort()).toEqual(
          all
            .filter((s) => s.expires !== null)
            .map((s) => s.id)
            .sort(),
        )
        // Every secret a rotation revealed is the current one or keeps signing through the grace.
        for (const row of rows) {
          const { expires } = all.find((s) => s.id === row.id)!
          if (expires === null) continue
          expect(expires).toBeGreaterThanOrEqual(T0 + 100 + grace)
          expect(expires).toBeLessThanOrEqual(T0 + 111 + grace)
        }
        const valid = await store.secrets.listValid([env.id], T0 + 200)
        expect(valid.map((s) => s.id).sort()).toEqual(rows.map((r) => r.id).sort())
        expect(valid[0]).toEqual(current[0])
      } finally {
        for (const s of stores.slice(1)) await s.close()
      }
    })

    it('lists the current secret first even when an older one was created later (clocks apart)', async () => {
      const env = await anEnvironment(store)
      const ahead = aSecret(env.id, T0 + 2000)
      const behind = aSecret(env.id, T0 + 1000)
      await store.secrets.rotate(ahead, { revealed: T0 + 2000 + grace, unrevealed: T0 + 2000 })
      await store.secrets.rotate(behind, { revealed: T0 + 1000 + grace, unrevealed: T0 + 1000 })
      const valid = await store.secrets.listValid([env.id], T0 + 3000)
      expect(valid.map((s) => s.id)).toEqual([behind.id, ahead.id])
    })

    it('lists every signing secret by id in pages and re-seals one in place', async () => {
      const a = await anEnvironment(store, 'a')
      const b = await anEnvironment(store, 'b')
      await store.secrets.rotate(aSecret(a.id, T0 + 10), { revealed: T0 + 100, unrevealed: T0 + 100 })
      const all: SigningSecretRow[] = []
      let after: string | null = null
      for (;;) {
        const page = await store.secrets.listAll(after, 2)
        if (page.length === 0) break
        expect(page.length).toBeLessThanOrEqual(2)
        all.push(...page)
        after = page[page.length - 1]!.id
      }
      expect(all).toHaveLength(3)
      expect(all.map((r) => r.id)).toEqual(all.map((r) => r.id).sort())
      expect(all.filter((r) => r.envId === a.id)).toHaveLength(2)
      expect(all.some((r) => r.expires === T0 + 100)).toBe(true)
      const target = all.find((r) => r.envId === b.id)!
      expect(await store.secrets.reseal(target.id, 'mk_new', 'ct-new')).toBe(true)
      expect(await store.secrets.reseal('sec_missing', 'mk_new', 'ct-new')).toBe(false)
      const again = await store.secrets.listValid([b.id], T0)
      expect(again).toEqual([{ ...target, keyId: 'mk_new', ciphertext: 'ct-new' }])
      const others = await store.secrets.listAll(null, 10)
      expect(others.filter((r) => r.id !== target.id)).toEqual(all.filter((r) => r.id !== target.id))
    })
  })
}
