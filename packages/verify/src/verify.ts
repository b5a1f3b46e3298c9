import { bodyBytes, type WebhookBody } from './body.js'
import { type CryptoLike, ed25519Verify, hmacSha256, resolveSubtle, type SubtleCryptoLike } from './crypto.js'
import {
  base64Decode,
  concatBytes,
  hexDecode,
  timingSafeEqual,
  utf8DecodeStrict,
  utf8Encode,
} from './encoding.js'
import { WebhookVerificationError } from './errors.js'
import { getNonEmptyHeader, HEADER_NAMES, type WebhookHeaders, webhookId } from './headers.js'
import { parseVerificationKeys, type SigningKeys, type VerificationKeys } from './secret.js'

/** The default allowed distance between `webhook-timestamp` and now, in seconds, both ways. */
export const DEFAULT_TOLERANCE_SECONDS = 300

/** How a delivery was authenticated. */
export type WebhookScheme = 'basekit' | 'standard'

export interface VerifyOptions {
  /** Allowed distance between `webhook-timestamp` and now, in seconds, in both directions. Default 300. */
  toleranceSeconds?: number
  /**
   * `'standard'`: the Standard Webhooks headers (`webhook-id`, `webhook-timestamp`,
   * `webhook-signature`; `svix-*` accepted too), with the timestamp check: replay protection.
   * The default: Hookpost always sends them, and a delivery stripped of them is refused.
   * `'basekit'`: `X-Delivery-Hmac-SHA256` over the body only: no timestamp, so no replay protection.
   * `'auto'`: `'standard'` when a `webhook-signature` header is present, else `'basekit'`. Opt in
   * only for senders without the standard headers: whoever strips them from a captured delivery
   * gets it accepted again, with no timestamp to check.
   */
  scheme?: 'auto' | WebhookScheme
  /** WebCrypto to use instead of `globalThis.crypto`, e.g. `require('node:crypto').webcrypto` on Node 18. */
  crypto?: CryptoLike
  /** Clock for the timestamp check, in milliseconds since the epoch like `Date.now` (for tests). */
  now?: () => number
}

/** What a valid signature establishes. */
export interface VerifiedSignature {
  /** The scheme whose signature matched. */
  scheme: WebhookScheme
  /**
   * The delivery id (`webhook-id`): the same on every attempt, so use it to drop duplicates.
   * Signed under `'standard'`; under `'basekit'` it is the unsigned header, or null when absent.
   */
  id: string | null
  /** `webhook-timestamp` in Unix seconds under `'standard'`; null under `'basekit'` (it has none). */
  timestamp: number | null
  /** The `X-Delivery-Event` header (not covered by any signature), or null. */
  eventName: string | null
  /** The `X-Delivery-Attempt` header (1, 2, 3, …; not signed), or null. */
  attempt: number | null
}

/** A verified delivery with its parsed payload. */
export interface VerifiedWebhook<T = unknown> extends VerifiedSignature {
  payload: T
}

const digestLength = 32

function fail(code: 'missing_signature' | 'bad_signature' | 'bad_timestamp', message: string): never {
  throw new WebhookVerificationError(code, message)
}

function checkOptions(options: VerifyOptions): { tolerance: number; scheme: 'auto' | WebhookScheme } {
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS
  if (typeof tolerance !== 'number' || Number.isNaN(tolerance) || tolerance < 0) {
    throw new TypeError('options.toleranceSeconds must be a number of seconds >= 0')
  }
  // Never 'auto' by default: a silent fallback to the timestamp-less header would undo the
  // replay protection of the standard one.
  const scheme = options.scheme ?? 'standard'
  if (scheme !== 'auto' && scheme !== 'basekit' && scheme !== 'standard') {
    throw new TypeError("options.scheme must be 'auto', 'basekit' or 'standard'")
  }
  return { tolerance, scheme }
}

/** The 32-byte digests offered in X-Delivery-Hmac-SHA256 (hex or base64; an optional `sha256=`). */
function basekitCandidates(header: string): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let token of header.split(/[\s,]+/)) {
    if (token.toLowerCase().startsWith('sha256=')) token = token.slice('sha256='.length)
    if (token === '') continue
    const bytes = token.length === 2 * digestLength ? hexDecode(token) : base64Decode(token)
    if (bytes !== null && bytes.length === digestLength) out.push(bytes)
  }
  return out
}

/**
 * The decoded entries of one version of `webhook-signature` (`v1`: 32-byte HMAC digests, `v1a`:
 * 64-byte Ed25519 signatures); other versions are ignored.
 */
function standardCandidates(header: string, version: 'v1' | 'v1a'): Uint8Array[] {
  const length = version === 'v1' ? digestLength : 64
  const out: Uint8Array[] = []
  for (const token of header.split(/\s+/)) {
    const comma = token.indexOf(',')
    if (comma < 0 || token.slice(0, comma) !== version) continue
    const bytes = base64Decode(token.slice(comma + 1).replace(/,+$/, ''))
    if (bytes !== null && bytes.length === length) out.push(bytes)
  }
  return out
}

async function anyEd25519Valid(
  subtle: SubtleCryptoLike,
  publicKeys: readonly Uint8Array[],
  data: Uint8Array,
  candidates: readonly Uint8Array[],
): Promise<boolean> {
  let valid = false
  for (const key of publicKeys) {
    for (const candidate of candidates) if (await ed25519Verify(subtle, key, candidate, data)) valid = true
  }
  return valid
}

async function anyMatches(
  subtle: SubtleCryptoLike,
  keys: readonly Uint8Array[],
  data: Uint8Array,
  candidates: readonly Uint8Array[],
): Promise<boolean> {
  if (candidates.length === 0) return false
  let matched = false
  for (const key of keys) {
    const expected = await hmacSha256(subtle, key, data)
    for (const candidate of candidates) {
      // No early exit inside the loop: every candidate is compared in constant time.
      if (timingSafeEqual(expected, candidate)) matched = true
    }
  }
  return matched
}

function parseAttempt(headers: WebhookHeaders): number | null {
  const raw = getNonEmptyHeader(headers, HEADER_NAMES.attempt)
  return raw !== undefined && /^\d{1,9}$/.test(raw) ? Number(raw) : null
}

async function verifyStandard(
  bytes: Uint8Array,
  headers: WebhookHeaders,
  keys: VerificationKeys,
  subtle: SubtleCryptoLike,
  tolerance: number,
  nowMs: number,
): Promise<{ id: string; timestamp: number }> {
  const prefix = getNonEmptyHeader(headers, 'webhook-signature') === undefined ? 'svix' : 'webhook'
  const signature = getNonEmptyHeader(headers, `${prefix}-signature`)
  const id = getNonEmptyHeader(headers, `${prefix}-id`)
  const rawTimestamp = getNonEmptyHeader(headers, `${prefix}-timestamp`)
  const missing = [
    signature === undefined ? 'webhook-signature' : null,
    id === undefined ? 'webhook-id' : null,
    rawTimestamp === undefined ? 'webhook-timestamp' : null,
  ].filter((n) => n !== null)
  if (signature === undefined || id === undefined || rawTimestamp === undefined) {
    fail('missing_signature', `Missing Standard Webhooks header(s): ${missing.join(', ')}`)
  }
  if (!/^\d{1,15}$/.test(rawTimestamp)) {
    fail('bad_timestamp', `${prefix}-timestamp must be an integer number of Unix seconds`)
  }
  const timestamp = Number(rawTimestamp)
  // v1 entries are checked with the whsec_ secrets, v1a entries with the whpk_ public keys.
  const hmacs = keys.secrets.length > 0 ? standardCandidates(signature, 'v1') : []
  const ed25519s = keys.publicKeys.length > 0 ? standardCandidates(signature, 'v1a') : []
  const signed = concatBytes(utf8Encode(`${id}.${timestamp}.`), bytes)
  const matched =
    (await anyMatches(
      subtle,
      keys.secrets.map((s) => s.standard),
      signed,
      hmacs,
    )) || (await anyEd25519Valid(subtle, keys.publicKeys, signed, ed25519s))
  if (!matched) {
    const versions = [keys.secrets.length > 0 ? 'v1' : null, keys.publicKeys.length > 0 ? 'v1a' : null]
      .filter((v) => v !== null)
      .join(' or ')
    fail(
      'bad_signature',
      hmacs.length + ed25519s.length === 0
        ? `${prefix}-signature has no well-formed ${versions} entry`
        : `No ${versions} entry of ${prefix}-signature matches the body`,
    )
  }
  const now = Math.floor(nowMs / 1000)
  if (now - timestamp > tolerance) {
    throw new WebhookVerificationError(
      'timestamp_too_old',
      `${prefix}-timestamp is ${now - timestamp} s old (tolerance ${tolerance} s)`,
    )
  }
  if (timestamp - now > tolerance) {
    throw new WebhookVerificationError(
      'timestamp_too_new',
      `${prefix}-timestamp is ${timestamp - now} s in the future (tolerance ${tolerance} s)`,
    )
  }
  return { id, timestamp }
}

async function verifyBasekit(
  bytes: Uint8Array,
  headers: WebhookHeaders,
  secrets: readonly SigningKeys[],
  subtle: SubtleCryptoLike,
): Promise<void> {
  const header = getNonEmptyHeader(headers, HEADER_NAMES.basekitSignature)
  if (header === undefined) fail('missing_signature', 'Missing X-Delivery-Hmac-SHA256 header')
  const candidates = basekitCandidates(header)
  const keys = secrets.map((s) => s.basekit)
  if (!(await anyMatches(subtle, keys, bytes, candidates))) {
    fail(
      'bad_signature',
      candidates.length === 0
        ? 'X-Delivery-Hmac-SHA256 is not a hex or base64 SHA-256 digest'
        : 'X-Delivery-Hmac-SHA256 does not match the body',
    )
  }
}

/**
 * Checks the signature of a delivery without parsing the body. Resolves with what the signature
 * establishes, or rejects with a {@link WebhookVerificationError}.
 *
 * @param body the raw request body, exactly as received
 * @param headers the request headers (`Headers` or a plain object; names case-insensitive)
 * @param secret the `whsec_…` secret, or several (any may match) while you rotate; or a `whpk_…`
 *   Ed25519 public key (`POST /webhooks/signing-keys`), which verifies the `v1a` entries
 */
export async function verifyWebhookSignature(
  body: WebhookBody,
  headers: WebhookHeaders,
  secret: string | readonly string[],
  options: VerifyOptions = {},
): Promise<VerifiedSignature> {
  const bytes = bodyBytes(body)
  const { tolerance, scheme: wanted } = checkOptions(options)
  const keys = parseVerificationKeys(secret)
  const subtle = resolveSubtle(options.crypto)
  if (typeof headers !== 'object' || headers === null) {
    fail('missing_signature', 'No headers given')
  }
  const hasStandard =
    getNonEmptyHeader(headers, 'webhook-signature') !== undefined ||
    getNonEmptyHeader(headers, 'svix-signature') !== undefined
  const scheme: WebhookScheme = wanted === 'auto' ? (hasStandard ? 'standard' : 'basekit') : wanted
  if (
    wanted === 'auto' &&
    !hasStandard &&
    getNonEmptyHeader(headers, HEADER_NAMES.basekitSignature) === undefined
  ) {
    fail('missing_signature', 'Neither webhook-signature nor X-Delivery-Hmac-SHA256 is present')
  }
  const eventName = getNonEmptyHeader(headers, HEADER_NAMES.event) ?? null
  const attempt = parseAttempt(headers)
  if (scheme === 'standard') {
    const nowMs = options.now ? options.now() : Date.now()
    const { id, timestamp } = await verifyStandard(bytes, headers, keys, subtle, tolerance, nowMs)
    return { scheme, id, timestamp, eventName, attempt }
  }
  if (keys.secrets.length === 0) {
    throw new TypeError(
      'X-Delivery-Hmac-SHA256 needs the whsec_ secret: a whpk_ public key verifies webhook-signature v1a only',
    )
  }
  await verifyBasekit(bytes, headers, keys.secrets, subtle)
  return { scheme, id: webhookId(headers), timestamp: null, eventName, attempt }
}

/** Parses a verified body: UTF-8 JSON, else `invalid_payload`. */
export function parsePayload(body: WebhookBody): unknown {
  const text = typeof body === 'string' ? body : utf8DecodeStrict(bodyBytes(body))
  if (text === null)
    throw new WebhookVerificationError('invalid_payload', 'The signed body is not valid UTF-8')
  try {
    return JSON.parse(text)
  } catch {
    throw new WebhookVerificationError('invalid_payload', 'The signed body is not valid JSON')
  }
}

/**
 * Verifies a delivery and returns its parsed payload together with the delivery id (for
 * deduplication), timestamp, scheme, event name and attempt number. `eventName` is the payload's
 * own `eventName` (covered by the signature) when it is a string, else the X-Delivery-Event header.
 */
export async function verifyWebhookDetailed<T = unknown>(
  body: WebhookBody,
  headers: WebhookHeaders,
  secret: string | readonly string[],
  options: VerifyOptions = {},
): Promise<VerifiedWebhook<T>> {
  const verified = await verifyWebhookSignature(body, headers, secret, options)
  const payload = parsePayload(body) as T
  const signedName =
    typeof payload === 'object' && payload !== null
      ? (payload as { eventName?: unknown }).eventName
      : undefined
  return { ...verified, eventName: typeof signedName === 'string' ? signedName : verified.eventName, payload }
}

/**
 * Verifies a delivery and returns its parsed JSON payload, only once the signature holds.
 * Rejects with a {@link WebhookVerificationError} (`err.code` says why) otherwise.
 */
export async function verifyWebhook<T = unknown>(
  body: WebhookBody,
  headers: WebhookHeaders,
  secret: string | readonly string[],
  options: VerifyOptions = {},
): Promise<T> {
  await verifyWebhookSignature(body, headers, secret, options)
  return parsePayload(body) as T
}
