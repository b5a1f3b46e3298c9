// One conformance suite for every Store adapter. An adapter's test file is a harness plus one
// call to storeContract. Known divergences would be declared in the harness, never hidden here.
import { describe, expect, it } from 'vitest'
import { completionRules } from '../../src/deliveries/completion-rules.ts'
import { newId } from '../../src/shared/ids.ts'
import {
  type AuditEntryRow,
  type CompleteInput,
  freshHealth,
  type PublishInput,
  type Store,
} from '../../src/store/store.ts'
import { anEnvironment, aSubscription, T0 } from './fixtures.ts'
import { freshStoreEachTest, type StoreHarness } from './store-harness.ts'

const noDisable = completionRules({ disableAfterMs: 1e12 })

interface EventOver {
  eventName?: string
  key?: string | null
  at?: number
  body?: Buffer
  orderingKey?: string | null
}

async function publish(store: Store, envId: string, over: EventOver = {}) {
  return store.events.publish(aPublishInput(envId, over))
}

function aPublishInput(envId: string, over: EventOver = {}): PublishInput {
  const at = over.at ?? T0
  return {
    event: {
      id: newId('evt', at),
      envId,
      eventName: over.eventName ?? 'site.publish',
      body: over.body ?? Buffer.from('{"eventName":"site.publish"}'),
      orderingKey: over.orderingKey ?? null,
      created: at,
    },
    idempotencyKey: over.key ?? null,
    idempotencySince: at - 86_400_000,
    attemptLimit: 3,
    newDeliveryId: () => newId('dlv', at),
  }
}

/** What a failed promise was rejected with. */
const rejection = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  )

function done(
  id: string,
  leaseToken: string,
  number: number,
  outcome: CompleteInput['outcome'],
  statusCode = 200,
): CompleteInput {
  return {
    id,
    leaseToken,
    statusCode,
    error: null,
    outcome,
    attempt: {
      deliveryId: id,
      number,
      started: T0,
      durationMs: 5,
      statusCode,
      error: null,
      responseBody: 'ok',
      requestHeaders: { 'webhook-id': id },
      responseHeaders: { 'content-type': 'text/plain' },
    },
  }
}

const claimAll = async (store: Store, now = T0, exclude: string[] = []) =>
  (await store.deliveries.claimDue({ now, limit: 1000, leaseMs: 60_000, scan: { exclude } })).deliveries

export function storeContract(name: string, makeHarness: () => Promise<StoreHarness>): void {
  describe(`${name}: Store contract`, () => {
    let h: StoreHarness
    let store: Store
    freshStoreEachTest(makeHarness, (fresh) => {
      h = fresh
      store = fresh.store
    })

    it('migrates twice without harm', async () => {
      await store.migrate()
      expect(await store.environments.list()).toEqual([])
    })

    it('creates, lists and gets environments', async () => {
      const a = await anEnvironment(store, 'a')
      const b = await anEnvironment(store, 'b')
      expect((await store.environments.list()).map((e) => e.id).sort()).toEqual([a.id, b.id].sort())
      expect(await store.environments.get(a.id)).toEqual(a)
      expect(await store.environments.get('env_missing')).toBeUndefined()
    })

    it('finds credentials by key and revokes them in their own environment only', async () => {
      const env = await anEnvironment(store)
      const other = await anEnvironment(store, 'other')
      const row = {
        id: newId('key'),
        envId: env.id,
        role: 'consumer' as const,
        name: null,
        key: 'hpk_abc',
        secretHash: 'h',
        created: T0,
        revoked: null,
      }
      await store.credentials.create(row)
      expect(await store.credentials.findByKey('hpk_abc')).toEqual(row)
      expect(await store.credentials.list(env.id)).toEqual([row])
      expect(await store.credentials.list(other.id)).toEqual([])
      expect(await store.credentials.revoke(other.id, row.id, T0 + 1)).toBe(false)
      expect(await store.credentials.revoke(env.id, row.id, T0 + 1)).toBe(true)
      expect((await store.credentials.findByKey('hpk_abc'))?.revoked).toBe(T0 + 1)
      expect(await store.credentials.revoke(env.id, row.id, T0 + 2)).toBe(false)
    })

    it('keeps Ed25519 key pairs per environment, up to the limit given, and deletes them there only', async () => {
      const env = await anEnvironment(store)
      const other = await anEnvironment(store, 'other')
      const pair = (envId: string, created: number) => ({
        id: newId('spk', created),
        envId,
        type: 'ed25519' as const,
        publicKey: `whpk_${created}`,
        keyId: 'mk_1',
        ciphertext: `c${created}`,
        created,
      })
      const a = pair(env.id, T0)
      const b = pair(env.id, T0 + 1)
      const c = pair(other.id, T0 + 2)
      expect(await store.signingKeyPairs.create(a, 2)).toBe(true)
      expect(await store.signingKeyPairs.create(b, 2)).toBe(true)
      expect(await store.signingKeyPairs.create(pair(env.id, T0 + 3), 2)).toBe(false)
      expect(await store.signingKeyPairs.create(c, 2)).toBe(true)
      expect(await store.signingKeyPairs.list([env.id])).toEqual([a, b])
      expect(await store.signingKeyPairs.list([env.id, other.id])).toEqual([a, b, c])
      expect(await store.signingKeyPairs.delete(other.id, a.id)).toBe(false)
      expect(await store.signingKeyPairs.delete(env.id, a.id)).toBe(true)
      expect(await store.signingKeyPairs.reseal(b.id, 'mk_2', 'sealed again')).toBe(true)
      expect(await store.signingKeyPairs.reseal(a.id, 'mk_2', 'x')).toBe(false)
      expect(await store.signingKeyPairs.listAll(null, 10)).toEqual(
        [{ ...b, keyId: 'mk_2', ciphertext: 'sealed again' }, c].sort((x, y) => (x.id < y.id ? -1 : 1)),
      )
    })

    it('fans an event out to the active subscriptions of its type in its environment only', async () => {
      const env = await anEnvironment(store)
      const other = await anEnvironment(store, 'other')
      const s1 = await aSubscription(store, env.id)
      const s2 = await aSubscription(store, env.id)
      await aSubscription(store, env.id, { active: false })
      await aSubscription(store, env.id, { event: 'booking.updated' })
      await aSubscription(store, other.id)
      const r = await publish(store, env.id)
      expect(r).toMatchObject({ deliveries: 2, replayed: false, eventName: 'site.publish' })
      const list = await store.deliveries.list(env.id, { limit: 10 })
      expect(list.map((d) => d.subscriptionId).sort()).toEqual([s1.id, s2.id].sort())
      expect(list.every((d) => d.status === 'pending' && d.attempts === 0 && d.eventId === r.eventId)).toBe(
        true,
      )
      expect(await store.deliveries.list(other.id, { limit: 10 })).toEqual([])
    })

    it('keeps the body bytes exactly, whatever they are', async () => {
      const env = await anEnvironment(store)
      await aSubscription(store, env.id)
      const body = Buffer.from([
        0x7b, 0x22, 0x61, 0x22, 0x3a, 0x31, 0x2e, 0x30, 0x20, 0x20, 0xc3, 0xa9, 0x0a, 0x7d,
      ])
      await publish(store, env.id, { body })
      const [c] = await claimAll(store)
      expect(Buffer.compare(c!.body, body)).toBe(0)
    })

    it("reads an event's body byte for byte, in its own environment only", async () => {
      const env = await anEnvironment(store)
      const other = await anEnvironment(store, 'other')
      const body = Buffer.from('{\r\n"a":1.50,"b":"é ✓"}', 'utf8')
      const r = await publish(store, env.id, { body })
      const event = await store.events.get(env.id, r.eventId)
      expect(event).toMatchObject({ id: r.eventId, envId: env.id, eventName: 'site.publish' })
      expect(Buffer.compare(event!.body, body)).toBe(0)
      expect(await store.events.get(other.id, r.eventId)).toBeUndefined()
      expect(await store.events.get(env.id, 'evt_missing')).toBeUndefined()
    })

    it('returns the first event for a repeated Idempotency-Key within the window, and frees the key after', async () => {
      const env = await anEnvironment(store)
      await aSubscription(store, env.id)
      const first = await publish(store, env.id, { key: 'k1' })
      const again = await publish(store, env.id, { key: 'k1', at: T0 + 1000 })
      expect(again).toEqual({ ...first, replayed: true })
      expect(await store.deliveries.list(env.id, { limit: 10 })).toHaveLength(1)
      const other = await anEnvironment(store, 'other')
      await aSubscription(store, other.id)
      expect((await publish(store, other.id, { key: 'k1' })).replayed).toBe(false)
      const later = await publish(store, env.id, { key: 'k1', at: T0 + 86_400_001 })
      expect(later.replayed).toBe(false)
      expect(later.eventId).not.toBe(first.eventId)
    })

    it('refuses a repeated Idempotency-Key with other bytes (idempotency_key_reused), writing nothing', async () => {
      const env = await anEnvironment(store)
      await aSubscription(store, env.id)
      const body = Buffer.from('{"eventName":"site.publish","site":{"ref":1}}')
      const first = await publish(store, env.id, { key: 'k1', body })
      const e = await rejection(publish(store, env.id, { key: 'k1', at: T0 + 1, body: Buffer.from(' {}') }))
      expect(e).toMatchObject({ code: 'idempotency_key_reused' })
      expect(await store.deliveries.list(env.id, { limit: 10 })).toHaveLength(1)
      expect(await publish(store, env.id, { key: 'k1', at: T0 + 2, body: Buffer.from(body) })).toEqual({
        ...first,
        replayed: true,
      })
    })

    it('publishes a batch in one commit, in order, with keys answered from earlier events or items', async () => {
      const env = await anEnvironment(store)
      await aSubscription(store, env.id)
      await aSubscription(store, env.id, { event: 'booking.updated' })
      const earlier = await publish(store, env.id, { key: 'k0' })
      const rs = await store.events.publishBatch([
        aPublishInput(env.id, { key: 'k0', at: T0 + 1 }),
        aPublishInput(env.id, { key: 'k1', at: T0 + 1, eventName: 'booking.updated' }),
        aPublishInput(env.id, { at: T0 + 1 }),
        aPublishInput(env.id, { key: 'k1', at: T0 + 1, eventName: 'booking.updated' }),
      ])
      expect(rs[0]).toEqual({ ...earlier, replayed: true })
      expect(rs[1]).toMatchObject({ eventName: 'booking.updated', deliveries: 1, replayed: false })
      expect(rs[2]).toMatchObject({ eventName: 'site.publish', deliveries: 1, replayed: false })
      expect(rs[3]).toEqual({ ...rs[1], replayed: true })
      const ds = await store.deliveries.list(env.id, { limit: 10 })
      expect(ds.map((d) => d.eventId).sort()).toEqual(
        [earlier.eventId, rs[1]!.eventId, rs[2]!.eventId].sort(),
      )
    })

    it('writes nothing of a batch when one item fails, naming the item, while publishes beside it commit', async () => {
      const env = await anEnvironment(store)
      await aSubscription(store, env.id)
      await publish(store, env.id, { key: 'k1' })
      const [before, failed, after] = await Promise.allSettled([
        publish(store, env.id, { at: T0 + 1 }),
        store.events.publishBatch([
          aPublishInput(env.id, { at: T0 + 1 }),
          aPublishInput(env.id, { at: T0 + 1 }),
          aPublishInput(env.id, { key: 'k1', at: T0 + 1, body: Buffer.from('{"other":1}') }),
        ]),
        publish(store, env.id, { at: T0 + 1 }),
      ])
      expect(failed).toMatchObject({
        status: 'rejected',
        reason: { code: 'idempotency_key_reused', details: [{ path: '/events/2/idempotencyKey' }] },
      })
      expect([before?.status, after?.status]).toEqual(['fulfilled', 'fulfilled'])
      expect(await store.deliveries.list(env.id, { limit: 10 })).toHaveLength(3)
    })

    it('answers a key raced by two publishes with one event, or idempotency_key_reused for other bytes', async () => {
      // Two stores where the adapter has them (two API nodes), else two publishes of one store.
      const other = h.second ? await h.second() : store
      try {
        const env = await anEnvironment(store)
        await aSubscription(store, env.id)
        const same = await Promise.all([
          publish(store, env.id, { key: 'race' }),
          other.events.publishBatch([aPublishInput(env.id, { key: 'race' })]),
        ])
        expect(same[1][0]!.eventId).toBe(same[0].eventId)
        const differ = await Promise.allSettled([
          publish(store, env.id, { key: 'race2', body: Buffer.from('{"a":1}') }),
          other.events.publish(aPublishInput(env.id, { key: 'race2', body: Buffer.from('{"a":2}') })),
        ])
        expect(differ.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected'])
        expect(differ.find((r) => r.status === 'rejected')).toMatchObject({
          reason: { code: 'idempotency_key_reused' },
        })
        expect(await store.deliveries.list(env.id, { limit: 10 })).toHaveLength(2)
      } finally {
        if (other !== store) await other.close()
      }
    })

    it('claims due deliveries under a lease: attempts go up at claim time, a held lease is not claimed twice', async () => {
      const env = await anEnvironment(store)
      await aSubscription(store, env.id)
      await publish(store, env.id)
      const [c] = await claimAll(store)
      expect(c).toMatchObject({
        attempts: 1,
        attemptLimit: 3,
        url: 'https://example.com/hook',
        event: 'site.publish',
      })
      expect(await claimAll(store, T0 + 59_999)).toEqual([])
      const d = await store.deliveries.get(env.id, c!.id)
      expect(d?.nextAttemptAt).toBe(T0 + 60_000)
    })

    it('lets an expired lease be claimed again, and fences the stale holder out', async () => {
      const env = await anEnvironment(store)
      await aSubscription(store, env.id)
      await publish(store, env.id)
      const [stale] = await claimAll(store)
      const [fresh] = await claimAll(store, T0 + 60_000)
      expect(fresh?.id).toBe(stale!.id)
      expect(fresh?.attempts).toBe(2)
      expect(fresh?.leaseToken).not.toBe(stale!.leaseToken)
      expect(
        await store.deliveries.complete(
          [done(stale!.id, stale!.leaseToken, 1, { kind: 'delivered' })],
          T0,
          noDisable,
        ),
      ).toEqual([])
      expect((await store.deliveries.get(env.id, stale!.id))?.status).toBe('pending')
      expect(
        await store.deliveries.complete(
          [done(fresh!.id, fresh!.leaseToken, 2, { kind: 'delivered' })],
          T0,
          noDisable,
        ),
      ).toEqual([fresh!.id])
      const d = await store.deliveries.get(env.id, fresh!.id)
      expect(d).toMatchObject({
        status: 'delivered',
        attempts: 2,
        lastStatusCode: 200,
        nextAttemptAt: null,
        leaseToken: null,
      })
      expect((await store.deliveries.attempts(fresh!.id)).map((a) => a.number)).toEqual([2])
    })

    it('skips excluded subscriptions and respects the limit, oldest due first', async () => {
      const env = await anEnvironment(store)
      const a = await aSubscription(store, env.id)
      const b = await aSubscription(store, env.id)
      for (let i = 0; i < 3; i++) await publish(store, env.id, { at: T0 + i })
      const onlyB = await claimAll(store, T0 + 10, [a.id])
      expect(onlyB.map((c) => c.subscriptionId)).toEqual([b.id, b.id, b.id])
      const { deliveries: two } = await store.deliveries.claimDue({
        now: T0 + 10,
        limit: 2,
        leaseMs: 1000,
        scan: { exclude: [] },
      })
      expect(two).toHaveLength(2)
      expect(two.every((c) => c.subscriptionId === a.id)).toBe(true)
    })

    it('fans one event out to hundreds of subscriptions and records their outcomes, across insert chunks', async () => {
      const env = await anEnvironment(store)
      const subs = new Set<string>()
      // 300 = 256 + 44 → 32 + 12 rows: power-of-two chunks, then one statement for the rest.
      for (let i = 0; i < 300; i++) subs.add((await aSubscription(store, env.id)).id)
      const r = await publish(store, env.id)
      expect(r.deliveries).toBe(300)
      const claimed = await claimAll(store, T0 + 1)
      expect(new Set(claimed.map((c) => c.subscriptionId))).toEqual(subs)
      const applied = await store.deliveries.complete(
        claimed.map((c) => done(c.id, c.leaseToken, 1, { kind: 'delivered' }, 200)),
        T0 + 2,
        noDisable,
      )
      expect(applied).toHaveLength(300)
      for (const c of claimed.slice(0, 3).concat(claimed.slice(-3))) {
        expect((await store.deliveries.attempts(c.id)).map((a) => a.number)).toEqual([1])
      }
      expect(await claimAll(store, T0 + 100)).toEqual([])
    })

    it('keeps an attempt’s lean request headers marked as lean, and a full set as written', async () => {
      const env = await anEnvironment(store)
      await aSubscription(store, env.id)
      await aSubscription(store, env.id)
      await publish(store, env.id)
      const [lean, full] = await claimAll(store, T0 + 1)
      const leanDone = done(lean!.id, lean!.leaseToken, 1, { kind: 'retry', at: T0 + 50 }, 500)
      leanDone.attempt = {
        ...leanDone.attempt,
        requestHeaders: { 'user-agent': 'Hookpost/1', 'webhook-signature': 'v1,x' },
        leanHeaders: true,
      }
      await store.deliveries.complete(
        [leanDone, done(full!.id, full!.leaseToken, 1, { kind: 'delivered' })],
        T0 + 2,
        noDisable,
      )
      expect(await store.deliveries.attempts(lean!.id)).toEqual([leanDone.attempt])
      const [f] = await store.deliveries.attempts(full!.id)
      expect(f).toEqual(done(full!.id, full!.leaseToken, 1, { kind: 'delivered' }).attempt)
      expect(f).not.toHaveProperty('leanHeaders')
    })

    it('lists the subscriptions with due work, oldest due first, and no others', async () => {
      const env = await anEnvironment(store)
      const a = await aSubscription(store, env.id, { event: 'site.publish' })
      const b = await aSubscription(store, env.id, { event: 'site.first_publish' })
      const c = await aSubscription(store, env.id, { event: 'booking.updated' })
      await publish(store, env.id, { at: T0 + 5, eventName: 'site.publish' })
      await publish(store, env.id, { at: T0 + 1, eventName: 'site.first_publish' })
      await publish(store, env.id, { at: T0 + 9, eventName: 'site.first_publish' })
      // c's only delivery is done; a later one is not due yet.
      await publish(store, env.id, { at: T0, eventName: 'booking.updated' })
      const {
        deliveries: [cd],
      } = await store.deliveries.claimDue({
        now: T0 + 1,
        limit: 10,
        leaseMs: 60_000,
        serve: [{ subscriptionId: c.id, limit: 10 }],
      })
      await store.deliveries.complete(
        [done(cd!.id, cd!.leaseToken, 1, { kind: 'delivered' }, 200)],
        T0 + 2,
        noDisable,
      )
      await publish(store, env.id, { at: T0 + 1_000_000, eventName: 'booking.updated' })
      expect(await store.deliveries.dueSubscriptions(T0 + 100, 10)).toEqual([b.id, a.id])
      expect(await store.deliveries.dueSubscriptions(T0 + 100, 1)).toEqual([b.id])
    })

    it('caps each subscription at its room and looks past the first due rows for others', async () => {
      const env = await anEnvironment(store)
      const a = await aSubscription(store, env.id)
      for (let i = 0; i < 6; i++) await publish(store, env.id, { at: T0 + i })
      // b's deliveries are all due after a's six.
      const b = await aSubscription(store, env.id, { event: 'site.first_publish' })
      for (let i = 6; i < 9; i++)
        await publish(store, env.id, { at: T0 + i, eventName: 'site.first_publish' })
      const { deliveries: claimed } = await store.deliveries.claimDue({
        now: T0 + 100,
        limit: 4,
        leaseMs: 60_000,
        scan: { exclude: [], room: { perSubscription: 2, busy: new Map([[a.id, 1]]) } },
      })
      // a has room for 1; b (not busy) for 2: three rows, oldest first, none of a's others.
      expect(claimed.map((c) => c.subscriptionId)).toEqual([a.id, b.id, b.id])
      // What was over the room was never claimed: it is still due, with no attempt counted.
      const rest = await claimAll(store, T0 + 100)
      expect(rest.filter((c) => c.subscriptionId === a.id)).toHaveLength(5)
      expect(rest.filter((c) => c.subscriptionId === b.id)).toHaveLength(1)
      expect(rest.every((c) => c.attempts === 1)).toBe(true)
    })

    it('serves named subscriptions from their own ranges first, then scans the rest', async () => {
      const env = await anEnvironment(store)
      const a = await aSubscription(store, env.id)
      const b = await aSubscription(store, env.id, { event: 'site.first_publish' })
      const c = await aSubscription(store, env.id, { event: 'booking.updated' })
      // c's rows are the oldest; a has 5, b has 2.
      await publish(store, env.id, { at: T0, eventName: 'booking.updated' })
      await publish(store, env.id, { at: T0 + 1, eventName: 'booking.updated' })
      for (let i = 0; i < 5; i++) await publish(store, env.id, { at: T0 + 10 + i })
      for (let i = 0; i < 2; i++)
        await publish(store, env.id, { at: T0 + 20 + i, eventName: 'site.first_publish' })
      const r = await store.deliveries.claimDue({
        now: T0 + 100,
        limit: 6,
        leaseMs: 60_000,
        serve: [
          { subscriptionId: a.id, limit: 3 },
          { subscriptionId: b.id, limit: 3 },
        ],
        scan: { exclude: [a.id, b.id] },
      })
      // a's three oldest, both of b's, then the scan's oldest of the rest (c) for the last slot.
      const of = (s: { id: string }) =>
        r.deliveries
          .filter((d) => d.subscriptionId === s.id)
          .map((d) => d.dueAt)
          .sort((x, y) => x - y)
      expect(of(a)).toEqual([T0 + 10, T0 + 11, T0 + 12])
      expect(of(b)).toEqual([T0 + 20, T0 + 21])
      expect(of(c)).toEqual([T0])
      // b had fewer than asked: drained; a has more; the scan stopped at its limit.
      expect([...r.drained]).toEqual([b.id])
      expect(r.scanExhausted).toBe(false)
      const rest = await store.deliveries.claimDue({
        now: T0 + 100,
        limit: 10,
        leaseMs: 60_000,
        scan: { exclude: [a.id] },
      })
      expect(rest.deliveries.map((d) => d.subscriptionId)).toEqual([c.id])
      expect(rest.scanExhausted).toBe(true)
    })

    it('scans only what fell due after dueAfter when asked', async () => {
      const env = await anEnvironment(store)
      await aSubscription(store, env.id)
      await publish(store, env.id, { at: T0 })
      await publish(store, env.id, { at: T0 + 50 })
      await publish(store, env.id, { at: T0 + 51 })
      const r = await store.deliveries.claimDue({
        now: T0 + 100,
        limit: 10,
        leaseMs: 60_000,
        scan: { exclude: [], dueAfter: T0 + 50 },
      })
      expect(r.deliveries.map((d) => d.dueAt)).toEqual([T0 + 51])
      expect(r.scanExhausted).toBe(true)
      // The older rows are still due, untouched.
      const older = await claimAll(store, T0 + 100)
      expect(older.map((d) => d.dueAt).sort((x, y) => x - y)).toEqual([T0, T0 + 50])
      expect(older.every((d) => d.attempts === 1)).toBe(true)
    })

    it('schedules retries, then fails; 410 deactivates the subscription and cancels its pending deliveries', async () => {
      const env = await anEnvironment(store)
      const s = await aSubscription(store, env.id)
      await publish(store, env.id)
      await publish(store, env.id, { at: T0 + 1 })
      const [c1, c2] = await claimAll(store, T0 + 5)
      await store.deliveries.complete(
        [done(c1!.id, c1!.leaseToken, 1, { kind: 'retry', at: T0 + 5000 }, 500)],
        T0 + 6,
        noDisable,
      )
      expect(await store.deliveries.get(env.id, c1!.id)).toMatchObject({
        status: 'pending',
        nextAttemptAt: T0 + 5000,
        lastStatusCode: 500,
      })
      await store.deliveries.complete(
        [done(c2!.id, c2!.leaseToken, 1, { kind: 'gone' }, 410)],
        T0 + 7,
        noDisable,
      )
      expect((await store.deliveries.get(env.id, c2!.id))?.status).toBe('failed')
      expect((await store.subscriptions.get(env.id, s.id))?.active).toBe(false)
      expect((await store.deliveries.get(env.id, c1!.id))?.status).toBe('cancelled')
    })

    it("keeps a subscription's transformation through create, update and getMany, and removes it", async () => {
      const env = await anEnvironment(store)
      const code = 'function handler(w) {\n  return { ...w, headers: { "x-é": "✓" } }\n}'
      const s = await aSubscription(store, env.id, { transformation: code })
      expect((await store.subscriptions.get(env.id, s.id))?.transformation).toBe(code)
      const plain = await aSubscription(store, env.id)
      expect((await store.subscriptions.get(env.id, plain.id))?.transformation).toBeNull()
      expect(await store.subscriptions.update({ ...plain, transformation: code, updated: T0 + 1 })).toBe(true)
      expect((await store.subscriptions.getMany([plain.id]))[0]?.transformation).toBe(code)
      expect(await store.subscriptions.update({ ...s, transformation: null, updated: T0 + 2 })).toBe(true)
      expect((await store.subscriptions.list(env.id)).find((r) => r.id === s.id)?.transformation).toBeNull()
    })

    it('a cancelled completion ends the delivery cancelled with its attempt logged, health untouched', async () => {
      const env = await anEnvironment(store)
      const s = await aSubscription(store, env.id)
      await publish(store, env.id)
      const [c] = await claimAll(store, T0 + 5)
      const input = done(c!.id, c!.leaseToken, 1, { kind: 'cancelled' }, 0)
      await store.deliveries.complete(
        [
          {
            ...input,
            statusCode: null,
            error: 'transformation_cancelled',
            attempt: {
              ...input.attempt,
              statusCode: null,
              error: 'transformation_cancelled: cancel',
              responseBody: null,
            },
          },
        ],
        T0 + 6,
        noDisable,
      )
      expect(await store.deliveries.get(env.id, c!.id)).toMatchObject({
        status: 'cancelled',
        nextAttemptAt: null,
        lastError: 'transformation_cancelled',
      })
      expect((await store.deliveries.attempts(c!.id)).map((a) => a.error)).toEqual([
        'transformation_cancelled: cancel',
      ])
      expect((await store.subscriptions.get(env.id, s.id))?.health).toEqual(freshHealth)
      expect(await claimAll(store, T0 + 10_000)).toEqual([])
    })

    it('retryNow sets the limit it is given, but not while an attempt is in flight or the row changed', async () => {
      const env = await anEnvironment(store)
      await aSubscription(store, env.id)
      await publish(store, env.id)
      const [c] = await claimAll(store)
      const leased = (await store.deliveries.get(env.id, c!.id))!
      expect(
        await store.deliveries.retryNow(env.id, c!.id, T0 + 1, { attemptLimit: 4, seen: leased }),
      ).toBeUndefined()
      await store.deliveries.complete(
        [done(c!.id, c!.leaseToken, 1, { kind: 'retry', at: T0 + 5000 }, 500)],
        T0 + 2,
        noDisable,
      )
      const seen = (await store.deliveries.get(env.id, c!.id))!
      expect(seen).toMatchObject({ status: 'pending', attempts: 1, attemptLimit: 3 })
      // Read before another change (here: a limit already raised) no longer applies.
      const stale = { ...seen, attemptLimit: 2 }
      expect(
        await store.deliveries.retryNow(env.id, c!.id, T0 + 3, { attemptLimit: 3, seen: stale }),
      ).toBeUndefined()
      expect(
        await store.deliveries.retryNow('env_other', c!.id, T0 + 3, { attemptLimit: 4, seen }),
      ).toBeUndefined()
      const r = await store.deliveries.retryNow(env.id, c!.id, T0 + 3, { attemptLimit: 4, seen })
      expect(r).toMatchObject({ status: 'pending', nextAttemptAt: T0 + 3, attempts: 1, attemptLimit: 4 })
      const [again] = await claimAll(store, T0 + 3)
      expect(again).toMatchObject({ attempts: 2, attemptLimit: 4 })
      await store.deliveries.complete(
        [done(c!.id, again!.leaseToken, 2, { kind: 'failed' }, 500)],
        T0 + 4,
        noDisable,
      )
      const failed = (await store.deliveries.get(env.id, c!.id))!
      expect(failed.status).toBe('failed')
      const revived = await store.deliveries.retryNow(env.id, c!.id, T0 + 5, {
        attemptLimit: 3,
        seen: failed,
      })
      expect(revived).toMatchObject({
        status: 'pending',
        nextAttemptAt: T0 + 5,
        attempts: 2,
        attemptLimit: 3,
      })
    })

    it('release gives a lease back untouched', async () => {
      const env = await anEnvironment(store)
      await aSubscription(store, env.id)
      await publish(store, env.id)
      const [c] = await claimAll(store)
      await store.deliveries.release([{ id: c!.id, leaseToken: c!.leaseToken }], T0 + 1)
      expect(await store.deliveries.get(env.id, c!.id)).toMatchObject({
        attempts: 0,
        leaseToken: null,
        nextAttemptAt: T0 + 1,
      })
      expect(await claimAll(store, T0 + 1)).toHaveLength(1)
    })

    it('release gives back hundreds of leases in one call, fenced by each token', async () => {
      const env = await anEnvironment(store)
      for (let i = 0; i < 3; i++) await aSubscription(store, env.id)
      await store.events.publishBatch(
        Array.from({ length: 100 }, (_, i) => aPublishInput(env.id, { at: T0 + i })),
      )
      const leased = []
      for (let got = await claimAll(store, T0 + 200); got.length > 0; got = await claimAll(store, T0 + 200))
        leased.push(...got)
      expect(leased).toHaveLength(300)
      // One of them under a token that is no longer its lease: left alone.
      const [stale, ...rest] = leased
      await store.deliveries.release(
        [
          { id: stale!.id, leaseToken: 'lease_gone' },
          ...rest.map((d) => ({ id: d.id, leaseToken: d.leaseToken })),
        ],
        T0 + 300,
      )
      expect(await store.deliveries.get(env.id, stale!.id)).toMatchObject({
        leaseToken: stale!.leaseToken,
        attempts: 1,
      })
      for (const d of [rest[0]!, rest[150]!, rest.at(-1)!])
        expect(await store.deliveries.get(env.id, d.id)).toMatchObject({
          leaseToken: null,
          attempts: 0,
          nextAttemptAt: T0 + 300,
        })
      expect(await claimAll(store, T0 + 300)).toHaveLength(299)
    })

    it('a claim carries its subscription version; getMany reads the rows of any environment', async () => {
      const env = await anEnvironment(store)
      const other = await anEnvironment(store)
      const s = await aSubscription(store, env.id)
      const t = await aSubscription(store, other.id)
      await publish(store, env.id)
      expect(await store.subscriptions.update({ ...s, url: 'https://example.org/v2', updated: T0 + 7 })).toBe(
        true,
      )
      const [d] = await claimAll(store, T0 + 10)
      expect(d).toMatchObject({
        subscriptionId: s.id,
        url: 'https://example.org/v2',
        subscriptionUpdated: T0 + 7,
      })
      const rows = await store.subscriptions.getMany([s.id, t.id, 'sub_missing'])
      expect(rows.map((r) => r.id).sort()).toEqual([s.id, t.id].sort())
      expect(rows.find((r) => r.id === s.id)).toMatchObject({ envId: env.id, updated: T0 + 7 })
      expect(await store.subscriptions.getMany([])).toEqual([])
    })

    it('deleting a subscription cancels its pending deliveries; updating replaces its fields', async () => {
      const env = await anEnvironment(store)
      const s = await aSubscription(store, env.id)
      await publish(store, env.id)
      expect(await store.subscriptions.update({ ...s, url: 'https://example.org/x', updated: T0 + 1 })).toBe(
        true,
      )
      expect((await store.subscriptions.get(env.id, s.id))?.url).toBe('https://example.org/x')
      expect(await store.subscriptions.delete('env_other', s.id, T0)).toBe(false)
      expect(await store.subscriptions.delete(env.id, s.id, T0 + 2)).toBe(true)
      const [d] = await store.deliveries.list(env.id, { limit: 10 })
      expect(d).toMatchObject({ status: 'cancelled', lastError: 'subscription_deleted' })
      expect(await claimAll(store, T0 + 10)).toEqual([])
    })

    it('keeps a broker destination (fields, sealed URL), replaces it on update, lists and reseals sealed URLs', async () => {
      const env = await anEnvironment(store)
      const destination = {
        type: 'amqp',
        fields: { url: 'amqps://u:****@rabbit.example.com/', exchange: 'ex', routingKey: 'rk' },
        sealedUrl: { keyId: 'mk_a', ciphertext: 'c1' },
      }
      const s = await aSubscription(store, env.id, { url: destination.fields.url, destination })
      const plain = await aSubscription(store, env.id)
      expect((await store.subscriptions.get(env.id, s.id))?.destination).toEqual(destination)
      expect((await store.subscriptions.get(env.id, plain.id))?.destination).toBeNull()
      expect((await store.subscriptions.getMany([s.id]))[0]?.destination).toEqual(destination)
      expect(await store.destinationSecrets.listAll(null, 10)).toEqual([
        { id: s.id, envId: env.id, keyId: 'mk_a', ciphertext: 'c1' },
      ])
      expect(await store.destinationSecrets.listAll(s.id, 10)).toEqual([])
      expect(await store.destinationSecrets.reseal(s.id, 'mk_b', 'c2')).toBe(true)
      expect(await store.destinationSecrets.reseal(plain.id, 'mk_b', 'c2')).toBe(false)
      expect((await store.subscriptions.get(env.id, s.id))?.destination?.sealedUrl).toEqual({
        keyId: 'mk_b',
        ciphertext: 'c2',
      })
      // Back to http: the destination goes, and so does its sealed URL.
      expect(
        await store.subscriptions.update({
          ...s,
          url: 'https://example.org/x',
          destination: null,
          updated: T0 + 1,
        }),
      ).toBe(true)
      expect((await store.subscriptions.get(env.id, s.id))?.destination).toBeNull()
      expect(await store.destinationSecrets.listAll(null, 10)).toEqual([])
    })

    it('pages the delivery log newest first with filters', async () => {
      const env = await anEnvironment(store)
      const a = await aSubscription(store, env.id)
      await aSubscription(store, env.id)
      for (let i = 0; i < 5; i++) await publish(store, env.id, { at: T0 + i })
      const all = await store.deliveries.list(env.id, { limit: 100 })
      expect(all).toHaveLength(10)
      expect([...all].map((d) => d.id)).toEqual(
        [...all]
          .map((d) => d.id)
          .sort()
          .reverse(),
      )
      const page = await store.deliveries.list(env.id, { limit: 3, beforeId: all[2]!.id })
      expect(page.map((d) => d.id)).toEqual(all.slice(3, 6).map((d) => d.id))
      const onlyA = await store.deliveries.list(env.id, {
        limit: 100,
        subscriptionId: a.id,
        status: 'pending',
      })
      expect(onlyA).toHaveLength(5)
    })

    it('tracks subscription health and deactivates one failing without a success for the window', async () => {
      const env = await anEnvironment(store)
      const s = await aSubscription(store, env.id)
      for (let i = 0; i < 3; i++) await publish(store, env.id, { at: T0 + i })
      const [a, b, c] = await claimAll(store, T0 + 10)
      const window = completionRules({ disableAfterMs: 1000 })
      await store.deliveries.complete(
        [done(a!.id, a!.leaseToken, 1, { kind: 'retry', at: T0 + 99_999 }, 500)],
        T0 + 20,
        window,
      )
      let h1 = (await store.subscriptions.get(env.id, s.id))!.health
      expect(h1).toMatchObject({ consecutiveFailures: 1, failureCount: 1, successCount: 0 })
      expect(h1.failingSince).not.toBeNull()
      await store.deliveries.complete([done(b!.id, b!.leaseToken, 1, { kind: 'delivered' })], T0 + 30, window)
      h1 = (await store.subscriptions.get(env.id, s.id))!.health
      expect(h1).toMatchObject({
        consecutiveFailures: 0,
        failingSince: null,
        successCount: 1,
        failureCount: 1,
      })
      await store.deliveries.complete(
        [done(c!.id, c!.leaseToken, 1, { kind: 'retry', at: T0 + 99_999 }, 500)],
        T0 + 40,
        window,
      )
      expect((await store.subscriptions.get(env.id, s.id))!.active).toBe(true)
      // Still failing a window later with no success in between: deactivated, pending cancelled.
      const [again] = await claimAll(store, T0 + 99_999)
      await store.deliveries.complete(
        [done(again!.id, again!.leaseToken, 2, { kind: 'retry', at: T0 + 200_000 }, 500)],
        T0 + 5000,
        window,
      )
      const after = (await store.subscriptions.get(env.id, s.id))!
      expect(after).toMatchObject({ active: false, deactivatedReason: 'failing' })
      expect((await store.deliveries.get(env.id, again!.id))?.status).toBe('cancelled')
      const ops = await store.operationalEvents.list({ envId: env.id, limit: 10 })
      expect(ops.map((o) => o.type)).toContain('subscription.deactivated')
      expect(ops.find((o) => o.type === 'subscription.deactivated')?.data).toMatchObject({
        subscriptionId: s.id,
        reason: 'failing',
      })
    })

    it('settles each subscription of one batch on its own: successes, failures, a 410, a held one', async () => {
      const env = await anEnvironment(store)
      const subs = {
        ok: await aSubscription(store, env.id),
        failing: await aSubscription(store, env.id),
        mixed: await aSubscription(store, env.id),
        gone: await aSubscription(store, env.id),
        held: await aSubscription(store, env.id),
      }
      for (let i = 0; i < 2; i++) await publish(store, env.id, { at: T0 + i })
      const claimed = await claimAll(store, T0 + 10)
      const of = (s: { id: string }) => claimed.filter((c) => c.subscriptionId === s.id)
      await store.subscriptions.update({ ...subs.held, paused: true, held: true, updated: T0 + 15 })
      // Each outcome's attempt ends at its own time (started + 5 ms): the health keeps the latest.
      const at = (input: CompleteInput, started: number): CompleteInput => ({
        ...input,
        attempt: { ...input.attempt, started },
      })
      const ok = (c: (typeof claimed)[number], started: number) =>
        at(done(c.id, c.leaseToken, 1, { kind: 'delivered' }), started)
      const failed = (c: (typeof claimed)[number], started: number) =>
        at(done(c.id, c.leaseToken, 1, { kind: 'retry', at: T0 + 99_999 }, 500), started)
      const [ok1, ok2] = of(subs.ok)
      const [failing1, failing2] = of(subs.failing)
      const [mixed1, mixed2] = of(subs.mixed)
      const [gone1, gone2] = of(subs.gone)
      const [held1, held2] = of(subs.held)
      const applied = await store.deliveries.complete(
        [
          failed(failing1!, T0 + 20),
          ok(ok1!, T0 + 21),
          ok(mixed1!, T0 + 22),
          failed(held1!, T0 + 23),
          ok(gone1!, T0 + 24),
          at(done(gone2!.id, gone2!.leaseToken, 1, { kind: 'gone' }, 410), T0 + 25),
          failed(mixed2!, T0 + 26),
          ok(ok2!, T0 + 27),
          failed(failing2!, T0 + 28),
          failed(held2!, T0 + 29),
        ],
        T0 + 40,
        noDisable,
      )
      expect(applied).toHaveLength(10)
      const health = async (s: { id: string }) => (await store.subscriptions.get(env.id, s.id))!
      // Five subscriptions: one list padded to eight rows, each subscription still counted once.
      expect(await health(subs.ok)).toMatchObject({
        active: true,
        health: { ...freshHealth, successCount: 2, lastSuccessAt: T0 + 32 },
      })
      expect(await health(subs.failing)).toMatchObject({
        active: true,
        health: {
          ...freshHealth,
          consecutiveFailures: 2,
          failingSince: T0 + 25,
          lastFailureAt: T0 + 33,
          failureCount: 2,
        },
      })
      // In the batch's order: a success, then a failure that starts a new run.
      expect(await health(subs.mixed)).toMatchObject({
        active: true,
        health: {
          consecutiveFailures: 1,
          failingSince: T0 + 31,
          lastSuccessAt: T0 + 27,
          lastFailureAt: T0 + 31,
          successCount: 1,
          failureCount: 1,
        },
      })
      expect(await health(subs.gone)).toMatchObject({
        active: false,
        deactivatedReason: 'gone',
        health: { consecutiveFailures: 1, successCount: 1, failureCount: 1, lastSuccessAt: T0 + 29 },
      })
      expect(await health(subs.held)).toMatchObject({
        active: true,
        health: { consecutiveFailures: 2, failingSince: T0 + 28, failureCount: 2 },
      })
      // The held subscription's retries wait for its release; the others' are due.
      for (const c of [held1!, held2!]) {
        expect(await store.deliveries.get(env.id, c.id)).toMatchObject({
          status: 'pending',
          nextAttemptAt: null,
        })
      }
      expect(await store.deliveries.get(env.id, failing1!.id)).toMatchObject({ nextAttemptAt: T0 + 99_999 })
      const ops = await store.operationalEvents.list({ envId: env.id, limit: 10 })
      expect(ops.filter((o) => o.type === 'subscription.deactivated').map((o) => o.data)).toEqual([
        expect.objectContaining({ subscriptionId: subs.gone.id, reason: 'gone' }),
      ])
    })

    it('records delivery.failed operational events and hands unsent ones out once per lease', async () => {
      const env = await anEnvironment(store)
      await aSubscription(store, env.id)
      await publish(store, env.id)
      const [c] = await claimAll(store)
      await store.deliveries.complete(
        [done(c!.id, c!.leaseToken, 1, { kind: 'failed' }, 500)],
        T0 + 1,
        noDisable,
      )
      const [op] = await store.operationalEvents.list({ limit: 10, type: 'delivery.failed' })
      expect(op).toMatchObject({ type: 'delivery.failed', envId: env.id, sentAt: null })
      expect(op!.data).toMatchObject({ deliveryId: c!.id, lastStatusCode: 500 })
      const claimed = await store.operationalEvents.claimUnsent(T0 + 2, 10, 1000)
      expect(claimed.map((o) => o.id)).toEqual([op!.id])
      expect(await store.operationalEvents.claimUnsent(T0 + 3, 10, 1000)).toEqual([])
      await store.operationalEvents.markSent([op!.id], T0 + 4)
      expect(await store.operationalEvents.claimUnsent(T0 + 5000, 10, 1000)).toEqual([])
    })

    it('delivers ordered deliveries one at a time per key, other keys in parallel', async () => {
      const env = await anEnvironment(store)
      await aSubscription(store, env.id, { ordered: true })
      await publish(store, env.id, { at: T0, orderingKey: 'a' })
      await publish(store, env.id, { at: T0 + 1, orderingKey: 'a' })
      await publish(store, env.id, { at: T0 + 2, orderingKey: 'b' })
      await publish(store, env.id, { at: T0 + 3, orderingKey: null })
      const first = await claimAll(store, T0 + 10)
      expect(first.map((c) => c.orderingKey).sort()).toEqual(['a', 'b', null].sort())
      // The second 'a' waits while the first is in flight, and while it waits for a retry.
      expect(await claimAll(store, T0 + 11)).toEqual([])
      const a1 = first.find((c) => c.orderingKey === 'a')!
      await store.deliveries.complete(
        [done(a1.id, a1.leaseToken, 1, { kind: 'retry', at: T0 + 500 }, 500)],
        T0 + 12,
        noDisable,
      )
      expect(await claimAll(store, T0 + 13)).toEqual([])
      const [retry] = await claimAll(store, T0 + 500)
      expect(retry?.id).toBe(a1.id)
      await store.deliveries.complete(
        [done(a1.id, retry!.leaseToken, 2, { kind: 'delivered' })],
        T0 + 501,
        noDisable,
      )
      const [a2] = await claimAll(store, T0 + 502)
      expect(a2?.orderingKey).toBe('a')
      expect(a2!.id > a1.id).toBe(true)
    })

    it("replays a subscription's deliveries in a time range as a job with a count, progress and the same ids", async () => {
      const env = await anEnvironment(store)
      const s = await aSubscription(store, env.id)
      for (let i = 0; i < 5; i++) await publish(store, env.id, { at: T0 + i * 10 })
      const claimed = await claimAll(store, T0 + 100)
      await store.deliveries.complete(
        claimed.map((c) => done(c.id, c.leaseToken, 1, { kind: 'delivered' })),
        T0 + 101,
        noDisable,
      )
      const job = await store.replays.create({
        id: newId('job'),
        envId: env.id,
        subscriptionId: s.id,
        since: T0 + 10,
        until: T0 + 40,
        statusFilter: null,
        created: T0 + 200,
      })
      expect(job).toMatchObject({ total: 3, done: 0, state: 'running' })
      const step1 = await store.replays.step(T0 + 201, { chunk: 2, extraAttempts: 3 })
      expect(step1).toMatchObject({ id: job.id, done: 2, state: 'running' })
      const step2 = await store.replays.step(T0 + 202, { chunk: 2, extraAttempts: 3 })
      expect(step2).toMatchObject({ done: 3, state: 'finished' })
      expect(await store.replays.step(T0 + 203, { chunk: 2, extraAttempts: 3 })).toBeUndefined()
      const again = await claimAll(store, T0 + 300)
      const byAge = claimed.map((c) => c.id).sort()
      expect(again.map((c) => c.id).sort()).toEqual(byAge.slice(1, 4))
      expect(again.every((c) => c.attempts === 2 && c.attemptLimit === 4)).toBe(true)
      expect((await store.replays.get(env.id, job.id))?.state).toBe('finished')
      expect(await store.replays.get('env_other', job.id)).toBeUndefined()
    })

    it('finishes a replay in the step that re-queues its last chunk, and takes the next step at once', async () => {
      const env = await anEnvironment(store)
      const s = await aSubscription(store, env.id)
      for (let i = 0; i < 4; i++) await publish(store, env.id, { at: T0 + i })
      const job = await store.replays.create({
        id: newId('job'),
        envId: env.id,
        subscriptionId: s.id,
        since: T0,
        until: T0 + 10,
        statusFilter: null,
        created: T0 + 20,
      })
      const opts = { chunk: 2, extraAttempts: 3 }
      expect(await store.replays.step(T0 + 21, opts)).toMatchObject({ done: 2, state: 'running' })
      // No wait between chunks: the same instant, or another node, goes on.
      const other = h.second ? await h.second() : store
      expect(await other.replays.step(T0 + 21, opts)).toMatchObject({
        id: job.id,
        done: 4,
        state: 'finished',
      })
      if (other !== store) await other.close()
      expect(await store.replays.step(T0 + 22, opts)).toBeUndefined()
      const finished = await store.operationalEvents.list({
        envId: env.id,
        type: 'replay.finished',
        limit: 10,
      })
      expect(finished.map((e) => e.data)).toEqual([{ replayId: job.id, subscriptionId: s.id, requeued: 4 }])
    })

    it('cancels a running replay', async () => {
      const env = await anEnvironment(store)
      const s = await aSubscription(store, env.id)
      await publish(store, env.id)
      const job = await store.replays.create({
        id: newId('job'),
        envId: env.id,
        subscriptionId: s.id,
        since: T0 - 1,
        until: T0 + 1,
        statusFilter: 'failed',
        created: T0,
      })
      expect(job).toMatchObject({ total: 0, state: 'finished' })
      const job2 = await store.replays.create({
        id: newId('job'),
        envId: env.id,
        subscriptionId: s.id,
        since: T0 - 1,
        until: T0 + 1,
        statusFilter: null,
        created: T0,
      })
      expect((await store.replays.cancel(env.id, job2.id, T0 + 1))?.state).toBe('cancelled')
      expect(await store.replays.step(T0 + 2, { chunk: 10, extraAttempts: 1 })).toBeUndefined()
    })

    it('sweeps old terminal deliveries, their attempts and events, never pending ones', async () => {
      const env = await anEnvironment(store)
      await aSubscription(store, env.id)
      await publish(store, env.id, { at: T0 })
      await publish(store, env.id, { at: T0 + 1 })
      const {
        deliveries: [c],
      } = await store.deliveries.claimDue({ now: T0 + 5, limit: 1, leaseMs: 1000, scan: { exclude: [] } })
      await store.deliveries.complete(
        [done(c!.id, c!.leaseToken, 1, { kind: 'delivered' })],
        T0 + 6,
        noDisable,
      )
      const r = await store.maintenance.sweep(T0 + 1000, 100)
      expect(r).toMatchObject({ deliveries: 1, attempts: 1, events: 1 })
      const left = await store.deliveries.list(env.id, { limit: 10 })
      expect(left.map((d) => d.status)).toEqual(['pending'])
      expect(await claimAll(store, T0 + 2000)).toHaveLength(1)
    })

    it('is ready while it takes writes', async () => {
      expect(await store.readiness()).toEqual({ ready: true })
      expect(await store.maintenance.tryLock('sweep', 'a', T0, 1000)).toBe(true)
      expect(await store.readiness()).toEqual({ ready: true })
    })

    it('grants a cluster lock to one holder at a time until it expires', async () => {
      expect(await store.maintenance.tryLock('sweep', 'a', T0, 1000)).toBe(true)
      expect(await store.maintenance.tryLock('sweep', 'b', T0 + 1, 1000)).toBe(false)
      expect(await store.maintenance.tryLock('sweep', 'a', T0 + 2, 1000)).toBe(true)
      expect(await store.maintenance.tryLock('sweep', 'b', T0 + 1002, 1000)).toBe(true)
    })

    it('announces due work to listeners where the store can, as its harness declares', async () => {
      const env = await anEnvironment(store)
      await aSubscription(store, env.id)
      let heard = 0
      const stop = await store.work.listen(() => heard++)
      await publish(store, env.id)
      const deadline = Date.now() + 3000
      while (h.announcesWork && heard === 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20))
      if (!h.announcesWork) await new Promise((r) => setTimeout(r, 100))
      expect(heard > 0).toBe(h.announcesWork)
      await stop()
    })

    it('appends audit entries and lists them newest first, by environment, action and cursor', async () => {
      const env = await anEnvironment(store)
      const entry = (n: number, over: Partial<AuditEntryRow> = {}): AuditEntryRow => ({
        id: `aud_${String(n).padStart(4, '0')}`,
        envId: env.id,
        actor: 'operator',
        action: 'credential.created',
        target: `key_${n}`,
        detail: { role: 'consumer', n, nested: { ok: true } },
        created: T0 + n,
        requestId: `req_${n}`,
        ...over,
      })
      await store.audit.record(entry(1))
      await store.audit.record(entry(2, { action: 'credential.revoked' }))
      await store.audit.record(entry(3, { envId: null, action: 'master_key.rotated', requestId: null }))
      await store.audit.record(entry(4, { actor: 'key_abc', target: null }))
      expect(await store.audit.list({ limit: 10 })).toEqual([
        entry(4, { actor: 'key_abc', target: null }),
        entry(3, { envId: null, action: 'master_key.rotated', requestId: null }),
        entry(2, { action: 'credential.revoked' }),
        entry(1),
      ])
      expect((await store.audit.list({ envId: env.id, limit: 10 })).map((e) => e.id)).toEqual([
        'aud_0004',
        'aud_0002',
        'aud_0001',
      ])
      expect((await store.audit.list({ action: 'credential.created', limit: 10 })).map((e) => e.id)).toEqual([
        'aud_0004',
        'aud_0001',
      ])
      expect((await store.audit.list({ beforeId: 'aud_0003', limit: 1 })).map((e) => e.id)).toEqual([
        'aud_0002',
      ])
      expect(await store.audit.list({ envId: 'env_other', limit: 10 })).toEqual([])
      await expect(store.audit.record(entry(1))).rejects.toMatchObject({ code: 'conflict' })
    })

    it('publishes to one active subscription only, and to nothing when it is inactive or elsewhere', async () => {
      const env = await anEnvironment(store)
      const target = await aSubscription(store, env.id)
      await aSubscription(store, env.id)
      const off = await aSubscription(store, env.id, { active: false })
      const other = await anEnvironment(store, 'other')
      const event = (id: string, envId = env.id) => ({
        id,
        envId,
        eventName: 'site.publish',
        body: Buffer.from('{"eventName":"site.publish"}'),
        orderingKey: null,
        created: T0,
      })
      const ok = await store.events.publishToSubscription({
        event: event(newId('evt')),
        subscriptionId: target.id,
        deliveryId: newId('dlv'),
        attemptLimit: 3,
      })
      expect(ok).toBe(true)
      const list = await store.deliveries.list(env.id, { limit: 10 })
      expect(list.map((d) => d.subscriptionId)).toEqual([target.id])
      expect(
        await store.events.publishToSubscription({
          event: event(newId('evt')),
          subscriptionId: off.id,
          deliveryId: newId('dlv'),
          attemptLimit: 3,
        }),
      ).toBe(false)
      expect(
        await store.events.publishToSubscription({
          event: event(newId('evt'), other.id),
          subscriptionId: target.id,
          deliveryId: newId('dlv'),
          attemptLimit: 3,
        }),
      ).toBe(false)
      expect(await store.deliveries.list(env.id, { limit: 10 })).toHaveLength(1)
    })

    it('never hands one delivery to two claimers at once', async () => {
      const env = await anEnvironment(store)
      await aSubscription(store, env.id)
      for (let i = 0; i < 50; i++) await publish(store, env.id, { at: T0 + i })
      const stores = [store]
      if (h.second) stores.push(await h.second(), await h.second())
      const results = await Promise.all(
        stores.flatMap((s) =>
          [0, 1, 2].map(() =>
            s.deliveries.claimDue({ now: T0 + 100, limit: 7, leaseMs: 60_000, scan: { exclude: [] } }),
          ),
        ),
      )
      const ids = results.flatMap((r) => r.deliveries).map((c) => c.id)
      expect(new Set(ids).size).toBe(ids.length)
      for (const s of stores.slice(1)) await s.close()
    })

    it('keeps endpoint auth: the public part and the sealed secrets, replaced, removed, re-sealed in place', async () => {
      const env = await anEnvironment(store)
      const endpoint = {
        auth: {
          type: 'oauth2' as const,
          tokenUrl: 'https://id.example.com/token',
          clientId: 'c1',
          scope: 'a b',
        },
        headerNames: ['x-api-key'],
        sealed: { keyId: 'mk_one', ciphertext: 'ct-one' },
      }
      const s = await aSubscription(store, env.id, { endpoint })
      const plain = await aSubscription(store, env.id)
      expect((await store.subscriptions.get(env.id, s.id))?.endpoint).toEqual(endpoint)
      expect((await store.subscriptions.get(env.id, plain.id))?.endpoint).toBeNull()
      expect((await store.subscriptions.getMany([s.id]))[0]?.endpoint).toEqual(endpoint)
      // A row that does not say (endpoint absent) leaves the stored settings alone.
      const { endpoint: _, ...rest } = s
      await store.subscriptions.update({ ...rest, url: 'https://example.com/other', updated: T0 + 1 })
      expect((await store.subscriptions.get(env.id, s.id))?.endpoint).toEqual(endpoint)
      expect(await store.subscriptions.listSealedEndpoints(null, 10)).toEqual([
        { id: s.id, envId: env.id, keyId: 'mk_one', ciphertext: 'ct-one' },
      ])
      expect(await store.subscriptions.resealEndpoint(s.id, 'mk_two', 'ct-two')).toBe(true)
      expect(await store.subscriptions.resealEndpoint(plain.id, 'mk_two', 'ct-two')).toBe(false)
      const resealed = (await store.subscriptions.get(env.id, s.id))!
      expect(resealed.endpoint?.sealed).toEqual({ keyId: 'mk_two', ciphertext: 'ct-two' })
      expect(resealed.updated).toBe(T0 + 1)
      await store.subscriptions.update({ ...resealed, endpoint: null, updated: T0 + 2 })
      expect((await store.subscriptions.get(env.id, s.id))?.endpoint).toBeNull()
      expect(await store.subscriptions.listSealedEndpoints(null, 10)).toEqual([])
    })

    it('leaves health alone for outcomes the core says do not count (countsForHealth false)', async () => {
      const env = await anEnvironment(store)
      const s = await aSubscription(store, env.id)
      for (let i = 0; i < 2; i++) await publish(store, env.id, { at: T0 + i })
      const [a, b] = await claimAll(store, T0 + 10)
      const window = completionRules({ disableAfterMs: 1000 })
      const proxyFailed = (c: NonNullable<typeof a>): CompleteInput => ({
        ...done(c.id, c.leaseToken, 1, { kind: 'retry', at: T0 + 99_999 }, 0),
        statusCode: null,
        error: 'proxy_error',
        countsForHealth: false,
      })
      await store.deliveries.complete([proxyFailed(a!)], T0 + 20, window)
      let sub = (await store.subscriptions.get(env.id, s.id))!
      expect(sub.health).toMatchObject({ consecutiveFailures: 0, failureCount: 0, failingSince: null })
      expect(await store.deliveries.get(env.id, a!.id)).toMatchObject({
        status: 'pending',
        lastError: 'proxy_error',
      })
      // Failing for longer than the window: an outcome that does not count deactivates nothing.
      await store.deliveries.complete(
        [done(b!.id, b!.leaseToken, 1, { kind: 'retry', at: T0 + 99_999 }, 500)],
        T0 + 30,
        window,
      )
      const [again] = await claimAll(store, T0 + 99_999)
      await store.deliveries.complete([proxyFailed(again!)], T0 + 5000, window)
      sub = (await store.subscriptions.get(env.id, s.id))!
      expect(sub).toMatchObject({ active: true, health: { consecutiveFailures: 1, failureCount: 1 } })
    })
  })
}
