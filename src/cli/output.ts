// How every `hookpost` command prints and exits: tables for people, `--json` for scripts, and one
// set of exit codes (listed in docs/cli.md). Commands print through these, never on their own.
import type { Command } from 'commander'

/** The exit codes of every command (docs/cli.md, "Output and exit codes"). */
export const exitCode = {
  /** Done; also a long-running command (serve, tail, listen, receive) stopped with Ctrl-C. */
  ok: 0,
  /** The action failed: an API error, the API unreachable, a refused verdict. */
  failed: 1,
  /** The command line was wrong: unknown command or option, a missing or invalid value. */
  usage: 2,
  /** Interrupted before it finished (replay: Ctrl-C cancelled the job). */
  interrupted: 130,
} as const

/** A wrong command line (exit 2), as opposed to an action that failed (exit 1). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UsageError'
  }
}

type Flags = Record<string, string | boolean | undefined>

export const wantsJson = (flags: Flags): boolean => flags['json'] === true

/** Gives every leaf command `--json` (once), so that scripts have it everywhere. */
export function addJsonOption(cmd: Command): void {
  if (cmd.commands.length > 0) {
    for (const c of cmd.commands) addJsonOption(c)
    return
  }
  if (!cmd.options.some((o) => o.long === '--json')) {
    cmd.option('--json', 'print JSON for scripts (one object; JSON lines for a command that follows)')
  }
}

const write = (s: string) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`)

/** The JSON value with --json, the human text otherwise. */
export function output(flags: Flags, json: unknown, human: () => string): void {
  write(wantsJson(flags) ? JSON.stringify(json, null, 2) : human())
}

/** One line of a command that follows something: a JSON line with --json, the text otherwise. */
export function lineOutput(flags: Flags): (text: string, json?: object) => void {
  return wantsJson(flags)
    ? (text, json) => write(JSON.stringify(json ?? { message: text }))
    : (text) => write(text)
}

/** Columns padded to their widest cell; the last one is left as it is. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = []
  for (const r of rows) {
    r.forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, c.length)
    })
  }
  return rows
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  '))
    .join('\n')
}

const cell = (v: unknown): string => {
  if (v === null || v === undefined) return '-'
  if (typeof v === 'object') return JSON.stringify(v)
  return String(v)
}

/** One object as a two-column table: its fields, nested values as compact JSON. */
export function fields(o: object, skip: readonly string[] = []): string {
  return table(Object.entries(o).flatMap(([k, v]) => (skip.includes(k) ? [] : [[k, cell(v)]])))
}

/** Objects as a table whose columns are their fields (the first object's keys, in order). */
export function rowsOf(list: readonly object[], columns?: readonly string[]): string {
  const keys = columns ?? Object.keys(list[0] ?? {})
  const rows = list.map((o) => keys.map((k) => cell((o as Record<string, unknown>)[k])))
  return table([keys.map((k) => k.toUpperCase()), ...rows])
}

/**
 * How a failure is printed: `hookpost: <code>: <message>` (the code of errors.md when there is
 * one), or `{"error":{"code","message"}}` on stderr with --json.
 */
export function errorText(e: unknown, json: boolean): string {
  const err = e instanceof Error ? e : new Error(String(e))
  if (err.name === 'ConfigError')
    return json ? `${JSON.stringify({ error: { message: err.message } })}\n` : `${err.message}\n`
  const code = (err as { code?: unknown }).code
  const hasCode = typeof code === 'string' && /^[a-z][a-z0-9_]*$/.test(code)
  // An ApiError's message already starts with its code.
  const message =
    hasCode && err.message.startsWith(`${code}: `) ? err.message.slice(code.length + 2) : err.message
  if (json) {
    const status = (err as { status?: unknown }).status
    return `${JSON.stringify({ error: { ...(hasCode ? { code } : {}), ...(typeof status === 'number' ? { status } : {}), message } })}\n`
  }
  return `hookpost: ${hasCode ? `${code}: ` : ''}${message}\n`
}

/** The exit code of a failure. */
export function exitCodeOf(e: unknown): number {
  const name = e instanceof Error ? e.name : ''
  return name === 'UsageError' || name === 'ConfigError' ? exitCode.usage : exitCode.failed
}
