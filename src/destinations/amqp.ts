// The `amqp` destination type (RabbitMQ and other AMQP 0-9-1 brokers): a persistent message
// published to `exchange` with `routingKey` on a confirm channel; delivered once the broker
// acknowledges it (publisher confirm). The headers ride in the message's AMQP headers table.
import type { AttemptOutcome } from '../deliveries/sender.ts'
import { hostOf } from './broker-address.ts'
import type { BrokerConnection, BrokerDestinationType } from './destination-type.ts'

type Amqp = typeof import('amqplib')
type ChannelModel = Awaited<ReturnType<Amqp['connect']>>
type ConfirmChannel = Awaited<ReturnType<ChannelModel['createConfirmChannel']>>

// Loaded on the first connection: the CLI and HTTP-only nodes never pay for it.
let client: Promise<Amqp> | undefined
const amqplib = () => (client ??= import('amqplib').then((m) => (m.default ?? m) as Amqp))

export const amqpDestination: BrokerDestinationType = {
  type: 'amqp',
  description:
    'A persistent message published to an exchange with a routing key (RabbitMQ, AMQP 0-9-1); delivered when the broker confirms it.',
  urlExample: 'amqps://user:password@rabbit.example.com:5671/vhost',
  schemes: { plain: ['amqp:'], tls: ['amqps:'] },
  defaultPort: { plain: 5672, tls: 5671 },
  fields: [
    {
      name: 'exchange',
      description: 'The exchange to publish to (it must exist; "" is the default exchange).',
      example: 'webhooks',
      pattern: /^[A-Za-z0-9_.:-]{0,255}$/,
      rule: 'letters, digits and _ . : - (at most 255)',
      maxLength: 255,
    },
    {
      name: 'routingKey',
      description: 'The routing key (with the default exchange: the queue name).',
      example: 'orders.created',
      pattern: /^[\x20-\x7e]{0,255}$/,
      rule: 'printable ASCII (at most 255)',
      maxLength: 255,
    },
  ],
  checkUrl(url) {
    // The path is the vhost: one segment at most ("/" or none is the default vhost "/").
    return url.pathname.length > 1 && url.pathname.slice(1).includes('/')
      ? 'the URL path is the vhost: one segment (percent-encode a "/" in its name)'
      : undefined
  },
  async connect(url, address, ctx) {
    const amqp = await amqplib()
    const tls = url.protocol === 'amqps:'
    const conn = await amqp.connect(
      {
        protocol: tls ? 'amqps' : 'amqp',
        hostname: address,
        port: url.port ? Number(url.port) : tls ? 5671 : 5672,
        username: url.username ? decodeURIComponent(url.username) : 'guest',
        password: url.password ? decodeURIComponent(url.password) : 'guest',
        vhost: url.pathname.length > 1 ? decodeURIComponent(url.pathname.slice(1)) : '/',
        heartbeat: 30,
      },
      // TLS verifies the name from the URL though the socket goes to the checked address.
      {
        timeout: ctx.connectTimeoutMs,
        ...(tls ? { servername: hostOf(url), ...(ctx.ca ? { ca: [...ctx.ca] } : {}) } : {}),
      },
    )
    return new AmqpConnection(conn)
  },
}

interface OpenChannel {
  ch: ConfirmChannel
  closedBy: { error?: Error }
}

class AmqpConnection implements BrokerConnection {
  readonly #conn: ChannelModel
  #channel: Promise<OpenChannel> | undefined
  /** #channel once it has opened: publishes go out without waiting for a promise. */
  #open: OpenChannel | undefined
  readonly #listeners: (() => void)[] = []
  #closed = false

  constructor(conn: ChannelModel) {
    this.#conn = conn
    // An 'error' without a listener would crash the process; 'close' follows it.
    conn.on('error', () => {})
    conn.on('close', () => {
      this.#closed = true
      for (const l of this.#listeners) l()
    })
  }

  onClose(listener: () => void): void {
    if (this.#closed) listener()
    else this.#listeners.push(listener)
  }

  /**
   * One confirm channel per connection, opened again after the broker closed it (e.g. a 404).
   * Publishes do not wait for each other's confirms on it: the broker confirms each by its
   * sequence number, and amqplib settles each publish's own callback (a nack fails that one).
   */
  #confirmChannel(): Promise<OpenChannel> {
    if (!this.#channel) {
      const opening: Promise<OpenChannel> = this.#conn.createConfirmChannel().then((ch) => {
        const closedBy: { error?: Error } = {}
        const open = { ch, closedBy }
        ch.on('error', (e: Error) => {
          closedBy.error = e
        })
        ch.on('close', () => {
          if (this.#channel === opening) this.#forgetChannel()
        })
        if (this.#channel === opening) this.#open = open
        return open
      })
      opening.catch(() => {
        if (this.#channel === opening) this.#forgetChannel()
      })
      this.#channel = opening
    }
    return this.#channel
  }

  #forgetChannel(): void {
    this.#channel = undefined
    this.#open = undefined
  }

  async publish(
    target: { fields: Readonly<Record<string, string>> },
    message: { body: Buffer; headers: Readonly<Record<string, string>>; id: string },
  ): Promise<AttemptOutcome> {
    const { ch, closedBy } = this.#open ?? (await this.#confirmChannel())
    const exchange = target.fields['exchange'] ?? ''
    const routingKey = target.fields['routingKey'] ?? ''
    return new Promise<AttemptOutcome>((resolve, reject) => {
      try {
        ch.publish(
          exchange,
          routingKey,
          message.body,
          {
            persistent: true,
            contentType: message.headers['content-type'] ?? 'application/json',
            messageId: message.id,
            headers: message.headers,
          },
          (err: unknown) => {
            if (!err) return resolve({ kind: 'acknowledged', answer: 'ack', durationMs: 0 })
            // The broker closed the channel instead of confirming: it refused the publish.
            const why = closedBy.error
            if (why) {
              const text = why.message.replace(/^Channel closed by server: /, '')
              const auth = /ACCESS_REFUSED|403/.test(text)
              return resolve({
                kind: 'error',
                code: 'broker_refused',
                message: auth
                  ? `the broker refused access: ${text}`
                  : `the broker refused the publish: ${text}`,
                durationMs: 0,
              })
            }
            if (this.#closed) return reject(new Error('the connection closed before the broker confirmed'))
            resolve({
              kind: 'error',
              code: 'broker_nack',
              message: 'the broker did not accept the message (nack)',
              durationMs: 0,
            })
          },
        )
      } catch (e) {
        // Publishing on a channel that just closed: open a new one next time, retry on schedule.
        this.#forgetChannel()
        reject(e)
      }
    })
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#conn.close().catch(() => {})
  }
}
