// Replay jobs across a crash: the process that stepped a job dies in the middle of it, and the
// process that takes over on the same database finishes it at once; its state follows its work.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { eventTypes } from '../../src/events/event-types.ts'
import { createHookpost } from '../../src/hookpost.ts'
import { Maintenance } from '../../src/operations/maintenance.ts'
import { generateMasterKey, parseMasterKey, SecretBox } from '../../src/secrets/secret-box.ts'
import { newId } from '../../src/shared/ids.ts'
import { silentLogger } from '../../src/shared/logger.ts'
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.ts'
import type { Store } from '../../src/store/store.ts'

const T0 = Date.parse('2026-11-28T12:00:00Z')
const body = Buffer.from(JSON.stringify(eventTypes.find((t) => t.name === 'site.publish')!.example))
/** Two replay chunks, filled exactly. */
const deliveries = 1000

describe('maintenance: a replay job across a crash', () => {
  let dir: string
  const opened: Store[] = []
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hookpost-maint-'))
  })
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close()
    rmSync(dir, { recursive: true, force: true })
  })

  /** A worker process on the shared database file; `dieAtStep` makes that replay step throw. */
  async function startProcess(now: () => number, dieAtStep?: number) {
    const store = openSqliteStore(join(dir, 'hookpost.db'))
    opened.push(store)
    await store.migrate()
    const policy = { scheduleMs: [1000, 2000], jitter: 0, maxRetryAfterMs: 1000 }
    const hookpost = createHookpost({
      store,
      box: new SecretBox(parseMasterKey(generateMasterKey())),
      checkUrl: () => ({ ok: true }),
      retryPolicy: policy,
      secretGraceMs: 86_400_000,
      now,
    })
    let steps = 0
    const step: Store['replays']['step'] = (at, opts) => {
      if (++steps === dieAtStep) throw new Error('killed in the middle of a replay step')
      return store.replays.step(at, opts)
    }
    const maintenance = new Maintenance({
      store: Object.assign(Object.create(store) as Store, { replays: { ...store.replays, step } }),
      log: silentLogger,
      retentionMs: 30 * 86_400_000,
      replayAttempts: policy.scheduleMs.length + 1,
      now,
    })
    return { store, hookpost, maintenance }
  }

  it('is finished by the next process at its first tick, every delivery re-queued once', async () => {
    let now = T0
    const first = await startProcess(() => now, 2)
    const env = await first.hookpost.environments.create({ name: 'acme' })
    const sub = await first.hookpost.subscriptions.create(env.id, {
      event: 'site.publish',
      url: 'https://example.com/hook',
      active: true,
    })
    for (let i = 0; i < deliveries; i += 100) {
      await Promise.all(
        Array.from({ length: 100 }, (_, j) =>
          first.store.events.publish({
            event: {
              id: newId('evt', T0 + i + j),
              envId: env.id,
              eventName: 'site.publish',
              body,
              orderingKey: null,
              created: T0 + i + j,
            },
            idempotencyKey: null,
            idempotencySince: 0,
            attemptLimit: 3,
            newDeliveryId: () => newId('dlv', T0 + i + j),
          }),
        ),
      )
    }
    now = T0 + 60_000
    const job = await first.hookpost.replays.start(env.id, sub.id, { since: new Date(T0).toISOString() })
    expect(job).toMatchObject({ total: deliveries, state: 'running' })
    // One chunk is re-queued, then the process dies during the next step.
    now += 10
    await expect(first.maintenance.tick()).rejects.toThrow('killed')
    const stepped = now
    expect(await first.hookpost.replays.get(env.id, job.id)).toMatchObject({ state: 'running', done: 500 })
    await first.store.close()
    opened.splice(opened.indexOf(first.store), 1)

    // Restarted a second later: its first tick does the rest of the work and says it is done.
    now += 1000
    const second = await startProcess(() => now)
    await second.maintenance.tick()
    expect(await second.hookpost.replays.get(env.id, job.id)).toMatchObject({
      state: 'finished',
      done: deliveries,
      updated: now,
    })
    const rows = await second.store.deliveries.list(env.id, { limit: deliveries + 1 })
    const requeuedAt = new Map<number, number>()
    for (const d of rows) requeuedAt.set(d.updated, (requeuedAt.get(d.updated) ?? 0) + 1)
    expect(Object.fromEntries(requeuedAt)).toEqual({ [stepped]: 500, [now]: 500 })
    expect(rows.every((d) => d.status === 'pending' && d.nextAttemptAt === d.updated)).toBe(true)
    const finished = await second.hookpost.operationalEvents.list({ envId: env.id, type: 'replay.finished' })
    expect(finished.events.map((e) => e.data['requeued'])).toEqual([deliveries])
  })
})
