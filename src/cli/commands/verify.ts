// `hookpost verify`: checks a saved request (its body bytes and its headers) against a signing
// secret with @hookpost/verify, the library receivers use, and prints a verdict per scheme.
import { readFile } from 'node:fs/promises'
import type { Command } from 'commander'
import { verifyWebhookSignature, type WebhookScheme } from '../../../packages/verify/src/index.ts'
import { exitCode, output, UsageError } from '../output.ts'

type Headers = Record<string, string | string[]>

/**
 * A JSON object of headers (`{"webhook-id": "…"}`, values strings or arrays), or raw lines
 * `Name: value` as copied from a request dump (a request line first and blank lines are skipped).
 */
export function parseHeaders(text: string): Headers {
  const trimmed = text.trim()
  if (trimmed.startsWith('{')) {
    let parsed: unknown
    try {
      parsed = JSON.parse(trimmed)
    } catch (e) {
      throw new Error(`the headers file looks like JSON but does not parse: ${(e as Error).message}`)
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new Error('the headers file must hold a JSON object of header names to values')
    }
    const out: Headers = {}
    for (const [k, v] of Object.entries(parsed)) {
      if (typeof v === 'string' || typeof v === 'number') out[k.toLowerCase()] = String(v)
      else if (Array.isArray(v)) out[k.toLowerCase()] = v.map(String)
    }
    return out
  }
  const out: Headers = {}
  for (const line of trimmed.split(/\r?\n/)) {
    if (line.trim() === '' || /^[A-Z]+ \S+ HTTP\/\d/.test(line) || /^HTTP\/\d/.test(line)) continue
    const i = line.indexOf(':')
    if (i <= 0) throw new Error(`not a header line: ${JSON.stringify(line.slice(0, 80))}`)
    const name = line.slice(0, i).trim().toLowerCase()
    const value = line.slice(i + 1).trim()
    const prev = out[name]
    out[name] = prev === undefined ? value : [...(Array.isArray(prev) ? prev : [prev]), value]
  }
  return out
}

const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v)

const schemeHeader: Record<WebhookScheme, string> = {
  basekit: 'X-Delivery-Hmac-SHA256',
  standard: 'webhook-signature (Standard Webhooks)',
}

export interface VerifyReport {
  ok: boolean
  lines: string[]
  /** Per scheme: 'ok', or the failure's code (or message). */
  schemes: Partial<Record<WebhookScheme, string>>
}

export async function verifySaved(o: {
  body: Buffer
  headers: Headers
  secrets: string[]
  schemes: WebhookScheme[]
  toleranceSeconds: number
  ignoreTimestamp: boolean
  now?: number
}): Promise<VerifyReport> {
  const now = o.now ?? Date.now()
  const rawTs = first(o.headers['webhook-timestamp'] ?? o.headers['svix-timestamp'])
  const ts = rawTs !== undefined && /^\d{1,15}$/.test(rawTs) ? Number(rawTs) : undefined
  const ignore = o.ignoreTimestamp || o.toleranceSeconds === 0
  const lines: string[] = []
  const schemes: VerifyReport['schemes'] = {}
  let ok = true
  for (const scheme of o.schemes) {
    try {
      const v = await verifyWebhookSignature(o.body, o.headers, o.secrets, {
        scheme,
        toleranceSeconds: o.toleranceSeconds,
        // Checking an old saved request: judge the timestamp as of its own time.
        now: () => (ignore && ts !== undefined ? ts * 1000 : now),
      })
      let note = ''
      if (v.timestamp !== null) {
        const age = Math.round(now / 1000 - v.timestamp)
        note = ignore
          ? ` (signed ${age} s ago; timestamp not checked)`
          : ` (signed ${age} s ago, within ${o.toleranceSeconds} s)`
      }
      lines.push(`${schemeHeader[scheme]}: ok${note}`)
      schemes[scheme] = 'ok'
    } catch (e) {
      ok = false
      const code = (e as { code?: unknown }).code
      schemes[scheme] = typeof code === 'string' ? code : (e as Error).message
      lines.push(
        `${schemeHeader[scheme]}: FAILED ${typeof code === 'string' ? `${code}: ` : ''}${(e as Error).message}`,
      )
    }
  }
  const id = first(o.headers['webhook-id'])
  const event = first(o.headers['x-delivery-event'])
  if (id || event) lines.unshift(`delivery ${id ?? '-'} ${event ?? ''}`.trimEnd())
  lines.push(ok ? 'verdict: accepted' : 'verdict: REFUSED')
  return { ok, lines, schemes }
}

export function register(program: Command): void {
  program
    .command('verify')
    .description('check the signatures of a saved request (exits 0 when every scheme checked holds, else 1)')
    .requiredOption('--secret <whsec>', 'the signing secret (whsec_…); comma-separated to try several')
    .requiredOption('--body <file>', 'the raw body bytes, exactly as received')
    .requiredOption('--headers <file>', 'the headers: a JSON object, or `Name: value` lines')
    .option(
      '--scheme <scheme>',
      'both, basekit (X-Delivery-Hmac-SHA256) or standard (webhook-signature)',
      'both',
    )
    .option('--tolerance <seconds>', 'allowed age of webhook-timestamp; 0 does not check it', '300')
    .option('--ignore-timestamp', 'do not check the age of webhook-timestamp (old saved requests)')
    .action(async (flags: Record<string, string | boolean | undefined>) => {
      const tolerance = Number(flags['tolerance'])
      if (!Number.isFinite(tolerance) || tolerance < 0)
        throw new UsageError('--tolerance must be seconds >= 0')
      const scheme = String(flags['scheme'])
      if (!['both', 'basekit', 'standard'].includes(scheme)) {
        throw new UsageError('--scheme must be both, basekit or standard')
      }
      const secrets = String(flags['secret'])
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '')
      const report = await verifySaved({
        body: await readFile(String(flags['body'])),
        headers: parseHeaders(await readFile(String(flags['headers']), 'utf8')),
        secrets,
        schemes: scheme === 'both' ? ['basekit', 'standard'] : [scheme as WebhookScheme],
        toleranceSeconds: tolerance,
        ignoreTimestamp: flags['ignoreTimestamp'] === true,
      })
      output(flags, { accepted: report.ok, schemes: report.schemes }, () => report.lines.join('\n'))
      if (!report.ok) process.exitCode = exitCode.failed
    })
}
