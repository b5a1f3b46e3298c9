// The client commands of `hookpost` run as a user runs them (node bin/hookpost.js …) against a
// real service process and a real receiver.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventTypes } from '../../src/events/event-types.ts'
import { eventually } from '../support/eventually.ts'
import { TestReceiver } from '../support/receiver.ts'
import { client, type ServiceProcess } from '../support/service-process.ts'
import {
  type CliProcess,
  type CliTenant,
  createCliTenant,
  loopbackService,
  runCli,
  spawnCli,
} from './cli-harness.ts'

const example = (name: string) => eventTypes.find((t) => t.name === name)!.example

describe('hookpost client commands against a running service', () => {
  let svc: ServiceProcess
  let rx: TestReceiver
  let t: CliTenant
  let tail: CliProcess
  let dir: string
  let subId: string
  const published: string[] = []

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hookpost-cli-'))
    rx = await new TestReceiver().start()
    svc = await loopbackService()
    t = await createCliTenant(svc, 'cli')
    // Following from the start, so it sees everything the tests below cause.
    tail = spawnCli(['deliveries', 'tail', '--interval', '300', '--lines', '0'], t.consumerEnv)
  })
  afterAll(async () => {
    await tail?.stop()
    await svc?.stop()
    svc?.cleanup()
    await rx?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('subscriptions: auth and static headers from flags arrive at the endpoint; update keeps what it is not given', async () => {
    writeFileSync(join(dir, 'password.txt'), 'cli-pass-word\n')
    const created = await runCli(
      [
        'subscriptions',
        'create',
        '--event',
        'site.publish',
        '--endpoint',
        `${rx.url}/cli-auth`,
        '--auth-basic',
        `cli:@${join(dir, 'password.txt')}`,
        '--header',
        'X-Api-Key:cli-key',
        '--json',
      ],
      t.consumerEnv,
    )
    expect(created.code, created.stderr).toBe(0)
    const sub = JSON.parse(created.stdout).subscription
    expect(sub.auth).toEqual({ type: 'basic', username: 'cli', password: '****' })
    expect(sub.headers).toEqual({ 'x-api-key': '****' })
    const updated = await runCli(
      ['subscriptions', 'update', sub.id, '--header', 'x-tenant:acme', '--json'],
      t.consumerEnv,
    )
    expect(updated.code, updated.stderr).toBe(0)
    expect(JSON.parse(updated.stdout).subscription).toMatchObject({
      auth: { type: 'basic', username: 'cli' },
      headers: { 'x-api-key': '****', 'x-tenant': '****' },
    })
    await client(svc.url, t.publisher.authorization)('POST', '/events', example('site.publish'))
    await eventually(() => expect(rx.received.some((r) => r.path === '/cli-auth')).toBe(true), 10_000)
    const got = rx.received.find((r) => r.path === '/cli-auth')!
    expect(got.headers['authorization']).toBe(`Basic ${Buffer.from('cli:cli-pass-word').toString('base64')}`)
    expect(got.headers['x-api-key']).toBe('cli-key')
    expect(got.headers['x-tenant']).toBe('acme')
    const two = await runCli(
      ['subscriptions', 'update', sub.id, '--auth-bearer', 'b', '--auth-basic', 'a:b'],
      t.consumerEnv,
    )
    expect(two.code).not.toBe(0)
    expect(two.stderr).toMatch(/give one of/)
    await runCli(['subscriptions', 'delete', sub.id], t.consumerEnv)
  })

  it('subscriptions: create, list, get, check-url, update, delete', async () => {
    const created = await runCli(
      ['subscriptions', 'create', '--event', 'site.publish', '--endpoint', `${rx.url}/crud`, '--json'],
      t.consumerEnv,
    )
    expect(created.code, created.stderr).toBe(0)
    const sub = JSON.parse(created.stdout).subscription
    expect(sub).toMatchObject({ event: 'site.publish', url: `${rx.url}/crud`, active: true })

    const [table, get, refused] = await Promise.all([
      runCli(['subscriptions', 'list'], t.consumerEnv),
      runCli(['subscriptions', 'get', sub.id, '--json'], t.consumerEnv),
      runCli(['subscriptions', 'check-url', `${svc.url}/admin/environments`, '--json'], t.consumerEnv),
    ])
    expect(table.stdout).toMatch(new RegExp(`${sub.id}\\s+site.publish\\s+yes\\s+0\\s+${rx.url}/crud`))
    expect(JSON.parse(get.stdout).subscription.id).toBe(sub.id)
    // Our own API: refused (exit 1), with the policy's reason.
    expect(refused.code).toBe(1)
    expect(JSON.parse(refused.stdout)).toMatchObject({ allowed: false, code: 'url_not_allowed' })

    const updated = await runCli(
      ['subscriptions', 'update', sub.id, '--active', 'false', '--event', 'booking.updated', '--json'],
      t.consumerEnv,
    )
    expect(updated.code, updated.stderr).toBe(0)
    expect(JSON.parse(updated.stdout).subscription).toMatchObject({
      event: 'booking.updated',
      url: `${rx.url}/crud`,
      active: false,
    })

    const deleted = await runCli(['subscriptions', 'delete', sub.id], t.consumerEnv)
    expect(deleted.stdout).toBe(`deleted ${sub.id}\n`)
    const { json } = await client(svc.url, t.consumer.authorization)('GET', '/webhooks/subscription')
    expect(json.subscriptions).toEqual([])
  })

  it('publish sends a file and stdin unchanged, byte for byte', async () => {
    const consumer = client(svc.url, t.consumer.authorization)
    subId = (
      await consumer('POST', '/webhooks/subscription', {
        event: 'site.publish',
        url: `${rx.url}/hook`,
        active: true,
      })
    ).json.subscription.id
    // Odd spacing and key order: anything re-serialized would differ.
    const fromFile = `{ "eventName":"site.publish",\n\t"site" :${JSON.stringify(example('site.publish')['site'], null, 5)} }`
    const fromStdin = JSON.stringify(example('site.publish'), null, 1)
    writeFileSync(join(dir, 'event.json'), fromFile)
    const [a, b] = await Promise.all([
      runCli(['publish', join(dir, 'event.json'), '--idempotency-key', 'cli-file', '--json'], t.publisherEnv),
      runCli(['publish', '--idempotency-key', 'cli-stdin'], t.publisherEnv, {
        stdin: Buffer.from(fromStdin),
      }),
    ])
    expect(a.code, a.stderr).toBe(0)
    expect(b.code, b.stderr).toBe(0)
    expect(JSON.parse(a.stdout).event).toMatchObject({ eventName: 'site.publish', deliveries: 1 })
    await eventually(() => expect(rx.received.filter((r) => r.path === '/hook')).toHaveLength(2), 10_000)
    const bodies = rx.received.filter((r) => r.path === '/hook').map((r) => r.body.toString('utf8'))
    expect(bodies.sort()).toEqual([fromFile, fromStdin].sort())
    published.push(
      ...rx.received.filter((r) => r.path === '/hook').map((r) => String(r.headers['webhook-id'])),
    )
  })

  it('publish --file sends an NDJSON file or a JSON array through one batch, each payload byte for byte', async () => {
    const consumer = client(svc.url, t.consumer.authorization)
    await consumer('POST', '/webhooks/subscription', {
      event: 'booking.updated',
      url: `${rx.url}/batch`,
      active: true,
    })
    const one = JSON.stringify(example('booking.updated'), null, 3).replace(/\n/g, ' ')
    const two = `{"eventName" : "booking.updated", "booking":{"ref": 2}, "note": "caf\\u00e9 \u{1F600}"}`
    writeFileSync(join(dir, 'events.ndjson'), `${one}\n\n${two}\r\n`)
    const [a, again, b] = await Promise.all([
      runCli(
        ['publish', '--file', join(dir, 'events.ndjson'), '--idempotency-key', 'import-1', '--json'],
        t.publisherEnv,
      ),
      runCli(['publish', '--file', '-', '--idempotency-key', 'import-1', '--json'], t.publisherEnv, {
        stdin: Buffer.from(`[${one},${two}]`),
      }),
      runCli(['publish', '--file', '-', '--json'], t.publisherEnv, { stdin: Buffer.from(`[\n${two}\n]`) }),
    ])
    for (const r of [a, again, b]) expect(r.code, r.stderr).toBe(0)
    const events = JSON.parse(a.stdout).events
    expect(events.map((e: { eventName: string }) => e.eventName)).toEqual([
      'booking.updated',
      'booking.updated',
    ])
    // The same keys and bytes: the first events again, nothing new.
    expect(JSON.parse(again.stdout).events).toEqual(events)
    await eventually(() => expect(rx.received.filter((r) => r.path === '/batch')).toHaveLength(3), 10_000)
    const bodies = rx.received.filter((r) => r.path === '/batch').map((r) => r.body.toString('utf8'))
    expect(bodies.sort()).toEqual([one, two, two].sort())
  })

  it('deliveries tail printed each new delivery and its attempt', async () => {
    for (const id of published) {
      await tail.waitFor(new RegExp(`${id}\\s+site.publish\\s+${subId}\\s+new`))
      await tail.waitFor(new RegExp(`${id}\\s+attempt 1: 200 in \\d+ ms → delivered`))
    }
  })

  it('deliveries list, get (with attempts) and retry', async () => {
    const id = published[0]!
    const [list, get, missing, human] = await Promise.all([
      runCli(['deliveries', 'list', '--subscription', subId, '--json'], t.consumerEnv),
      runCli(['deliveries', 'get', id, '--json'], t.consumerEnv),
      runCli(['deliveries', 'get', 'dlv_0000000000000000000000000'], t.consumerEnv),
      runCli(['deliveries', 'get', id], t.consumerEnv),
    ])
    // For people: the delivery's fields, then its attempts as a table.
    expect(human.stdout).toMatch(new RegExp(`^id\\s+${id}$`, 'm'))
    expect(human.stdout).toMatch(
      /^NUMBER\s+STARTED\s+DURATIONMS\s+STATUSCODE\s+ERROR\n1\s+\S+\s+\d+\s+200\s+-$/m,
    )
    expect(
      JSON.parse(list.stdout)
        .deliveries.map((d: { id: string }) => d.id)
        .sort(),
    ).toEqual([...published].sort())
    // An API error: its code and message, exit 1.
    expect(missing.code).toBe(1)
    expect(missing.stderr).toBe('hookpost: delivery_not_found: No such delivery.\n')
    const delivery = JSON.parse(get.stdout).delivery
    expect(delivery.attemptLog).toHaveLength(1)
    expect(delivery.attemptLog[0]).toMatchObject({ number: 1, statusCode: 200 })

    const retry = await runCli(['deliveries', 'retry', id, '--json'], t.consumerEnv)
    expect(retry.code, retry.stderr).toBe(0)
    expect(JSON.parse(retry.stdout).delivery).toMatchObject({ id, status: 'pending' })
    await eventually(() =>
      expect(
        rx.received.some((r) => r.headers['webhook-id'] === id && r.headers['x-delivery-attempt'] === '2'),
      ).toBe(true),
    )
    await tail.waitFor(new RegExp(`${id}\\s+attempt 2: 200 in \\d+ ms → delivered`))
  })

  it("replay re-sends a subscription's deliveries and follows the job to the end", async () => {
    const before = rx.received.length
    const r = await runCli(['replay', subId, '--since', '1h', '--interval', '100'], t.consumerEnv)
    expect(r.code, r.stderr).toBe(0)
    // Not a terminal: plain progress lines, then the result.
    expect(r.stdout).toMatch(/^replay job_\w+: 2 deliveries of sub_\w+ from /)
    expect(r.stdout).toContain('[##############################] 100% 2/2 finished')
    expect(r.stdout).toMatch(/finished job_\w+: 2 of 2 deliveries re-queued\n$/)
    expect(r.stdout).not.toContain('\r')
    await eventually(() => expect(rx.received.length).toBe(before + 2))
  })

  it('verify accepts a saved real request and refuses a tampered one', async () => {
    const saved = rx.received.find((x) => x.path === '/hook')!
    writeFileSync(join(dir, 'body.bin'), saved.body)
    writeFileSync(join(dir, 'headers.json'), JSON.stringify(saved.headers))
    const lines = Object.entries(saved.headers)
      .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : v}`)
      .join('\n')
    writeFileSync(join(dir, 'headers.txt'), `POST /hook HTTP/1.1\n${lines}\n`)
    writeFileSync(join(dir, 'tampered.bin'), Buffer.concat([saved.body, Buffer.from(' ')]))
    const args = (body: string, headers: string) => [
      'verify',
      '--secret',
      t.signingSecret,
      '--body',
      join(dir, body),
      '--headers',
      join(dir, headers),
    ]
    const [ok, tampered] = await Promise.all([
      runCli(args('body.bin', 'headers.txt'), {}),
      runCli(args('tampered.bin', 'headers.json'), {}),
    ])
    expect(ok.code, ok.stdout + ok.stderr).toBe(0)
    expect(ok.stdout).toMatch(/^X-Delivery-Hmac-SHA256: ok$/m)
    expect(ok.stdout).toMatch(
      /^webhook-signature \(Standard Webhooks\): ok \(signed \d+ s ago, within 300 s\)$/m,
    )
    expect(ok.stdout).toContain('verdict: accepted')
    expect(tampered.code).toBe(1)
    expect(tampered.stdout).toMatch(/^X-Delivery-Hmac-SHA256: FAILED bad_signature: /m)
    expect(tampered.stdout).toMatch(/^webhook-signature \(Standard Webhooks\): FAILED bad_signature: /m)
    expect(tampered.stdout).toContain('verdict: REFUSED')
  })

  it('tail stops on SIGINT with exit 0', async () => {
    expect(await tail.stop('SIGINT')).toBe(0)
  })
})
