// Dashboard sessions and portal links end on the server: signing out, revoking a credential or
// a link, and master key rotation end them for every node sharing the database, at once; a
// portal link works once, and its session ends when the link would have.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load.ts'
import { createLogger, openSecretBox, rotateMasterKey } from '../../src/main.ts'
import { Maintenance } from '../../src/operations/maintenance.ts'
import { hashToken, sessionIdleMs } from '../../src/sessions/dashboard-sessions.ts'
import { silentLogger } from '../../src/shared/logger.ts'
import { openPostgresStore } from '../../src/store/postgres/postgres-store.ts'
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.ts'
import type { Store } from '../../src/store/store.ts'
import { adminToken } from '../support/app-harness.ts'
import { freshDatabase, postgresAvailable, postgresRequired } from '../support/postgres.ts'
import { Browser, type DashHarness, dashHarness } from './harness.ts'

const admin = { authorization: `Bearer ${adminToken}` }

async function issueLink(h: DashHarness, ttlSeconds = 3600): Promise<{ id: string; url: string }> {
  const r = await h.app.inject({
    method: 'POST',
    url: `/admin/environments/${h.envId}/portal-links`,
    headers: admin,
    payload: { ttlSeconds },
  })
  expect(r.statusCode).toBe(201)
  return r.json().portalLink
}

describe('dashboard sessions end on the server', () => {
  let h: DashHarness
  let clock: number
  beforeEach(async () => {
    clock = Date.now()
    h = await dashHarness({}, { now: () => clock })
  })
  afterEach(async () => {
    await h.close()
  })

  it('signing out ends the session: the old cookie no longer works', async () => {
    for (const signIn of [
      (b: Browser) => b.signIn(h.consumer),
      (b: Browser) => b.signInOperator(adminToken),
    ]) {
      const b = new Browser(h.app)
      const r = await signIn(b)
      const home = r.location!
      expect((await b.get(home)).status).toBe(200)
      const stolen = b.cookie
      expect((await b.post('/dashboard/logout')).status).toBe(303)
      const replay = new Browser(h.app)
      replay.cookie = stolen
      const after = await replay.get(home)
      expect(after.status).toBe(303)
      expect(after.location).toBe('/dashboard/login')
    }
  })

  it('revoking a credential ends its sessions, and only its own', async () => {
    const mine = new Browser(h.app)
    await mine.signIn(h.consumer)
    const other = new Browser(h.app)
    await other.signIn(h.other.consumer)
    await h.hookpost.environments.revokeCredential(h.envId, h.consumer.id)
    expect((await mine.get('/dashboard/portal/subscriptions')).status).toBe(303)
    expect((await other.get('/dashboard/portal/subscriptions')).status).toBe(200)
  })

  it('a portal link works once', async () => {
    const link = await issueLink(h)
    const first = new Browser(h.app)
    expect((await first.openPortalLink(link.url)).status).toBe(303)
    expect((await first.get('/dashboard/portal/subscriptions')).status).toBe(200)
    const second = new Browser(h.app)
    const again = await second.openPortalLink(link.url)
    expect(again.status).toBe(401)
    expect(again.body).toContain('used already')
    expect((await second.get('/dashboard/portal/subscriptions')).status).toBe(303)
  })

  it("a portal link's session ends when the link would have expired", async () => {
    const link = await issueLink(h, 120)
    const b = new Browser(h.app)
    await b.openPortalLink(link.url)
    clock += 100_000
    expect((await b.get('/dashboard/portal/subscriptions')).status).toBe(200)
    clock += 21_000
    expect((await b.get('/dashboard/portal/subscriptions')).status).toBe(303)
  })

  it('the operator lists outstanding links and revokes one, ending the session it started', async () => {
    const used = await issueLink(h)
    clock += 1000
    const unused = await issueLink(h)
    const b = new Browser(h.app)
    await b.openPortalLink(used.url)
    const list = await h.app.inject({
      method: 'GET',
      url: `/admin/environments/${h.envId}/portal-links`,
      headers: admin,
    })
    expect(list.statusCode).toBe(200)
    const links = list.json().portalLinks as { id: string; used: string | null; expires: string }[]
    expect(links.map((l) => l.id)).toEqual([unused.id, used.id])
    expect(links[0]!.used).toBeNull()
    expect(new Date(links[1]!.used!).getTime()).toBe(clock)
    expect(JSON.stringify(links)).not.toContain('hpl_')

    const revoke = (id: string, envId = h.envId) =>
      h.app.inject({
        method: 'DELETE',
        url: `/admin/environments/${envId}/portal-links/${id}`,
        headers: admin,
      })
    expect((await revoke(used.id, h.other.envId)).statusCode).toBe(404)
    expect((await revoke(used.id)).statusCode).toBe(204)
    expect((await b.get('/dashboard/portal/subscriptions')).status).toBe(303)
    expect((await revoke(used.id)).json().error.code).toBe('portal_link_not_found')
    expect((await revoke(unused.id)).statusCode).toBe(204)
    expect((await new Browser(h.app).openPortalLink(unused.url)).status).toBe(401)
    const none = await h.app.inject({
      method: 'GET',
      url: `/admin/environments/${h.envId}/portal-links`,
      headers: admin,
    })
    expect(none.json().portalLinks).toEqual([])
    expect(
      (await h.app.inject({ method: 'GET', url: `/admin/environments/${h.envId}/portal-links` })).statusCode,
    ).toBe(401)
  })

  it('the retention sweep deletes expired sessions and links', async () => {
    const t0 = clock
    const b = new Browser(h.app)
    await b.signIn(h.consumer)
    const idHash = hashToken(b.cookie!.split('=')[1]!)
    await issueLink(h, 60)
    const sweeper = new Maintenance({
      store: h.store,
      log: silentLogger,
      retentionMs: 86_400_000,
      replayAttempts: 1,
      now: () => clock,
    })
    await sweeper.sweep()
    expect(await h.store.dashboardSessions.get(idHash, t0)).toBeDefined()
    expect(await h.store.portalLinks.list(h.envId, t0)).toHaveLength(1)
    clock += sessionIdleMs
    await sweeper.sweep()
    expect(await h.store.dashboardSessions.get(idHash, t0)).toBeUndefined()
    expect(await h.store.portalLinks.list(h.envId, t0)).toEqual([])
  })

  it('the operator view lists a link and revokes it', async () => {
    const link = await issueLink(h)
    const op = new Browser(h.app)
    await op.signInOperator(adminToken)
    const page = await op.get(`/dashboard/operator/environments/${h.envId}`)
    expect(page.body).toContain(link.id)
    const r = await op.post(`/dashboard/operator/environments/${h.envId}/portal-links/revoke`, {
      linkId: link.id,
    })
    expect(r.status).toBe(303)
    expect((await op.get(r.location!)).body).not.toContain(`<code>${link.id}</code>`)
    expect((await new Browser(h.app).openPortalLink(link.url)).status).toBe(401)
  })
})

const pg = await postgresAvailable()
if (!pg.ok && postgresRequired) throw new Error(pg.reason)

interface SharedDatabase {
  url: string
  open(): Store
  drop(): Promise<void>
}

/** Where two app instances share one database: a SQLite file, and PostgreSQL when it answers. */
const databases: [string, (dir: string) => Promise<SharedDatabase>][] = [
  [
    'sqlite',
    async (dir) => {
      const file = join(dir, 'hookpost.db')
      return { url: `sqlite:${file}`, open: () => openSqliteStore(file), drop: async () => {} }
    },
  ],
]
if (pg.ok) {
  databases.push([
    'postgres',
    async () => {
      const db = await freshDatabase()
      return { url: db.url, open: () => openPostgresStore(db.url), drop: db.drop }
    },
  ])
}

describe.each(databases)(
  'master key rotation ends sessions on every node, without a restart (%s)',
  (_, database) => {
    let dir: string
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'hookpost-sessions-'))
    })
    afterEach(() => {
      rmSync(dir, { recursive: true, force: true })
    })

    it('signs out the sessions of a second app on the same database and voids its links', async () => {
      const db = await database(dir)
      const config = loadConfig({ HOOKPOST_DATABASE_URL: db.url, HOOKPOST_DATA_DIR: dir })
      const log = createLogger('silent')
      openSecretBox(config, log) // the first master key file, as `serve` makes it
      const first = await dashHarness({}, { store: db.open() })
      const second = await dashHarness({}, { store: db.open() })
      try {
        const consumer = new Browser(second.app)
        await consumer.signIn(second.consumer)
        const operator = new Browser(second.app)
        await operator.signInOperator(adminToken)
        const link = await issueLink(first)
        expect((await consumer.get('/dashboard/portal/subscriptions')).status).toBe(200)
        expect((await operator.get('/dashboard/operator')).status).toBe(200)

        const r = await rotateMasterKey(config, log, { generate: true })

        expect((await consumer.get('/dashboard/portal/subscriptions')).status).toBe(303)
        expect((await operator.get('/dashboard/operator')).status).toBe(303)
        expect((await new Browser(second.app).openPortalLink(link.url)).status).toBe(401)
        expect(r).toMatchObject({ generated: true, sessionsEnded: 2, portalLinksVoided: 1 })
      } finally {
        await first.close()
        await second.close()
        await db.drop()
      }
    })
  },
)
