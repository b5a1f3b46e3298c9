// Work announcements on PostgreSQL: a NOTIFY of its own after the commit (a NOTIFY inside the
// publish transaction serialises every commit on the cluster behind one fsync each), coalesced
// so that a burst of commits costs one or two NOTIFYs.
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { newId } from '../../src/shared/ids.ts'
import { NotifyChannel } from '../../src/store/postgres/notify-channel.ts'
import { openPostgresStore } from '../../src/store/postgres/postgres-store.ts'
import type { SqlStore } from '../../src/store/sql/sql-store.ts'
import { freshHealth } from '../../src/store/store.ts'
import { freshDatabase, postgresAvailable, postgresRequired } from '../support/postgres.ts'

describe('NotifyChannel coalescing', () => {
  it('turns calls made while a NOTIFY is in flight into exactly one more NOTIFY', async () => {
    const sent: (() => void)[] = []
    const channel = new NotifyChannel('postgres://unused', 'hookpost_test', {
      send: () => new Promise<void>((resolve) => sent.push(resolve)),
    })
    for (let i = 0; i < 10; i++) channel.notify()
    expect(sent).toHaveLength(1)
    sent[0]!()
    await new Promise((r) => setImmediate(r))
    expect(sent).toHaveLength(2)
    for (let i = 0; i < 10; i++) channel.notify()
    sent[1]!()
    await new Promise((r) => setImmediate(r))
    expect(sent).toHaveLength(3)
    sent[2]!()
    await channel.settled()
    expect(sent).toHaveLength(3)
    channel.notify()
    expect(sent).toHaveLength(4)
    sent[3]!()
    await channel.close()
  })

  it('keeps going after a NOTIFY that failed: the next call sends again', async () => {
    let calls = 0
    const channel = new NotifyChannel('postgres://unused', 'hookpost_test', {
      send: async () => {
        calls++
        throw new Error('connection refused')
      },
    })
    channel.notify()
    await channel.settled()
    channel.notify()
    await channel.settled()
    expect(calls).toBe(2)
    await channel.close()
  })
})

const available = await postgresAvailable()

describe.skipIf(!available.ok && !postgresRequired)('PostgreSQL work announcements', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>
  let store: SqlStore
  let listener: pg.Client

  beforeAll(async () => {
    db = await freshDatabase()
    store = openPostgresStore(db.url)
    await store.migrate()
    listener = new pg.Client({ connectionString: db.url })
    await listener.connect()
    await listener.query('listen hookpost_work')
  })

  afterAll(async () => {
    await listener?.end()
    await store?.close()
    await db?.drop()
  })

  it('a publish commits without a NOTIFY; the announcement is a statement of its own after it', async () => {
    const at = Date.now()
    const env = { id: newId('env'), name: 'acme', signatureEncoding: 'hex' as const, created: at }
    await store.environments.create(env, {
      id: newId('sec'),
      envId: env.id,
      keyId: 'k1',
      ciphertext: 'sealed',
      created: at,
      expires: null,
      revealed: false,
    })
    await store.subscriptions.create({
      id: newId('sub'),
      envId: env.id,
      event: 'site.publish',
      url: 'https://example.com/hook',
      active: true,
      ordered: false,
      created: at,
      updated: at,
      health: freshHealth,
      deactivatedReason: null,
    })
    const heard = new Promise<pg.Notification>((resolve) => listener.once('notification', resolve))
    const r = await store.events.publish({
      event: {
        id: newId('evt'),
        envId: env.id,
        eventName: 'site.publish',
        body: Buffer.from('{}'),
        orderingKey: null,
        created: at,
      },
      idempotencyKey: null,
      idempotencySince: at - 86_400_000,
      attemptLimit: 3,
      newDeliveryId: () => newId('dlv'),
    })
    expect(r.deliveries).toBe(1)
    const n = await heard
    // The backend that sent it: its last statement is the NOTIFY itself, not a publish's commit.
    const who = await listener.query('select query from pg_stat_activity where pid = $1', [n.processId])
    expect(who.rows[0]?.query).toMatch(/pg_notify/)
  })
})
