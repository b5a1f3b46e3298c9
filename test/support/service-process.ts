// Runs the real service as a child process (`node bin/hookpost.js serve`) on a free loopback
// port with its own data directory, the way a user starts it.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { eventually } from './eventually.ts'

export const repoRoot = new URL('../../', import.meta.url).pathname

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port
      s.close(() => resolve(p))
    })
  })
}

export interface ServiceProcess {
  url: string
  dataDir: string
  adminToken: string
  env: Record<string, string>
  child: ChildProcess
  output: () => string
  stop(signal?: NodeJS.Signals): Promise<number | null>
  cleanup(): void
}

export async function startService(
  env: Record<string, string> = {},
  /** args: after `serve`, e.g. ['--role', 'worker']. */
  opts: { dataDir?: string; args?: string[] } = {},
): Promise<ServiceProcess> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'hookpost-e2e-'))
  const port = env['HOOKPOST_PORT'] ? Number(env['HOOKPOST_PORT']) : await freePort()
  const fullEnv: Record<string, string> = {
    HOOKPOST_DATABASE_URL: `sqlite:${join(dataDir, 'hookpost.db')}`,
    HOOKPOST_DATA_DIR: dataDir,
    HOOKPOST_PORT: String(port),
    HOOKPOST_LOG_LEVEL: 'info',
    ...env,
  }
  let out = ''
  const child = spawn(process.execPath, [join(repoRoot, 'bin/hookpost.js'), 'serve', ...(opts.args ?? [])], {
    cwd: repoRoot,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', ...fullEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString()
  })
  child.stderr!.on('data', (d: Buffer) => {
    out += d.toString()
  })
  const url = `http://127.0.0.1:${port}`
  const roleArg = opts.args?.indexOf('--role') ?? -1
  const role = (roleArg >= 0 ? opts.args?.[roleArg + 1] : undefined) ?? fullEnv['HOOKPOST_ROLE'] ?? 'all'
  await eventually(
    async () => {
      if (child.exitCode !== null) throw new Error(`hookpost exited ${child.exitCode}:\n${out}`)
      if (role === 'worker') {
        if (!out.includes('delivery worker started')) throw new Error('not started yet')
        return
      }
      const r = await fetch(`${url}/health`)
      if (r.status !== 200) throw new Error(`health ${r.status}`)
    },
    30_000,
    100,
  )
  const adminToken =
    fullEnv['HOOKPOST_ADMIN_TOKEN'] ??
    (role === 'worker' ? '' : readFileSync(join(dataDir, 'admin-token'), 'utf8').trim())
  return {
    url,
    dataDir,
    adminToken,
    env: fullEnv,
    child,
    output: () => out,
    stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode)
      return new Promise((resolve) => {
        // 'close', not 'exit': its last lines may still be in the pipe at exit.
        child.once('close', (code) => resolve(code))
        child.kill(signal)
      })
    },
    cleanup() {
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

/** A small JSON client for the service's API. */
export function client(base: string, authorization?: string) {
  return async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const r = await fetch(base + path, {
      method,
      headers: {
        ...(authorization ? { authorization } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    })
    const text = await r.text()
    // biome-ignore lint/suspicious/noExplicitAny: tests read into whatever JSON the API answered
    return { status: r.status, json: text ? (JSON.parse(text) as Record<string, any>) : {} }
  }
}
