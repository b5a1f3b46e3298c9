// Starts and stops one SQLite store's checkpoint thread (checkpoint-thread.ts). While it runs,
// the writing connection's automatic checkpoint is off; once the thread has failed or exited, it
// is on again (SQLite's default, 1000 pages) and stays so: the WAL is never left unchecked.
import type { Worker } from 'node:worker_threads'
import type BetterSqlite3 from 'better-sqlite3'
import { closeModuleThread, startModuleThread } from '../../threads/module-thread.ts'
import type { CheckpointThreadConfig, FromCheckpointThread } from './checkpoint-thread.ts'

const defaults = {
  // About as often as SQLite's own 1000 pages would checkpoint at 30 MB of WAL a second.
  everyMs: 100,
  // 64 MiB of 4 KiB pages.
  truncateAboveFrames: 16_384,
  truncateWaitMs: 5000,
}

/** SQLite's own default, for the writing connection once the thread is gone. */
const autoCheckpointPages = 1000

export class Checkpointer {
  readonly #raw: BetterSqlite3.Database
  readonly #config: CheckpointThreadConfig
  #thread: Worker | undefined
  /** Failed, exited or closed: the writing connection checkpoints by itself from now on. */
  #over = false

  constructor(
    raw: BetterSqlite3.Database,
    path: string,
    options: Partial<Omit<CheckpointThreadConfig, 'path'>> = {},
  ) {
    this.#raw = raw
    this.#config = { path, ...defaults, ...options }
  }

  /** Whether the thread checkpoints (and the writing connection does not). */
  get running(): boolean {
    return this.#thread !== undefined
  }

  /** Starts the thread once (a store that never group-commits never starts one). */
  start(): void {
    if (this.#thread || this.#over) return
    const thread = startModuleThread(import.meta.url, 'checkpoint-thread', { workerData: this.#config })
    // Never what keeps a process alive: close() ends it, and exiting ends it too.
    thread.unref()
    this.#thread = thread
    this.#raw.pragma('wal_autocheckpoint = 0')
    const over = (): void => {
      if (this.#thread !== thread) return
      this.#thread = undefined
      this.#over = true
      if (this.#raw.open) this.#raw.pragma(`wal_autocheckpoint = ${autoCheckpointPages}`)
    }
    thread.on('message', (m: FromCheckpointThread) => m.t === 'failed' && over())
    thread.on('error', over)
    thread.on('exit', over)
  }

  async close(): Promise<void> {
    const thread = this.#thread
    this.#over = true
    this.#thread = undefined
    if (thread) await closeModuleThread(thread)
  }
}
