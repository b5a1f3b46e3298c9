// Parses the human durations used in settings and subscriptions ("250ms", "15s", "5m", "2h", "1d"). Pure.

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

export function parseDuration(raw: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(raw)
  if (!m) throw new Error(`"${raw}" is not a duration (use a number with ms, s, m, h or d, e.g. 15s)`)
  const value = Number(m[1]) * units[m[2] as string]!
  if (!Number.isFinite(value)) throw new Error(`"${raw}" is too large`)
  return Math.round(value)
}

export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`
  }
  return `${ms}ms`
}
