// Whether the store can take writes now: the answer of GET /health/ready. A write that failed
// because the store is unavailable (disk full, read-only, connection lost) makes it unready at
// once; a probe write, at most once a second, makes it ready again when writes succeed, also
// when no traffic comes (a load balancer sends none to an unready node).
import { randomBytes } from 'node:crypto'
import type { Kysely } from 'kysely'
import type { StoreReadiness } from '../store.ts'
import type { Database } from './database.ts'

const probeEveryMs = 1000
/** Larger than a page (and incompressible), so that the probe needs pages as a publish does. */
const probeBytes = 8192

export class StoreReadinessProbe {
  readonly #db: Kysely<Database>
  readonly #describe: (e: unknown) => string | undefined
  readonly #now: () => number
  #failure: { at: number; reason: string } | undefined
  #checkedAt = Number.NEGATIVE_INFINITY
  #probing: Promise<void> | undefined

  /** describe: the reason for an unavailable store's error (e.g. `SQLITE_FULL`), else undefined. */
  constructor(
    db: Kysely<Database>,
    describe: (e: unknown) => string | undefined,
    now: () => number = Date.now,
  ) {
    this.#db = db
    this.#describe = describe
    this.#now = now
  }

  /** A store operation failed with this error: unready now if the store is unavailable. */
  observe(e: unknown): void {
    const reason = this.#describe(e)
    if (reason !== undefined) this.#failure = { at: this.#now(), reason }
  }

  async readiness(): Promise<StoreReadiness> {
    if (this.#now() - this.#checkedAt >= probeEveryMs) {
      this.#probing ??= this.#probe().finally(() => {
        this.#probing = undefined
      })
      await this.#probing
    }
    const f = this.#failure
    return f ? { ready: false, reason: f.reason, since: f.at } : { ready: true }
  }

  /** A row written and deleted in one committed transaction: needs free space like any write. */
  async #probe(): Promise<void> {
    const name = `readiness-probe-${randomBytes(8).toString('hex')}`
    try {
      await this.#db.transaction().execute(async (tx) => {
        await tx
          .insertInto('cluster_locks')
          .values({ name, holder: randomBytes(probeBytes / 2).toString('hex'), expires: 0 })
          .execute()
        await tx.deleteFrom('cluster_locks').where('name', '=', name).execute()
      })
      this.#failure = undefined
    } catch (e) {
      const reason = this.#describe(e) ?? 'the probe write failed'
      this.#failure ??= { at: this.#now(), reason }
      this.#failure.reason = reason
    } finally {
      this.#checkedAt = this.#now()
    }
  }
}
