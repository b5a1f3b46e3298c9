// A subscription's rateLimit and maxInFlight hold across worker PROCESSES: one API process and two
// `hookpost serve --role worker` processes on one PostgreSQL database, a loopback receiver that
// notes when each request arrives and how many are open at once. Counts per aligned window are a
// correctness property (the budget is shared in the store), not a timing benchmark.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { eventTypes } from '../../src/events/event-types.ts'
import { generateMasterKey } from '../../src/secrets/secret-box.ts'
import { eventually } from '../support/eventually.ts'
import { freshDatabase, postgresAvailable, postgresRequired } from '../support/postgres.ts'
import { TestReceiver } from '../support/receiver.ts'
import { client, freePort, type ServiceProcess, startService } from '../support/service-process.ts'
import { createTenant } from '../support/tenant.ts'

const example = eventTypes.find((t) => t.name === 'site.publish')!.example as Record<string, unknown>
const pg = await postgresAvailable()

describe('per-subscription budgets across two worker processes', { timeout: 120_000 }, () => {
  const procs: ServiceProcess[] = []
  const cleanups: (() => Promise<void> | void)[] = []
  let rx: TestReceiver | undefined
  afterEach(async () => {
    for (const p of procs.splice(0)) await p.stop('SIGKILL')
    for (const c of cleanups.splice(0)) await c()
    await rx?.stop()
  })

  it.runIf(pg.ok)('rateLimit and maxInFlight hold across both workers on PostgreSQL', async () => {
    const receiver = await new TestReceiver().start()
    rx = receiver
    let open = 0
    let most = 0
    receiver.respond = (r) => {
      if (!r.path.startsWith('/capped')) return { status: 200 }
      open++
      most = Math.max(most, open)
      setTimeout(() => open--, 200).unref()
      return { status: 200, delayMs: 200 }
    }
    const db = await freshDatabase()
    cleanups.push(() => db.drop())
    const dataDir = mkdtempSync(join(tmpdir(), 'hookpost-budgets-'))
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }))
    const env = {
      HOOKPOST_DATABASE_URL: db.url,
      HOOKPOST_MASTER_KEY: generateMasterKey(),
      HOOKPOST_ADMIN_TOKEN: 'budgets-admin-token-123456',
      HOOKPOST_ALLOW_HTTP: 'true',
      HOOKPOST_ALLOWED_CIDRS: '127.0.0.0/8',
      HOOKPOST_REQUEST_TIMEOUT: '10s',
      HOOKPOST_RETRY_SCHEDULE: '1s',
      HOOKPOST_LOG_LEVEL: 'warn',
      HOOKPOST_PORT: String(await freePort()),
    }
    const api = await startService({ ...env, HOOKPOST_ROLE: 'api' }, { dataDir })
    procs.push(api)
    const workers: ServiceProcess[] = []
    for (let i = 0; i < 2; i++) {
      const w = await startService(
        { ...env, HOOKPOST_LOG_LEVEL: 'info' },
        { dataDir, args: ['--role', 'worker'] },
      )
      procs.push(w)
      workers.push(w)
    }
    const tenant = await createTenant(api, 'budgets')
    const consumer = client(api.url, tenant.consumer.authorization)
    const publisher = client(api.url, tenant.publisher.authorization)
    const rated = await consumer('POST', '/webhooks/subscription', {
      event: 'site.publish',
      url: `${receiver.url}/rated`,
      active: true,
      rateLimit: '5/s',
    })
    expect(rated.status).toBe(201)
    expect(rated.json.subscription.rateLimit).toBe('5/s')
    const capped = await consumer('POST', '/webhooks/subscription', {
      event: 'site.publish',
      url: `${receiver.url}/capped`,
      active: true,
      maxInFlight: 2,
    })
    expect(capped.status).toBe(201)

    const events = 30
    for (let ref = 0; ref < events; ref++) {
      expect((await publisher('POST', '/events', { ...example, site: { ref } })).status).toBe(202)
    }
    const at = (path: string) => receiver.received.filter((r) => r.path === path)
    await eventually(
      () => {
        expect(at('/rated')).toHaveLength(events)
        expect(at('/capped')).toHaveLength(events)
      },
      60_000,
      200,
    )
    // Each delivery once: held back by a budget is never a failed attempt.
    expect(new Set(at('/rated').map((r) => r.headers['webhook-id'])).size).toBe(events)
    expect(at('/rated').every((r) => r.headers['x-delivery-attempt'] === '1')).toBe(true)
    // The budget counts attempts started per aligned window, across both workers: read each
    // attempt's start from the delivery log (arrivals at the receiver may bunch on a loaded box).
    const list = (
      await consumer('GET', `/webhooks/deliveries?subscriptionId=${rated.json.subscription.id}&limit=200`)
    ).json.deliveries as { id: string }[]
    expect(list).toHaveLength(events)
    const perWindow = new Map<number, number>()
    for (const d of list) {
      const log = (await consumer('GET', `/webhooks/deliveries/${d.id}`)).json.delivery.attemptLog as {
        started: string
      }[]
      expect(log).toHaveLength(1)
      const w = Math.floor(Date.parse(log[0]!.started) / 1000)
      perWindow.set(w, (perWindow.get(w) ?? 0) + 1)
    }
    // Per-process budgets would allow 10 per window with two workers.
    for (const n of perWindow.values()) expect(n).toBeLessThanOrEqual(5)
    // 30 at 5 per window cannot fit in fewer than six windows.
    expect(perWindow.size).toBeGreaterThanOrEqual(6)
    expect(most).toBeLessThanOrEqual(2)
    expect(most).toBeGreaterThanOrEqual(1)
    for (const w of workers) expect(w.output()).toContain('delivery worker started')
  })

  it.runIf(!pg.ok && postgresRequired)('needs PostgreSQL (CI=true makes it mandatory)', () => {
    throw new Error(pg.ok ? '' : pg.reason)
  })
})
