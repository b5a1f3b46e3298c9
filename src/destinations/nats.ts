// The `nats` destination type: a JetStream publish to `subject`; delivered when the stream that
// captures the subject acknowledges it (a subject no stream captures is a failure: `no_stream`).
// The headers ride in NATS message headers.
import type { AttemptOutcome } from '../deliveries/sender.ts'
import { plainPortError } from '../outbound/tls-failure.ts'
import { hostOf } from './broker-address.ts'
import type { BrokerConnection, BrokerDestinationType } from './destination-type.ts'

type Transport = typeof import('@nats-io/transport-node')
type JetStream = typeof import('@nats-io/jetstream')
type NatsConnection = Awaited<ReturnType<Transport['connect']>>
type JetStreamClient = ReturnType<JetStream['jetstream']>

let clients: Promise<{ nats: Transport; js: JetStream }> | undefined
const load = () =>
  (clients ??= Promise.all([import('@nats-io/transport-node'), import('@nats-io/jetstream')]).then(
    ([nats, js]) => ({ nats, js }),
  ))

export const natsDestination: BrokerDestinationType = {
  type: 'nats',
  description:
    'A JetStream publish to a subject; delivered when the stream that captures the subject acknowledges it.',
  urlExample: 'tls://user:password@nats.example.com:4222',
  schemes: { plain: ['nats:'], tls: ['tls:'] },
  defaultPort: { plain: 4222, tls: 4222 },
  fields: [
    {
      name: 'subject',
      description: 'The subject to publish to; a JetStream stream must capture it.',
      example: 'webhooks.orders',
      // Tokens separated by dots, no wildcards or whitespace.
      pattern: /^[^\s.*>]+(\.[^\s.*>]+)*$/,
      rule: 'dot-separated tokens without spaces or wildcards (* >)',
      maxLength: 255,
    },
  ],
  checkUrl(url) {
    return url.pathname.length > 1 || url.search !== '' ? 'a NATS URL has no path or query' : undefined
  },
  async connect(url, address, ctx) {
    const { nats, js } = await load()
    const tls = url.protocol === 'tls:'
    const user = url.username ? decodeURIComponent(url.username) : undefined
    const pass = url.password ? decodeURIComponent(url.password) : undefined
    const port = url.port ? Number(url.port) : 4222
    const nc = await nats
      .connect({
        servers: `${address.includes(':') ? `[${address}]` : address}:${port}`,
        // user:pass, or a lone token in the user part.
        ...(user !== undefined && pass !== undefined
          ? { user, pass }
          : user !== undefined
            ? { token: user }
            : {}),
        // The client spreads these into tls.connect: verify the URL's name on the checked address.
        // A server that does not offer TLS is refused (the client checks its INFO), never used plain.
        ...(tls
          ? {
              tls: {
                servername: hostOf(url),
                ...(ctx.ca ? { ca: [...ctx.ca] } : {}),
              } as unknown as Record<string, never>,
            }
          : {}),
        timeout: ctx.connectTimeoutMs,
        // The pool reconnects (through the sending policy) after a loss; the client must not, nor
        // follow the addresses a server advertises (they were never checked).
        reconnect: false,
        ignoreClusterUpdates: true,
        // No Error (and its stack) made ahead of every publish in case it fails: the failures are
        // told apart by name and message, never by stack, and the two made per publish were a
        // quarter of this type's CPU.
        noAsyncTraces: true,
        name: 'hookpost',
      })
      .catch((e: unknown) => {
        // A tls:// URL whose server offers no TLS: refused by the client (never sent in plain);
        // recorded as tls_failure, like a handshake that a plain port answers.
        if (tls && /does not support 'tls'|tls.*not available/i.test((e as Error).message))
          throw plainPortError("the server's INFO offers no TLS")
        throw e
      })
    return new NatsJetStreamConnection(nc, js.jetstream(nc), nats)
  },
}

class NatsJetStreamConnection implements BrokerConnection {
  readonly #listeners: (() => void)[] = []
  #closed = false

  readonly nc: NatsConnection
  readonly js: JetStreamClient
  readonly nats: Transport

  constructor(nc: NatsConnection, js: JetStreamClient, nats: Transport) {
    this.nc = nc
    this.js = js
    this.nats = nats
    void nc.closed().then(() => {
      this.#closed = true
      for (const l of this.#listeners) l()
    })
  }

  onClose(listener: () => void): void {
    if (this.#closed) listener()
    else this.#listeners.push(listener)
  }

  async publish(
    target: { fields: Readonly<Record<string, string>> },
    message: { body: Buffer; headers: Readonly<Record<string, string>> },
    timeoutMs: number,
  ): Promise<AttemptOutcome> {
    const h = this.nats.headers()
    for (const [k, v] of Object.entries(message.headers)) h.set(k, v)
    const subject = target.fields['subject'] ?? ''
    try {
      const ack = await this.js.publish(subject, message.body, { headers: h, timeout: timeoutMs })
      return {
        kind: 'acknowledged',
        answer: JSON.stringify({ stream: ack.stream, seq: ack.seq }),
        durationMs: 0,
      }
    } catch (e) {
      const err = e as Error & { name?: string; code?: string }
      if (this.#closed || this.nc.isClosed()) throw e
      if (err.name === 'JetStreamNotEnabled' || /no responders|not enabled/i.test(err.message))
        return {
          kind: 'error',
          code: 'no_stream',
          message: `no JetStream stream captures ${subject}`,
          durationMs: 0,
        }
      if (err.name === 'TimeoutError' || /timeout/i.test(err.message))
        return {
          kind: 'error',
          code: 'timeout',
          message: `no JetStream ack within ${timeoutMs} ms`,
          durationMs: 0,
        }
      if (/permission/i.test(err.message))
        return {
          kind: 'error',
          code: 'broker_refused',
          message: `the server refused the publish: ${err.message}`,
          durationMs: 0,
        }
      return {
        kind: 'error',
        code: 'broker_nack',
        message: `the stream did not accept the message: ${err.message}`,
        durationMs: 0,
      }
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    // Drain: publishes still in flight get their acks before the connection closes.
    await this.nc.drain().catch(() => this.nc.close())
  }
}
