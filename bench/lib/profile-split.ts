// Splits the V8 CPU profiles of a Hookpost process (its main thread in dist/hookpost.js, its
// sending thread in dist/sender-thread.js) into where a delivery's CPU goes: each busy sample
// counts for the leaf-most bundle frame's module (its `// src/...` marker), library frames for
// the Hookpost module that called them, and samples with no Hookpost frame (async
// continuations) by their nearest library. Module loading is left out, and with a window only
// the samples inside it count; shares are of the rest.
import { readFileSync } from 'node:fs'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}

export type Part = 'store' | 'ingest' | 'destination' | 'worker' | 'gc' | 'other'

export const partNames: Record<Part, string> = {
  store: 'storage (publish, claim, complete)',
  ingest: 'ingest (HTTP, validation, publish)',
  destination: 'destination path (hand-over to the sending thread, pool, client, confirms)',
  worker: 'worker (claim loop, signing, outcomes)',
  gc: 'garbage collection',
  other: 'other',
}

function partOfModule(mod: string): Part {
  if (mod.startsWith('src/store/')) return 'store'
  if (mod.startsWith('src/destinations/') || mod.startsWith('src/outbound/')) return 'destination'
  if (/^src\/(deliveries|signing|secrets)\//.test(mod)) return 'worker'
  if (/^src\/(http|events|environments)\//.test(mod) || mod === 'src/hookpost.ts') return 'ingest'
  return 'other'
}

function partOfLibrary(url: string): Part | 'startup' | undefined {
  if (/kysely|better-sqlite3/.test(url)) return 'store'
  if (/amqplib|@nats-io|ioredis|redis-parser|standard-as-callback|undici|node:internal\/worker/.test(url))
    return 'destination'
  if (/fastify|ajv|fast-json|find-my-way|avvio|pino|secure-json/.test(url)) return 'ingest'
  if (/^node:internal\/(modules|bootstrap)/.test(url)) return 'startup'
  return undefined
}

/** A bundle's module markers (`// src/...` lines): which source module a line belongs to. */
function moduleMap(bundleFile: string): (line: number) => string {
  const marks: [number, string][] = []
  readFileSync(bundleFile, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      const m = /^\/\/ (src\/\S+)/.exec(line)
      if (m) marks.push([i, m[1]!])
    })
  return (line) => {
    let lo = 0
    let hi = marks.length - 1
    let found = '?'
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      if (marks[mid]![0] <= line) {
        found = marks[mid]![1]
        lo = mid + 1
      } else hi = mid - 1
    }
    return found
  }
}

/**
 * Each part's share of the busy time of a process's profiles taken together (the main thread's
 * and the sending thread's: V8 writes one per thread), start-up left out. `bundleFiles`: the
 * bundles their frames may come from (dist/hookpost.js, dist/sender-thread.js).
 */
export function splitProfile(
  profileFiles: readonly string[],
  bundleFiles: readonly string[],
  /** Only samples in [from, to] (µs on the monotonic clock, as V8 times them); all when absent. */
  window?: readonly [number, number],
): Record<Part, number> {
  const bundles = bundleFiles.map((f) => ({ file: f, moduleAt: moduleMap(f) }))
  const bundleOf = (url: string) => bundles.find((b) => url.endsWith(b.file.split('/').slice(-2).join('/')))
  const time: Record<Part, number> = { store: 0, ingest: 0, destination: 0, worker: 0, gc: 0, other: 0 }
  for (const profileFile of profileFiles) {
    const p = JSON.parse(readFileSync(profileFile, 'utf8')) as {
      nodes: ProfileNode[]
      startTime: number
      samples: number[]
      timeDeltas: number[]
    }
    const byId = new Map(p.nodes.map((n) => [n.id, n]))
    const parent = new Map<number, number>()
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
    let at = p.startTime
    for (let i = 0; i < p.samples.length; i++) {
      const dt = p.timeDeltas[i] ?? 0
      at += dt
      if (window && (at < window[0] || at > window[1])) continue
      let id: number | undefined = p.samples[i]!
      const leaf = byId.get(id)!.callFrame
      if (leaf.functionName === '(idle)') continue
      let part: Part | 'startup' | undefined = leaf.functionName === '(garbage collector)' ? 'gc' : undefined
      let library: Part | 'startup' | undefined
      while (part === undefined && id !== undefined) {
        const f = byId.get(id)!.callFrame
        const bundle = f.url ? bundleOf(f.url) : undefined
        if (bundle) part = partOfModule(bundle.moduleAt(f.lineNumber))
        else if (library === undefined && f.url) library = partOfLibrary(f.url)
        id = parent.get(id)
      }
      part ??= library ?? 'other'
      if (part !== 'startup') time[part] += dt
    }
  }
  const total = Object.values(time).reduce((a, b) => a + b, 0) || 1
  for (const k of Object.keys(time) as Part[]) time[k] /= total
  return time
}
