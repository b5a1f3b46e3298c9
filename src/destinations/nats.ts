// The `nats` destination type: a JetStream publish to `subject`; delivered when the stream that
// captures the subject acknowledges it (a subject no stream captures is a failure: `no_stream`).
// The headers ride in NATS message headers.
import type { AttemptOutcome, SendErrorCode } from '../deliveries/sender.ts'
import { plainPortError } from '../outbound/tls-failure.ts'
import { hostOf } from './broker-address.ts'
import type { BrokerConnection, BrokerDestinationType } from './destination-type.ts'

type Transport = typeof import('@nats-io/transport-node')
type NatsConnection = Awaited<ReturnType<Transport['connect']>>
type MsgHdrs = ReturnType<Transport['headers']>

let clients: Promise<{ nats: Transport }> | undefined
const load = () => (clients ??= import('@nats-io/transport-node').then((nats) => ({ nats })))

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
    const { nats } = await load()
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
        // No Error (and its stack) made ahead of a client request in case it fails (publishes
        // take none: their acks come to our own inbox, below).
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
    return new NatsJetStreamConnection(nc, nats)
  },
}

/** A JetStream publish waiting for its ack. */
interface PendingAck {
  subject: string
  deadline: number
  timeoutMs: number
  resolve: (o: AttemptOutcome) => void
  reject: (e: Error) => void
}

/** How often publishes past their deadline are answered (the publisher's own deadline is exact). */
const sweepMs = 100

// A JetStream publish is a core publish whose reply subject the stream answers with its ack.
// One inbox subscription per connection takes every ack, matched by the reply's last token,
// and one timer sweeps the late ones: the client's request API would make a request object, a
// timer, a promise and an Error per publish, which were a third of this type's CPU.
class NatsJetStreamConnection implements BrokerConnection {
  readonly #listeners: (() => void)[] = []
  #closed = false
  readonly #nc: NatsConnection
  readonly #nats: Transport
  /** The reply subject's prefix; a publish's reply is this plus its token. */
  readonly #inbox: string
  readonly #pending = new Map<string, PendingAck>()
  #next = 0
  #sweeper: NodeJS.Timeout | undefined

  constructor(nc: NatsConnection, nats: Transport) {
    this.#nc = nc
    this.#nats = nats
    this.#inbox = `${nats.createInbox()}.`
    nc.subscribe(`${this.#inbox}*`, { callback: (err, msg) => this.#answer(err, msg) })
    void this.#watchPermissions()
    void nc.closed().then(() => {
      this.#closed = true
      this.#failAll(new Error('the NATS connection closed'))
      for (const l of this.#listeners) l()
    })
  }

  onClose(listener: () => void): void {
    if (this.#closed) listener()
    else this.#listeners.push(listener)
  }

  publish(
    target: { fields: Readonly<Record<string, string>> },
    message: { body: Buffer; headers: Readonly<Record<string, string>> },
    timeoutMs: number,
  ): Promise<AttemptOutcome> {
    const subject = target.fields['subject'] ?? ''
    const token = (this.#next++).toString(36)
    return new Promise<AttemptOutcome>((resolve, reject) => {
      // Registered before the publish: an ack can never arrive ahead of its entry.
      this.#pending.set(token, {
        subject,
        deadline: performance.now() + timeoutMs,
        timeoutMs,
        resolve,
        reject,
      })
      this.#sweeper ??= setInterval(() => this.#sweep(), sweepMs)
      try {
        const headers = headerBlock(message.headers) as unknown as MsgHdrs
        this.#nc.publish(subject, message.body, { reply: this.#inbox + token, headers })
      } catch (e) {
        this.#pending.delete(token)
        reject(e as Error)
      }
    })
  }

  /** An answer on the inbox: the stream's ack, its refusal, or the server's "no responders". */
  #answer(
    err: Error | null,
    msg: { subject: string; data: Uint8Array; headers?: { code: number } | undefined; json<T>(): T },
  ): void {
    if (err) {
      // The inbox itself was refused (no permission to subscribe): nothing can be acked here.
      this.#refuseAll(err)
      return
    }
    const token = msg.subject.slice(this.#inbox.length)
    const p = this.#pending.get(token)
    if (!p) return // answered already (late after a timeout)
    this.#pending.delete(token)
    if (msg.data.length === 0 && msg.headers?.code === 503) {
      p.resolve(fail('no_stream', `no JetStream stream captures ${p.subject}`))
      return
    }
    let ack: { stream?: string; seq?: number; error?: { err_code?: number; description?: string } }
    try {
      ack = msg.json()
    } catch {
      p.resolve(
        fail('broker_nack', 'the server answered the publish with something other than a JetStream ack'),
      )
      return
    }
    if (ack.error) {
      const why = ack.error.description ?? 'unknown error'
      p.resolve(
        ack.error.err_code === jetStreamNotEnabledForAccount || /not enabled/i.test(why)
          ? fail('no_stream', `no JetStream stream captures ${p.subject}`)
          : fail('broker_nack', `the stream did not accept the message: ${why}`),
      )
      return
    }
    if (typeof ack.stream !== 'string' || ack.stream === '') {
      p.resolve(fail('broker_nack', 'the stream did not accept the message: invalid ack response'))
      return
    }
    p.resolve({
      kind: 'acknowledged',
      answer: JSON.stringify({ stream: ack.stream, seq: ack.seq }),
      durationMs: 0,
    })
  }

  #sweep(): void {
    const now = performance.now()
    for (const [token, p] of this.#pending) {
      if (p.deadline > now) continue
      this.#pending.delete(token)
      p.resolve(fail('timeout', `no JetStream ack within ${p.timeoutMs} ms`))
    }
    if (this.#pending.size === 0) {
      clearInterval(this.#sweeper)
      this.#sweeper = undefined
    }
  }

  /**
   * The server refuses a publish it does not permit with an error on the connection, naming the
   * subject: the oldest publish waiting on that subject is the one refused.
   */
  async #watchPermissions(): Promise<void> {
    const { PermissionViolationError } = this.#nats.errors
    for await (const s of this.#nc.status()) {
      if (s.type !== 'error' || !(s.error instanceof PermissionViolationError)) continue
      if (s.error.operation !== 'publish') continue
      for (const [token, p] of this.#pending) {
        if (p.subject !== s.error.subject) continue
        this.#pending.delete(token)
        p.resolve(fail('broker_refused', `the server refused the publish: ${s.error.message}`))
        break
      }
    }
  }

  #refuseAll(err: Error): void {
    const pending = [...this.#pending.values()]
    this.#pending.clear()
    for (const p of pending)
      p.resolve(fail('broker_refused', `the server refused the publish: ${err.message}`))
  }

  #failAll(err: Error): void {
    const pending = [...this.#pending.values()]
    this.#pending.clear()
    if (this.#sweeper) clearInterval(this.#sweeper)
    this.#sweeper = undefined
    for (const p of pending) p.reject(err)
  }

  async close(): Promise<void> {
    if (this.#closed) return
    // Publishes in flight get their acks (or, by the sweep, their deadlines) before the inbox
    // goes; then drain: what the server sent is read before the connection closes.
    while (this.#pending.size > 0 && !this.#closed) await new Promise((r) => setTimeout(r, sweepMs))
    await this.#nc.drain().catch(() => this.#nc.close())
  }
}

/**
 * A message's NATS header block, the bytes the client's own headers encode to ("NATS/1.0", then a
 * "name: value" line each, names as given, values trimmed). The client only asks published headers
 * to encode themselves; its header object validates and re-scans its keys on every set, and was
 * half of what this type allocated per message.
 */
function headerBlock(headers: Readonly<Record<string, string>>): { encode(): Uint8Array } {
  let block = 'NATS/1.0'
  for (const name in headers) {
    const value = headers[name]!
    // A line break would end the header (or the block) early: never from our own headers, but
    // checked, as the client checks.
    if (/[\r\n]/.test(value) || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name))
      throw new Error(`header ${JSON.stringify(name)} cannot be carried in a NATS header`)
    block += `\r\n${name}: ${value.trim()}`
  }
  const bytes = Buffer.from(`${block}\r\n\r\n`)
  return { encode: () => bytes }
}

/** JetStream's error code for an account without JetStream. */
const jetStreamNotEnabledForAccount = 10039

function fail(code: SendErrorCode, message: string): AttemptOutcome {
  return { kind: 'error', code, message, durationMs: 0 }
}
