// The outbound port. The worker hands a signed request to a Sender; an endpoint that fails is
// an outcome value, never an exception. src/outbound implements it with undici.

export interface OutboundRequest {
  url: string
  headers: Record<string, string>
  body: Buffer
  /** One total deadline for connect, send, headers and body. */
  timeoutMs: number
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
