// Background jobs of a worker process: advance replay jobs, send operational events to the
// operator webhook, and sweep expired data, dashboard sessions and portal links. The sweep runs
// once per cluster (a lock in the store), not once per node; a replay step locks its job for one
// transaction, so any node may take the next one, and a job whose node died goes on at the next
// tick of any other.

import { randomBytes } from 'node:crypto'
import { scheduleAttemptLimit } from '../deliveries/retry-policy.ts'
import type { Logger } from '../shared/logger.ts'
import type { Store } from '../store/store.ts'
import type { EndpointVerifier } from '../subscriptions/endpoint-verifier.ts'
import type { OperatorNotifier } from './operator-notifier.ts'

export interface MaintenanceOptions {
  store: Store
  log: Logger
  retentionMs: number
  /** Attempts a replayed delivery gets (the whole schedule). */
  replayAttempts: number
  notifier?: OperatorNotifier | undefined
  /** Sends endpoint verification challenges (every second, or at once when woken for one). */
  verifier?: EndpointVerifier | undefined
  now?: () => number
  tickMs?: number
  sweepEveryMs?: number
}

const replayChunk = 500
const sweepBatch = 1000

export class Maintenance {
  readonly #o: Required<Omit<MaintenanceOptions, 'notifier' | 'verifier'>> & {
    notifier: OperatorNotifier | undefined
    verifier: EndpointVerifier | undefined
  }
  readonly #holder = `node_${randomBytes(6).toString('hex')}`
  #timer: NodeJS.Timeout | undefined
  #running: Promise<void> | undefined
  #lastSweep = 0
  #lastNotify = 0
  #lastVerify = 0
  #verifySoon = false
  #stopped = true
  #halting = false

  constructor(o: MaintenanceOptions) {
    this.#o = {
      now: Date.now,
      tickMs: 250,
      sweepEveryMs: 600_000,
      ...o,
      notifier: o.notifier,
      verifier: o.verifier,
    }
  }

  start(): void {
    this.#stopped = false
    this.#halting = false
    this.#schedule()
  }

  async stop(): Promise<void> {
    this.#stopped = true
    this.#halting = true
    if (this.#timer) clearTimeout(this.#timer)
    await this.#running
  }

  wake(): void {
    if (this.#stopped || this.#running) return
    if (this.#timer) clearTimeout(this.#timer)
    this.#schedule(0)
  }

  /** A verification was started: send its challenge now rather than within the second. */
  wakeVerifier(): void {
    this.#verifySoon = true
    this.wake()
  }

  #schedule(delay = this.#o.tickMs): void {
    this.#timer = setTimeout(() => {
      this.#running = this.tick()
        .catch((e: unknown) => this.#o.log.error({ err: e }, 'maintenance tick failed'))
        .finally(() => {
          this.#running = undefined
          if (!this.#stopped) this.#schedule()
        })
    }, delay)
    this.#timer.unref()
  }

  /** One round of every job that is due; exposed for tests. */
  async tick(): Promise<void> {
    const o = this.#o
    for (let i = 0; i < 20 && !this.#halting; i++) {
      const job = await o.store.replays.step(o.now(), {
        chunk: replayChunk,
        extraAttempts: o.replayAttempts,
        // A subscription with its own schedule gets that schedule's attempts.
        extraAttemptsFor: scheduleAttemptLimit,
      })
      if (!job) break
      if (job.state === 'finished') o.log.info({ replayId: job.id, requeued: job.done }, 'replay finished')
    }
    const now = o.now()
    if (o.notifier && now - this.#lastNotify >= 1000) {
      this.#lastNotify = now
      await o.notifier.tick()
    }
    if (o.verifier && (this.#verifySoon || now - this.#lastVerify >= 1000)) {
      this.#verifySoon = false
      this.#lastVerify = now
      await o.verifier.tick()
    }
    if (now - this.#lastSweep >= o.sweepEveryMs) {
      this.#lastSweep = now
      await this.sweep()
    }
  }

  async sweep(): Promise<void> {
    const o = this.#o
    const now = o.now()
    if (!(await o.store.maintenance.tryLock('retention-sweep', this.#holder, now, o.sweepEveryMs + 60_000)))
      return
    const before = now - o.retentionMs
    let total = 0
    for (;;) {
      const r = await o.store.maintenance.sweep(before, sweepBatch)
      total += r.deliveries + r.events
      if (r.deliveries < sweepBatch && r.events < sweepBatch) break
    }
    // Ended dashboard sessions and portal links go at once (they are dead rows, not history).
    total += (await o.store.dashboardSessions.sweep(now)) + (await o.store.portalLinks.sweep(now))
    if (total > 0) o.log.info({ before: new Date(before).toISOString(), rows: total }, 'retention sweep')
  }
}
