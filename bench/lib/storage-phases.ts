// The three storage phases of a delivery (publish, claim, complete) driven the way the fan-out
// workload drives them, timed in CPU: shared by bench/store-floor.ts and the bare-statement
// baselines it compares with.
import { bodyTail, fallbackExample, makeBody } from './payload.ts'
import { cpuSeconds, processesShowing } from './proc.ts'

export const fanOut = 10
export const publishBatch = 50
export const claimBatch = 256
export const completeBatch = 128
export const eventName = 'site.publish'
/** The bench's event body (≈1 KB of JSON), as the HTTP workloads publish it. */
export const benchBody = () => Buffer.from(makeBody(bodyTail(fallbackExample), 1, 1))

/** CPU µs per delivery of each phase. */
export interface Phases {
  publish: number
  claim: number
  complete: number
}
export type Meter = () => number

/**
 * The tables bare statements write: Hookpost's delivery log as it is, its queue state in a narrow
 * table beside it, or a minimal durable queue (the due index only, no attempt rows).
 */
export type Shape = 'log' | 'narrow' | 'minimal'

/**
 * µs of CPU: this process, plus, given a PostgreSQL database's name, the server's backends
 * serving that database (not other databases' on a shared server, nor its background writers).
 */
export function meter(database?: string): Meter {
  return () => {
    const c = process.cpuUsage()
    let us = c.user + c.system
    if (database)
      for (const pid of processesShowing('postgres: ', ` ${database} `)) us += (cpuSeconds(pid) ?? 0) * 1e6
    return us
  }
}

/** Runs the three phases over `events` events, timing each with `cpu`. */
export async function drive(
  events: number,
  cpu: Meter,
  steps: {
    publish(batch: number): Promise<void> | void
    claim(limit: number): Promise<string[]> | string[]
    complete(ids: readonly string[]): Promise<void> | void
  },
): Promise<Phases> {
  const t = { publish: 0, claim: 0, complete: 0 }
  for (let done = 0; done < events; done += publishBatch) {
    let a = cpu()
    await steps.publish(publishBatch)
    t.publish += cpu() - a
    for (;;) {
      a = cpu()
      const ids = await steps.claim(claimBatch)
      t.claim += cpu() - a
      if (ids.length === 0) break
      a = cpu()
      for (let i = 0; i < ids.length; i += completeBatch)
        await steps.complete(ids.slice(i, i + completeBatch))
      t.complete += cpu() - a
    }
  }
  const n = events * fanOut
  return { publish: t.publish / n, claim: t.claim / n, complete: t.complete / n }
}
