// The Sender adapter that sends from a worker thread: the HttpSender (undici, the SSRF guard)
// and the broker destinations' clients (src/destinations/broker-publisher.ts) run there, so
// that sending — sockets, request writing, response parsing, broker confirms — uses a second
// core while the main thread keeps the API, the store and the worker's bookkeeping. Signing
// stays on the main thread: the thread sends the bytes it is given.
//
// Requests cross in batches (of batchSize, the rest once per event-loop turn, each way). If the thread dies,
// every send in flight resolves as a network error (a broker message as `broker_unreachable`;
// the worker retries it on its schedule) and a new thread takes the next ones.
import type { Worker } from 'node:worker_threads'
import type { AttemptOutcome, ClientIdentity, OutboundRequest, Sender } from '../deliveries/sender.ts'
import type { AddressPolicy } from '../network/address-policy.ts'
import { closeModuleThread, startModuleThread } from '../threads/module-thread.ts'
import type { BrokerPort, BrokerRequest } from './broker-port.ts'
import type { OutboundEgress } from './outbound-tls.ts'
import type { OwnApi } from './sending-policy.ts'

export interface SenderThreadConfig {
  policy: AddressPolicy
  ownApi: OwnApi
  connectionsPerOrigin: number
  /** TLS trust and the egress proxy (src/outbound/outbound-tls.ts), as the main thread's sender has them. */
  egress?: OutboundEgress
  /** Deadline for opening a broker connection (main.ts: the same as on the main thread). */
  brokerConnectTimeoutMs: number
}

export type ToThread =
  | {
      t: 'send'
      batch: {
        id: number
        url: string
        headers: Readonly<Record<string, string>>
        body: Uint8Array
        timeoutMs: number
        clientIdentity?: ClientIdentity
        /** A broker destination (url unused): published by the thread's BrokerPublisher. */
        broker?: Pick<BrokerRequest, 'type' | 'key' | 'url' | 'fields'>
      }[]
    }
  | { t: 'port'; port: number }
  | { t: 'close' }

export type FromThread =
  | { t: 'done'; batch: { id: number; outcome: AttemptOutcome }[] }
  | { t: 'closed' }
  /** Its modules are loaded: a send now goes out at once. */
  | { t: 'ready' }

interface Pending {
  resolve: (o: AttemptOutcome) => void
  started: number
  /** When the main thread gives up on an answer that never came (the thread's own deadline failed). */
  giveUpAt: number
  /** What a lost send answers: a broker message's reads like any unreachable broker's. */
  lostAs: LostCode
}

/**
 * Sends (and answers) cross in batches of at most this many. A whole window in one batch makes
 * the two threads take turns: hundreds of attempts all prepared, then all sent, then all
 * answered, each thread idle while the other works. Batches of 32 let them overlap (a Redis
 * drain went from about 13,000 to 18,000 deliveries/s, `npm run bench:destinations`; 16 and 64
 * measured the same) for one more message per 32.
 */
export const batchSize = 32

// Beyond the attempt's own deadline (kept in the thread), how long to wait before answering for it.
const backstopMs = 5000

/** dist/sender-thread.js beside the bundle, or sender-thread.ts through tsx (module-thread.ts). */
export function startSenderThread(workerData: SenderThreadConfig): Worker {
  return startModuleThread(import.meta.url, 'sender-thread', { workerData })
}

export class ThreadedSender implements Sender, BrokerPort {
  readonly #config: SenderThreadConfig
  readonly #pending = new Map<number, Pending>()
  #nextId = 1
  #outbox: Extract<ToThread, { t: 'send' }>['batch'] = []
  #flushScheduled = false
  #thread: Worker | undefined
  #closing = false
  #closed: Promise<void> | undefined
  #ownPort: number | undefined
  #ready: Promise<void> | undefined
  #readyNow: (() => void) | undefined
  readonly #sweep: NodeJS.Timeout
  readonly #start: (config: SenderThreadConfig) => Worker

  /** start: how a thread is started (tests start ones that fail). */
  constructor(config: SenderThreadConfig, start = startSenderThread) {
    this.#config = config
    this.#start = start
    this.#sweep = setInterval(() => this.#giveUpOnLost(), 1000)
    this.#sweep.unref()
  }

  send(req: OutboundRequest): Promise<AttemptOutcome> {
    return this.#enqueue({
      id: 0,
      url: req.url,
      headers: req.headers,
      body: req.body,
      timeoutMs: req.timeoutMs,
      ...(req.clientIdentity ? { clientIdentity: req.clientIdentity } : {}),
    })
  }

  publish(req: BrokerRequest): Promise<AttemptOutcome> {
    const { type, key, url, fields } = req
    return this.#enqueue({
      id: 0,
      url: '',
      headers: req.headers,
      body: req.body,
      timeoutMs: req.timeoutMs,
      broker: { type, key, url, fields },
    })
  }

  #enqueue(item: Extract<ToThread, { t: 'send' }>['batch'][number]): Promise<AttemptOutcome> {
    const lostAs: LostCode = item.broker ? 'broker_unreachable' : 'network_error'
    if (this.#closing) return Promise.resolve(lost(lostAs, 'sender is closed', 0))
    const id = this.#nextId++
    item.id = id
    const started = performance.now()
    return new Promise((resolve) => {
      this.#pending.set(id, { resolve, started, giveUpAt: started + item.timeoutMs + backstopMs, lostAs })
      this.#outbox.push(item)
      // A full batch goes at once: the thread starts on it while this turn queues the rest, so
      // that both threads work at the same time instead of in turn (batchSize).
      if (this.#outbox.length >= batchSize) this.#flush()
      else if (!this.#flushScheduled) {
        this.#flushScheduled = true
        setImmediate(() => {
          this.#flushScheduled = false
          this.#flush()
        })
      }
    })
  }

  /**
   * Starts the thread now rather than at the first send, resolving once it can send (or has
   * failed: sends then fail as network errors and a new thread is started). A worker waits for
   * it before claiming: a claim's attempts start at once, which a per-subscription rate limit
   * counts on (docs/subscription-settings.md), instead of after the thread has loaded.
   */
  start(): Promise<void> {
    this.#ensureThread()
    return this.#ready ?? Promise.resolve()
  }

  /** The API's real port (it may listen on port 0): the thread refuses to send to it. */
  setOwnPort(port: number): void {
    this.#ownPort = port
    this.#thread?.postMessage({ t: 'port', port } satisfies ToThread)
  }

  /** Once: the DestinationSender closes it as the HTTP sender and as the broker port. */
  close(): Promise<void> {
    this.#closed ??= this.#close()
    return this.#closed
  }

  async #close(): Promise<void> {
    this.#closing = true
    clearInterval(this.#sweep)
    const thread = this.#thread
    this.#thread = undefined
    // The thread destroys its connections and says so; a thread that never does is ended anyway.
    if (thread) await closeModuleThread(thread)
    this.#failAll('sender is closed')
  }

  #flush(): void {
    if (this.#outbox.length === 0) return
    const batch = this.#outbox
    this.#outbox = []
    this.#ensureThread().postMessage({ t: 'send', batch } satisfies ToThread)
  }

  #ensureThread(): Worker {
    if (this.#thread) return this.#thread
    const config: SenderThreadConfig =
      this.#ownPort === undefined
        ? this.#config
        : { ...this.#config, ownApi: { ...this.#config.ownApi, port: this.#ownPort } }
    const thread = this.#start(config)
    thread.unref()
    this.#ready = new Promise<void>((resolve) => {
      this.#readyNow = resolve
    })
    thread.on('message', (m: FromThread) => {
      if (m.t === 'ready') this.#readyNow?.()
      if (m.t !== 'done') return
      for (const { id, outcome } of m.batch) {
        const p = this.#pending.get(id)
        if (!p) continue
        this.#pending.delete(id)
        p.resolve(outcome)
      }
    })
    const gone = (why: string) => {
      this.#readyNow?.()
      if (this.#thread !== thread) return
      this.#thread = undefined
      this.#failAll(why)
    }
    thread.on('error', (e) => gone(`sender thread failed: ${e.message}`))
    thread.on('exit', (code) => gone(`sender thread exited (${code})`))
    this.#thread = thread
    return thread
  }

  #failAll(why: string): void {
    const now = performance.now()
    for (const [id, p] of this.#pending) {
      this.#pending.delete(id)
      p.resolve(lost(p.lostAs, why, now - p.started))
    }
  }

  #giveUpOnLost(): void {
    const now = performance.now()
    for (const [id, p] of this.#pending) {
      if (now < p.giveUpAt) continue
      this.#pending.delete(id)
      p.resolve(lost('timeout', 'no answer from the sender thread', now - p.started))
    }
  }
}

/** An attempt the thread never answered for; durations are whole milliseconds like HttpSender's. */
type LostCode = 'network_error' | 'broker_unreachable'

function lost(code: LostCode | 'timeout', message: string, durationMs: number): AttemptOutcome {
  return { kind: 'error', code, message, durationMs: Math.round(durationMs) }
}
