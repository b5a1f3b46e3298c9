// The real service's published documents pass the standard tools: /openapi.json (its webhooks
// included) passes `redocly lint` (recommended rules), /asyncapi.json passes @asyncapi/parser
// (test/http/catalogue-docs.test.ts), and openapi-typescript turns it into a typed client
// without a warning; /metrics passes `promtool check metrics`.
import { execFile, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { need, npmBin, onPath, skipWithout } from '../support/external-tool.ts'
import { type ServiceProcess, startService } from '../support/service-process.ts'

const run = promisify(execFile)
const redocly = npmBin('redocly')
const openapiTs = npmBin('openapi-typescript')
const tsc = npmBin('tsc')
const promtool = onPath('promtool', "Debian's prometheus package")
// No telemetry or update check: the run must not depend on the network.
const quiet = {
  ...process.env,
  REDOCLY_TELEMETRY: 'off',
  REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true',
  NO_COLOR: '1',
}

describe('the published documents against the standard tools', () => {
  let svc: ServiceProcess
  let dir: string
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hookpost-tools-'))
    svc = await startService()
  })
  afterAll(async () => {
    await svc?.stop()
    svc?.cleanup()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  async function openapiFile(): Promise<string> {
    const file = join(dir, 'openapi.json')
    writeFileSync(file, await (await fetch(`${svc.url}/openapi.json`)).text())
    return file
  }

  it.skipIf(skipWithout(redocly))(
    '/openapi.json passes redocly lint: no error, and no warning but the health probes and /asyncapi.json having no 4xx answer',
    async () => {
      const file = await openapiFile()
      // The event catalogue is linted too, as the document's webhooks.
      expect(Object.keys(JSON.parse(readFileSync(file, 'utf8')).webhooks ?? {})).toContain(
        'account_holder.created',
      )
      const r = await run(need(redocly), ['lint', file, '--extends', 'recommended', '--format', 'json'], {
        cwd: dir,
        env: quiet,
      }).catch((e: { stdout: string; stderr: string }) => e)
      const report = JSON.parse(r.stdout) as {
        totals: { errors: number; warnings: number }
        problems: { ruleId: string; message: string; location: { pointer: string }[] }[]
      }
      const problems = report.problems.map((p) => `${p.ruleId} ${p.location[0]?.pointer}: ${p.message}`)
      // The health probes have no client error to answer: their only failure is 503. Nor has a
      // static document (/asyncapi.json) any client error to answer.
      const no4xx = ['~1health', '~1health~1ready', '~1asyncapi.json'].map(
        (path) => `operation-4xx-response #/paths/${path}/get/responses`,
      )
      expect(problems.filter((p) => !no4xx.some((tolerated) => p.startsWith(tolerated)))).toEqual([])
      expect(report.totals.errors).toBe(0)
    },
    60_000,
  )

  it.skipIf(skipWithout(openapiTs, tsc))(
    'openapi-typescript generates a typed client from it without a warning, and it typechecks',
    async () => {
      const file = await openapiFile()
      const out = join(dir, 'hookpost-api.d.ts')
      const gen = await run(need(openapiTs), [file, '--output', out], { cwd: dir, env: quiet })
      expect(`${gen.stdout}\n${gen.stderr}`).not.toMatch(/warn|error|⚠/i)
      // Every operation is reachable by its operationId, with typed request and answer.
      writeFileSync(
        join(dir, 'use.ts'),
        [
          "import type { operations } from './hookpost-api.d.ts'",
          "type Publish = operations['publishEvent']['responses'][202]['content']['application/json']",
          "type Sub = operations['createSubscription']['requestBody']",
          // An operation without an operationId is absent from `operations` (its types are never).
          'type IsNever<T> = [T] extends [never] ? true : false',
          'export const typed: [IsNever<Publish>, IsNever<Sub>] = [false, false]',
          '',
        ].join('\n'),
      )
      await run(
        need(tsc),
        ['--noEmit', '--strict', '--allowImportingTsExtensions', '--module', 'nodenext', join(dir, 'use.ts')],
        { cwd: dir },
      )
    },
    120_000,
  )

  it.skipIf(skipWithout(promtool))('/metrics passes promtool check metrics', async () => {
    const text = await (await fetch(`${svc.url}/metrics`)).text()
    expect(text).toContain('hookpost_deliveries_total')
    const child = spawn(need(promtool), ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
    })
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString()
    })
    child.stdin.end(text)
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
    expect(out.trim()).toBe('')
    expect(code).toBe(0)
  })
})
