// Header access over a Fetch `Headers` object or a plain record (Node's `req.headers`, Fastify,
// Express, AWS events…): names case-insensitive, array values allowed (joined with ", " as
// Node and `Headers` join repeated headers).

/** Anything with a case-insensitive `get`, such as the Fetch API's `Headers`. */
export interface HeadersLike {
  get(name: string): string | null
}

export type HeaderValue = string | readonly string[] | number | null | undefined

/** A plain object of headers, e.g. Node's `IncomingHttpHeaders`. Names are matched case-insensitively. */
export type HeaderRecord = { readonly [name: string]: HeaderValue }

export type WebhookHeaders = HeadersLike | HeaderRecord

/** Names of the headers a Hookpost delivery carries (lower case). */
export const HEADER_NAMES = {
  basekitSignature: 'x-delivery-hmac-sha256',
  id: 'webhook-id',
  timestamp: 'webhook-timestamp',
  signature: 'webhook-signature',
  event: 'x-delivery-event',
  attempt: 'x-delivery-attempt',
} as const

function isHeadersLike(headers: WebhookHeaders): headers is HeadersLike {
  return typeof (headers as { get?: unknown }).get === 'function'
}

function valueToString(value: HeaderValue): string | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value === 'string') return value
  if (typeof value === 'number') return String(value)
  if (Array.isArray(value)) {
    const parts = value.filter((v): v is string => typeof v === 'string')
    return parts.length > 0 ? parts.join(', ') : undefined
  }
  return undefined
}

/** The value of one header (repeated values joined with ", "), or undefined when it is absent. */
export function getHeader(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined
  const lower = name.toLowerCase()
  if (isHeadersLike(headers)) return headers.get(lower) ?? undefined
  const found: string[] = []
  for (const key of Object.keys(headers)) {
    if (key.toLowerCase() !== lower) continue
    const v = valueToString(headers[key])
    if (v !== undefined) found.push(v)
  }
  return found.length > 0 ? found.join(', ') : undefined
}

/** A header that is present and not blank, trimmed; else undefined. */
export function getNonEmptyHeader(headers: WebhookHeaders, name: string): string | undefined {
  const v = getHeader(headers, name)?.trim()
  return v === undefined || v === '' ? undefined : v
}

/**
 * The delivery id (`webhook-id`, or `svix-id`) for deduplication, or null when absent. The same
 * on every attempt of a delivery. Read it after verifying: under the Standard Webhooks scheme it
 * is covered by the signature, under the BaseKit scheme it is not.
 */
export function webhookId(headers: WebhookHeaders): string | null {
  return getNonEmptyHeader(headers, 'webhook-id') ?? getNonEmptyHeader(headers, 'svix-id') ?? null
}
