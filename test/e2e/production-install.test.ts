// A production install runs without build tools: the files `npm pack` ships (bin/, dist/), the
// lockfile, `npm ci --omit=dev`, and `node bin/hookpost.js serve` answers /health. Without a
// dist/ it stops with a clear message instead of reaching for tsx.
import { execFile, spawn } from 'node:child_process'
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually } from '../support/eventually.ts'
import { need, onPath, skipWithout } from '../support/external-tool.ts'
import { freePort, repoRoot } from '../support/service-process.ts'

const run = promisify(execFile)
const npm = onPath('npm', 'it comes with Node')

describe.skipIf(skipWithout(npm))('a production install (npm ci --omit=dev)', () => {
  let stage: string
  let packed: string[]
  beforeAll(async () => {
    stage = mkdtempSync(join(tmpdir(), 'hookpost-prod-'))
    const { stdout } = await run(need(npm), ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: repoRoot,
    })
    packed = (JSON.parse(stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path)
    for (const f of packed.filter((p) => !p.startsWith('dist/'))) {
      mkdirSync(dirname(join(stage, f)), { recursive: true })
      copyFileSync(join(repoRoot, f), join(stage, f))
    }
    // The bundle of the current sources, built into the stage (the repository's dist/ may be
    // stale, and other tests run it).
    await run(process.execPath, [join(repoRoot, 'scripts/build.js'), '--out', stage])
    // The lockfile names the workspace package: its manifest comes along (as in the Dockerfile).
    copyFileSync(join(repoRoot, 'package-lock.json'), join(stage, 'package-lock.json'))
    mkdirSync(join(stage, 'packages/verify'), { recursive: true })
    copyFileSync(join(repoRoot, 'packages/verify/package.json'), join(stage, 'packages/verify/package.json'))
    await run(
      need(npm),
      ['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'],
      { cwd: stage, env: { ...process.env, npm_config_loglevel: 'error' } },
    )
    // --ignore-scripts spares the test a native compile: better-sqlite3's build comes from the
    // repository's install (same lockfile, same node).
    cpSync(
      join(repoRoot, 'node_modules/better-sqlite3/build'),
      join(stage, 'node_modules/better-sqlite3/build'),
      { recursive: true },
    )
  }, 180_000)
  afterAll(() => {
    if (stage) rmSync(stage, { recursive: true, force: true })
  })

  it('ships the command and its bundle, not the sources', () => {
    expect(packed).toEqual(expect.arrayContaining(['bin/hookpost.js', 'bin/fresh-bundle.js', 'LICENSE']))
    expect(packed.filter((p) => /^(src|test|bench|scripts|node_modules)\//.test(p))).toEqual([])
  })

  it('has no build tools, and starts and answers /health', async () => {
    for (const tool of ['esbuild', 'tsx', 'typescript']) {
      expect(existsSync(join(stage, 'node_modules', tool)), tool).toBe(false)
    }
    const port = await freePort()
    const dataDir = join(stage, 'data')
    let out = ''
    const child = spawn(process.execPath, ['bin/hookpost.js', 'serve'], {
      cwd: stage,
      env: {
        PATH: process.env['PATH'] ?? '',
        HOOKPOST_PORT: String(port),
        HOOKPOST_DATA_DIR: dataDir,
        HOOKPOST_DATABASE_URL: `sqlite:${join(dataDir, 'hookpost.db')}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
    })
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString()
    })
    try {
      await eventually(
        async () => {
          if (child.exitCode !== null) throw new Error(`hookpost exited ${child.exitCode}:\n${out}`)
          const r = await fetch(`http://127.0.0.1:${port}/health`)
          expect(await r.json()).toEqual({ status: 'ok' })
        },
        30_000,
        100,
      )
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
    }
  })

  it('without a built dist/, says how to get one instead of failing on a missing tsx', async () => {
    const bare = join(stage, 'bare')
    mkdirSync(bare)
    cpSync(join(stage, 'bin'), join(bare, 'bin'), { recursive: true })
    const r = await run(process.execPath, [join(bare, 'bin/hookpost.js'), '--version']).catch(
      (e: { code: number; stderr: string }) => e,
    )
    expect('code' in r ? r.code : 0).toBe(1)
    expect(r.stderr).toContain('tsx (a devDependency) is not installed')
    expect(r.stderr).toContain('npm install')
  })
})
