// The SQLite store's checkpointer (checkpointer.ts starts it): a second connection to the
// database file, on a thread of its own, copies the WAL into the database. PASSIVE checkpoints
// never wait for the writer, so the thread that commits (the API's, the worker's) no longer
// spends the checkpoint's writes and fsyncs inside a COMMIT, as SQLite's automatic checkpoint
// would. A WAL that keeps growing because commits never leave it idle long enough to be
// restarted is checkpointed once with TRUNCATE, which waits for the writer and starts it afresh.
import { parentPort, workerData } from 'node:worker_threads'
import BetterSqlite3 from 'better-sqlite3'

export interface CheckpointThreadConfig {
  path: string
  /** How often a PASSIVE checkpoint runs. */
  everyMs: number
  /** WAL frames past which a TRUNCATE checkpoint runs. */
  truncateAboveFrames: number
  /** How long a TRUNCATE checkpoint waits for the writer and readers. */
  truncateWaitMs: number
}

export type ToCheckpointThread = { t: 'close' }
export type FromCheckpointThread = { t: 'failed'; message: string } | { t: 'closed' }

const port = parentPort
if (!port) throw new Error('checkpoint-thread runs as a worker thread')
const config = workerData as CheckpointThreadConfig
const db = new BetterSqlite3(config.path)
db.pragma(`busy_timeout = ${config.truncateWaitMs}`)

function checkpoint(): void {
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[]
    if (r && r.log > config.truncateAboveFrames) db.pragma('wal_checkpoint(TRUNCATE)')
  } catch (e) {
    // SQLITE_BUSY from TRUNCATE (a long reader) is tried again next time; anything else ends
    // the thread, and the writing connection checkpoints by itself again.
    if (String((e as { code?: unknown }).code).startsWith('SQLITE_BUSY')) return
    clearInterval(timer)
    port!.postMessage({ t: 'failed', message: (e as Error).message } satisfies FromCheckpointThread)
    db.close()
    port!.close()
  }
}

const timer = setInterval(checkpoint, config.everyMs)
port.on('message', (m: ToCheckpointThread) => {
  if (m.t !== 'close') return
  clearInterval(timer)
  db.close()
  port.postMessage({ t: 'closed' } satisfies FromCheckpointThread)
  port.close()
})
