// docs/outbox.md's walkthrough, run as written: its marked blocks are files to write, commands to
// run, terminals to start and output to expect, in order, in a fresh project directory whose
// node_modules holds the packed @hookpost/outbox and @hookpost/verify, against the real service
// and a fresh PostgreSQL database.
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { eventually } from '../support/eventually.ts'
import { freshDatabase } from '../support/postgres.ts'
import { freePort, repoRoot, type ServiceProcess, startService } from '../support/service-process.ts'

const run = promisify(execFile)

type WalkthroughStep =
  | { kind: 'run'; code: string }
  | { kind: 'file'; name: string; code: string }
  | { kind: 'terminal'; name: string; ready: string; code: string }
  | { kind: 'output'; name: string; code: string }

/** The blocks of a Markdown page preceded by `<!-- walkthrough: … -->`, in order. */
function walkthroughSteps(markdown: string): WalkthroughStep[] {
  const steps: WalkthroughStep[] = []
  for (const m of markdown.matchAll(/<!-- walkthrough: ([^>]*?) -->\n```[a-z]*\n([\s\S]*?)```\n/g)) {
    const [kind, name = '', ...rest] = (m[1] as string).split(' ')
    const code = m[2] as string
    if (kind === 'run') steps.push({ kind, code })
    else if (kind === 'file') steps.push({ kind, name, code })
    else if (kind === 'terminal') steps.push({ kind, name, ready: rest.join(' '), code })
    else if (kind === 'output') steps.push({ kind, name, code })
    else throw new Error(`unknown walkthrough step "${m[1]}"`)
  }
  return steps
}

const doc = readFileSync(join(repoRoot, 'docs/outbox.md'), 'utf8')

/** A project directory as step 1's `npm install` leaves it: the two packages as packed, their peers. */
async function projectAfterInstall(): Promise<string> {
  const project = mkdtempSync(join(tmpdir(), 'hookpost-outbox-walkthrough-'))
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'shop', private: true, type: 'module' }),
  )
  const modules = join(project, 'node_modules')
  for (const name of ['outbox', 'verify']) {
    const dir = join(modules, '@hookpost', name)
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'package.json'), readFileSync(join(repoRoot, 'packages', name, 'package.json')))
    await run(process.execPath, [
      join(repoRoot, 'packages', name, 'scripts', 'build.mjs'),
      '--out-dir',
      join(dir, 'dist'),
    ])
  }
  for (const dep of ['pg', 'express', 'tsx', '@types'])
    symlinkSync(join(repoRoot, 'node_modules', dep), join(modules, dep))
  mkdirSync(join(modules, '.bin'))
  symlinkSync(join(repoRoot, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(modules, '.bin', 'tsx'))
  return project
}

describe('docs/outbox.md', () => {
  it('marks the walkthrough: files, commands, two terminals and the expected output', () => {
    const kinds = walkthroughSteps(doc).map((s) => (s.kind === 'run' ? 'run' : `${s.kind} ${s.name}`))
    expect(kinds).toEqual([
      'run',
      'file migrate.ts',
      'run',
      'file app.ts',
      'file receiver.ts',
      'terminal receiver',
      'terminal shop',
      'run',
      'output receiver',
    ])
  })

  it("has TypeScript files that typecheck against the packed packages' types (strict)", async () => {
    const project = await projectAfterInstall()
    try {
      const files = walkthroughSteps(doc).flatMap((s) => (s.kind === 'file' ? [s] : []))
      for (const f of files) writeFileSync(join(project, f.name), f.code)
      writeFileSync(
        join(project, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            target: 'ES2022',
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            types: ['node'],
            strict: true,
            noEmit: true,
            skipLibCheck: true,
          },
          files: files.map((f) => f.name),
        }),
      )
      const tsc = join(repoRoot, 'node_modules', '.bin', 'tsc')
      const result = await run(tsc, ['-p', join(project, 'tsconfig.json')], { cwd: project }).catch(
        (e: { stdout: string }) => ({ stdout: e.stdout }),
      )
      expect(result.stdout).toBe('')
    } finally {
      rmSync(project, { recursive: true, force: true })
    }
  }, 60_000)
})

describe('docs/outbox.md walkthrough, run as written', () => {
  let svc: ServiceProcess | undefined
  let db: { url: string; drop(): Promise<void> } | undefined
  let project: string | undefined
  const terminals = new Map<string, { child: ChildProcess; output: () => string }>()

  afterAll(async () => {
    for (const t of terminals.values()) {
      if (t.child.pid && t.child.exitCode === null) process.kill(-t.child.pid, 'SIGTERM')
    }
    await Promise.all(
      [...terminals.values()].map(
        (t) =>
          new Promise((resolve) =>
            t.child.exitCode !== null ? resolve(null) : t.child.once('exit', resolve),
          ),
      ),
    )
    await svc?.stop()
    svc?.cleanup()
    await db?.drop()
    if (project) rmSync(project, { recursive: true, force: true })
  })

  it('takes an order from the Express app to a verified delivery; the rolled-back order sends nothing', async () => {
    svc = await startService({ HOOKPOST_ALLOW_HTTP: 'true', HOOKPOST_ALLOWED_CIDRS: '127.0.0.0/8,::1/128' })
    db = await freshDatabase()
    project = await projectAfterInstall()
    const modules = join(project, 'node_modules')
    // Step 2 reads the operator token from Hookpost's data directory.
    symlinkSync(svc.dataDir, join(project, 'data'))

    const env = {
      PATH: `${join(modules, '.bin')}:${process.env['PATH'] ?? ''}`,
      HOME: process.env['HOME'] ?? '/tmp',
      HOOKPOST_URL: svc.url,
      DATABASE_URL: db.url,
      PORT: String(await freePort()),
      RECEIVER_PORT: String(await freePort()),
    }
    for (const step of walkthroughSteps(doc)) {
      if (step.kind === 'file') writeFileSync(join(project, step.name), step.code)
      else if (step.kind === 'run') {
        await run('bash', ['-e', '-c', step.code], { cwd: project, env }).catch(
          (e: Error & { stderr?: string }) => {
            throw new Error(`step failed:\n${step.code}\n${e.message}\n${e.stderr ?? ''}`)
          },
        )
      } else if (step.kind === 'terminal') {
        let out = ''
        const child = spawn('bash', ['-c', step.code], { cwd: project, env, detached: true })
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString()
        })
        child.stderr.on('data', (d: Buffer) => {
          out += d.toString()
        })
        terminals.set(step.name, { child, output: () => out })
        await eventually(() => {
          if (child.exitCode !== null) throw new Error(`${step.name} exited ${child.exitCode}:\n${out}`)
          expect(out).toContain(step.ready)
        }, 30_000)
      } else {
        const terminal = terminals.get(step.name)
        expect(terminal, step.name).toBeDefined()
        for (const line of step.code.trim().split('\n')) {
          await eventually(() => expect(terminal?.output()).toContain(line), 30_000)
        }
      }
    }
    // The rolled-back order never reached the receiver; the outbox holds exactly one row, published.
    const receiver = terminals.get('receiver')?.output() ?? ''
    expect(receiver.match(/^verified /gm)).toHaveLength(1)
    const pg = (await import('pg')).default
    const c = new pg.Client({ connectionString: db.url })
    await c.connect()
    const rows = (
      await c.query('select published_at is not null as published, event_id from hookpost_outbox')
    ).rows
    await c.end()
    expect(rows).toEqual([{ published: true, event_id: expect.stringMatching(/^evt_/) }])
  }, 120_000)
})
