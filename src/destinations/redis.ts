// The `redis` destination type: `XADD <stream> * body <bytes> <header fields…>`; delivered when
// Redis answers the new entry's id. The headers ride as the entry's fields after `body`.
import { type Socket, connect as tcpConnect } from 'node:net'
import type { AttemptOutcome } from '../deliveries/sender.ts'
import { plainPortError } from '../outbound/tls-failure.ts'
import { hostOf } from './broker-address.ts'
import type { BrokerConnection, BrokerDestinationType } from './destination-type.ts'

type IORedis = typeof import('ioredis').Redis
type Client = InstanceType<IORedis>

let client: Promise<IORedis> | undefined
const ioredis = () => (client ??= import('ioredis').then((m) => m.Redis))

export const redisDestination: BrokerDestinationType = {
  type: 'redis',
  description: 'An entry appended to a Redis stream (XADD); delivered when Redis answers the entry id.',
  urlExample: 'rediss://:password@redis.example.com:6380/0',
  schemes: { plain: ['redis:'], tls: ['rediss:'] },
  defaultPort: { plain: 6379, tls: 6379 },
  fields: [
    {
      name: 'stream',
      description: 'The stream key to append to (created by the first XADD).',
      example: 'webhooks',
      pattern: /^[\x21-\x7e]{1,512}$/,
      rule: 'printable ASCII without spaces (1 to 512)',
      maxLength: 512,
    },
  ],
  checkUrl(url) {
    return url.pathname.length > 1 && !/^\/\d{1,2}$/.test(url.pathname)
      ? 'the URL path is the database number (e.g. /0)'
      : undefined
  },
  async connect(url, address, ctx) {
    const Redis = await ioredis()
    const tls = url.protocol === 'rediss:'
    const port = url.port ? Number(url.port) : 6379
    const r: Client = new Redis({
      host: address,
      port,
      ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
      ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
      db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0,
      ...(tls ? { tls: { servername: hostOf(url), ...(ctx.ca ? { ca: [...ctx.ca] } : {}) } } : {}),
      connectTimeout: ctx.connectTimeoutMs,
      lazyConnect: true,
      // The pool reconnects through the sending policy; the client fails fast instead of
      // queueing commands for a connection that may never come back.
      retryStrategy: () => null,
      enableOfflineQueue: false,
      enableAutoPipelining: true,
      maxRetriesPerRequest: 0,
      connectionName: 'hookpost',
    })
    // ioredis rejects connect() with "Connection is closed." and reports the cause (a refused
    // certificate, a refused connection) only as an 'error' event: keep it to classify it.
    let cause: unknown
    r.on('error', (e: unknown) => {
      cause ??= e
    })
    let plainPort: Error | undefined
    const stopAsking = tls
      ? askIfPlainRedis(address, port, ctx.connectTimeoutMs * quietShare, (e) => {
          plainPort = e
          r.disconnect()
        })
      : undefined
    // 'connect' follows the finished handshake: a TLS port, nothing to ask.
    if (stopAsking) r.once('connect', stopAsking)
    try {
      await r.connect()
    } catch (e) {
      r.disconnect()
      throw plainPort ?? cause ?? e
    } finally {
      stopAsking?.()
    }
    return new RedisStreamConnection(r)
  },
}

/** The share of the connect deadline a TLS handshake may stay unanswered before the port is asked. */
const quietShare = 1 / 4

/**
 * A plain Redis reads a TLS ClientHello as an inline command that never ends (its parser stops
 * at the first NUL byte) and answers nothing until the connect deadline. So once the handshake
 * has been quiet for `quietMs`, the port is asked PING in plain on a second socket: a RESP
 * answer (+PONG, -NOAUTH…) means it is Redis's plain port, and `onPlain` gets the error to
 * fail with. The question carries no credentials and nothing of the delivery; any other answer
 * or none leaves the handshake to its deadline. Returns the function that stops asking.
 */
function askIfPlainRedis(
  address: string,
  port: number,
  quietMs: number,
  onPlain: (e: Error) => void,
): () => void {
  let probe: Socket | undefined
  const timer = setTimeout(() => {
    const s = tcpConnect({ host: address, port })
    probe = s
    s.setTimeout(quietMs, () => s.destroy())
    s.on('error', () => s.destroy())
    s.once('connect', () => s.write('PING\r\n'))
    s.once('data', (answer: Buffer) => {
      s.destroy()
      if (/^[+-][^\r\n]*\r\n/.test(answer.toString('latin1')))
        onPlain(plainPortError('no answer to the TLS handshake, and it answers PING in plain Redis'))
    })
  }, quietMs)
  return () => {
    clearTimeout(timer)
    probe?.destroy()
  }
}

class RedisStreamConnection implements BrokerConnection {
  readonly #listeners: (() => void)[] = []
  #closed = false

  readonly r: Client

  constructor(r: Client) {
    this.r = r
    r.on('end', () => {
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
  ): Promise<AttemptOutcome> {
    const stream = target.fields['stream'] ?? ''
    const args: (string | Buffer)[] = ['body', message.body]
    for (const [k, v] of Object.entries(message.headers)) args.push(k, v)
    try {
      const id = await this.r.xadd(stream, '*', ...args)
      if (typeof id !== 'string') throw new Error('XADD answered no entry id')
      return { kind: 'acknowledged', answer: id, durationMs: 0 }
    } catch (e) {
      const err = e as Error & { name?: string }
      // A reply error (WRONGTYPE, NOPERM, OOM…): Redis refused this entry; the connection is fine.
      if (err.name === 'ReplyError')
        return {
          kind: 'error',
          code: 'broker_refused',
          message: `Redis refused XADD: ${err.message}`,
          durationMs: 0,
        }
      throw e
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    // QUIT waits for the replies of commands already sent.
    await this.r.quit().catch(() => this.r.disconnect())
  }
}
