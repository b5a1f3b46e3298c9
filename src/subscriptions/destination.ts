// A subscription's destination (contract section 11): `url` alone is `{ type: "http", url }`;
// other types name a message broker. The core knows no type: it asks the DestinationCheck port
// (src/destinations/ implements it from the registered types) and stores the verdict, the URL's
// credentials sealed and masked wherever it is shown.
import type { SecretBox } from '../secrets/secret-box.ts'
import { AppError } from '../shared/errors.ts'
import type { StoredDestination } from '../store/store.ts'
import type { UrlCheck } from './subscriptions.ts'

/** A destination as given to the API: its type and that type's fields. */
export interface DestinationInput {
  type: string
  url: string
  [field: string]: unknown
}

export type DestinationVerdict =
  | {
      ok: true
      /** The URL to connect to, credentials included (canonical form). */
      url: string
      /** The type's other fields, validated. */
      fields: Record<string, string>
    }
  | {
      ok: false
      code: 'invalid_destination' | 'invalid_url' | 'url_not_allowed'
      path: string
      reason: string
    }

/** A broker type's verdict on a destination (type, URL scheme and host policy, fields). */
export type DestinationCheck = (input: DestinationInput) => DestinationVerdict

/** What the portal and the API tell about a type: its fields, for forms and docs. */
export interface DestinationTypeInfo {
  type: string
  description: string
  /** An example URL (the form's placeholder). */
  urlExample: string
  fields: readonly { name: string; description: string; example: string }[]
}

export const httpDestinationInfo: DestinationTypeInfo = {
  type: 'http',
  description: 'A signed HTTP POST to the URL; delivered on a 2xx answer.',
  urlExample: 'https://example.com/webhooks',
  fields: [],
}

/** No broker type registered: only HTTP. */
export const httpOnly: DestinationCheck = (d) => ({
  ok: false,
  code: 'invalid_destination',
  path: '/destination/type',
  reason: `the destination type ${JSON.stringify(d.type)} is not supported here; use "http"`,
})

/** Sealed URLs are bound to their environment: a ciphertext copied elsewhere does not open. */
export const destinationAssociatedData = (envId: string): string => `hookpost:destination-url:${envId}`

/** The URL as shown: the password (or a lone token) replaced by `****`. */
export function maskUrl(raw: string): string {
  let u: URL
  try {
    u = new URL(raw)
  } catch {
    return raw
  }
  if (u.password !== '') u.password = '****'
  else if (u.username !== '') u.username = '****'
  return u.href
}

const hasCredentials = (raw: string): boolean => {
  try {
    const u = new URL(raw)
    return u.username !== '' || u.password !== ''
  } catch {
    return false
  }
}

export interface Resolved {
  /** The `url` column: the HTTP URL, or the broker URL as shown. */
  url: string
  destination: StoredDestination | null
}

/**
 * `url` and/or `destination` → what to store. Both given must agree (an http destination with
 * the same URL); the http type goes through the URL policy exactly as `url` always has.
 */
export function resolveDestination(
  envId: string,
  input: { url?: string | undefined; destination?: DestinationInput | null | undefined },
  deps: { checkUrl: UrlCheck; checkDestination: DestinationCheck; box: SecretBox },
  /** On update: the stored destination, whose sealed credentials a masked URL keeps. */
  current?: StoredDestination | null,
): Resolved {
  let d = input.destination ?? undefined
  const bad = (code: Extract<DestinationVerdict, { ok: false }>['code']) => (path: string, reason: string) =>
    new AppError(code, { message: reason, details: [{ path, message: reason }] })
  if (d === undefined || d.type === 'http') {
    const url = d?.url ?? input.url
    const path = d ? '/destination/url' : '/url'
    // As in v1: a body without url is a malformed request.
    if (url === undefined)
      throw new AppError('invalid_request', {
        message: 'url (or destination) is required',
        details: [{ path: '/url', message: 'give either url or destination' }],
      })
    if (d && input.url !== undefined && input.url !== d.url)
      throw bad('invalid_destination')('/url', 'url and destination.url differ; give one of them')
    if (d) {
      const extra = Object.keys(d).find((k) => k !== 'type' && k !== 'url')
      if (extra)
        throw bad('invalid_destination')(`/destination/${extra}`, `an http destination has no ${extra}`)
    }
    const v = deps.checkUrl(url)
    if (!v.ok) throw bad(v.code)(path, v.reason)
    return { url: v.url?.href ?? url, destination: null }
  }
  if (input.url !== undefined)
    throw bad('invalid_destination')('/url', `a ${d.type} destination has its URL in destination.url`)
  // A destination as shown (GET, then PUT it back) keeps the credentials it had.
  if (current?.sealedUrl && current.type === d.type && d.url === current.fields['url'])
    d = { ...d, url: deps.box.open(current.sealedUrl, destinationAssociatedData(envId)) }
  const v = deps.checkDestination(d)
  if (!v.ok) throw bad(v.code)(v.path, v.reason)
  const shown = maskUrl(v.url)
  return {
    url: shown,
    destination: {
      type: d.type,
      fields: { url: shown, ...v.fields },
      sealedUrl: hasCredentials(v.url) ? deps.box.seal(v.url, destinationAssociatedData(envId)) : null,
    },
  }
}

/** The destination as the API shows it (never a credential). */
export function presentDestination(s: { url: string; destination?: StoredDestination | null | undefined }): {
  type: string
  url: string
  [field: string]: string
} {
  return s.destination
    ? { ...s.destination.fields, type: s.destination.type, url: s.destination.fields['url'] ?? s.url }
    : { type: 'http', url: s.url }
}
