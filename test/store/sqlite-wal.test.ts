// SQLite's WAL off the writing thread: a group commit is answered (and its deliveries handed
// off) only once an fdatasync of the WAL has ended (wal-sync.ts); syncs are shared by the commits
// made while one runs; a failed sync fails the publishes it covers; checkpoints run on a thread
// of their own (checkpointer.ts) and the writing connection takes them back if it fails.
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AppError } from '../../src/shared/errors.ts'
import type { SqlStore } from '../../src/store/sql/sql-store.ts'
import { Checkpointer } from '../../src/store/sqlite/checkpointer.ts'
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.ts'
import { type SyncFile, WalSync } from '../../src/store/sqlite/wal-sync.ts'
import type { ClaimedDelivery, PublishInput } from '../../src/store/store.ts'
import { anEnvironmentId, aPlainPublish, aSubscription, T0 } from '../contract/fixtures.ts'

let dir: string
let store: SqlStore | undefined
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hookpost-wal-'))
})
afterEach(async () => {
  await store?.close()
  store = undefined
  rmSync(dir, { recursive: true, force: true })
})

/** A sync that waits until released (or fails), counting the syncs asked for. */
function heldSyncs() {
  const waiting: ((e: NodeJS.ErrnoException | null) => void)[] = []
  const syncFile: SyncFile = (_fd, done) => {
    waiting.push(done)
  }
  return {
    syncFile,
    get asked() {
      return waiting.length
    },
    release(k: number, e: NodeJS.ErrnoException | null = null) {
      waiting[k]!(e)
    },
  }
}

/** Whether a promise has resolved yet. */
function watch(p: Promise<unknown>): { readonly done: boolean } {
  const w = { done: false }
  void p.then(() => {
    w.done = true
  })
  return w
}

const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r))
}

function aPublish(envId: string, k: number, handed?: (d: ClaimedDelivery[]) => void): PublishInput {
  return aPlainPublish(
    envId,
    T0 + k,
    handed ? { handOff: { leaseMs: 30_000, take: () => true, handed } } : {},
  )
}

/** A WalSync on a scratch file whose syncs wait until released. */
function aHeldWal() {
  const file = join(dir, 'wal')
  writeFileSync(file, 'x')
  const s = heldSyncs()
  return { s, wal: new WalSync(file, s.syncFile) }
}

/** Releases the running sync (the first asked) and checks that `waiter` waits for the next one. */
async function waitsForTheNextSync(
  s: ReturnType<typeof heldSyncs>,
  running: Promise<void>,
  waiter: Promise<void>,
) {
  const w = watch(waiter)
  s.release(0)
  await running
  await turns(3)
  expect(s.asked).toBe(2)
  expect(w.done).toBe(false)
  s.release(1)
  await waiter
}

describe('WalSync', () => {
  it('shares one sync among the commits made while one runs, and starts it only after', async () => {
    const { s, wal } = aHeldWal()
    const first = wal.sync()
    const second = wal.sync()
    const third = wal.sync()
    expect(second).toBe(third)
    await turns(3)
    // The running sync may have started before the second commit: it waits for its own.
    expect(s.asked).toBe(1)
    await waitsForTheNextSync(s, first, second)
    // Nothing running: the next caller starts one at once.
    void wal.sync()
    expect(s.asked).toBe(3)
    s.release(2)
    await wal.close()
  })

  it('tells when every deferred commit so far is on disk, syncing only what no sync covers', async () => {
    const { s, wal } = aHeldWal()
    await wal.synced()
    expect(s.asked).toBe(0)
    wal.began()
    wal.ended()
    const publish = wal.sync()
    // The running sync started after that commit ended: a claim waits for it, no other.
    const claim = wal.synced()
    expect(claim).toBe(publish)
    // Begun after it started: the next sync must cover this one.
    wal.began()
    const later = wal.synced()
    wal.ended()
    await waitsForTheNextSync(s, claim, later)
    await wal.synced()
    expect(s.asked).toBe(2)
    await wal.close()
  })

  it('fails as SQLite names a failed sync (the store answers store_unavailable)', async () => {
    const file = join(dir, 'wal')
    writeFileSync(file, 'x')
    const wal = new WalSync(file, (_fd, done) =>
      done(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' })),
    )
    await expect(wal.sync()).rejects.toMatchObject({ code: 'SQLITE_IOERR_FSYNC' })
    await wal.close()
  })

  it('syncs a real file', async () => {
    const file = join(dir, 'wal')
    writeFileSync(file, 'x')
    const wal = new WalSync(file)
    await wal.sync()
    await Promise.all([wal.sync(), wal.sync()])
    await wal.close()
  })
})

/** A store on a file whose WAL syncs wait until released, with one environment and subscription. */
async function aStoreWithHeldSyncs() {
  const s = heldSyncs()
  store = openSqliteStore(join(dir, 'hookpost.db'), { syncFile: s.syncFile })
  await store.migrate()
  const envId = await anEnvironmentId(store)
  await aSubscription(store, envId)
  return { s, envId }
}

describe('SQLite group commit on a file', () => {
  it('answers publishes and hands off their deliveries only once the WAL is synced', async () => {
    const { s, envId } = await aStoreWithHeldSyncs()
    const handed: string[] = []
    let answered = 0
    const publishes = [0, 1, 2].map((k) =>
      store!.events
        .publish(aPublish(envId, k, (ds) => handed.push(...ds.map((d) => d.id))))
        .then(() => answered++),
    )
    for (let i = 0; i < 50 && s.asked === 0; i++) await turns(1)
    expect(s.asked).toBe(1)
    await turns(5)
    // Committed (another connection sees the event), but nobody answered and nothing handed off.
    expect(answered).toBe(0)
    expect(handed).toEqual([])
    const other = new BetterSqlite3(join(dir, 'hookpost.db'), { readonly: true })
    expect((other.prepare('select count(*) as n from events').get() as { n: number }).n).toBe(3)
    other.close()
    s.release(0)
    await Promise.all(publishes)
    expect(answered).toBe(3)
    expect(handed).toHaveLength(3)
  })

  it('hands a claim nothing before the publish that inserted it is on disk', async () => {
    const { s, envId } = await aStoreWithHeldSyncs()
    let answered = false
    const publish = store!.events.publish(aPublish(envId, 0)).then(() => {
      answered = true
    })
    for (let i = 0; i < 50 && s.asked === 0; i++) await turns(1)
    expect(s.asked).toBe(1)
    // Committed and due, so a claim finds it; it hands it over only once the sync has ended.
    let claimed: ClaimedDelivery[] | undefined
    const claim = store!.deliveries
      .claimDue({ now: T0 + 1000, limit: 10, leaseMs: 30_000, scan: { exclude: [] } })
      .then((r) => {
        claimed = r.deliveries
      })
    await turns(10)
    expect(claimed).toBeUndefined()
    s.release(0)
    await Promise.all([publish, claim])
    expect(answered).toBe(true)
    expect(claimed).toHaveLength(1)
    // That sync covered the publish: the claim asked for no other.
    expect(s.asked).toBe(1)
  })

  it('fails the publishes a failed sync covers with store_unavailable', async () => {
    const { s, envId } = await aStoreWithHeldSyncs()
    const handed: ClaimedDelivery[] = []
    const publish = store!.events.publish(aPublish(envId, 0, (ds) => handed.push(...ds)))
    for (let i = 0; i < 50 && s.asked === 0; i++) await turns(1)
    s.release(0, Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }))
    const e = await publish.catch((e: unknown) => e)
    expect(e).toBeInstanceOf(AppError)
    expect((e as AppError).code).toBe('store_unavailable')
    // Not handed off: its deliveries stay leased until the lease runs out, then are claimed.
    expect(handed).toEqual([])
  })

  it('keeps publishes durable with the real sync', async () => {
    store = openSqliteStore(join(dir, 'hookpost.db'))
    await store.migrate()
    const envId = await anEnvironmentId(store)
    await aSubscription(store, envId)
    const rs = await Promise.all(
      Array.from({ length: 20 }, (_, k) => store!.events.publish(aPublish(envId, k))),
    )
    expect(rs.map((r) => r.deliveries)).toEqual(Array(20).fill(1))
  })
})

describe('Checkpointer', () => {
  const write = (raw: BetterSqlite3.Database, mb: number) => {
    const insert = raw.prepare('insert into t (b) values (?)')
    const chunk = Buffer.alloc(64 * 1024, 1)
    for (let i = 0; i < mb * 16; i++) raw.transaction(() => insert.run(chunk))()
  }
  const aWalDatabase = (path: string) => {
    const raw = new BetterSqlite3(path)
    raw.pragma('journal_mode = WAL')
    raw.exec('create table t (b blob)')
    return raw
  }
  const until = async (ok: () => boolean, ms = 10_000) => {
    const end = Date.now() + ms
    while (!ok()) {
      if (Date.now() > end) throw new Error('timed out')
      await new Promise((r) => setTimeout(r, 20))
    }
  }

  it('copies the WAL into the database on its own thread; the writer checkpoints no more', async () => {
    const path = join(dir, 'c.db')
    const raw = aWalDatabase(path)
    const c = new Checkpointer(raw, path, { everyMs: 20 })
    c.start()
    try {
      expect(raw.pragma('wal_autocheckpoint', { simple: true })).toBe(0)
      write(raw, 8)
      // 8 MB reach the database file while the connection is open and idle.
      await until(() => statSync(path).size > 8 * 1024 * 1024)
      expect(c.running).toBe(true)
    } finally {
      await c.close()
      raw.close()
    }
  })

  it('truncates a WAL that grew past its limit', async () => {
    const path = join(dir, 'c.db')
    const raw = aWalDatabase(path)
    // A WAL file keeps the largest size it reached until a TRUNCATE checkpoint.
    const c = new Checkpointer(raw, path, { everyMs: 20, truncateAboveFrames: 100 })
    c.start()
    try {
      write(raw, 4)
      expect(statSync(`${path}-wal`).size).toBeGreaterThan(4 * 1024 * 1024)
      await until(() => statSync(`${path}-wal`).size < 1024 * 1024)
    } finally {
      await c.close()
      raw.close()
    }
  })

  it('gives checkpoints back to the writing connection when its thread fails', async () => {
    const raw = aWalDatabase(join(dir, 'c.db'))
    const garbage = join(dir, 'not-a-database.db')
    writeFileSync(garbage, Buffer.alloc(8192, 7))
    const c = new Checkpointer(raw, garbage, { everyMs: 20 })
    c.start()
    try {
      expect(raw.pragma('wal_autocheckpoint', { simple: true })).toBe(0)
      await until(() => !c.running)
      expect(raw.pragma('wal_autocheckpoint', { simple: true })).toBe(1000)
      // And it stays so: no second thread.
      c.start()
      expect(c.running).toBe(false)
    } finally {
      await c.close()
      raw.close()
    }
  })
})
