// Subscription filters (contract section 12): a JSON filter on an event's payload, checked once
// when a subscription is saved and compiled into a predicate that publish runs per subscription.
// Pure: no I/O. A filter is an object of `"<dot.path>": value` (equality) or
// `"<dot.path>": { "$op": operand, … }`, combined with `$and`, `$or` and `$not`.
import { AppError, type ErrorDetail } from '../shared/errors.ts'

export type FilterPredicate = (payload: unknown) => boolean

/** Most bytes of a filter's JSON, most conditions, deepest nesting of `$and`/`$or`/`$not`. */
export const filterLimits = { bytes: 16 * 1024, conditions: 256, depth: 16, pathSegments: 32, inItems: 1000 }

const operators = ['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$exists', '$prefix'] as const
type Operator = (typeof operators)[number]
const isOperator = (k: string): k is Operator => (operators as readonly string[]).includes(k)

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/** One JSON pointer segment (RFC 6901 escaping). */
const segment = (k: string) => k.replace(/~/g, '~0').replace(/\//g, '~1')

/** JSON equality: same type and value, arrays in order, objects by their members. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false
    return true
  }
  if (Array.isArray(b)) return false
  const ka = Object.keys(a)
  if (ka.length !== Object.keys(b).length) return false
  for (const k of ka) {
    if (
      !Object.hasOwn(b, k) ||
      !jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])
    )
      return false
  }
  return true
}

/** Sentinel for a path that leads nowhere (distinct from a present `null`). */
const missing = Symbol('missing')

/** A getter for a dot path: `a.b.0.c`; a numeric segment also indexes an array. */
function compilePath(segments: readonly string[]): (doc: unknown) => unknown {
  const index = segments.map((s) => (/^(0|[1-9][0-9]{0,8})$/.test(s) ? Number(s) : -1))
  return (doc) => {
    let cur: unknown = doc
    for (let i = 0; i < segments.length; i++) {
      if (typeof cur !== 'object' || cur === null) return missing
      if (Array.isArray(cur)) {
        const n = index[i]!
        if (n < 0 || n >= cur.length) return missing
        cur = cur[n]
      } else {
        const k = segments[i]!
        if (!Object.hasOwn(cur, k)) return missing
        cur = (cur as Record<string, unknown>)[k]
      }
    }
    return cur
  }
}

/** Ordered comparison between two numbers or two strings; anything else does not compare. */
function compare(v: unknown, operand: number | string): number | undefined {
  if (typeof v !== typeof operand) return undefined
  return (v as number | string) < operand ? -1 : (v as number | string) > operand ? 1 : 0
}

class FilterCompiler {
  readonly problems: ErrorDetail[] = []
  conditions = 0

  bad(path: string, message: string): FilterPredicate {
    if (this.problems.length < 20) this.problems.push({ path, message })
    return () => false
  }

  /** A filter object: every member must hold (an implicit `$and`). */
  filter(v: unknown, at: string, depth: number): FilterPredicate {
    if (depth > filterLimits.depth) return this.bad(at, `nested more than ${filterLimits.depth} levels deep`)
    if (!isObject(v)) return this.bad(at, 'must be an object of "<dot.path>": condition')
    const parts: FilterPredicate[] = []
    for (const [k, cond] of Object.entries(v)) {
      const here = `${at}/${segment(k)}`
      if (k === '$and' || k === '$or') parts.push(this.list(k, cond, here, depth))
      else if (k === '$not') {
        const inner = this.filter(cond, here, depth + 1)
        parts.push((p) => !inner(p))
      } else if (k.startsWith('$'))
        parts.push(this.bad(here, `unknown operator ${k} (use $and, $or, $not or a dot path)`))
      else parts.push(this.field(k, cond, here))
    }
    return all(parts)
  }

  list(op: '$and' | '$or', v: unknown, at: string, depth: number): FilterPredicate {
    if (!Array.isArray(v) || v.length === 0) return this.bad(at, `${op} takes a non-empty array of filters`)
    const parts = v.map((f, i) => this.filter(f, `${at}/${i}`, depth + 1))
    return op === '$and' ? all(parts) : any(parts)
  }

  field(path: string, cond: unknown, at: string): FilterPredicate {
    const segments = path.split('.')
    if (segments.some((s) => s === '')) return this.bad(at, 'a dot path has no empty segments (a.b.c)')
    if (segments.length > filterLimits.pathSegments)
      return this.bad(at, `a dot path has at most ${filterLimits.pathSegments} segments`)
    const get = compilePath(segments)
    // An object whose keys are all operators is a condition; any other value is matched as is.
    if (isObject(cond) && Object.keys(cond).some((k) => k.startsWith('$'))) {
      const parts: FilterPredicate[] = []
      for (const [op, operand] of Object.entries(cond)) {
        const here = `${at}/${segment(op)}`
        if (!isOperator(op)) {
          parts.push(
            this.bad(
              here,
              op.startsWith('$')
                ? `unknown operator ${op} (one of ${operators.join(', ')})`
                : 'an operator object holds only operators; match a nested object with {"$eq": {...}}',
            ),
          )
          continue
        }
        const test = this.operator(op, operand, here)
        parts.push((p) => test(get(p)))
      }
      return all(parts)
    }
    this.count(at)
    if (typeof cond !== 'object' || cond === null) return (p) => get(p) === cond
    return (p) => jsonEqual(get(p), cond)
  }

  count(at: string): void {
    if (++this.conditions === filterLimits.conditions + 1)
      this.bad(at, `a filter holds at most ${filterLimits.conditions} conditions`)
  }

  operator(op: Operator, operand: unknown, at: string): (v: unknown) => boolean {
    this.count(at)
    switch (op) {
      case '$eq':
        return typeof operand !== 'object' || operand === null
          ? (v) => v === operand
          : (v) => jsonEqual(v, operand)
      case '$ne':
        return (v) => v === missing || !jsonEqual(v, operand)
      case '$gt':
      case '$gte':
      case '$lt':
      case '$lte': {
        if (typeof operand !== 'number' && typeof operand !== 'string') {
          this.bad(at, `${op} takes a number or a string`)
          return () => false
        }
        const ok =
          op === '$gt'
            ? (c: number) => c > 0
            : op === '$gte'
              ? (c: number) => c >= 0
              : op === '$lt'
                ? (c: number) => c < 0
                : (c: number) => c <= 0
        return (v) => {
          const c = compare(v, operand)
          return c !== undefined && ok(c)
        }
      }
      case '$in':
      case '$nin': {
        if (!Array.isArray(operand) || operand.length > filterLimits.inItems) {
          this.bad(at, `${op} takes an array of at most ${filterLimits.inItems} values`)
          return () => false
        }
        const primitives = new Set(operand.filter((x) => typeof x !== 'object' || x === null))
        const objects = operand.filter((x) => typeof x === 'object' && x !== null)
        const has = (v: unknown) =>
          v !== missing && (primitives.has(v) || (objects.length > 0 && objects.some((o) => jsonEqual(v, o))))
        return op === '$in' ? has : (v) => !has(v)
      }
      case '$exists': {
        if (typeof operand !== 'boolean') {
          this.bad(at, '$exists takes true or false')
          return () => false
        }
        return operand ? (v) => v !== missing : (v) => v === missing
      }
      case '$prefix': {
        if (typeof operand !== 'string') {
          this.bad(at, '$prefix takes a string')
          return () => false
        }
        return (v) => typeof v === 'string' && v.startsWith(operand)
      }
    }
  }
}

const all =
  (parts: FilterPredicate[]): FilterPredicate =>
  (p) => {
    for (const f of parts) if (!f(p)) return false
    return true
  }

const any =
  (parts: FilterPredicate[]): FilterPredicate =>
  (p) => {
    for (const f of parts) if (f(p)) return true
    return false
  }

/**
 * The predicate of a filter; throws 400 invalid_filter naming every bad part as a JSON pointer
 * under `at` (e.g. `/filter/$and/1/amount/$gt`). An empty filter `{}` matches every event.
 */
export function compileFilter(filter: unknown, at = '/filter'): FilterPredicate {
  const c = new FilterCompiler()
  if (isObject(filter) && JSON.stringify(filter).length > filterLimits.bytes) {
    c.bad(at, `a filter is at most ${filterLimits.bytes} bytes of JSON`)
  }
  const predicate = c.problems.length === 0 ? c.filter(filter, at, 0) : () => false
  if (c.problems.length > 0) {
    const first = c.problems[0]!
    throw new AppError('invalid_filter', {
      message: `The filter is invalid at ${first.path}: ${first.message}`,
      details: c.problems,
    })
  }
  return predicate
}

/** Rows cached at most; past it the oldest compiled go first (compiled again on their next use). */
const maxCached = 10_000

/**
 * Compiled filters by subscription id, each kept while its subscription's `updated` is the same:
 * a publish compiles a subscription's filter once per version, not once per event.
 */
export class FilterCache {
  readonly #compiled = new Map<string, { updated: number; test: FilterPredicate }>()

  /** The predicate of a subscription's stored filter (its JSON text, checked when saved). */
  get(sub: { id: string; updated: number; filter: string }): FilterPredicate {
    const c = this.#compiled.get(sub.id)
    if (c !== undefined && c.updated === sub.updated) return c.test
    let test: FilterPredicate
    try {
      test = compileFilter(JSON.parse(sub.filter))
    } catch {
      // Checked at save time, so only a row written by hand gets here: it matches nothing
      // rather than everything (a filter exists to keep events away).
      test = () => false
    }
    this.#compiled.delete(sub.id)
    this.#compiled.set(sub.id, { updated: sub.updated, test })
    if (this.#compiled.size > maxCached) this.#compiled.delete(this.#compiled.keys().next().value!)
    return test
  }
}
