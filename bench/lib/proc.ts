// Process and machine counters read from /proc (Linux): CPU time, resident memory, whole-machine
// busy time. Everything here is a plain read; nothing is sent anywhere.
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import os from 'node:os'

let clkTck = 100
try {
  clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
} catch {
  clkTck = 100
}

function statFields(pid: number): string[] | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // comm is in parentheses and may contain spaces: split after the last ')'.
    const close = raw.lastIndexOf(')')
    return [raw.slice(0, close + 1), ...raw.slice(close + 2).split(' ')]
  } catch {
    return undefined
  }
}

/** utime + stime of one process in seconds, or undefined if it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  const f = statFields(pid)
  if (!f) return undefined
  // After the "pid (comm)" head: [1]=state ... utime is field 14, stime 15 (1-based over the
  // original line), i.e. index 12 and 13 here.
  return (Number(f[12]) + Number(f[13])) / clkTck
}

/** Parent pid of a process. */
export function parentPid(pid: number): number | undefined {
  const f = statFields(pid)
  return f ? Number(f[2]) : undefined
}

/** All processes whose parent is pid (one level). */
export function childrenOf(pid: number): number[] {
  const out: number[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const p = Number(name)
    if (parentPid(p) === pid) out.push(p)
  }
  return out
}

/**
 * The processes whose command line (as the process shows it: PostgreSQL's backends put
 * "postgres: <cluster>: <user> <database> …" there) contains every one of `words`.
 */
export function processesShowing(...words: string[]): number[] {
  const out: number[] = []
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue
    try {
      const title = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')
      if (words.every((w) => title.includes(w))) out.push(Number(pid))
    } catch {
      // Gone since the listing.
    }
  }
  return out
}

/** VmRSS and VmHWM (peak) of a process in MB. */
export function memoryMb(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8')
    const rss = /VmRSS:\s+(\d+)\s+kB/.exec(s)
    const hwm = /VmHWM:\s+(\d+)\s+kB/.exec(s)
    return { rss: Number(rss?.[1] ?? 0) / 1024, hwm: Number(hwm?.[1] ?? 0) / 1024 }
  } catch {
    return undefined
  }
}

/** Whole-machine CPU seconds from /proc/stat: busy (all but idle and iowait) and total. */
export function machineCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? ''
  const v = line.trim().split(/\s+/).slice(1).map(Number)
  const total = v.reduce((a, b) => a + b, 0)
  const idle = (v[3] ?? 0) + (v[4] ?? 0)
  return { busy: (total - idle) / clkTck, total: total / clkTck }
}

/**
 * Measures the CPU seconds that a changing set of processes uses between start() and stop().
 * A process that appears after start() is counted from zero (its whole life is in the window);
 * one that exits before stop() keeps the last value read by sample().
 */
export class CpuMeter {
  readonly #pids: () => number[]
  readonly #base = new Map<number, number>()
  readonly #last = new Map<number, number>()

  constructor(pids: () => number[]) {
    this.#pids = pids
  }

  start(): void {
    this.#base.clear()
    this.#last.clear()
    for (const pid of this.#pids()) {
      const c = cpuSeconds(pid)
      if (c !== undefined) {
        this.#base.set(pid, c)
        this.#last.set(pid, c)
      }
    }
  }

  sample(): void {
    for (const pid of this.#pids()) {
      const c = cpuSeconds(pid)
      if (c === undefined) continue
      if (!this.#base.has(pid)) this.#base.set(pid, 0)
      this.#last.set(pid, c)
    }
  }

  /** CPU seconds used in the window so far. */
  seconds(): number {
    this.sample()
    let s = 0
    for (const [pid, base] of this.#base) s += (this.#last.get(pid) ?? base) - base
    return s
  }
}

export interface MachineInfo {
  cpuModel: string
  cores: number
  memoryGb: number
  kernel: string
  os: string
  node: string
  loadAvgStart: number[]
  hostname: string
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus()
  let osName = `${os.type()} ${os.release()}`
  try {
    const rel = readFileSync('/etc/os-release', 'utf8')
    const m = /^PRETTY_NAME="?([^"\n]+)"?/m.exec(rel)
    if (m?.[1]) osName = m[1]
  } catch {
    // keep the generic name
  }
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: os.release(),
    os: osName,
    node: process.version,
    loadAvgStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
    hostname: os.hostname(),
  }
}
