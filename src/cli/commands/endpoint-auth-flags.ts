// The flags of `subscriptions create|update` for endpoint authentication and static headers
// (docs/cli.md): parsed into the API's `auth` and `headers`, nothing else. A secret flag's value
// `@path` is read from that file, so that it stays out of shell history.
import { readFileSync } from 'node:fs'
import type { Command } from 'commander'
import type { Flags } from '../api-client.ts'
import { UsageError } from '../output.ts'

const collect = (v: string, all: string[] = []) => [...all, v]

export function withEndpointAuthOptions(cmd: Command, update: boolean): Command {
  cmd
    .option('--auth-basic <user:password>', 'HTTP Basic auth to the endpoint (password: @file reads it)')
    .option('--auth-bearer <token>', 'a bearer token for the endpoint (@file reads it)')
    .option(
      '--auth-oauth2 <tokenUrl>',
      'OAuth2 client credentials: the token URL (with --client-id, --client-secret)',
    )
    .option('--client-id <id>', 'OAuth2 client id')
    .option('--client-secret <secret>', 'OAuth2 client secret (@file reads it)')
    .option('--scope <scope>', 'OAuth2 scope (optional)')
    .option('--mtls-cert <file>', 'mTLS: the client certificate, PEM (with --mtls-key)')
    .option('--mtls-key <file>', 'mTLS: its private key, PEM')
    .option(
      '--header <name:value>',
      'a static header sent with every delivery (repeatable; value: @file reads it)',
      collect,
    )
  if (update) {
    cmd
      .option('--clear-auth', 'remove the endpoint authentication')
      .option('--clear-headers', 'remove every static header')
  }
  return cmd
}

function secret(raw: string, what: string): string {
  if (!raw.startsWith('@')) return raw
  try {
    return readFileSync(raw.slice(1), 'utf8').replace(/\r?\n$/, '')
  } catch (e) {
    throw new UsageError(`${what}: cannot read ${raw.slice(1)} (${(e as NodeJS.ErrnoException).code ?? e})`)
  }
}

function file(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (e) {
    throw new UsageError(`${what}: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? e})`)
  }
}

const str = (flags: Flags, k: string) => (typeof flags[k] === 'string' ? (flags[k] as string) : undefined)

/** The `auth` the flags ask for: undefined when they say nothing, null for --clear-auth. */
export function authOf(flags: Flags): Record<string, string> | null | undefined {
  const basic = str(flags, 'authBasic')
  const bearer = str(flags, 'authBearer')
  const oauth2 = str(flags, 'authOauth2')
  const cert = str(flags, 'mtlsCert')
  const key = str(flags, 'mtlsKey')
  const chosen = [basic, bearer, oauth2, cert ?? key].filter((x) => x !== undefined).length
  if (chosen > 1)
    throw new UsageError('give one of --auth-basic, --auth-bearer, --auth-oauth2, --mtls-cert/--mtls-key')
  if (flags['clearAuth'] === true) {
    if (chosen > 0) throw new UsageError('--clear-auth with an --auth flag: give one or the other')
    return null
  }
  if (basic !== undefined) {
    const i = basic.indexOf(':')
    if (i <= 0) throw new UsageError('--auth-basic takes user:password')
    return {
      type: 'basic',
      username: basic.slice(0, i),
      password: secret(basic.slice(i + 1), '--auth-basic'),
    }
  }
  if (bearer !== undefined) return { type: 'bearer', token: secret(bearer, '--auth-bearer') }
  if (oauth2 !== undefined) {
    const clientId = str(flags, 'clientId')
    const clientSecret = str(flags, 'clientSecret')
    if (!clientId || !clientSecret)
      throw new UsageError('--auth-oauth2 needs --client-id and --client-secret')
    const scope = str(flags, 'scope')
    return {
      type: 'oauth2',
      tokenUrl: oauth2,
      clientId,
      clientSecret: secret(clientSecret, '--client-secret'),
      ...(scope ? { scope } : {}),
    }
  }
  if (cert !== undefined || key !== undefined) {
    if (!cert || !key) throw new UsageError('--mtls-cert and --mtls-key go together')
    return { type: 'mtls', certificate: file(cert, '--mtls-cert'), privateKey: file(key, '--mtls-key') }
  }
  return undefined
}

/**
 * The `headers` the flags ask for: undefined when they say nothing, null for --clear-headers.
 * `kept` (update): the stored header names, sent as "****" so that they stay.
 */
export function headersOf(
  flags: Flags,
  kept: readonly string[] = [],
): Record<string, string> | null | undefined {
  const given = Array.isArray(flags['header']) ? (flags['header'] as string[]) : []
  if (flags['clearHeaders'] === true) {
    if (given.length > 0) throw new UsageError('--clear-headers with --header: give one or the other')
    return null
  }
  if (given.length === 0) return undefined
  const out: Record<string, string> = Object.fromEntries(kept.map((n) => [n, '****']))
  for (const h of given) {
    const i = h.indexOf(':')
    if (i <= 0) throw new UsageError(`--header takes name:value, not "${h}"`)
    out[h.slice(0, i).trim().toLowerCase()] = secret(h.slice(i + 1).trim(), '--header')
  }
  return out
}
