// Transformations: a subscription's JavaScript `handler(webhook)`, run before every delivery
// attempt (docs/transformations.md). The core owns the rules: what a handler may return, which
// headers it may never set, that a new URL still obeys the sending policy. Running the code is
// the Transformer port's job, implemented by src/transformations/ (QuickJS in WebAssembly).
import { AppError } from '../shared/errors.ts'
import { isReservedHeader } from './reserved-headers.ts'
import type { UrlCheck } from './subscriptions.ts'

/** The largest transformation accepted, in UTF-8 bytes of its code (it fits the API's 64 KiB bodies). */
export const maxTransformationCodeBytes = 32 * 1024

/** What the handler is given, its payload as JSON text (the published bytes, never re-encoded). */
export interface TransformationInput {
  eventName: string
  payloadJson: string
  url: string
  headers: Record<string, string>
}

/** The sandbox's answer: the handler's result as JSON values, not yet held to the rules. */
export type SandboxResult =
  | {
      kind: 'result'
      eventName: unknown
      url: unknown
      headers: unknown
      /** The returned payload as JSON text; undefined when the result has no `payload`. */
      payloadJson: string | undefined
    }
  | { kind: 'cancel' }
  | { kind: 'error'; message: string }

export type CodeCheck = { ok: true } | { ok: false; message: string; line?: number; column?: number }

/** The sandbox port: compiles and runs untrusted code with no I/O, a time and a memory limit. */
export interface Transformer {
  /** Compiles the code and runs its top level: it must define a function `handler`. */
  check(code: string): Promise<CodeCheck>
  /**
   * Calls `handler` with the input. `cacheKey` (a subscription id) lets the sandbox keep the
   * compiled code between calls; without it the code is compiled for this call only.
   */
  run(code: string, input: TransformationInput, cacheKey?: string): Promise<SandboxResult>
}

/** What a delivery attempt does after its transformation. */
export type Transformed =
  | { kind: 'send'; eventName: string; url: string; headers: Record<string, string>; body: Buffer }
  | { kind: 'cancel' }
  | { kind: 'error'; message: string }

const headerName = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/
// Visible ASCII, space and tab: what every HTTP stack and broker header mechanism carries.
const headerValue = /^[\t\x20-\x7e]{0,4096}$/
const maxHeaders = 32

function checkHeaders(raw: unknown): Record<string, string> | string {
  if (raw === undefined || raw === null) return {}
  if (typeof raw !== 'object' || Array.isArray(raw)) return 'headers must be an object of strings'
  const out: Record<string, string> = {}
  const entries = Object.entries(raw as Record<string, unknown>)
  if (entries.length > maxHeaders) return `at most ${maxHeaders} headers may be added`
  for (const [name, value] of entries) {
    if (!headerName.test(name))
      return `header name ${JSON.stringify(name.slice(0, 100))} is not a valid HTTP token`
    if (isReservedHeader(name)) {
      return `header "${name.toLowerCase()}" is Hookpost's own (signature, identity, content, tracing or hop-by-hop): a transformation may not set it`
    }
    if (typeof value !== 'string')
      return `header "${name}" must be a string, not ${value === null ? 'null' : typeof value}`
    if (!headerValue.test(value))
      return `header "${name}" must be at most 4096 printable ASCII characters (no CR, LF or NUL)`
    out[name.toLowerCase()] = value
  }
  return out
}

/**
 * Runs a transformation and holds its result to the rules: an unchanged eventName, a URL the
 * sending policy accepts, no reserved header, a body within maxBodyBytes. With no `payload` in
 * the result the published bytes go out unchanged.
 */
export async function transform(
  deps: { transformer: Transformer; checkUrl: UrlCheck; maxBodyBytes: number },
  code: string,
  input: TransformationInput,
  cacheKey?: string,
): Promise<Transformed> {
  const r = await deps.transformer.run(code, input, cacheKey)
  if (r.kind !== 'result') return r
  if (r.eventName !== undefined && r.eventName !== input.eventName)
    return { kind: 'error', message: `eventName cannot be changed (it stays "${input.eventName}")` }
  let url = input.url
  if (r.url !== undefined && r.url !== input.url) {
    if (typeof r.url !== 'string') return { kind: 'error', message: 'url must be a string' }
    const v = deps.checkUrl(r.url)
    if (!v.ok) return { kind: 'error', message: `url refused by the sending policy: ${v.reason}` }
    url = v.url?.href ?? r.url
  }
  const headers = checkHeaders(r.headers)
  if (typeof headers === 'string') return { kind: 'error', message: headers }
  const body =
    r.payloadJson === undefined ? Buffer.from(input.payloadJson, 'utf8') : Buffer.from(r.payloadJson, 'utf8')
  if (body.length > deps.maxBodyBytes)
    return {
      kind: 'error',
      message: `the payload is ${body.length} bytes, over the limit of ${deps.maxBodyBytes}`,
    }
  return { kind: 'send', eventName: input.eventName, url, headers, body }
}

/**
 * The code to save, once it compiles and defines `handler`: 400 invalid_transformation naming
 * the problem (with its line and column when the engine gives them) otherwise.
 */
export async function checkTransformation(
  transformer: Transformer | undefined,
  code: unknown,
  path = '/transformation/code',
): Promise<string> {
  const bad = (message: string): never => {
    throw new AppError('invalid_transformation', { message, details: [{ path, message }] })
  }
  if (typeof code !== 'string' || code.trim() === '')
    return bad('code must be a non-empty string of JavaScript')
  const bytes = Buffer.byteLength(code, 'utf8')
  if (bytes > maxTransformationCodeBytes)
    return bad(`code is ${bytes} bytes, over the limit of ${maxTransformationCodeBytes}`)
  if (!transformer) return bad('this server has no transformation sandbox')
  const c = await transformer.check(code)
  if (!c.ok) return bad(c.message)
  return code
}
