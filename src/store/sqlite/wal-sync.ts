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

  #startNext(): Promise<void> {
    this.#next = undefined
    this.#running = this.#syncNow()
    return this.#running
  }

  #syncNow(): Promise<void> {
    const done = new Promise<void>((resolve, reject) => {
      try {
        // Opened on the first sync: the WAL exists once something was committed to it, and
        // SQLite keeps that file (reused, never replaced) while its connection is open.
        this.#fd ??= openSync(this.#walPath, 'r')
      } catch (e) {
        reject(syncError(e))
        return
      }
      this.#syncFile(this.#fd, (e) => (e ? reject(syncError(e)) : resolve()))
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
