// W3C Trace Context (https://www.w3.org/TR/trace-context/#traceparent-header): the one header
// Hookpost takes at publish and sends on every attempt, so that deliveries join the publisher's trace.

export interface TraceContext {
  traceId: string
  parentId: string
  flags: string
}

const shape = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/
/** The longest value taken (version 00 is 55 characters; later versions may append fields). */
export const maxTraceparentLength = 512

/**
 * The trace context of a traceparent value, or undefined when it is not a valid one: version ff,
 * an all-zero trace or parent id, upper-case hex, or anything after the flags in version 00. A
 * later version is read by its version-00 prefix, as the W3C asks.
 */
export function parseTraceparent(value: string): TraceContext | undefined {
  if (value.length > maxTraceparentLength) return undefined
  const m = shape.exec(value.trim())
  if (!m) return undefined
  const [, version, traceId, parentId, flags, rest] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string?,
  ]
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined
  if (/^0+$/.test(traceId) || /^0+$/.test(parentId)) return undefined
  return { traceId, parentId, flags }
}

export const formatTraceparent = (t: TraceContext): string => `00-${t.traceId}-${t.parentId}-${t.flags}`

/** The value to keep: version 00 of a valid traceparent, undefined for an invalid one. */
export function normalTraceparent(value: string | undefined): string | undefined {
  const t = value === undefined ? undefined : parseTraceparent(value)
  return t && formatTraceparent(t)
}
