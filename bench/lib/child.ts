// Child processes of the harness: spawning the bench's own TypeScript scripts (with IPC), a
// request/reply helper over IPC, bounded stops by PID, and a registry that stops everything the
// bench started if it is interrupted.
import { type ChildProcess, spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'

export const benchDir = fileURLToPath(new URL('../', import.meta.url))
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url))

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

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

/** Runs a bench script (bench/<rel>) in its own Node process with IPC. */
export function spawnScript(
  rel: string,
  opts: { env?: Record<string, string>; args?: string[]; nodeArgs?: string[] } = {},
): ChildProcess {
  const child = spawn(
    process.execPath,
    [...(opts.nodeArgs ?? []), '--import', 'tsx', `${benchDir}${rel}`, ...(opts.args ?? [])],
    {
      cwd: repoRoot,
      env: { ...process.env, ...(opts.env ?? {}) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  )
  track(child)
  return child
}

// ---------------------------------------------------------------------------------------------
// Request/reply over IPC: the parent sends {id, cmd, ...}, the child answers {id, ok, result} or
// {id, ok: false, error}. Other messages (progress) go to an optional listener.

interface Reply {
  id?: number
  ok?: boolean
  result?: unknown
  error?: string
  type?: string
}

export class Rpc {
  readonly child: ChildProcess
  #next = 1
  readonly #waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  onMessage: ((m: Record<string, unknown>) => void) | undefined

  constructor(child: ChildProcess) {
    this.child = child
    child.on('message', (m: Reply) => {
      if (typeof m.id === 'number' && this.#waiting.has(m.id)) {
        const w = this.#waiting.get(m.id)!
        this.#waiting.delete(m.id)
        if (m.ok) w.resolve(m.result)
        else w.reject(new Error(m.error ?? 'child error'))
        return
      }
      this.onMessage?.(m as Record<string, unknown>)
    })
    child.once('exit', (code, signal) => {
      for (const w of this.#waiting.values()) w.reject(new Error(`child exited (${code ?? signal})`))
      this.#waiting.clear()
    })
  }

  call<T>(cmd: string, args: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<T> {
    const id = this.#next++
    return new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => {
        this.#waiting.delete(id)
        reject(new Error(`IPC ${cmd} timed out after ${timeoutMs} ms`))
      }, timeoutMs)
      this.#waiting.set(id, {
        resolve: (v) => {
          clearTimeout(t)
          resolve(v as T)
        },
        reject: (e) => {
          clearTimeout(t)
          reject(e)
        },
      })
      this.child.send({ id, cmd, ...args })
    })
  }
}

/** In a child: serve IPC commands with the given handlers. */
export function serveRpc(handlers: Record<string, (msg: Record<string, unknown>) => unknown>): void {
  process.on('message', (m: Record<string, unknown>) => {
    const id = m['id']
    const cmd = String(m['cmd'])
    const h = handlers[cmd]
    Promise.resolve()
      .then(() => {
        if (!h) throw new Error(`unknown command ${cmd}`)
        return h(m)
      })
      .then(
        (result) => process.send?.({ id, ok: true, result }),
        (e: unknown) => process.send?.({ id, ok: false, error: e instanceof Error ? e.message : String(e) }),
      )
  })
  // The parent going away ends the child.
  process.on('disconnect', () => process.exit(0))
}

/** Resolves when the child has sent its first {type:'ready'} message (or rejects on exit/timeout). */
export function waitReady<T = unknown>(child: ChildProcess, timeoutMs = 30_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => {
      cleanup()
      reject(new Error(`child ${child.pid} not ready after ${timeoutMs} ms`))
    }, timeoutMs)
    const onMsg = (m: { type?: string; info?: T }) => {
      if (m.type === 'ready') {
        cleanup()
        resolve(m.info as T)
      }
    }
    const onExit = (code: number | null) => {
      cleanup()
      reject(new Error(`child exited (${code}) before it was ready`))
    }
    function cleanup() {
      clearTimeout(t)
      child.off('message', onMsg)
      child.off('exit', onExit)
    }
    child.on('message', onMsg)
    child.once('exit', onExit)
  })
}

/** Stops one child by its PID: signal, wait up to timeoutMs, then SIGKILL. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 20_000) {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((r) => child.once('exit', () => r()))
  try {
    child.kill(signal)
  } catch {
    return
  }
  const t = setTimeout(() => {
    try {
      child.kill('SIGKILL')
    } catch {
      // already gone
    }
  }, timeoutMs)
  await exited
  clearTimeout(t)
}

// ---------------------------------------------------------------------------------------------
// What the bench started, so that an interrupted run stops it.

const live = new Set<ChildProcess>()
const finalizers = new Set<() => void | Promise<void>>()

export function track(child: ChildProcess): void {
  live.add(child)
  child.once('exit', () => live.delete(child))
}

export function onCleanup(f: () => void | Promise<void>): () => void {
  finalizers.add(f)
  return () => finalizers.delete(f)
}

export async function cleanupAll(): Promise<void> {
  for (const c of [...live]) {
    try {
      c.kill('SIGKILL')
    } catch {
      // gone
    }
  }
  for (const f of [...finalizers]) {
    try {
      await f()
    } catch {
      // best effort
    }
  }
  finalizers.clear()
}

export function isLoopbackUrl(u: string): boolean {
  try {
    return new URL(u).hostname === '127.0.0.1'
  } catch {
    return false
  }
}

export function assertLoopback(u: string): void {
  if (!isLoopbackUrl(u)) throw new Error(`the bench only targets 127.0.0.1, not ${u}`)
}
