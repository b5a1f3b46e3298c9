// The outbound port. The worker hands a signed request to a Sender; an endpoint that fails is
// an outcome value, never an exception. src/outbound implements it with undici.

export interface OutboundRequest {
  url: string
  headers: Record<string, string>
  body: Buffer
  /** One total deadline for connect, send, headers and body. */
  timeoutMs: number
  /** mTLS: the subscription's client certificate; the sender keeps one connection pool per id. */
  clientIdentity?: ClientIdentity
}

export interface ClientIdentity {
  /** Names the certificate and key (a digest of both): the pool's key. */
  id: string
  /** PEM, the chain after the leaf if any. */
  certificate: string
  /** PEM. */
  privateKey: string
}

export type SendErrorCode =
  | 'timeout'
  | 'connection_refused'
  | 'dns_failure'
  | 'tls_failure'
  | 'blocked_address'
  | 'connection_reset'
  | 'network_error'
  | 'invalid_url'
  /** The OAuth2 token of the subscription's auth could not be had (src/deliveries/oauth2-tokens.ts). */
  | 'oauth2_token_error'
  /** HOOKPOST_EGRESS_PROXY failed (refused, CONNECT answered non-2xx, no answer): not the endpoint's fault. */
  | 'proxy_error'

export type AttemptOutcome =
  | {
      kind: 'response'
      statusCode: number
      headers: Record<string, string>
      /** At most maxResponseBodyBytes, decoded as UTF-8. */
      body: string
      durationMs: number
    }
  | {
      kind: 'error'
      code: SendErrorCode
      /** Shown to the tenant (the attempt log): never an address a name resolved to. */
      message: string
      durationMs: number
      /** For the server log only: the message with the addresses involved. */
      detail?: string
    }

export interface Sender {
  send(req: OutboundRequest): Promise<AttemptOutcome>
  close(): Promise<void>
}

export const maxResponseBodyBytes = 64 * 1024
