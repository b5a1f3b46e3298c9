// `hookpost feed` against a running service: one page, and --follow as events are published.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventTypes } from '../../src/events/event-types.ts'
import { client, type ServiceProcess } from '../support/service-process.ts'
import { type CliTenant, createCliTenant, loopbackService, runCli, spawnCli } from './cli-harness.ts'

const example = (name: string) => eventTypes.find((t) => t.name === name)!.example

describe('hookpost feed', () => {
  let svc: ServiceProcess
  let t: CliTenant
  const publish = async (name: string) =>
    (await client(svc.url, t.publisher.authorization)('POST', '/events', example(name))).json.event
      .id as string

  beforeAll(async () => {
    svc = await loopbackService()
    t = await createCliTenant(svc, 'feed')
  })
  afterAll(async () => {
    await svc?.stop()
    svc?.cleanup()
  })

  it('--follow prints each event as it is published, and the cursor to resume from when stopped', async () => {
    const follow = spawnCli(['feed', '--follow', '--json'], t.consumerEnv)
    const first = await publish('site.publish')
    await follow.waitFor(first)
    const second = await publish('booking.updated')
    await follow.waitFor(second)
    expect(await follow.stop('SIGINT')).toBe(0)
    const lines = follow
      .output()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(lines[0].message).toMatch(/^following the feed/)
    expect(lines.slice(1, 3).map((l) => [l.id, l.eventName])).toEqual([
      [first, 'site.publish'],
      [second, 'booking.updated'],
    ])
    expect(lines[1].payload).toEqual(example('site.publish'))
    const { nextCursor } = lines.at(-1)
    expect(nextCursor).toEqual(expect.any(String))

    // Resuming from the printed cursor gives only what came after.
    const third = await publish('site.publish')
    const after = await runCli(['feed', '--after', nextCursor, '--json'], t.consumerEnv)
    expect(after.code, after.stderr).toBe(0)
    const rest = JSON.parse(after.stdout)
    expect(rest.events.map((e: { id: string }) => e.id)).toEqual([third])
    expect(rest.nextCursor).toEqual(expect.any(String))

    const filtered = await runCli(['feed', '--event', 'booking.updated'], t.consumerEnv)
    expect(filtered.code, filtered.stderr).toBe(0)
    expect(filtered.stdout).toMatch(new RegExp(`^ID\\s+EVENT\\s+CREATED\\n${second}\\s+booking.updated\\s`))
    expect(filtered.stdout).toMatch(/resume with: --after \S+\n$/)
  })
})
