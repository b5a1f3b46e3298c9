// Runs the real `hookpost` command (node bin/hookpost.js …) the way a user does, against a real
// service, with a tenant's credentials (test/support/tenant.ts) as its environment.
import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import { eventually } from '../support/eventually.ts'
import { repoRoot, type ServiceProcess, startService } from '../support/service-process.ts'
import { type Credential, createTenant, type Tenant } from '../support/tenant.ts'

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

export interface CliTenant extends Tenant {
  signingSecret: string
  /** HOOKPOST_URL and the consumer credential as the CLI's environment. */
  consumerEnv: Record<string, string>
  publisherEnv: Record<string, string>
}

const baseEnv = () => ({
  PATH: process.env['PATH'] ?? '',
  HOME: process.env['HOME'] ?? '/tmp',
  NO_COLOR: '1',
})

export function runCli(
  args: string[],
  env: Record<string, string>,
  opts: { stdin?: Buffer; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin/hookpost.js'), ...args], {
      cwd: repoRoot,
      env: { ...baseEnv(), ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
    })
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`hookpost ${args.join(' ')} timed out\n${stdout}\n${stderr}`))
    }, opts.timeoutMs ?? 20_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
    child.stdin.end(opts.stdin ?? Buffer.alloc(0))
  })
}

export interface CliProcess {
  child: ChildProcess
  output(): string
  waitFor(pattern: RegExp | string, timeoutMs?: number): Promise<void>
  /** Sends the signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

/** A long-running command (tail, listen). */
export function spawnCli(args: string[], env: Record<string, string>): CliProcess {
  const child = spawn(process.execPath, [join(repoRoot, 'bin/hookpost.js'), ...args], {
    cwd: repoRoot,
    env: { ...baseEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString()
  })
  child.stderr!.on('data', (d: Buffer) => {
    out += d.toString()
  })
  return {
    child,
    output: () => out,
    waitFor: (pattern, timeoutMs = 15_000) =>
      eventually(
        () => {
          const hit = typeof pattern === 'string' ? out.includes(pattern) : pattern.test(out)
          if (!hit) {
            if (child.exitCode !== null)
              throw new Error(`hookpost ${args[0]} exited ${child.exitCode}:\n${out}`)
            throw new Error(`no ${String(pattern)} yet in:\n${out}`)
          }
        },
        timeoutMs,
        50,
      ),
    stop(signal = 'SIGINT') {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode)
      return new Promise((resolve) => {
        // 'close', not 'exit': its last lines may still be in the pipe at exit.
        child.once('close', (code) => resolve(code))
        child.kill(signal)
      })
    },
  }
}

/** A tenant with its signing secret rotated, and its credentials as the CLI's environment. */
export async function createCliTenant(svc: ServiceProcess, name: string): Promise<CliTenant> {
  const tenant = await createTenant(svc, name, { signingSecret: true })
  const envOf = (c: Credential) => ({ HOOKPOST_URL: svc.url, HOOKPOST_KEY: c.key, HOOKPOST_SECRET: c.secret })
  return { ...tenant, consumerEnv: envOf(tenant.consumer), publisherEnv: envOf(tenant.publisher) }
}

/** The real service, allowed to deliver to receivers on loopback, retrying fast. */
export const loopbackService = (): Promise<ServiceProcess> =>
  startService({
    HOOKPOST_ALLOW_HTTP: 'true',
    HOOKPOST_ALLOWED_CIDRS: '127.0.0.0/8',
    HOOKPOST_RETRY_SCHEDULE: '200ms,400ms',
  })
