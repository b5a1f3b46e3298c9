// Server logs for a person at a terminal: pino's JSON lines turned into one readable line each
// (time, level, message, then the other fields as key=value). Everything that is not a terminal
// keeps the JSON lines, which log collectors parse.
import { writeSync } from 'node:fs'

const levels: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
}
const colors: Record<number, string> = { 10: '90', 20: '90', 30: '32', 40: '33', 50: '31', 60: '35' }
/** pino's own bookkeeping, and what is the same on every line of a process. */
const omitted = new Set(['level', 'time', 'msg', 'service', 'pid', 'hostname', 'v'])

const value = (v: unknown): string => {
  if (typeof v === 'string') return /[\s="]/.test(v) || v === '' ? JSON.stringify(v) : v
  return JSON.stringify(v) ?? String(v)
}

/** One pino JSON line as a readable line (a line that is not JSON is returned as it is). */
export function prettyLine(json: string, color = false): string {
  let rec: Record<string, unknown>
  try {
    rec = JSON.parse(json) as Record<string, unknown>
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`
  }
  const level = typeof rec['level'] === 'number' ? rec['level'] : 30
  const name = (levels[level] ?? String(level)).padEnd(5)
  const time = typeof rec['time'] === 'number' ? new Date(rec['time']).toISOString().slice(11, 23) : ''
  const extra: string[] = []
  let stack = ''
  for (const [k, v] of Object.entries(rec)) {
    if (omitted.has(k)) continue
    const err = v as { message?: unknown; stack?: unknown; type?: unknown } | null
    if ((k === 'err' || k === 'error') && err && typeof err === 'object' && typeof err.message === 'string') {
      extra.push(`${k}=${value(err.message)}`)
      if (typeof err.stack === 'string')
        stack = `\n    ${err.stack.split('\n').slice(1).join('\n    ').trim()}`
    } else extra.push(`${k}=${value(v)}`)
  }
  const tag = color ? `\x1b[${colors[level] ?? '0'}m${name}\x1b[0m` : name
  const msg = typeof rec['msg'] === 'string' ? rec['msg'] : ''
  return `${time} ${tag} ${msg}${extra.length > 0 ? `  ${extra.join(' ')}` : ''}${stack}\n`
}

/** A pino destination that writes readable lines to a file descriptor (a terminal). */
export function prettyDestination(fd: number, color: boolean): { write(line: string): void } {
  return {
    write(line: string) {
      writeSync(fd, prettyLine(line, color))
    },
  }
}
