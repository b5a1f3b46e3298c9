// A subscription's endpoint authentication and static headers (contract section 13): validated
// here, the secrets sealed with the secret box as one JSON per subscription, shown back only as
// "****". On update, a secret given as "****" (or left out) keeps the stored one.
// Pure: node:crypto for the client certificate check, nothing else.
import { createPrivateKey, X509Certificate } from 'node:crypto'
import type { SecretBox } from '../secrets/secret-box.ts'
import { AppError, type ErrorCode } from '../shared/errors.ts'
import type { EndpointAuthPublic, EndpointAuthRow } from '../store/store.ts'
import { isReservedHeader } from './reserved-headers.ts'
import type { UrlCheck } from './subscriptions.ts'

export const masked = '****' as const

export type EndpointAuthIn =
  | { type: 'basic'; username: string; password?: string | undefined }
  | { type: 'bearer'; token?: string | undefined }
  | {
      type: 'oauth2'
      tokenUrl: string
      clientId: string
      clientSecret?: string | undefined
      scope?: string | undefined
    }
  | { type: 'mtls'; certificate: string; privateKey?: string | undefined }

/** What is sealed: every secret of a subscription's endpoint settings. */
export interface EndpointSecrets {
  password?: string
  token?: string
  clientSecret?: string
  privateKey?: string
  headers: Record<string, string>
}

/** Limits (docs/security.md). */
export const endpointLimits = {
  headers: 20,
  headerName: 100,
  headerValue: 2048,
  headersTotal: 8192,
  username: 200,
  password: 1024,
  token: 4096,
  clientId: 500,
  clientSecret: 1024,
  scope: 1024,
  tokenUrl: 2048,
  pem: 16_384,
} as const

const tokenChars = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
// Visible ASCII, spaces and tabs inside: no CR, LF or other control characters.
const fieldValue = /^[\x21-\x7e](?:[\x20-\x7e\t]*[\x21-\x7e])?$/

export function endpointAssociatedData(envId: string, subscriptionId: string): string {
  return `hookpost:endpoint-auth:${envId}:${subscriptionId}`
}

function bad(code: ErrorCode, path: string, message: string): AppError {
  return new AppError(code, { message, details: [{ path, message }] })
}

/** A secret field: the new value, the stored one ("****" or absent on update), or a 400. */
function secret(given: string | undefined, stored: string | undefined, path: string, max: number): string {
  if (given === undefined || given === masked) {
    if (stored !== undefined) return stored
    throw bad('endpoint_auth_invalid', path, `${path.split('/').pop()} is required`)
  }
  if (given.length === 0 || given.length > max)
    throw bad('endpoint_auth_invalid', path, `must be 1 to ${max} characters`)
  return given
}

function text(v: unknown, path: string, max: number, pattern?: RegExp): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > max)
    throw bad('endpoint_auth_invalid', path, `must be a string of 1 to ${max} characters`)
  if (pattern && !pattern.test(v)) throw bad('endpoint_auth_invalid', path, 'contains characters not allowed')
  return v
}

/** The client certificate and key of mTLS: both PEM, a pair, valid now. */
/** How far in the future a client certificate's start may be and still be accepted. */
const notBeforeSkewMs = 5 * 60_000

export function checkClientIdentity(certificate: string, privateKey: string, now: number): void {
  let cert: X509Certificate
  try {
    cert = new X509Certificate(certificate)
  } catch {
    throw bad('client_certificate_invalid', '/auth/certificate', 'not a PEM X.509 certificate')
  }
  let key: ReturnType<typeof createPrivateKey>
  try {
    key = createPrivateKey(privateKey)
  } catch {
    throw bad('client_certificate_invalid', '/auth/privateKey', 'not an unencrypted PEM private key')
  }
  if (!cert.checkPrivateKey(key))
    throw bad('client_key_mismatch', '/auth/privateKey', 'the private key does not belong to the certificate')
  if (Date.parse(cert.validTo) <= now)
    throw bad('client_certificate_expired', '/auth/certificate', `the certificate expired on ${cert.validTo}`)
  // A certificate issued moments ago by a machine whose clock runs a little ahead is normal.
  if (Date.parse(cert.validFrom) > now + notBeforeSkewMs)
    throw bad(
      'client_certificate_expired',
      '/auth/certificate',
      `the certificate is valid from ${cert.validFrom}`,
    )
}

function checkHeaders(
  given: Record<string, string>,
  stored: Record<string, string>,
  hasAuth: boolean,
): Record<string, string> {
  const out: Record<string, string> = {}
  const entries = Object.entries(given)
  if (entries.length > endpointLimits.headers)
    throw bad('header_invalid', '/headers', `at most ${endpointLimits.headers} headers`)
  let total = 0
  for (const [rawName, value] of entries) {
    const path = `/headers/${rawName.replace(/~/g, '~0').replace(/\//g, '~1')}`
    const name = rawName.toLowerCase()
    if (name.length === 0 || name.length > endpointLimits.headerName || !tokenChars.test(name))
      throw bad('header_invalid', path, 'not a valid header name')
    if (isReservedHeader(name))
      throw bad('header_not_allowed', path, `${name} is set by Hookpost and cannot be overridden`)
    if (name === 'authorization' && hasAuth)
      throw bad('header_not_allowed', path, 'authorization comes from auth when auth is set')
    if (name in out) throw bad('header_invalid', path, `${name} is given twice`)
    let v: string
    if (value === masked) {
      const kept = stored[name]
      if (kept === undefined) throw bad('header_invalid', path, 'no stored value to keep')
      v = kept
    } else v = value
    if (typeof v !== 'string' || v.length > endpointLimits.headerValue || !fieldValue.test(v))
      throw bad(
        'header_invalid',
        path,
        `the value must be 1 to ${endpointLimits.headerValue} visible ASCII characters`,
      )
    total += name.length + v.length
    out[name] = v
  }
  if (total > endpointLimits.headersTotal)
    throw bad(
      'header_invalid',
      '/headers',
      `names and values add up to more than ${endpointLimits.headersTotal} characters`,
    )
  return out
}

export interface EndpointInput {
  /** undefined: unchanged (update) or none (create); null: removed. */
  auth?: EndpointAuthIn | null | undefined
  headers?: Record<string, string> | null | undefined
}

export interface EndpointContext {
  box: SecretBox
  envId: string
  subscriptionId: string
  checkUrl: UrlCheck
  now: number
}

/** Opens a row's secrets. */
export function openEndpointSecrets(
  box: SecretBox,
  envId: string,
  subscriptionId: string,
  row: EndpointAuthRow,
): EndpointSecrets {
  return JSON.parse(box.open(row.sealed, endpointAssociatedData(envId, subscriptionId))) as EndpointSecrets
}

/**
 * The endpoint settings to store: validated, secrets sealed. `current` is the stored row on
 * update (its secrets are kept where the input says "****" or leaves them out).
 */
export function buildEndpoint(
  input: EndpointInput,
  current: EndpointAuthRow | null | undefined,
  ctx: EndpointContext,
): EndpointAuthRow | null | undefined {
  if (input.auth === undefined && input.headers === undefined) return current ?? null
  const stored: EndpointSecrets = current
    ? openEndpointSecrets(ctx.box, ctx.envId, ctx.subscriptionId, current)
    : { headers: {} }
  const storedAuth = current?.auth ?? null
  const a = input.auth === undefined ? keepAuth(storedAuth, stored) : input.auth
  const secrets: EndpointSecrets = { headers: {} }
  let auth: EndpointAuthPublic | null = null
  if (a !== null) {
    const same = storedAuth?.type === a.type
    const keep = (k: keyof Omit<EndpointSecrets, 'headers'>) => (same ? stored[k] : undefined)
    switch (a.type) {
      case 'basic': {
        const username = text(a.username, '/auth/username', endpointLimits.username, /^[^:\x00-\x1f\x7f]+$/)
        secrets.password = secret(a.password, keep('password'), '/auth/password', endpointLimits.password)
        auth = { type: 'basic', username }
        break
      }
      case 'bearer':
        secrets.token = secret(a.token, keep('token'), '/auth/token', endpointLimits.token)
        if (!fieldValue.test(secrets.token))
          throw bad('endpoint_auth_invalid', '/auth/token', 'must be visible ASCII characters')
        auth = { type: 'bearer' }
        break
      case 'oauth2': {
        const tokenUrl = text(a.tokenUrl, '/auth/tokenUrl', endpointLimits.tokenUrl)
        const v = ctx.checkUrl(tokenUrl)
        if (!v.ok) throw bad(v.code, '/auth/tokenUrl', v.reason)
        const clientId = text(a.clientId, '/auth/clientId', endpointLimits.clientId, /^[\x20-\x7e]+$/)
        secrets.clientSecret = secret(
          a.clientSecret,
          keep('clientSecret'),
          '/auth/clientSecret',
          endpointLimits.clientSecret,
        )
        auth = { type: 'oauth2', tokenUrl: v.url?.href ?? tokenUrl, clientId }
        if (a.scope !== undefined && a.scope !== '')
          auth.scope = text(a.scope, '/auth/scope', endpointLimits.scope, /^[\x21\x23-\x5b\x5d-\x7e ]+$/)
        break
      }
      case 'mtls': {
        const certificate = text(a.certificate, '/auth/certificate', endpointLimits.pem)
        secrets.privateKey = secret(a.privateKey, keep('privateKey'), '/auth/privateKey', endpointLimits.pem)
        checkClientIdentity(certificate, secrets.privateKey, ctx.now)
        auth = { type: 'mtls', certificate }
        break
      }
      default:
        throw bad('endpoint_auth_invalid', '/auth/type', 'must be basic, bearer, oauth2 or mtls')
    }
  }
  const headersIn =
    input.headers === undefined
      ? Object.fromEntries(Object.keys(stored.headers).map((k) => [k, masked]))
      : (input.headers ?? {})
  secrets.headers = checkHeaders(headersIn, stored.headers, auth !== null)
  const headerNames = Object.keys(secrets.headers)
  if (auth === null && headerNames.length === 0) return null
  const sealed = ctx.box.seal(JSON.stringify(secrets), endpointAssociatedData(ctx.envId, ctx.subscriptionId))
  return { auth, headerNames, sealed: { keyId: sealed.keyId, ciphertext: sealed.ciphertext } }
}

/** The stored auth as input again, its secrets masked (kept). */
function keepAuth(a: EndpointAuthPublic | null, s: EndpointSecrets): EndpointAuthIn | null {
  if (a === null) return null
  switch (a.type) {
    case 'basic':
      return { ...a, password: s.password === undefined ? undefined : masked }
    case 'bearer':
      return { ...a, token: masked }
    case 'oauth2':
      return { ...a, clientSecret: masked }
    case 'mtls':
      return { ...a, privateKey: masked }
  }
}

export type EndpointAuthView =
  | { type: 'basic'; username: string; password: typeof masked }
  | { type: 'bearer'; token: typeof masked }
  | { type: 'oauth2'; tokenUrl: string; clientId: string; clientSecret: typeof masked; scope?: string }
  | { type: 'mtls'; certificate: string; privateKey: typeof masked }

/**
 * What the API shows: every secret as "****". Without auth or headers the fields are left out,
 * so a v1 subscription's answer is exactly v1's.
 */
export function presentEndpoint(e: EndpointAuthRow | null | undefined): {
  auth?: EndpointAuthView
  headers?: Record<string, typeof masked>
} {
  if (!e) return {}
  const view = authView(e.auth)
  return {
    ...(view ? { auth: view } : {}),
    ...(e.headerNames.length > 0
      ? { headers: Object.fromEntries(e.headerNames.map((n) => [n, masked])) }
      : {}),
  }
}

function authView(a: EndpointAuthPublic | null): EndpointAuthView | undefined {
  if (a === null) return undefined
  switch (a.type) {
    case 'basic':
      return { type: 'basic', username: a.username, password: masked }
    case 'bearer':
      return { type: 'bearer', token: masked }
    case 'oauth2':
      return {
        type: 'oauth2',
        tokenUrl: a.tokenUrl,
        clientId: a.clientId,
        clientSecret: masked,
        ...(a.scope !== undefined ? { scope: a.scope } : {}),
      }
    case 'mtls':
      return { type: 'mtls', certificate: a.certificate, privateKey: masked }
  }
}
