// Byte ranges of values inside a JSON text that JSON.parse has already accepted, so that a part
// of a request (one batch item's payload) can be stored and sent as the very bytes it was sent
// in, never re-serialised. It works on the UTF-8 bytes: every structural character is ASCII and
// no byte of a multi-byte character is, so byte offsets are found without decoding.

export interface Span {
  start: number
  end: number
}

const ws = new Set([0x20, 0x09, 0x0a, 0x0d])

/** The end of the value that starts at `i` (a valid JSON text is assumed). */
function valueEnd(b: Uint8Array, i: number): number {
  const c = b[i]
  if (c === 0x22) {
    for (let k = i + 1; k < b.length; k++) {
      if (b[k] === 0x5c) k++
      else if (b[k] === 0x22) return k + 1
    }
    return b.length
  }
  if (c === 0x7b || c === 0x5b) {
    let depth = 0
    for (let k = i; k < b.length; k++) {
      const d = b[k]
      if (d === 0x22) k = valueEnd(b, k) - 1
      else if (d === 0x7b || d === 0x5b) depth++
      else if ((d === 0x7d || d === 0x5d) && --depth === 0) return k + 1
    }
    return b.length
  }
  let k = i
  while (k < b.length && !ws.has(b[k]!) && b[k] !== 0x2c && b[k] !== 0x7d && b[k] !== 0x5d) k++
  return k
}

function skipWs(b: Uint8Array, i: number): number {
  while (i < b.length && ws.has(b[i]!)) i++
  return i
}

/** The span of the whole text's value (a leading UTF-8 byte order mark is not part of it). */
export function rootSpan(b: Uint8Array): Span {
  let i = b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0
  i = skipWs(b, i)
  return { start: i, end: valueEnd(b, i) }
}

/** The members of the object at `s`, name → value span; a repeated name keeps its last value, as JSON.parse does. */
export function memberSpans(b: Uint8Array, s: Span): Map<string, Span> {
  const out = new Map<string, Span>()
  if (b[s.start] !== 0x7b) return out
  let i = skipWs(b, s.start + 1)
  while (i < s.end && b[i] === 0x22) {
    const nameEnd = valueEnd(b, i)
    const name = JSON.parse(Buffer.from(b.buffer, b.byteOffset + i, nameEnd - i).toString('utf8')) as string
    i = skipWs(b, skipWs(b, nameEnd) + 1) // past the ':'
    const end = valueEnd(b, i)
    out.set(name, { start: i, end })
    i = skipWs(b, end)
    if (b[i] === 0x2c) i = skipWs(b, i + 1)
  }
  return out
}

/** The element spans of the array at `s`. */
export function elementSpans(b: Uint8Array, s: Span): Span[] {
  const out: Span[] = []
  if (b[s.start] !== 0x5b) return out
  let i = skipWs(b, s.start + 1)
  while (i < s.end && b[i] !== 0x5d) {
    const end = valueEnd(b, i)
    out.push({ start: i, end })
    i = skipWs(b, end)
    if (b[i] === 0x2c) i = skipWs(b, i + 1)
  }
  return out
}
