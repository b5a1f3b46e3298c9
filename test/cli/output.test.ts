// One way of printing and exiting for every command: exit 2 for a wrong command line, 1 for a
// failed action, --json errors on stderr; the service's logs readable at a terminal, JSON
// otherwise. The documented commands with and without --json are in documented-commands.test.ts.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { errorText, exitCodeOf, fields, rowsOf, UsageError } from '../../src/cli/output.ts'
import { prettyLine } from '../../src/observability/log-format.ts'
import { eventually } from '../support/eventually.ts'
import { freePort, repoRoot, startService } from '../support/service-process.ts'
import { runCli } from './cli-harness.ts'
import { runShell } from './doc-commands.ts'

const nowhere = { HOOKPOST_URL: 'http://127.0.0.1:1', HOOKPOST_KEY: 'hpk_x', HOOKPOST_SECRET: 'hps_x' }

describe('exit codes', () => {
  const dirs: string[] = []
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  })
  const store = () => {
    const d = mkdtempSync(join(tmpdir(), 'hookpost-out-'))
    dirs.push(d)
    return { HOOKPOST_DATA_DIR: d, HOOKPOST_DATABASE_URL: `sqlite:${join(d, 'h.db')}` }
  }

  it('2 for a wrong command line, whatever the command', async () => {
    const results = await Promise.all([
      runCli(['no-such-command'], {}),
      runCli(['deliveries', 'list', '--no-such-option'], nowhere),
      runCli(['deliveries', 'list', '--limit', '0'], nowhere),
      runCli(['credentials', 'create', 'env_x'], store()),
      runCli(['credentials', 'create', 'env_x', '--role', 'admin'], store()),
      runCli(['verify', '--secret', 'whsec_x', '--body', 'b', '--headers', 'h', '--scheme', 'nope'], {}),
      runCli(['receive', '--port', 'x'], {}),
    ])
    for (const r of results) expect(r.code, r.stderr).toBe(2)
    expect(results[2]!.stderr).toBe('hookpost: --limit must be an integer in 1..200\n')
  })

  it('1 for an action that failed, with the code of errors.md; --json puts the error on stderr as JSON', async () => {
    const [unreachable, missing, missingJson] = await Promise.all([
      runCli(['subscriptions', 'list'], nowhere),
      runCli(['credentials', 'create', 'env_x', '--role', 'consumer'], store()),
      runCli(['credentials', 'create', 'env_x', '--role', 'consumer', '--json'], store()),
    ])
    expect(unreachable).toMatchObject({ code: 1, stdout: '' })
    expect(unreachable.stderr).toBe('hookpost: could not reach http://127.0.0.1:1: ECONNREFUSED\n')
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('hookpost: environment_not_found: No such environment.\n')
    expect(missingJson.code).toBe(1)
    // An operator command's log lines go to stderr too, never into its output.
    const lines = missingJson.stderr.trim().split('\n')
    expect(JSON.parse(lines.at(-1)!)).toEqual({
      error: { code: 'environment_not_found', message: 'No such environment.' },
    })
    expect(missingJson.stdout).toBe('')
  })

  it('0 for help and --version', async () => {
    const [help, version] = await Promise.all([runCli(['--help'], {}), runCli(['--version'], {})])
    expect(help.code).toBe(0)
    expect(version.code).toBe(0)
  })

  it('an operator command prints a table, or with --json only JSON on stdout (its warnings on stderr)', async () => {
    const env = store()
    // The first command generates the master key and warns about it.
    const created = await runCli(['environments', 'create', 'my-brand', '--json'], env)
    expect(created.code, created.stderr).toBe(0)
    const id = JSON.parse(created.stdout).environment.id as string
    expect(created.stderr).toContain('generated a master key')
    const listed = await runCli(['environments', 'list'], env)
    expect(listed.stdout).toMatch(new RegExp(`^ID\\s+NAME\\s+CREATED\\n${id}\\s+my-brand\\s+\\d{4}-`))
  })
})

describe('how values are printed', () => {
  it('one object as fields, a list as columns, nested values as compact JSON', () => {
    expect(fields({ id: 'evt_1', deliveries: 2, extra: { a: 1 }, gone: null })).toBe(
      'id          evt_1\ndeliveries  2\nextra       {"a":1}\ngone        -',
    )
    expect(rowsOf([{ number: 1, statusCode: 200 }])).toBe('NUMBER  STATUSCODE\n1       200')
  })

  it('errors: a usage error exits 2, anything else 1; --json prints the code apart', () => {
    expect(exitCodeOf(new UsageError('x'))).toBe(2)
    expect(exitCodeOf(new Error('x'))).toBe(1)
    const apiError = Object.assign(new Error('delivery_not_found: No such delivery.'), {
      name: 'ApiError',
      code: 'delivery_not_found',
      status: 404,
    })
    expect(errorText(apiError, false)).toBe('hookpost: delivery_not_found: No such delivery.\n')
    expect(JSON.parse(errorText(apiError, true))).toEqual({
      error: { code: 'delivery_not_found', status: 404, message: 'No such delivery.' },
    })
  })
})

describe('service logs', () => {
  it('a pino line becomes time, level, message and key=value fields; an error keeps its stack', () => {
    const time = Date.UTC(2026, 10, 28, 14, 22, 58, 937)
    expect(
      prettyLine(
        JSON.stringify({
          level: 30,
          time,
          service: 'hookpost',
          msg: 'hookpost is listening',
          url: 'http://x',
          n: 2,
        }),
      ),
    ).toBe('14:22:58.937 INFO  hookpost is listening  url=http://x n=2\n')
    const err = prettyLine(
      JSON.stringify({
        level: 50,
        time,
        msg: 'failed',
        err: { message: 'boom', stack: 'Error: boom\n    at f (a.ts:1)' },
      }),
    )
    expect(err).toBe('14:22:58.937 ERROR failed  err=boom\n    at f (a.ts:1)\n')
    expect(prettyLine('not json')).toBe('not json\n')
  })

  // `script` gives the service a terminal, as a person running it has.
  const hasScript = spawnSync('script', ['--version']).status === 0
  it.skipIf(!hasScript)('serve logs readable lines at a terminal', async () => {
    const d = mkdtempSync(join(tmpdir(), 'hookpost-tty-'))
    const serve = `${process.execPath} ${join(repoRoot, 'bin/hookpost.js')} serve`
    const tty = runShell(`exec script -qec "${serve}" /dev/null`, {
      cwd: d,
      shimDir: d,
      env: {
        HOOKPOST_DATA_DIR: d,
        HOOKPOST_DATABASE_URL: `sqlite:${join(d, 'h.db')}`,
        HOOKPOST_PORT: String(await freePort()),
      },
    })
    try {
      await tty.waitFor(/hookpost is listening/, 30_000)
      expect(tty.output()).toMatch(
        /^\d\d:\d\d:\d\d\.\d{3} INFO {2}hookpost is listening {2}url=http:\/\/127\.0\.0\.1:/m,
      )
      expect(tty.output()).not.toContain('{"level"')
    } finally {
      tty.signal('SIGKILL')
      await tty.exited
      rmSync(d, { recursive: true, force: true })
    }
  })

  it('and JSON lines otherwise', async () => {
    const svc = await startService()
    try {
      // /health answers as soon as the server listens; the log line may still be in the pipe.
      await eventually(() => expect(svc.output()).toMatch(/^\{"level":30,.*"msg":"hookpost is listening"/m))
    } finally {
      await svc.stop()
      svc.cleanup()
    }
  })
})
