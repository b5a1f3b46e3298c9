// Redis for the BullMQ baselines only: a private redis-server on a free 127.0.0.1 port, started
// as a child of the bench (so it is stopped by its PID) with a temporary directory, and
// persistence as the issue specifies (`--save "" --appendonly no`, or AOF when asked).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, onCleanup, sleep, stopChild, track } from '../lib/child.ts'

export type RedisPersistence = 'none' | 'everysec' | 'always'

export class RedisServer {
  readonly port: number
  readonly child: ChildProcess
  readonly persistence: RedisPersistence
  readonly version: string
  readonly #dir: string
  readonly #unregister: () => void

  private constructor(
    port: number,
    child: ChildProcess,
    dir: string,
    persistence: RedisPersistence,
    version: string,
  ) {
    this.port = port
    this.child = child
    this.#dir = dir
    this.persistence = persistence
    this.version = version
    this.#unregister = onCleanup(() => this.stop())
  }

  static available(): boolean {
    return spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).status === 0
  }

  static async start(persistence: RedisPersistence = 'none'): Promise<RedisServer> {
    const ver = spawnSync('redis-server', ['--version'], { encoding: 'utf8' })
    if (ver.status !== 0) throw new Error('redis-server is not installed (apt-get install redis-server)')
    const version = /v=(\S+)/.exec(ver.stdout)?.[1] ?? 'unknown'
    const port = await freePort()
    const dir = mkdtempSync(join(tmpdir(), 'hookpost-bench-redis-'))
    const persist =
      persistence === 'none'
        ? ['--appendonly', 'no']
        : ['--appendonly', 'yes', '--appendfsync', persistence === 'always' ? 'always' : 'everysec']
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        ...persist,
        '--dir',
        dir,
        '--maxmemory-policy',
        'noeviction',
        '--daemonize',
        'no',
        '--loglevel',
        'warning',
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    )
    track(child)
    const r = new RedisServer(port, child, dir, persistence, version)
    const deadline = Date.now() + 10_000
    for (;;) {
      if (child.exitCode !== null) throw new Error(`redis-server exited ${child.exitCode}`)
      if (r.cli('PING') === 'PONG') break
      if (Date.now() > deadline) throw new Error('redis-server did not answer in 10 s')
      await sleep(50)
    }
    return r
  }

  get pid(): number {
    return this.child.pid ?? 0
  }

  /** One command through redis-cli (the harness itself needs no Redis client library). */
  cli(...args: string[]): string {
    const r = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(this.port), ...args], {
      encoding: 'utf8',
      timeout: 10_000,
    })
    return (r.stdout ?? '').trim()
  }

  flush(): void {
    const out = this.cli('FLUSHALL')
    if (out !== 'OK') throw new Error(`FLUSHALL answered ${out}`)
  }

  async stop(): Promise<void> {
    this.#unregister()
    await stopChild(this.child, 'SIGTERM', 5000)
    rmSync(this.#dir, { recursive: true, force: true })
  }
}
