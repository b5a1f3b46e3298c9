import { describe, expect, it } from 'vitest'
import { elementSpans, memberSpans, rootSpan } from '../../src/events/json-spans.ts'

/** A small deterministic generator of JSON texts with odd spacing and escapes. */
function* texts(seed: number, count: number): Generator<string> {
  let s = seed
  const rnd = (n: number) => {
    s = (s * 1103515245 + 12345) % 2 ** 31
    return s % n
  }
  const ws = () => [' ', '', '\n', '\t ', '\r\n  '][rnd(5)]!
  const str = () =>
    JSON.stringify(['a', 'é', '"]}', '\\', '\u{1F600}', '{"x":[1,2]}'][rnd(6)]).replace('é', '\\u00e9')
  const value = (depth: number): string => {
    const k = depth > 3 ? rnd(4) : rnd(6)
    if (k === 0) return str()
    if (k === 1) return ['1.0e0', '-0', '9007199254740993', 'true', 'null'][rnd(5)]!
    if (k === 2) return ['[]', '{}'][rnd(2)]!
    if (k === 3) return `${ws()}${value(depth + 1)}${ws()}`.trim() || '0'
    if (k === 4)
      return `[${Array.from({ length: rnd(4) }, () => `${ws()}${value(depth + 1)}${ws()}`).join(',')}]`
    return `{${Array.from({ length: rnd(4) }, () => `${ws()}${str()}${ws()}:${ws()}${value(depth + 1)}${ws()}`).join(',')}}`
  }
  for (let i = 0; i < count; i++) yield `${ws()}${value(0)}${ws()}`
}

describe('json spans', () => {
  it("finds each member's and element's exact bytes, as JSON.parse reads them", () => {
    for (const text of texts(7, 500)) {
      const b = Buffer.from(text, 'utf8')
      const doc = JSON.parse(text) as unknown
      const root = rootSpan(b)
      expect(JSON.parse(b.subarray(root.start, root.end).toString('utf8'))).toEqual(doc)
      if (Array.isArray(doc)) {
        const spans = elementSpans(b, root)
        expect(spans.map((s) => JSON.parse(b.subarray(s.start, s.end).toString('utf8')))).toEqual(doc)
      } else if (typeof doc === 'object' && doc !== null) {
        const members = memberSpans(b, root)
        const seen = Object.fromEntries(
          [...members].map(([k, s]) => [k, JSON.parse(b.subarray(s.start, s.end).toString('utf8'))]),
        )
        expect(seen).toEqual(doc)
      }
    }
  })

  it('keeps the last of a repeated name and skips a byte order mark', () => {
    const b = Buffer.from('\uFEFF {"a": 1, "\\u0061" : [ 2 ] }', 'utf8')
    const a = memberSpans(b, rootSpan(b)).get('a')!
    expect(b.subarray(a.start, a.end).toString()).toBe('[ 2 ]')
  })
})
