import { describe, expect, it } from 'vitest'
import { newId } from '../../src/shared/ids.ts'

describe('newId', () => {
  it('keeps ids of one millisecond in the order they were made past the per-millisecond counter', () => {
    // One batch of 1000 events fanned out to 5 subscriptions takes 6,000 ids at one `now`.
    const now = 1_800_000_000_000
    const ids = Array.from({ length: 6000 }, () => newId('dlv', now))
    expect(ids.map((id) => id.slice(0, 15))).toEqual(ids.map((id) => id.slice(0, 15)).sort())
    expect(new Set(ids.map((id) => id.slice(0, 15))).size).toBe(ids.length)
    // The next millisecond continues after the carry instead of starting over below it.
    const next = newId('dlv', now + 1)
    expect(next > ids.at(-1)!).toBe(true)
  })
})
