// Makes the WAL durable off the writing thread. A group commit runs with synchronous=NORMAL (its
// frames reach the WAL file, no fsync inside COMMIT) and then waits here for an fdatasync of the
// WAL, run on libuv's thread pool, before anyone is told it succeeded: as durable as
// synchronous=FULL, but the thread that runs the API, the store and the worker works on while the
// disk syncs. Syncs run one at a time; one sync covers every commit made before it started, so
// commits arriving during a sync share the next one.
import { close, fdatasync, openSync } from 'node:fs'

/** fs.fdatasync's shape: how a sync is made (tests make ones that fail or wait). */
export type SyncFile = (fd: number, done: (e: NodeJS.ErrnoException | null) => void) => void

export class WalSync {
  readonly #walPath: string
  readonly #syncFile: SyncFile
  #fd: number | undefined
  #running: Promise<void> | undefined
  #next: Promise<void> | undefined
  /**
   * Deferred transactions begun and ended (committed or not) so far, and how many of them the
   * syncs that succeeded covered: a sync covers those that had ended when it started.
   */
  #begun = 0
  #ended = 0
  #synced = 0
  /** What the running sync covers. */
  #runningCovers = 0

  constructor(walPath: string, syncFile: SyncFile = fdatasync) {
    this.#walPath = walPath
    this.#syncFile = syncFile
  }

  /** Resolves once everything written to the WAL before this call is on disk. */
  sync(): Promise<void> {
    if (!this.#running) {
      this.#running = this.#syncNow()
      return this.#running
    }
    // The running sync may have started before this caller's commit: wait for one that starts
    // after it, shared with every caller until it starts.
    this.#next ??= this.#running.then(
      () => this.#startNext(),
      () => this.#startNext(),
    )
    return this.#next
  }

  /** Around a deferred transaction: before it begins, and once it has committed or failed. */
  began(): void {
    this.#begun++
  }

  ended(): void {
    this.#ended++
  }

  /**
   * Resolves once every deferred commit made so far is on disk: at once when the syncs that
   * succeeded covered every transaction begun, else with a sync that starts after this call.
   */
  synced(): Promise<void> {
    if (this.#begun <= this.#synced) return Promise.resolve()
    if (this.#running && this.#runningCovers >= this.#begun) return this.#running
    return this.sync()
  }

  #startNext(): Promise<void> {
    this.#next = undefined
    this.#running = this.#syncNow()
    return this.#running
  }

  #syncNow(): Promise<void> {
    // The transactions ended by now have their frames in the WAL file.
    const covers = this.#ended
    this.#runningCovers = covers
    const done = new Promise<void>((resolve, reject) => {
      try {
        // Opened on the first sync: the WAL exists once something was committed to it, and
        // SQLite keeps that file (reused, never replaced) while its connection is open.
        this.#fd ??= openSync(this.#walPath, 'r')
      } catch (e) {
        reject(syncError(e))
        return
      }
      this.#syncFile(this.#fd, (e) => {
        if (e) return reject(syncError(e))
        this.#synced = Math.max(this.#synced, covers)
        resolve()
      })
    })
    const settled = (): void => {
      if (this.#running === done) this.#running = undefined
    }
    done.then(settled, settled)
    return done
  }

  /** After the syncs in flight: closes the file. */
  async close(): Promise<void> {
    while (this.#next ?? this.#running) await (this.#next ?? this.#running)!.catch(() => {})
    const fd = this.#fd
    this.#fd = undefined
    if (fd !== undefined) await new Promise((r) => close(fd, r))
  }
}

/** As SQLite names a failed sync: the store's unavailable errors (store_unavailable, 503). */
function syncError(cause: unknown): Error {
  return Object.assign(new Error(`syncing the SQLite WAL failed: ${(cause as Error).message}`), {
    code: 'SQLITE_IOERR_FSYNC',
    cause,
  })
}
