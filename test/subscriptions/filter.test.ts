import { describe, expect, it } from 'vitest'
import { findEventType } from '../../src/events/event-types.ts'
import { AppError } from '../../src/shared/errors.ts'
import { compileFilter, FilterCache, filterLimits } from '../../src/subscriptions/filter.ts'

const order = findEventType('store.order_updated')!.example
const holder = findEventType('account_holder.created')!.example
const booking = findEventType('booking.updated')!.example
const site = findEventType('site.publish')!.example

const matches = (filter: unknown, payload: unknown) => compileFilter(filter)(payload)

function problems(filter: unknown): { path: string; message: string }[] {
  try {
    compileFilter(filter)
  } catch (e) {
    expect(e).toBeInstanceOf(AppError)
    expect((e as AppError).code).toBe('invalid_filter')
    expect((e as AppError).kind).toBe('invalid')
    return (e as AppError).details ?? []
  }
  throw new Error('the filter was accepted')
}

describe('filters on BaseKit payloads', () => {
  it('matches dot paths by equality', () => {
    expect(matches({ 'order.status': 'pending' }, order)).toBe(true)
    expect(matches({ 'order.status': 'paid' }, order)).toBe(false)
    expect(matches({ 'order.accountHolder.brand.ref': 1 }, order)).toBe(true)
    expect(matches({ 'order.accountHolder.brand.ref': '1' }, order)).toBe(false)
    expect(matches({ 'site.accountHolder.brand': { ref: 1, name: 'BaseKit Brand' } }, site)).toBe(true)
    expect(matches({ 'site.accountHolder.brand': { ref: 1 } }, site)).toBe(false)
    // Several members: all must hold.
    expect(matches({ 'order.status': 'pending', 'order.paid': 1 }, order)).toBe(true)
    expect(matches({ 'order.status': 'pending', 'order.paid': 0 }, order)).toBe(false)
    expect(matches({}, order)).toBe(true)
  })

  it('indexes arrays with numeric segments', () => {
    expect(matches({ 'order.items.0.productVariationRef': 902 }, order)).toBe(true)
    expect(matches({ 'order.items.1.quantity': { $gte: 2 } }, order)).toBe(false)
    expect(matches({ 'order.items.5.quantity': { $exists: true } }, order)).toBe(false)
    expect(matches({ 'accountHolder.packages.1.productType': 'add-on' }, holder)).toBe(true)
  })

  it('compares numbers with numbers and strings with strings', () => {
    expect(matches({ 'order.price': { $gt: 50 } }, order)).toBe(true)
    expect(matches({ 'order.price': { $gt: 54.97 } }, order)).toBe(false)
    expect(matches({ 'order.price': { $gte: 54.97, $lt: 100 } }, order)).toBe(true)
    expect(matches({ 'order.price': { $lte: 54 } }, order)).toBe(false)
    expect(matches({ 'order.price': { $gt: '50' } }, order)).toBe(false)
    // ISO times of one offset order as strings.
    expect(matches({ 'booking.startDate': { $gte: '2023-03-10T00:00:00+00:00' } }, booking)).toBe(true)
    expect(matches({ 'booking.startDate': { $lt: '2023-03-10T00:00:00+00:00' } }, booking)).toBe(false)
  })

  it('$ne, $in, $nin, $exists, $prefix', () => {
    expect(matches({ 'booking.status': { $ne: 'cancelled' } }, booking)).toBe(true)
    expect(matches({ 'booking.status': { $ne: 'confirmed' } }, booking)).toBe(false)
    expect(matches({ 'booking.nothing': { $ne: 'x' } }, booking)).toBe(true)
    expect(matches({ 'booking.status': { $in: ['confirmed', 'cancelled'] } }, booking)).toBe(true)
    expect(matches({ 'booking.status': { $nin: ['confirmed', 'cancelled'] } }, booking)).toBe(false)
    expect(matches({ 'booking.nothing': { $in: [null] } }, booking)).toBe(false)
    expect(matches({ 'booking.nothing': { $nin: [null] } }, booking)).toBe(true)
    expect(matches({ 'accountHolder.metadata': { $in: [{ key1: 'value1' }] } }, holder)).toBe(true)
    expect(matches({ 'accountHolder.packages.0.endDate': { $exists: true } }, holder)).toBe(true)
    expect(matches({ 'accountHolder.packages.0.endDate': null }, holder)).toBe(true)
    expect(matches({ 'accountHolder.metadata.key2': { $exists: false } }, holder)).toBe(true)
    expect(matches({ 'accountHolder.email': { $prefix: 'webhooks@' } }, holder)).toBe(true)
    expect(matches({ 'accountHolder.ref': { $prefix: '19' } }, holder)).toBe(false)
    expect(matches({ 'site.primaryDomain.domainName': { $eq: 'webhook-demo.example.com' } }, site)).toBe(true)
  })

  it('$and, $or, $not', () => {
    const f = {
      $or: [
        { 'order.status': 'dispatched' },
        { $and: [{ 'order.paid': 1 }, { 'order.price': { $gt: 50 } }] },
      ],
    }
    expect(matches(f, order)).toBe(true)
    expect(matches({ $not: f }, order)).toBe(false)
    expect(matches({ $not: { 'order.status': 'dispatched' } }, order)).toBe(true)
    expect(matches({ $and: [{ 'order.paid': 1 }, { 'order.dispatched': 1 }] }, order)).toBe(false)
    expect(matches({ $or: [{ 'order.paid': 0 }, { 'order.dispatched': 1 }] }, order)).toBe(false)
  })

  it('a path through a non-object, or a key of the prototype, is missing', () => {
    expect(matches({ 'order.status.length': { $exists: true } }, order)).toBe(false)
    expect(matches({ 'order.constructor': { $exists: true } }, order)).toBe(false)
    // JSON.parse makes "__proto__" an own key of the filter: looked up as an own key of the payload.
    expect(matches(JSON.parse('{"__proto__": {"$exists": true}}'), order)).toBe(false)
    expect(matches({ 'a.b': 1 }, null)).toBe(false)
  })
})

describe('invalid filters name the bad part', () => {
  it('an unknown operator inside $and', () => {
    expect(problems({ $and: [{ 'order.status': 'x' }, { amount: { $gt: 1, $between: [1, 2] } }] })).toEqual([
      {
        path: '/filter/$and/1/amount/$between',
        message: expect.stringContaining('unknown operator $between'),
      },
    ])
  })

  it('a wrong operand', () => {
    expect(problems({ $and: [{}, { amount: { $gt: true } }] })[0]!.path).toBe('/filter/$and/1/amount/$gt')
    expect(problems({ a: { $in: 'x' } })[0]!.path).toBe('/filter/a/$in')
    expect(problems({ a: { $exists: 1 } })[0]!.path).toBe('/filter/a/$exists')
    expect(problems({ a: { $prefix: 3 } })[0]!.path).toBe('/filter/a/$prefix')
  })

  it('the shape of combinators and paths', () => {
    expect(problems([])[0]!.path).toBe('/filter')
    expect(problems('x')[0]!.path).toBe('/filter')
    expect(problems({ $or: [] })[0]!.path).toBe('/filter/$or')
    expect(problems({ $or: [1] })[0]!.path).toBe('/filter/$or/0')
    expect(problems({ $not: [] })[0]!.path).toBe('/filter/$not')
    expect(problems({ $where: 'x' })[0]!.path).toBe('/filter/$where')
    expect(problems({ 'a..b': 1 })[0]!.path).toBe('/filter/a..b')
    expect(problems({ 'a/b': { $gt: null } })[0]!.path).toBe('/filter/a~1b/$gt')
    expect(problems({ a: { $gt: 1, b: 2 } })[0]!.path).toBe('/filter/a/b')
  })

  it('limits: depth, conditions, size', () => {
    let deep: Record<string, unknown> = { a: 1 }
    for (let i = 0; i < filterLimits.depth + 1; i++) deep = { $not: deep }
    expect(problems(deep)[0]!.message).toContain('nested')
    const many = Object.fromEntries(
      Array.from({ length: filterLimits.conditions + 1 }, (_, i) => [`k${i}`, i]),
    )
    expect(problems(many)[0]!.message).toContain('conditions')
    expect(problems({ a: 'x'.repeat(filterLimits.bytes) })[0]!.message).toContain('bytes')
  })
})

describe('FilterCache', () => {
  it('compiles once per subscription version', () => {
    const cache = new FilterCache()
    const a = cache.get({ id: 'sub_1', updated: 1, filter: '{"order.status":"pending"}' })
    expect(cache.get({ id: 'sub_1', updated: 1, filter: '{"order.status":"pending"}' })).toBe(a)
    const b = cache.get({ id: 'sub_1', updated: 2, filter: '{"order.status":"paid"}' })
    expect(b).not.toBe(a)
    expect(a(order)).toBe(true)
    expect(b(order)).toBe(false)
  })

  it('a stored filter that does not compile matches nothing', () => {
    expect(new FilterCache().get({ id: 'sub_2', updated: 1, filter: '{"a":{"$bad":1}}' })(order)).toBe(false)
  })
})
