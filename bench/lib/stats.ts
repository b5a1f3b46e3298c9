// Small statistics helpers: medians and ranges over runs, exact percentiles over samples, a
// log-scale latency histogram that can be merged across runs, and a seeded random source.

export function median(xs: readonly number[]): number | undefined {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  if (v.length === 0) return undefined
  const mid = Math.floor(v.length / 2)
  return v.length % 2 === 1 ? v[mid] : ((v[mid - 1] ?? 0) + (v[mid] ?? 0)) / 2
}

export function range(xs: readonly number[]): { min: number; max: number } | undefined {
  const v = xs.filter((x) => Number.isFinite(x))
  if (v.length === 0) return undefined
  return { min: Math.min(...v), max: Math.max(...v) }
}

/** Exact percentile (nearest rank) of ascending-sorted samples. */
export function percentileSorted(sorted: ArrayLike<number>, p: number): number | undefined {
  if (sorted.length === 0) return undefined
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[rank]
}

export interface LatencySummary {
  count: number
  p50?: number | undefined
  p90?: number | undefined
  p99?: number | undefined
  p999?: number | undefined
  max?: number | undefined
  /** Counts per bucket of histogramEdges(). */
  histogram: number[]
}

/** Bucket upper edges in ms: 20 per decade from 0.01 ms to 100 s, then +Inf. */
export const histogramEdges: readonly number[] = (() => {
  const out: number[] = []
  for (let k = -40; k <= 100; k++) out.push(10 ** (k / 20))
  out.push(Number.POSITIVE_INFINITY)
  return out
})()

export function bucketOf(ms: number): number {
  if (!(ms > 0.01)) return 0
  const k = Math.ceil(Math.log10(ms) * 20) + 40
  return Math.min(histogramEdges.length - 1, Math.max(0, k))
}

export function summarize(samples: Float64Array | number[]): LatencySummary {
  const sorted = Float64Array.from(samples).sort()
  const histogram = new Array<number>(histogramEdges.length).fill(0)
  for (const x of sorted) histogram[bucketOf(x)]! += 1
  return {
    count: sorted.length,
    p50: percentileSorted(sorted, 50),
    p90: percentileSorted(sorted, 90),
    p99: percentileSorted(sorted, 99),
    p999: percentileSorted(sorted, 99.9),
    max: sorted.length > 0 ? sorted[sorted.length - 1] : undefined,
    histogram,
  }
}

export function mergeHistograms(hs: readonly number[][]): number[] {
  const out = new Array<number>(histogramEdges.length).fill(0)
  for (const h of hs) for (let i = 0; i < out.length; i++) out[i]! += h[i] ?? 0
  return out
}

/** A growable Float64 sample buffer with a hard cap (samples beyond it are dropped, and counted). */
export class Samples {
  #buf: Float64Array
  #n = 0
  dropped = 0
  readonly #cap: number

  constructor(cap = 2_000_000) {
    this.#cap = cap
    this.#buf = new Float64Array(1024)
  }

  push(x: number): void {
    if (this.#n >= this.#cap) {
      this.dropped++
      return
    }
    if (this.#n === this.#buf.length) {
      const next = new Float64Array(Math.min(this.#cap, this.#buf.length * 2))
      next.set(this.#buf)
      this.#buf = next
    }
    this.#buf[this.#n++] = x
  }

  get length(): number {
    return this.#n
  }

  values(): Float64Array {
    return this.#buf.subarray(0, this.#n)
  }

  clear(): void {
    this.#n = 0
    this.dropped = 0
  }
}

/** mulberry32: a small seeded PRNG, so every run of a workload makes the same choices. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function fmtRate(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '–'
  if (x >= 10_000) return `${(x / 1000).toFixed(1)}k`
  if (x >= 1000) return `${(x / 1000).toFixed(2)}k`
  return x.toFixed(0)
}

export function fmtMs(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '–'
  if (x >= 1000) return `${(x / 1000).toFixed(2)} s`
  if (x >= 10) return `${x.toFixed(0)} ms`
  if (x >= 1) return `${x.toFixed(1)} ms`
  return `${x.toFixed(2)} ms`
}

export function fmtNum(x: number | undefined, digits = 0): string {
  if (x === undefined || !Number.isFinite(x)) return '–'
  return x.toFixed(digits)
}

export function now(): number {
  return performance.timeOrigin + performance.now()
}
