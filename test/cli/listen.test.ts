// `hookpost listen` end to end: a real service, the real CLI holding a relay session, a local
// server behind it. A published event reaches the local server byte for byte, signed, through
// the service's own relay, and the local server's answer is what the attempt log records.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventTypes } from '../../src/events/event-types.ts'
import { eventually } from '../support/eventually.ts'
import { basekitHeaderValid, standardHeadersValid } from '../support/independent-verify.ts'
import { TestReceiver } from '../support/receiver.ts'
import { client, type ServiceProcess, startService } from '../support/service-process.ts'
import { type CliProcess, type CliTenant, createCliTenant, spawnCli } from './cli-harness.ts'

describe('hookpost listen: a development tunnel through our own Hookpost', () => {
  let svc: ServiceProcess
  let local: TestReceiver
  let t: CliTenant
  let listen: CliProcess

  beforeAll(async () => {
    local = await new TestReceiver().start()
    local.respond = () => ({
      status: 201,
      headers: { 'content-type': 'text/plain', 'x-local': 'yes' },
      body: 'answered by the local server',
    })
    // Loopback is allowed for receivers, but the service's own port never is: the relay URL
    // gets through only by the sending policy's exemption for <public URL>/relay/<token>.
    svc = await startService({ HOOKPOST_ALLOW_HTTP: 'true', HOOKPOST_ALLOWED_CIDRS: '127.0.0.0/8' })
    t = await createCliTenant(svc, 'listen')
  })
  afterAll(async () => {
    await listen?.stop('SIGKILL')
    await svc?.stop()
    svc?.cleanup()
    await local?.stop()
  })

  it('forwards a real delivery to the local server, whose answer lands in the attempt log', async () => {
    listen = spawnCli(
      ['listen', '--event', 'booking.updated', '--forward', `${local.url}/local/hook`],
      t.consumerEnv,
    )
    await listen.waitFor(/listening: booking.updated deliveries → http:\/\/127\.0\.0\.1:\d+\/local\/hook/)
    // The next line (relay URL, temporary subscription) may come in a later chunk.
    await listen.waitFor(/temporary subscription sub_\w+/)
    const relayUrl = /via (http:\/\/\S+\/relay\/rly_\w+)/.exec(listen.output())![1]!
    const tempSub = /temporary subscription (sub_\w+)/.exec(listen.output())![1]!
    const consumer = client(svc.url, t.consumer.authorization)
    const subs = (await consumer('GET', '/webhooks/subscription')).json.subscriptions
    expect(subs).toEqual([expect.objectContaining({ id: tempSub, event: 'booking.updated', url: relayUrl })])

    const body = JSON.stringify(eventTypes.find((e) => e.name === 'booking.updated')!.example, null, 2)
    const published = await client(svc.url, t.publisher.authorization)('POST', '/events', body)
    expect(published.status).toBe(202)

    await eventually(() => expect(local.received).toHaveLength(1), 15_000)
    const got = local.received[0]!
    expect(got.path).toBe('/local/hook')
    expect(got.body.toString('utf8')).toBe(body)
    expect(
      basekitHeaderValid(t.signingSecret, got.body, got.headers['x-delivery-hmac-sha256'] as string),
    ).toBe(true)
    expect(standardHeadersValid(t.signingSecret, got.body, got.headers)).toBe(true)
    const deliveryId = String(got.headers['webhook-id'])
    await listen.waitFor(
      new RegExp(`POST /local/hook\\s+booking.updated\\s+${deliveryId}\\s+attempt 1 → 201`),
    )

    const attempt = await eventually(async () => {
      const d = (await consumer('GET', `/webhooks/deliveries/${deliveryId}`)).json.delivery
      expect(d.status).toBe('delivered')
      return d.attemptLog[0]
    })
    expect(attempt).toMatchObject({ statusCode: 201, responseBody: 'answered by the local server' })
    expect(attempt.responseHeaders).toMatchObject({ 'x-local': 'yes', 'content-type': 'text/plain' })

    // Ctrl-C: the temporary subscription is deleted and the relay URL is closed for good.
    expect(await listen.stop('SIGINT')).toBe(0)
    expect(listen.output()).toContain(`deleted the temporary subscription ${tempSub}`)
    expect((await consumer('GET', '/webhooks/subscription')).json.subscriptions).toEqual([])
    const late = await fetch(relayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'webhook-id': deliveryId },
      body,
    })
    expect(late.status).toBe(410)
  })
})
