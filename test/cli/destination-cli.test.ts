// `hookpost subscriptions create|list|update` with a broker destination against the real
// service and a real RabbitMQ: the password is never printed, an update of one field keeps the
// stored password (the delivery after it authenticates and arrives).
import amqp from 'amqplib'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { eventTypes } from '../../src/events/event-types.ts'
import { describeWithBroker, unique } from '../support/brokers.ts'
import { eventually } from '../support/eventually.ts'
import { client, type ServiceProcess } from '../support/service-process.ts'
import { type CliTenant, createCliTenant, loopbackService, runCli } from './cli-harness.ts'

await describeWithBroker('amqp', 'hookpost subscriptions with --destination-type', () => {
  let svc: ServiceProcess
  let t: CliTenant
  beforeAll(async () => {
    svc = await loopbackService()
    t = await createCliTenant(svc, 'cli-destinations')
  })
  afterAll(async () => {
    await svc?.stop()
    svc?.cleanup()
  })

  it('creates an amqp subscription, never prints the password, and keeps it across an update', async () => {
    const created = await runCli(
      [
        'subscriptions',
        'create',
        '--event',
        'site.publish',
        '--destination-type',
        'amqp',
        '--endpoint',
        'amqp://guest:guest@127.0.0.1:5672/',
        '--field',
        'exchange=amq.topic',
        '--field',
        'routingKey=first',
        '--json',
      ],
      t.consumerEnv,
    )
    expect(created.code, created.stderr).toBe(0)
    const sub = JSON.parse(created.stdout).subscription
    expect(sub.destination).toEqual({
      type: 'amqp',
      url: 'amqp://guest:****@127.0.0.1:5672/',
      exchange: 'amq.topic',
      routingKey: 'first',
    })
    const list = await runCli(['subscriptions', 'list'], t.consumerEnv)
    expect(list.stdout).toContain(
      'amqp: amqp://guest:****@127.0.0.1:5672/ exchange=amq.topic routingKey=first',
    )
    expect(list.stdout + created.stdout).not.toContain('guest:guest')

    const key = unique('cli_rk')
    const updated = await runCli(
      ['subscriptions', 'update', sub.id, '--field', `routingKey=${key}`, '--json'],
      t.consumerEnv,
    )
    expect(updated.code, updated.stderr).toBe(0)
    expect(JSON.parse(updated.stdout).subscription.destination.routingKey).toBe(key)

    // The stored password still works: a delivery after the update reaches a queue bound to it.
    const conn = await amqp.connect('amqp://guest:guest@127.0.0.1:5672')
    try {
      const ch = await conn.createChannel()
      const { queue } = await ch.assertQueue('', { exclusive: true })
      await ch.bindQueue(queue, 'amq.topic', key)
      const example = eventTypes.find((e) => e.name === 'site.publish')!.example
      expect((await client(svc.url, t.publisher.authorization)('POST', '/events', example)).status).toBe(202)
      const msg = await eventually(async () => {
        const m = await ch.get(queue, { noAck: true })
        expect(m).toBeTruthy()
        return m as amqp.GetMessage
      }, 15_000)
      expect(JSON.parse(msg.content.toString())).toEqual(example)
      expect(msg.properties.headers?.['X-Delivery-Event']).toBe('site.publish')
    } finally {
      await conn.close()
    }
  })
})
