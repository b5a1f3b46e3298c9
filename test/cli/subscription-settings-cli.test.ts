// `hookpost subscriptions create|update` with the per-subscription settings flags, run as a user
// runs them against a real service process: sent, shown, kept when not given, cleared with
// `default`, and a bad value answered with the API's code.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ServiceProcess } from '../support/service-process.ts'
import { type CliTenant, createCliTenant, loopbackService, runCli } from './cli-harness.ts'

describe('hookpost subscriptions: settings flags', () => {
  let svc: ServiceProcess
  let t: CliTenant
  beforeAll(async () => {
    svc = await loopbackService()
    t = await createCliTenant(svc, 'cli-settings')
  })
  afterAll(async () => {
    await svc?.stop()
    svc?.cleanup()
  })

  it('creates with settings, updates one, clears one, refuses a bad one', async () => {
    const created = await runCli(
      [
        'subscriptions',
        'create',
        '--event',
        'site.publish',
        '--endpoint',
        'http://127.0.0.1:9/settings',
        '--retry-schedule',
        '10s,1m',
        '--timeout',
        '5s',
        '--rate-limit',
        '10/s',
        '--max-in-flight',
        '4',
        '--json',
      ],
      t.consumerEnv,
    )
    expect(created.code, created.stderr).toBe(0)
    const sub = JSON.parse(created.stdout).subscription
    expect(sub).toMatchObject({
      retrySchedule: ['10s', '1m'],
      timeout: '5s',
      rateLimit: '10/s',
      maxInFlight: 4,
    })

    const updated = await runCli(
      ['subscriptions', 'update', sub.id, '--rate-limit', '600/m', '--max-in-flight', 'default', '--json'],
      t.consumerEnv,
    )
    expect(updated.code, updated.stderr).toBe(0)
    expect(JSON.parse(updated.stdout).subscription).toMatchObject({
      retrySchedule: ['10s', '1m'],
      timeout: '5s',
      rateLimit: '600/m',
      maxInFlight: null,
    })

    const shown = await runCli(['subscriptions', 'get', sub.id], t.consumerEnv)
    expect(shown.stdout).toMatch(/retrySchedule\s+\["10s","1m"\]/)
    expect(shown.stdout).toMatch(/rateLimit\s+600\/m/)

    const bad = await runCli(
      ['subscriptions', 'update', sub.id, '--retry-schedule', '10s,soon'],
      t.consumerEnv,
    )
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toContain('invalid_retry_schedule')
    expect(bad.stderr).toContain('retrySchedule[1]')
    const notNumber = await runCli(
      ['subscriptions', 'update', sub.id, '--max-in-flight', 'many'],
      t.consumerEnv,
    )
    expect(notNumber.code).toBe(2)
    expect(notNumber.stderr).toContain('--max-in-flight')
  })
})
