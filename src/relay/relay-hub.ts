// The development relay behind `hookpost listen`: sessions held in this API process's memory.
// A CLI opens a session (a random token), holds an event stream on it, and answers the requests
// pushed to it; the worker's delivery to `<public URL>/relay/<token>` waits here for that answer.
//
// Per process by design: with several API nodes, the worker's POST /relay/<token> must reach the
// node holding the CLI's stream, so every /relay/ path is routed to one designated API node
// (docs/cli.md). A token this process does not know answers 410 Gone, which deactivates the
// temporary subscription.
import type { Sender } from '../deliveries/sender.ts'
import { randomToken } from '../shared/ids.ts'

/** What the worker sent, as the CLI receives it. */
export interface RelayRequest {
  id: string
  method: string
  headers: Record<string, string>
  body: Buffer
}

/** The local server's answer, as the CLI reports it. */
export interface RelayAnswer {
  status: number
  headers: Record<string, string>
  body: Buffer
}

export type RelayOutcome =
  | { kind: 'answer'; answer: RelayAnswer }
  /** No such session (never opened, closed, expired, or held by another node). */
  | { kind: 'gone' }
  /** No answer within the deadline. */
  | { kind: 'timeout' }
  /** Too many requests waiting on this session. */
  | { kind: 'busy' }

export interface RelaySession {
  token: string
  envId: string
  created: number
}

export interface RelayHubOptions {
  /** How long a relayed request waits for the CLI's answer. */
  deadlineMs: number
  /** A session with no stream attached for this long is closed. */
  idleMs?: number
  maxSessions?: number
  maxSessionsPerEnvironment?: number
  maxPendingPerSession?: number
  now?: () => number
}

type Sink = (r: RelayRequest) => void

interface Pending {
  request: RelayRequest
  resolve: (o: RelayOutcome) => void
  timer: NodeJS.Timeout
  sent: boolean
}

interface Session extends RelaySession {
  sink: Sink | undefined
  /** Bumped on each attach, so that an old stream's detach does not drop a newer one. */
  generation: number
  idleTimer: NodeJS.Timeout | undefined
  pending: Map<string, Pending>
  onClose: Set<() => void>
}

export class RelayLimitError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'RelayLimitError'
  }
}

export class RelayHub {
  readonly #o: Required<RelayHubOptions>
  readonly #sessions = new Map<string, Session>()
  #seq = 0

  constructor(options: RelayHubOptions) {
    this.#o = {
      idleMs: 30_000,
      maxSessions: 1000,
      maxSessionsPerEnvironment: 20,
      maxPendingPerSession: 64,
      now: Date.now,
      ...options,
    }
  }

  get size(): number {
    return this.#sessions.size
  }

  get deadlineMs(): number {
    return this.#o.deadlineMs
  }

  open(envId: string): RelaySession {
    if (this.#sessions.size >= this.#o.maxSessions) {
      throw new RelayLimitError(`this node holds its maximum of ${this.#o.maxSessions} relay sessions`)
    }
    let mine = 0
    for (const s of this.#sessions.values()) if (s.envId === envId) mine++
    if (mine >= this.#o.maxSessionsPerEnvironment) {
      throw new RelayLimitError(
        `the environment already has ${mine} relay sessions open on this node (at most ${this.#o.maxSessionsPerEnvironment})`,
      )
    }
    const s: Session = {
      token: `rly_${randomToken(32)}`,
      envId,
      created: this.#o.now(),
      sink: undefined,
      generation: 0,
      idleTimer: undefined,
      pending: new Map(),
      onClose: new Set(),
    }
    this.#sessions.set(s.token, s)
    this.#armIdle(s)
    return { token: s.token, envId: s.envId, created: s.created }
  }

  get(token: string): RelaySession | undefined {
    const s = this.#sessions.get(token)
    return s ? { token: s.token, envId: s.envId, created: s.created } : undefined
  }

  /**
   * Attaches the CLI's stream: requests waiting (and every later one) are pushed to sink.
   * onClose is called when the session closes. Returns detach, for when the stream ends.
   */
  attach(token: string, sink: Sink, onClose: () => void): (() => void) | undefined {
    const s = this.#sessions.get(token)
    if (!s) return undefined
    const generation = ++s.generation
    s.sink = sink
    s.onClose.add(onClose)
    if (s.idleTimer) clearTimeout(s.idleTimer)
    s.idleTimer = undefined
    // Requests that arrived while no stream was attached, or were pushed to a stream that broke.
    for (const p of s.pending.values()) {
      p.sent = true
      sink(p.request)
    }
    return () => {
      s.onClose.delete(onClose)
      if (s.generation !== generation || !this.#sessions.has(token)) return
      s.sink = undefined
      this.#armIdle(s)
    }
  }

  /** The worker's request: waits for the CLI's answer, the deadline, or the session's end. */
  forward(token: string, req: Omit<RelayRequest, 'id'>): Promise<RelayOutcome> {
    const s = this.#sessions.get(token)
    if (!s) return Promise.resolve({ kind: 'gone' })
    if (s.pending.size >= this.#o.maxPendingPerSession) return Promise.resolve({ kind: 'busy' })
    const request: RelayRequest = { id: `rq_${(++this.#seq).toString(36)}${randomToken(8)}`, ...req }
    return new Promise((resolve) => {
      const p: Pending = {
        request,
        resolve,
        sent: false,
        timer: setTimeout(() => {
          s.pending.delete(request.id)
          resolve({ kind: 'timeout' })
        }, this.#o.deadlineMs),
      }
      p.timer.unref()
      s.pending.set(request.id, p)
      if (s.sink) {
        p.sent = true
        s.sink(request)
      }
    })
  }

  /** The CLI's answer to one request; false when it is unknown (timed out, or another session's). */
  answer(token: string, requestId: string, answer: RelayAnswer): boolean {
    const s = this.#sessions.get(token)
    const p = s?.pending.get(requestId)
    if (!s || !p) return false
    s.pending.delete(requestId)
    clearTimeout(p.timer)
    p.resolve({ kind: 'answer', answer })
    return true
  }

  /** Ends a session: its stream is closed and the requests waiting on it answer gone. */
  close(token: string): boolean {
    const s = this.#sessions.get(token)
    if (!s) return false
    this.#sessions.delete(token)
    if (s.idleTimer) clearTimeout(s.idleTimer)
    for (const p of s.pending.values()) {
      clearTimeout(p.timer)
      p.resolve({ kind: 'gone' })
    }
    s.pending.clear()
    s.sink = undefined
    for (const f of s.onClose) {
      try {
        f()
      } catch {
        // A broken stream is already gone.
      }
    }
    s.onClose.clear()
    return true
  }

  closeAll(): void {
    for (const token of [...this.#sessions.keys()]) this.close(token)
  }

  #armIdle(s: Session): void {
    if (s.idleTimer) clearTimeout(s.idleTimer)
    s.idleTimer = setTimeout(() => this.close(s.token), this.#o.idleMs)
    s.idleTimer.unref()
  }
}

/**
 * The worker's Sender with relay URLs (`<public URL>/relay/<token>`, as the sending policy
 * recognises them) sent through their own sender, whose connector may reach this node.
 */
export function relayAwareSender(
  direct: Sender,
  relay: Sender,
  isRelayUrl: (url: string) => boolean,
): Sender {
  return {
    send: (req) => (isRelayUrl(req.url) ? relay : direct).send(req),
    async close() {
      await Promise.all([direct.close(), relay.close()])
    },
  }
}
