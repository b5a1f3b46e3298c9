// The outbound port. The worker hands a signed request to a Sender; an endpoint that fails is
// an outcome value, never an exception. src/outbound implements it with undici.

export interface OutboundRequest {
  url: string
  headers: Record<string, string>
  body: Buffer
  /** One total deadline for connect, send, headers and body. */
  timeoutMs: number
  /**
   * The subscription's destination when it is not an HTTP POST to `url` (a broker), as stored;
   * the Sender behind this port picks the destination type (src/destinations/).
   */
  destination?: OutboundDestination | undefined
  /** mTLS: the subscription's client certificate; the sender keeps one connection pool per id. */
  clientIdentity?: ClientIdentity
}

/** A broker destination: its environment (its sealed URL is bound to it) and stored form. */
export interface OutboundDestination {
  envId: string
  type: string
  fields: Readonly<Record<string, string>>
  sealedUrl: { keyId: string; ciphertext: string } | null
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
  // Message brokers (docs/destinations.md)
  /** No connection to the broker (refused, DNS, closed before the answer). */
  | 'broker_unreachable'
  /** The broker refused the credentials or the virtual host. */
  | 'broker_auth_failed'
  /** The broker answered the publish with a negative acknowledgement. */
  | 'broker_nack'
  /** The broker refused the publish: no such exchange, no permission, a bad argument. */
  | 'broker_refused'
  /** NATS: no JetStream stream captures the subject. */
  | 'no_stream'
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
      /** A message broker took the delivery: its publisher confirm, stream ack or entry id. */
      kind: 'acknowledged'
      /** The broker's answer as the attempt log shows it (e.g. the entry id). */
      answer: string
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
