// `hookpost outbox relay` as a process over the real PostgreSQL and MariaDB: killed with SIGKILL
// in the middle of its work, then two relays finish the table. Every committed row must become
// exactly one event and a rolled-back one none; SIGTERM stops a relay cleanly. Against a fake
// POST /events/batch (which, like the service, answers a known idempotency key with its first
// event), and against the real service's POST /events/batch (contract section 10).
import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type OutboxFixture, outboxFixture, testDialects } from '../../packages/outbox/test/databases.ts'
import { type FakeHookpost, startFakeHookpost } from '../../packages/outbox/test/fake-hookpost.ts'
import { eventually } from '../support/eventually.ts'
import { TestReceiver } from '../support/receiver.ts'
import { client, repoRoot, type ServiceProcess, startService } from '../support/service-process.ts'
import { createTenant } from '../support/tenant.ts'

const dialects = await testDialects()

interface RelayProcess {
  child: ChildProcess
  output: () => string
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

function startRelay(
  fx: OutboxFixture,
  hookpost: { url: string; key: string; secret: string },
  batchSize: number,
): RelayProcess {
  let out = ''
  const child = spawn(
    process.execPath,
    [
      join(repoRoot, 'bin/hookpost.js'),
      'outbox',
      'relay',
      '--batch-size',
      String(batchSize),
      '--lag-interval',
      '0.2',
      '--json',
    ],
    {
      cwd: repoRoot,
      env: {
        PATH: process.env['PATH'] ?? '',
        HOME: process.env['HOME'] ?? '/tmp',
        HOOKPOST_OUTBOX_DATABASE_URL: fx.url,
        HOOKPOST_OUTBOX_TABLE: fx.table,
        HOOKPOST_URL: hookpost.url,
        HOOKPOST_KEY: hookpost.key,
        HOOKPOST_SECRET: hookpost.secret,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString()
  })
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString()
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    // 'close', not 'exit': its last lines may still be in the pipe at exit.
    child.once('close', (code, signal) => resolve({ code, signal })),
  )
  return { child, output: () => out, exited }
}

/** Commits `count` rows in transactions of 50, each payload marked with its number, and rolls back `rolledBack` more. */
async function writeRows(fx: OutboxFixture, count: number, rolledBack: number): Promise<void> {
  for (let start = 0; start < count; start += 50) {
    await fx.app.query('begin')
    for (let n = start; n < Math.min(count, start + 50); n++) {
      await fx.outbox.write(fx.app.driver, {
        eventName: 'store.order_updated',
        order: { ref: n, status: 'paid', notes: `row ${n}` },
      })
    }
    await fx.app.query('commit')
  }
  await fx.app.query('begin')
  for (let n = 0; n < rolledBack; n++) {
    await fx.outbox.write(fx.app.driver, {
      eventName: 'store.order_updated',
      order: { ref: -1 - n, notes: 'rolled back' },
    })
  }
  await fx.app.query('rollback')
}

async function publishedCount(fx: OutboxFixture): Promise<number> {
  return (await fx.rows()).filter((r) => r.published).length
}

const relays: RelayProcess[] = []
afterEach(async () => {
  for (const r of relays.splice(0)) {
    if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL')
    await r.exited
  }
})

describe.each(dialects)('hookpost outbox relay (process) on %s, against a fake /events/batch', (dialect) => {
  let fake: FakeHookpost
  let fx: OutboxFixture
  beforeAll(async () => {
    fake = await startFakeHookpost()
  })
  afterAll(() => fake.close())
  afterEach(async () => {
    fake.requests.length = 0
    fake.events.clear()
    fake.afterAnswer = undefined
    fake.beforeAnswer = undefined
    await fx?.drop()
  })

  it('killed with SIGKILL once a batch is committed, before its 202 arrives, then two relays: every committed row is one event', async () => {
    fx = await outboxFixture(dialect)
    await writeRows(fx, 400, 30)
    const target = { url: fake.url, key: 'key_pub', secret: 'sec' }
    const first = startRelay(fx, target, 20)
    relays.push(first)
    // The 5th batch's events are created, and the relay dies before it can learn or record it
    // (killed after the 202 was written, it sometimes recorded it first: a race, not a crash test).
    fake.beforeAnswer = async () => {
      if (fake.requests.length === 5) {
        first.child.kill('SIGKILL')
        await first.exited
      }
    }
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' })
    fake.beforeAnswer = undefined
    const before = await publishedCount(fx)
    expect(before).toBeLessThan(400)

    const next = [startRelay(fx, target, 20), startRelay(fx, target, 20)]
    relays.push(...next)
    await eventually(async () => expect(await publishedCount(fx)).toBe(400), 30_000, 50)

    const rows = await fx.rows()
    expect(rows).toHaveLength(400)
    expect(fake.events.size).toBe(400)
    for (const row of rows) expect(row.event_id).toBe(fake.events.get(row.idempotency_key))
    const sent = fake.requests.flatMap((q) => q.items.map((i) => (i.payload['order'] as { ref: number }).ref))
    expect(new Set(sent)).toEqual(new Set(rows.map((_, n) => n)))
    // The batch answered before the kill went out again, under the same keys (no new event).
    expect(sent.length).toBeGreaterThan(400)
    await eventually(() => {
      for (const r of next) expect(r.output()).toContain('"msg":"outbox relay started"')
    })
    for (const r of next) r.child.kill('SIGTERM')
    for (const r of next) expect(await r.exited).toEqual({ code: 0, signal: null })
    for (const r of next) expect(r.output()).toContain('"msg":"outbox relay stopped"')
  }, 60_000)
})

describe.each(dialects)('hookpost outbox relay (process) on %s, against the real service', (dialect) => {
  let svc: ServiceProcess
  let rx: TestReceiver
  let fx: OutboxFixture
  beforeAll(async () => {
    rx = await new TestReceiver().start()
    svc = await startService({ HOOKPOST_ALLOW_HTTP: 'true', HOOKPOST_ALLOWED_CIDRS: '127.0.0.0/8' })
  })
  afterAll(async () => {
    await svc?.stop()
    svc?.cleanup()
    await rx?.stop()
    await fx?.drop()
  })

  it('killed mid-way with SIGKILL, then two relays: each committed row is delivered as exactly one event', async () => {
    const tenant = await createTenant(svc, `outbox-${dialect}`)
    const consumer = client(svc.url, tenant.consumer.authorization)
    const sub = await consumer('POST', '/webhooks/subscription', {
      event: 'store.order_updated',
      url: `${rx.url}/orders`,
      active: true,
    })
    expect(sub.status).toBe(201)

    fx = await outboxFixture(dialect)
    const total = 600
    await writeRows(fx, total, 25)
    const target = { url: svc.url, key: tenant.publisher.key, secret: tenant.publisher.secret }
    const first = startRelay(fx, target, 10)
    relays.push(first)
    await eventually(async () => expect(await publishedCount(fx)).toBeGreaterThanOrEqual(100), 30_000, 10)
    first.child.kill('SIGKILL')
    await first.exited
    expect(await publishedCount(fx)).toBeLessThan(total)

    relays.push(startRelay(fx, target, 25), startRelay(fx, target, 25))
    await eventually(async () => expect(await publishedCount(fx)).toBe(total), 60_000, 100)

    // One event per row: the rows' event ids are distinct, and the consumer API lists exactly
    // one delivery per event, for those events.
    const rows = await fx.rows()
    const eventIds = new Set(rows.map((r) => r.event_id))
    expect(eventIds.size).toBe(total)
    const deliveries: { eventId: string }[] = []
    for (let cursor: string | null = null; ; ) {
      const page = await consumer(
        'GET',
        `/webhooks/deliveries?subscriptionId=${sub.json.subscription.id}&limit=100${cursor ? `&cursor=${cursor}` : ''}`,
      )
      deliveries.push(...page.json.deliveries)
      cursor = page.json.nextCursor
      if (!cursor) break
    }
    expect(deliveries).toHaveLength(total)
    expect(new Set(deliveries.map((d) => d.eventId))).toEqual(eventIds)

    // The receiver gets every committed row (at least once; a redelivery keeps its webhook-id),
    // as the bytes the application wrote, and never a rolled-back one.
    await eventually(
      () => expect(new Set(rx.received.map((r) => r.headers['webhook-id'])).size).toBe(total),
      60_000,
    )
    const bodies = new Set(rx.received.map((r) => r.body.toString('utf8')))
    expect(bodies).toEqual(new Set(rows.map((r) => r.payload)))
    expect([...bodies].some((b) => b.includes('rolled back'))).toBe(false)
  }, 120_000)
})
