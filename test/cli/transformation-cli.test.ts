// `hookpost subscriptions … --transformation-file` and `test-transformation`, run as a user runs
// them against a real service process.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ServiceProcess } from '../support/service-process.ts'
import { type CliTenant, createCliTenant, loopbackService, runCli } from './cli-harness.ts'

describe('hookpost subscriptions with a transformation', () => {
  let svc: ServiceProcess
  let t: CliTenant
  let dir: string
  const file = (name: string, text: string) => {
    const p = join(dir, name)
    writeFileSync(p, text)
    return p
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hookpost-cli-transform-'))
    svc = await loopbackService()
    t = await createCliTenant(svc, 'cli-transform')
  })
  afterAll(async () => {
    await svc?.stop()
    svc?.cleanup()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('creates with a file, test-runs it (exit 0, or 1 on transformation_error), removes it', async () => {
    const code =
      "function handler(webhook) {\n  webhook.headers['x-ref'] = String(webhook.payload.site.ref)\n  return { headers: webhook.headers, payload: { ref: webhook.payload.site.ref } }\n}\n"
    const handler = file('handler.js', code)
    const created = await runCli(
      [
        'subscriptions',
        'create',
        '--event',
        'site.publish',
        '--endpoint',
        'https://example.com/h',
        '--transformation-file',
        handler,
        '--json',
      ],
      t.consumerEnv,
    )
    expect(created.code, created.stderr).toBe(0)
    const sub = JSON.parse(created.stdout).subscription
    expect(sub.transformation).toEqual({ code })

    const payload = file('event.json', '{"eventName":"site.publish","site":{"ref":5}}')
    const ran = await runCli(
      ['subscriptions', 'test-transformation', sub.id, '--payload-file', payload],
      t.consumerEnv,
    )
    expect(ran.code, ran.stderr).toBe(0)
    expect(ran.stdout).toContain('https://example.com/h')
    expect(ran.stdout).toContain('{"x-ref":"5"}')
    expect(ran.stdout).toMatch(/"ref": 5/)

    const broken = file('broken.js', 'function handler(w) { return w.payload.nothing.here }')
    const failed = await runCli(
      ['subscriptions', 'test-transformation', sub.id, '--transformation-file', broken, '--json'],
      t.consumerEnv,
    )
    expect(failed.code).toBe(1)
    expect(JSON.parse(failed.stdout).error).toMatchObject({ code: 'transformation_error' })

    const bad = await runCli(
      ['subscriptions', 'update', sub.id, '--transformation-file', file('bad.js', 'function handler(')],
      t.consumerEnv,
    )
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toMatch(/invalid_transformation|SyntaxError/)

    const removed = await runCli(
      ['subscriptions', 'update', sub.id, '--remove-transformation', '--json'],
      t.consumerEnv,
    )
    expect(removed.code, removed.stderr).toBe(0)
    expect(JSON.parse(removed.stdout).subscription.transformation).toBeNull()
  })
})
