// Reads the shell commands the documentation prints (```sh blocks and inline `npx hookpost …`
// spans), and runs shell text with bash the way a reader pastes it, `npx hookpost` being this
// checkout's command.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { chmodSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { eventually } from '../support/eventually.ts'
import { repoRoot } from '../support/service-process.ts'

export interface ShellBlock {
  file: string
  /** 1-based line of the block's first line (after the fence). */
  line: number
  body: string
}

export interface DocCommand {
  file: string
  line: number
  /** One logical line: continuations joined, a trailing comment dropped. */
  text: string
}

/** The documents whose commands must work: the README and every page of docs/. */
export function documentFiles(): string[] {
  const docs = readdirSync(join(repoRoot, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`)
  return ['README.md', ...docs]
}

export function shellBlocks(file: string): ShellBlock[] {
  const lines = readFileSync(join(repoRoot, file), 'utf8').split('\n')
  const blocks: ShellBlock[] = []
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*```(sh|bash|shell)\s*$/.test(lines[i]!)) continue
    const start = i + 1
    let j = start
    while (j < lines.length && !/^\s*```\s*$/.test(lines[j]!)) j++
    blocks.push({ file, line: start + 1, body: lines.slice(start, j).join('\n') })
    i = j
  }
  return blocks
}

/** Drops a `# comment` that is not inside quotes. */
function stripComment(line: string): string {
  let quote = ''
  for (let i = 0; i < line.length; i++) {
    const c = line[i]
    if (quote) {
      if (c === quote) quote = ''
    } else if (c === "'" || c === '"') quote = c
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]!))) return line.slice(0, i).trimEnd()
  }
  return line.trimEnd()
}

export function logicalLines(block: ShellBlock): DocCommand[] {
  const out: DocCommand[] = []
  const raw = block.body.split('\n')
  for (let i = 0; i < raw.length; i++) {
    const line = i
    let text = stripComment(raw[i]!)
    while (text.endsWith('\\') && i + 1 < raw.length) {
      i++
      text = `${text.slice(0, -1)} ${stripComment(raw[i]!).trim()}`
    }
    if (text.trim() !== '') out.push({ file: block.file, line: block.line + line, text: text.trim() })
  }
  return out
}

/**
 * Every `npx hookpost …` the documents print: lines of shell blocks and inline code spans. Lines
 * that use shell variables belong to their block's script (the README tour runs as a whole).
 */
export function documentedCommands(files = documentFiles()): DocCommand[] {
  const out: DocCommand[] = []
  for (const file of files) {
    for (const block of shellBlocks(file)) {
      for (const c of logicalLines(block)) {
        if (/\bnpx hookpost\b/.test(c.text) && !c.text.includes('$')) out.push(c)
      }
    }
    const lines = readFileSync(join(repoRoot, file), 'utf8').split('\n')
    let fenced = false
    lines.forEach((l, i) => {
      if (/^\s*```/.test(l)) fenced = !fenced
      if (fenced) return
      for (const m of l.matchAll(/`(npx hookpost [^`]+)`/g)) {
        // `npx hookpost …` in prose means any command, not one to run.
        if (m[1] !== 'npx hookpost …') out.push({ file, line: i + 1, text: m[1]! })
      }
    })
  }
  return out
}

/** The README's tour: the shell block that sets up the operator's token. */
export function readmeTour(): ShellBlock {
  const tour = shellBlocks('README.md').find((b) => b.body.includes('admin-token'))
  if (!tour) throw new Error('README.md has no tour block (a sh block reading data/admin-token)')
  return tour
}

/**
 * A directory holding an `npx` that runs this checkout's `hookpost` (what `npx hookpost` does in a
 * clone, without npm's start-up) and passes anything else to the real npx.
 */
export function npxShim(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hookpost-npx-'))
  const realNpx = execFileSync('bash', ['-c', 'command -v npx || true'], { encoding: 'utf8' }).trim()
  writeFileSync(
    join(dir, 'npx'),
    `#!/bin/sh\nif [ "$1" = hookpost ]; then shift; exec "${process.execPath}" "${join(repoRoot, 'bin/hookpost.js')}" "$@"; fi\nexec ${realNpx || 'false'} "$@"\n`,
  )
  chmodSync(join(dir, 'npx'), 0o755)
  return dir
}

export interface ShellRun {
  child: ChildProcess
  /** stdout and stderr as they came. */
  output(): string
  stdout(): string
  /** Resolves with bash's exit code (output from background jobs may still come). */
  exited: Promise<number | null>
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>
  /** Signals bash's whole process group (what Ctrl-C does). */
  signal(signal: NodeJS.Signals): void
}

export function runShell(
  script: string,
  o: { cwd: string; env: Record<string, string>; shimDir: string },
): ShellRun {
  const child = spawn('bash', ['-c', script], {
    cwd: o.cwd,
    detached: true,
    env: {
      PATH: `${o.shimDir}:${process.env['PATH'] ?? ''}`,
      HOME: process.env['HOME'] ?? '/tmp',
      NO_COLOR: '1',
      ...o.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let stdout = ''
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString()
    stdout += d.toString()
  })
  child.stderr!.on('data', (d: Buffer) => {
    out += d.toString()
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return {
    child,
    output: () => out,
    stdout: () => stdout,
    exited,
    waitFor: (pattern, timeoutMs = 20_000) =>
      eventually(
        () => {
          if (!pattern.test(out)) throw new Error(`no ${String(pattern)} yet in:\n${out}`)
        },
        timeoutMs,
        50,
      ),
    signal(signal) {
      try {
        process.kill(-child.pid!, signal)
      } catch {
        // already gone
      }
    },
  }
}
