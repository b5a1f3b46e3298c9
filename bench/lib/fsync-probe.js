// The disk's fsync rate as SQLite sees it: single-row inserts, synchronous=FULL, for argv[2] ms;
// prints inserts per second. A script of its own (plain JavaScript) so that it runs under the
// node the service runs under (bench --node): better-sqlite3's build is for that node's ABI.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'

const ms = Number(process.argv[2] ?? 1000)
const dir = mkdtempSync(join(tmpdir(), 'hookpost-bench-fsync-'))
try {
  const db = new Database(join(dir, 'probe.db'))
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  db.exec('create table t (id integer primary key, v blob)')
  const ins = db.prepare('insert into t (v) values (?)')
  const body = Buffer.alloc(1000, 120)
  const t0 = performance.now()
  let n = 0
  while (performance.now() - t0 < ms && n < 500_000) {
    ins.run(body)
    n++
  }
  const rate = (n * 1000) / (performance.now() - t0)
  db.close()
  process.stdout.write(`${rate}\n`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
