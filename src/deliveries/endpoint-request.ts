// What a subscription's endpoint settings add to an attempt: its static headers, its
// Authorization (basic, bearer, or an OAuth2 token), its client certificate (mTLS). The secrets
// are opened once per stored version and kept in memory only; what the attempt log records
// shows every one of them as "****".
import { createHash } from 'node:crypto'
import type { SecretBox } from '../secrets/secret-box.ts'
import type { SubscriptionRow } from '../store/store.ts'
import { masked, openEndpointSecrets } from '../subscriptions/endpoint-auth.ts'
import type { OAuth2Grant, OAuth2Tokens } from './oauth2-tokens.ts'
import type { AttemptOutcome, ClientIdentity, OutboundRequest, Sender } from './sender.ts'

export interface EndpointSettings {
  /** Static headers and a fixed Authorization (basic, bearer). */
  headers: Record<string, string>
  oauth2?: OAuth2Grant
  clientIdentity?: ClientIdentity
}

const maxCached = 10_000

/** The opened settings of each subscription, by id; a new ciphertext (update, re-seal) opens again. */
export class EndpointSettingsCache {
  readonly #box: SecretBox | undefined
  readonly #opened = new Map<string, { ciphertext: string; settings: EndpointSettings }>()

  constructor(box: SecretBox | undefined) {
    this.#box = box
  }

  for(row: SubscriptionRow | undefined): EndpointSettings | undefined {
    const e = row?.endpoint
    if (!row || !e) return undefined
    const hit = this.#opened.get(row.id)
    if (hit?.ciphertext === e.sealed.ciphertext) return hit.settings
    if (!this.#box) throw new Error('endpoint settings need the secret box')
    const s = openEndpointSecrets(this.#box, row.envId, row.id, e)
    const settings: EndpointSettings = { headers: { ...s.headers } }
    const a = e.auth
    if (a?.type === 'basic')
      settings.headers['authorization'] =
        `Basic ${Buffer.from(`${a.username}:${s.password ?? ''}`, 'utf8').toString('base64')}`
    else if (a?.type === 'bearer') settings.headers['authorization'] = `Bearer ${s.token ?? ''}`
    else if (a?.type === 'oauth2')
      settings.oauth2 = {
        tokenUrl: a.tokenUrl,
        clientId: a.clientId,
        clientSecret: s.clientSecret ?? '',
        scope: a.scope,
      }
    else if (a?.type === 'mtls') {
      const privateKey = s.privateKey ?? ''
      settings.clientIdentity = {
        id: createHash('sha256').update(a.certificate).update('\0').update(privateKey).digest('base64url'),
        certificate: a.certificate,
        privateKey,
      }
    }
    if (this.#opened.size >= maxCached) this.#opened.delete(this.#opened.keys().next().value!)
    this.#opened.set(row.id, { ciphertext: e.sealed.ciphertext, settings })
    return settings
  }
}

/** The request headers as the attempt log keeps them: the endpoint's secrets as "****". */
export function recordedHeaders(
  headers: Record<string, string>,
  settings: EndpointSettings | undefined,
): Record<string, string> {
  if (!settings) return headers
  const out: Record<string, string> = {}
  for (const name of Object.keys(settings.headers)) out[name] = masked
  Object.assign(out, headers)
  if (settings.oauth2) out['authorization'] = masked
  return out
}

/**
 * One attempt with the endpoint's settings. With OAuth2, one deadline covers the token request
 * and the send. A 401 to a cached token forgets it and, while the deadline allows, fetches a new
 * one and sends once more within this attempt (the same bytes and signature); a 401 to a token
 * fetched for this attempt is the attempt's outcome.
 */
export async function sendToEndpoint(
  sender: Sender,
  tokens: OAuth2Tokens,
  req: OutboundRequest,
  settings: EndpointSettings | undefined,
): Promise<AttemptOutcome> {
  if (!settings) return sender.send(req)
  // Hookpost's own headers win (validation already refuses a static header that would clash).
  const headers = { ...settings.headers, ...req.headers }
  const base: OutboundRequest = {
    ...req,
    headers,
    ...(settings.clientIdentity ? { clientIdentity: settings.clientIdentity } : {}),
  }
  const grant = settings.oauth2
  if (!grant) return sender.send(base)
  const started = performance.now()
  const left = () => req.timeoutMs - Math.round(performance.now() - started)
  const withToken = async (): Promise<{ outcome: AttemptOutcome; token?: string; fresh?: boolean }> => {
    const t = await tokens.get(grant, Math.max(1, left()))
    if (!t.ok) return { outcome: t.outcome }
    const budget = left()
    if (budget <= 0)
      return {
        outcome: {
          kind: 'error',
          code: 'timeout',
          message: `no complete response within ${req.timeoutMs} ms`,
          durationMs: 0,
        },
      }
    const outcome = await sender.send({
      ...base,
      headers: { ...headers, authorization: `Bearer ${t.token}` },
      timeoutMs: budget,
    })
    return { outcome, token: t.token, fresh: t.fresh }
  }
  let r = await withToken()
  if (r.outcome.kind === 'response' && r.outcome.statusCode === 401 && r.token !== undefined) {
    tokens.reject(grant, r.token)
    if (!r.fresh && left() > 0) r = await withToken()
  }
  return { ...r.outcome, durationMs: Math.round(performance.now() - started) }
}
