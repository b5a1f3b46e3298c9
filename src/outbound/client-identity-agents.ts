// One connection pool (undici Agent) per client certificate, for subscriptions with mTLS: a pool's
// connections present one identity, so two subscriptions with different certificates never share
// a connection. Bounded; a pool unused for a while is closed.
import type { Agent } from 'undici'
import type { ClientIdentity } from '../deliveries/sender.ts'

export interface ClientIdentityAgentsOptions {
  /** Pools kept at most; past it, the least recently used one is closed. */
  max?: number
  /** A pool not used this long is closed. */
  idleMs?: number
}

export class ClientIdentityAgents {
  readonly #make: (identity: ClientIdentity) => Agent
  readonly #max: number
  readonly #idleMs: number
  readonly #agents = new Map<string, { agent: Agent; used: number }>()
  readonly #sweep: NodeJS.Timeout

  constructor(make: (identity: ClientIdentity) => Agent, opts: ClientIdentityAgentsOptions = {}) {
    this.#make = make
    this.#max = opts.max ?? 256
    this.#idleMs = opts.idleMs ?? 10 * 60_000
    this.#sweep = setInterval(() => this.#closeIdle(), Math.min(60_000, this.#idleMs))
    this.#sweep.unref()
  }

  get size(): number {
    return this.#agents.size
  }

  get(identity: ClientIdentity): Agent {
    const now = performance.now()
    const hit = this.#agents.get(identity.id)
    if (hit) {
      // Most recently used last: the map's order is the eviction order.
      this.#agents.delete(identity.id)
      hit.used = now
      this.#agents.set(identity.id, hit)
      return hit.agent
    }
    if (this.#agents.size >= this.#max) {
      const [oldest, entry] = this.#agents.entries().next().value!
      this.#agents.delete(oldest)
      void entry.agent.close().catch(() => {})
    }
    const agent = this.#make(identity)
    this.#agents.set(identity.id, { agent, used: now })
    return agent
  }

  #closeIdle(): void {
    const now = performance.now()
    for (const [id, e] of this.#agents) {
      if (now - e.used < this.#idleMs) continue
      this.#agents.delete(id)
      // close() lets requests in flight finish first.
      void e.agent.close().catch(() => {})
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#sweep)
    const all = [...this.#agents.values()]
    this.#agents.clear()
    await Promise.all(all.map((e) => e.agent.destroy().catch(() => {})))
  }
}
