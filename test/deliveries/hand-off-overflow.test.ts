// The overflow of hand-offs beyond a subscription's room: sized by the subscription's observed
// pace within the lease, bounded per worker by count and bytes, served in turn.
import { describe, expect, it } from 'vitest'
import { HandOffOverflow } from '../../src/deliveries/hand-off-overflow.ts'
import type { ClaimedDelivery } from '../../src/store/store.ts'

let n = 0
const delivery = (subscriptionId: string, bytes = 10): ClaimedDelivery => ({
  id: `d${++n}`,
  envId: 'env',
  eventId: `e${n}`,
  subscriptionId,
  event: 'site.publish',
  attempts: 1,
  attemptLimit: 5,
  leaseToken: 't',
  url: 'https://example.com/hook',
  subscriptionUpdated: 1,
  body: Buffer.alloc(bytes),
  orderingKey: null,
  traceparent: null,
  dueAt: 0,
})

const overflow = (limits: Partial<ConstructorParameters<typeof HandOffOverflow>[0]> = {}) =>
  new HandOffOverflow({ maxDeliveries: 1000, maxBytes: 1 << 20, waitMs: 10_000, ...limits })

describe('HandOffOverflow', () => {
  it('takes nothing for a subscription whose attempts were never timed', () => {
    expect(overflow().room('s', 4)).toBe(0)
  })

  it('takes what its slots send within the wait at its slowest recent pace', () => {
    const o = overflow()
    o.paced('s', 100)
    // 10 s at 100 ms an attempt, 4 at a time.
    expect(o.room('s', 4)).toBe(400)
    o.paced('s', 1000)
    expect(o.room('s', 4)).toBe(40)
    // A slow attempt is forgotten slowly: many fast ones later it still counts for something.
    for (let i = 0; i < 100; i++) o.paced('s', 10)
    expect(o.room('s', 4)).toBeLessThan(400)
    // Then it is gone: 10 ms an attempt sends 4,000 within the wait, cut to the worker's bound.
    for (let i = 0; i < 1000; i++) o.paced('s', 10)
    expect(o.room('s', 4)).toBe(1000)
  })

  it('keeps the pace of at most 10,000 subscriptions, forgetting the oldest timed first', () => {
    const o = overflow()
    for (let i = 0; i <= 10_000; i++) o.paced(`s${i}`, 100)
    // s0 must be timed again before anything of it overflows.
    expect(o.room('s0', 4)).toBe(0)
    expect(o.room('s1', 4)).toBe(400)
    expect(o.room('s10000', 4)).toBe(400)
  })

  it('holds at most its count and byte bounds, all subscriptions together', () => {
    const o = overflow({ maxDeliveries: 3, maxBytes: 25 })
    o.paced('a', 1)
    o.paced('b', 1)
    expect(o.add(delivery('a'))).toBe(true)
    expect(o.add(delivery('b'))).toBe(true)
    // The third would pass 25 bytes.
    expect(o.add(delivery('a'))).toBe(false)
    expect(o.add(delivery('a', 5))).toBe(true)
    expect(o.size).toBe(3)
    expect(o.room('a', 4)).toBe(0)
    expect(o.room('b', 4)).toBe(0)
  })

  it('hands each subscription’s out oldest first, each subscription in turn', () => {
    const o = overflow()
    const a = [delivery('a'), delivery('a'), delivery('a')]
    const b = [delivery('b'), delivery('b')]
    for (const d of [...a, ...b]) o.add(d)
    expect([...o.subscriptions()]).toEqual(['a', 'b'])
    expect(o.take('a', 2)).toEqual(a.slice(0, 2))
    // Served: a goes behind b.
    expect([...o.subscriptions()]).toEqual(['b', 'a'])
    expect(o.count('a')).toBe(1)
    expect(o.take('b', 5)).toEqual(b)
    expect([...o.subscriptions()]).toEqual(['a'])
    expect(o.drain()).toEqual(a.slice(2))
    expect(o.size).toBe(0)
    expect(o.subscriptionCount).toBe(0)
  })

  it('frees the bytes of what it hands out', () => {
    const o = overflow({ maxBytes: 20 })
    o.add(delivery('a'))
    o.add(delivery('a'))
    expect(o.add(delivery('a'))).toBe(false)
    o.take('a', 1)
    expect(o.add(delivery('a'))).toBe(true)
    expect(o.remove('a')).toHaveLength(2)
    expect(o.size).toBe(0)
  })
})
