// Scale-out: one API process and several worker processes on one database. On PostgreSQL
// (claims with SKIP LOCKED, wake-ups with LISTEN/NOTIFY) three workers share 5,000 deliveries
// with none attempted twice; a worker SIGKILLed mid-run loses nothing. SQLite runs the API and
// a worker as separate processes on one file.
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

interface Cluster {
  api: ServiceProcess
  workers: ServiceProcess[]
  publisher: ReturnType<typeof client>
  consumer: ReturnType<typeof client>
}

describe('cluster: API and workers in separate processes', { timeout: 180_000 }, () => {
  const procs: ServiceProcess[] = []
  const cleanups: (() => Promise<void> | void)[] = []
  let rx: TestReceiver
  afterEach(async () => {
    for (const p of procs.splice(0)) await p.stop('SIGKILL')
    for (const c of cleanups.splice(0)) await c()
    await rx?.stop()
  })

  async function cluster(
    databaseUrl: string,
    workers: number,
    subscriptions: number,
    timeout = '10s',
  ): Promise<Cluster> {
    rx = await new TestReceiver().start()
    const dataDir = mkdtempSync(join(tmpdir(), 'hookpost-cluster-'))
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }))
    const env = {
      HOOKPOST_DATABASE_URL: databaseUrl,
      HOOKPOST_MASTER_KEY: generateMasterKey(),
      HOOKPOST_ADMIN_TOKEN: 'cluster-admin-token-123456',
      HOOKPOST_ALLOW_HTTP: 'true',
      HOOKPOST_ALLOWED_CIDRS: '127.0.0.0/8',
      // Generous: on a loaded 2-core box a 1 s deadline would itself cause retries (duplicates).
      HOOKPOST_REQUEST_TIMEOUT: timeout,
      HOOKPOST_RETRY_SCHEDULE: '200ms,500ms,1s',
      HOOKPOST_LOG_LEVEL: 'warn',
      HOOKPOST_PORT: String(await freePort()),
    }
    const api = await startService({ ...env, HOOKPOST_ROLE: 'api' }, { dataDir })
    procs.push(api)
    const ws: ServiceProcess[] = []
    for (let i = 0; i < workers; i++) {
      const w = await startService(
        { ...env, HOOKPOST_ROLE: 'worker', HOOKPOST_LOG_LEVEL: 'info' },
        { dataDir },
      )
      procs.push(w)
      ws.push(w)
    }
    const tenant = await createTenant(api, 'cluster')
    const consumer = client(api.url, tenant.consumer.authorization)
    for (let i = 0; i < subscriptions; i++) {
      const r = await consumer('POST', '/webhooks/subscription', {
        event: 'site.publish',
        url: `${rx.url}/s${i}`,
        active: true,
      })
      expect(r.status).toBe(201)
    }
    return { api, workers: ws, consumer, publisher: client(api.url, tenant.publisher.authorization) }
  }

  async function publish(c: Cluster, events: number) {
    let next = 0
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < events) {
          const ref = next++
          const r = await c.publisher('POST', '/events', { ...example, site: { ref } })
          expect(r.status).toBe(202)
        }
      }),
    )
  }

  const distinctIds = () => new Set(rx.received.map((r) => String(r.headers['webhook-id'])))

  describe.runIf(pg.ok)('on PostgreSQL', () => {
    async function pgCluster(workers: number, timeout?: string) {
      const db = await freshDatabase()
      cleanups.push(() => db.drop())
      return cluster(db.url, workers, 10, timeout)
    }

    it('three workers deliver 5,000 deliveries together: none attempted twice, none lost', async () => {
      const c = await pgCluster(3)
      await publish(c, 500)
      await eventually(() => expect(distinctIds().size).toBe(5000), 60_000, 200)
      expect(rx.received).toHaveLength(5000)
      expect(rx.received.every((r) => r.headers['x-delivery-attempt'] === '1')).toBe(true)
      for (const w of c.workers) expect(w.output()).toContain('delivery worker started')
    })

    it('loses nothing when one worker is SIGKILLed mid-run', async () => {
      // A short deadline, so the killed worker's leases expire quickly.
      const c = await pgCluster(3, '2s')
      const publishing = publish(c, 500)
      await eventually(() => expect(rx.received.length).toBeGreaterThan(800), 30_000, 20)
      await c.workers[1]!.stop('SIGKILL')
      await publishing
      await eventually(() => expect(distinctIds().size).toBe(5000), 60_000, 200)
      console.log(`cluster: worker killed mid-run; lost 0, duplicates ${rx.received.length - 5000}`)
    })
  })

  if (!pg.ok && postgresRequired) {
    it('needs PostgreSQL (CI=true makes it mandatory)', () => {
      throw new Error(pg.reason)
    })
  }

  it('on SQLite: an API process and a worker process share one file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hookpost-sqlite-cluster-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const c = await cluster(`sqlite:${join(dir, 'shared.db')}`, 1, 3)
    await publish(c, 100)
    await eventually(() => expect(distinctIds().size).toBe(300), 30_000, 100)
    await eventually(async () => {
      const list = (await c.consumer('GET', '/webhooks/deliveries?status=delivered&limit=200')).json
        .deliveries
      expect(list).toHaveLength(200)
    })
  })
})
