// Hookpost as the system under test: the real service started as separate processes
// (`node bin/hookpost.js serve`), on SQLite (one process, role all) or PostgreSQL (a fresh
// database; role api plus N role worker processes), driven only through its public HTTP API.
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { Pool } from 'undici'
import { freePort, onCleanup, repoRoot, sleep, stopChild, track } from './lib/child.ts'

export const defaultPgAdminUrl = 'postgres://postgres@127.0.0.1:5432/postgres'

export interface ServiceOptions {
  /** sqlite (default) or a PostgreSQL admin URL on which a fresh database is created. */
  pgAdminUrl?: string | undefined
  /** Extra HOOKPOST_* settings (e.g. HOOKPOST_RETRY_SCHEDULE). */
  env?: Record<string, string>
  /** Extra node options before the script, e.g. ['--cpu-prof', '--cpu-prof-dir=…']. */
  nodeArgs?: string[]
  /** The node binary the service runs under (default: the harness's own). */
  node?: string | undefined
}

export interface LogProblems {
  errors: number
  warnings: number
  samples: string[]
}

interface Proc {
  child: ChildProcess
  role: string
  out: string
}

export class HookpostService {
  readonly dataDir: string
  readonly adminToken = `bench_${randomBytes(16).toString('hex')}`
  readonly masterKey = randomBytes(32).toString('base64')
  readonly options: ServiceOptions
  databaseUrl = ''
  port = 0
  url = ''
  #procs: Proc[] = []
  #dropDb: (() => Promise<void>) | undefined
  #unregister: () => void
  readonly problems: LogProblems = { errors: 0, warnings: 0, samples: [] }

  private constructor(options: ServiceOptions) {
    this.options = options
    this.dataDir = mkdtempSync(join(tmpdir(), 'hookpost-bench-'))
    this.#unregister = onCleanup(() => this.cleanup())
  }

  /** Creates the data directory (and the PostgreSQL database); starts nothing yet. */
  static async create(options: ServiceOptions = {}): Promise<HookpostService> {
    const s = new HookpostService(options)
    s.port = await freePort()
    s.url = `http://127.0.0.1:${s.port}`
    if (options.pgAdminUrl) {
      const name = `hookpost_bench_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`
      const admin = new pg.Client({ connectionString: options.pgAdminUrl, connectionTimeoutMillis: 5000 })
      await admin.connect()
      await admin.query(`create database ${name}`)
      await admin.end()
      const u = new URL(options.pgAdminUrl)
      u.pathname = `/${name}`
      s.databaseUrl = u.toString()
      const adminUrl = options.pgAdminUrl
      s.#dropDb = async () => {
        const c = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 })
        await c.connect()
        await c.query(`drop database if exists ${name} with (force)`)
        await c.end()
      }
    } else {
      s.databaseUrl = `sqlite:${join(s.dataDir, 'bench.db')}`
    }
    return s
  }

  get pgDatabase(): string | undefined {
    return this.options.pgAdminUrl ? new URL(this.databaseUrl).pathname.slice(1) : undefined
  }

  /** PIDs of the running Hookpost processes. */
  pids(): number[] {
    return this.#procs.filter((p) => p.child.exitCode === null).map((p) => p.child.pid ?? 0)
  }

  roles(): { role: string; pid: number }[] {
    return this.#procs
      .filter((p) => p.child.exitCode === null)
      .map((p) => ({ role: p.role, pid: p.child.pid ?? 0 }))
  }

  #spawn(role: string): Proc {
    const env: Record<string, string> = {
      PATH: process.env['PATH'] ?? '',
      HOME: process.env['HOME'] ?? '/tmp',
      HOOKPOST_DATABASE_URL: this.databaseUrl,
      HOOKPOST_DATA_DIR: this.dataDir,
      HOOKPOST_PORT: String(this.port),
      HOOKPOST_HOST: '127.0.0.1',
      HOOKPOST_ADMIN_TOKEN: this.adminToken,
      HOOKPOST_MASTER_KEY: this.masterKey,
      HOOKPOST_ALLOW_HTTP: 'true',
      HOOKPOST_ALLOWED_CIDRS: '127.0.0.0/8',
      // A worker-only process says it is ready in an info line; everything else stays quiet.
      HOOKPOST_LOG_LEVEL: role === 'worker' ? 'info' : 'warn',
      HOOKPOST_ROLE: role,
      // The bench measures delivery, not the API's per-credential limiter (ignored by versions
      // without one).
      HOOKPOST_RATE_LIMIT_PER_CREDENTIAL: 'off',
      HOOKPOST_RATE_LIMIT_PER_ENVIRONMENT: 'off',
      ...(this.options.env ?? {}),
      // For profiling hooks (`--require`): passed to the service processes only.
      ...(process.env['BENCH_SERVICE_NODE_OPTIONS']
        ? { NODE_OPTIONS: process.env['BENCH_SERVICE_NODE_OPTIONS'] }
        : {}),
    }
    const args = [...(this.options.nodeArgs ?? []), join(repoRoot, 'bin/hookpost.js'), 'serve']
    const child = spawn(this.options.node ?? process.execPath, args, {
      cwd: repoRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    track(child)
    const proc: Proc = { child, role, out: '' }
    const onData = (d: Buffer) => {
      const text = d.toString()
      proc.out = (proc.out + text).slice(-200_000)
      for (const line of text.split('\n')) this.#scanLog(line, role)
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    this.#procs.push(proc)
    return proc
  }

  #scanLog(line: string, role: string): void {
    const t = line.trim()
    if (!t) return
    let level = 0
    let msg = t
    try {
      const j = JSON.parse(t) as { level?: number; msg?: string; err?: { message?: string } }
      level = j.level ?? 0
      msg = `${j.msg ?? ''}${j.err?.message ? `: ${j.err.message}` : ''}`
    } catch {
      level = 50 // not JSON: a crash trace or a stray print
    }
    if (level >= 50) this.problems.errors++
    else if (level >= 40) this.problems.warnings++
    else return
    if (this.problems.samples.length < 12) this.problems.samples.push(`[${role}] ${msg.slice(0, 300)}`)
  }

  /** Starts the given roles: "all"; or "api" and/or N "worker" processes. */
  async start(roles: { api: boolean; workers: number; all?: boolean }): Promise<void> {
    const started: Proc[] = []
    if (roles.all) started.push(this.#spawn('all'))
    else if (roles.api) started.push(this.#spawn('api'))
    for (let i = 0; i < roles.workers; i++) started.push(this.#spawn('worker'))
    const deadline = Date.now() + 60_000
    for (const p of started) {
      for (;;) {
        if (p.child.exitCode !== null)
          throw new Error(`hookpost (${p.role}) exited ${p.child.exitCode}:\n${p.out.slice(-3000)}`)
        if (Date.now() > deadline)
          throw new Error(`hookpost (${p.role}) did not start in 60 s:\n${p.out.slice(-3000)}`)
        if (p.role === 'worker') {
          if (p.out.includes('delivery worker started')) break
        } else if (await this.#healthy()) break
        await sleep(50)
      }
    }
  }

  async #healthy(): Promise<boolean> {
    try {
      const r = await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(2000) })
      await r.arrayBuffer()
      return r.status === 200
    } catch {
      return false
    }
  }

  /** SIGTERM every process (graceful: attempts in flight finish, completions are flushed). */
  async stop(): Promise<void> {
    const procs = this.#procs
    this.#procs = []
    // Workers first, then the API, so nothing new is claimed while the API goes.
    const order = [...procs.filter((p) => p.role === 'worker'), ...procs.filter((p) => p.role !== 'worker')]
    await Promise.all(order.map((p) => stopChild(p.child, 'SIGTERM', 30_000)))
    for (const p of procs) {
      if (p.child.exitCode !== 0 && p.child.exitCode !== null && p.child.signalCode === null) {
        this.problems.errors++
        if (this.problems.samples.length < 12)
          this.problems.samples.push(`[${p.role}] exited with code ${p.child.exitCode} on SIGTERM`)
      }
    }
  }

  /** Stops everything and removes the data directory and the database. */
  async cleanup(): Promise<void> {
    this.#unregister()
    for (const p of this.#procs) {
      try {
        p.child.kill('SIGKILL')
      } catch {
        // gone
      }
    }
    this.#procs = []
    rmSync(this.dataDir, { recursive: true, force: true })
    const drop = this.#dropDb
    this.#dropDb = undefined
    if (drop) {
      // The killed processes' connections may linger for a moment; WITH (FORCE) handles them.
      await drop().catch(async () => {
        await sleep(500)
        await drop().catch(() => undefined)
      })
    }
  }

  // ---------------------------------------------------------------------------------------------
  // The public API.

  async api(
    method: string,
    path: string,
    opts: { auth?: string; body?: unknown } = {},
  ): Promise<{ status: number; json: Record<string, unknown> }> {
    const r = await fetch(this.url + path, {
      method,
      headers: {
        ...(opts.auth ? { authorization: opts.auth } : {}),
        ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
      signal: AbortSignal.timeout(30_000),
    })
    const text = await r.text()
    let json: Record<string, unknown> = {}
    try {
      json = text ? (JSON.parse(text) as Record<string, unknown>) : {}
    } catch {
      json = { raw: text }
    }
    return { status: r.status, json }
  }

  async #ok(method: string, path: string, opts: { auth?: string; body?: unknown }, want: number) {
    const r = await this.api(method, path, opts)
    if (r.status !== want)
      throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.json).slice(0, 300)}`)
    return r.json
  }

  /**
   * One environment, a consumer and a publisher credential, a fresh signing secret, and one
   * account_holder.created subscription per URL. Returns what the publisher and receivers need.
   */
  async setup(
    urls: string[],
    filter?: Record<string, unknown>,
    /** JavaScript for every subscription's transformation (docs/transformations.md). */
    transformation?: string,
  ): Promise<{ publisherAuth: string; consumerAuth: string; secret: string; example: unknown }> {
    const admin = `Bearer ${this.adminToken}`
    const env = (await this.#ok(
      'POST',
      '/admin/environments',
      { auth: admin, body: { name: 'bench' } },
      201,
    )) as {
      environment: { id: string }
    }
    const envId = env.environment.id
    const cred = async (role: string) => {
      const j = (await this.#ok(
        'POST',
        `/admin/environments/${envId}/credentials`,
        { auth: admin, body: { role } },
        201,
      )) as { credential: { key: string; secret: string } }
      return `Basic ${Buffer.from(`${j.credential.key}:${j.credential.secret}`).toString('base64')}`
    }
    const consumerAuth = await cred('consumer')
    const publisherAuth = await cred('publisher')
    const sec = (await this.#ok('POST', '/webhooks/hmac-secret', { auth: consumerAuth }, 201)) as {
      hmacSecret: { secret: string }
    }
    const types = (await this.#ok('GET', '/webhooks/event-types', { auth: consumerAuth }, 200)) as {
      eventTypes: { name: string; example: unknown }[]
    }
    const example = types.eventTypes.find((t) => t.name === 'account_holder.created')?.example
    if (!example) throw new Error('account_holder.created is not in the catalogue')
    for (const url of urls) {
      await this.#ok(
        'POST',
        '/webhooks/subscription',
        {
          auth: consumerAuth,
          body: {
            event: 'account_holder.created',
            url,
            active: true,
            ...(filter ? { filter } : {}),
            ...(transformation ? { transformation: { code: transformation } } : {}),
          },
        },
        201,
      )
    }
    return { publisherAuth, consumerAuth, secret: sec.hmacSecret.secret, example }
  }

  /**
   * Counts deliveries with a status through GET /webhooks/deliveries (pages of 200), bounded by
   * maxRows and maxMs. exact=false when a bound cut the count short.
   */
  async count(
    consumerAuth: string,
    status: string,
    bounds: { maxRows?: number; maxMs?: number } = {},
  ): Promise<{ count: number; exact: boolean }> {
    const maxRows = bounds.maxRows ?? 2_000_000
    const deadline = Date.now() + (bounds.maxMs ?? 120_000)
    const pool = new Pool(this.url, { connections: 1 })
    let count = 0
    let cursor: string | null = null
    try {
      for (;;) {
        const q = `/webhooks/deliveries?status=${status}&limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`
        const r = await pool.request({ path: q, method: 'GET', headers: { authorization: consumerAuth } })
        const text = await r.body.text()
        if (r.statusCode !== 200) throw new Error(`GET ${q}: ${r.statusCode} ${text.slice(0, 200)}`)
        const j = JSON.parse(text) as { deliveries: unknown[]; nextCursor: string | null }
        count += j.deliveries.length
        cursor = j.nextCursor
        if (!cursor) return { count, exact: true }
        if (count >= maxRows || Date.now() > deadline) return { count, exact: false }
      }
    } finally {
      await pool.close()
    }
  }

  /** Whether any delivery is still pending (one small request). */
  async anyPending(consumerAuth: string): Promise<boolean> {
    const r = await this.api('GET', '/webhooks/deliveries?status=pending&limit=1', { auth: consumerAuth })
    if (r.status !== 200) throw new Error(`pending check: ${r.status}`)
    return (r.json['deliveries'] as unknown[]).length > 0
  }

  /** The last lines of output of the processes (for error reports). */
  tail(n = 2000): string {
    return this.#procs.map((p) => `[${p.role}] ${p.out.slice(-n)}`).join('\n')
  }
}
