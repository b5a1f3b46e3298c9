// The destination seam: a destination type is one module that describes its configuration
// (validated by check-destination.ts from that description), opens and pools its connections,
// and publishes one signed delivery, answering an AttemptOutcome. The worker, the retry
// policy, health, replay and the delivery log never learn which type they served: they see
// the Sender port (src/deliveries/sender.ts), which destination-sender.ts implements by type.
// Adding a type: one module here, one line in registry.ts, a section in docs/destinations.md.
import type { LookupFunction } from 'node:net'
import type { AttemptOutcome } from '../deliveries/sender.ts'
import type { CompiledAddressPolicy } from '../network/address-policy.ts'
import type { DestinationTypeInfo } from '../subscriptions/destination.ts'

/** One field of a type besides `url`. */
export interface DestinationField {
  name: string
  description: string
  example: string
  /** What a valid value looks like (checked at registration). */
  pattern: RegExp
  /** Said when the value does not match. */
  rule: string
  maxLength: number
}

/** One delivery, signed: the body's exact bytes and the headers of an HTTP delivery. */
export interface BrokerMessage {
  body: Buffer
  /** The carrier's headers, names as the contract spells them (broker-message.ts). */
  headers: Readonly<Record<string, string>>
  /** The delivery id (`webhook-id`): the message id where the carrier has one. */
  id: string
}

/** What a publish needs: where (the URL with its credentials, opened) and the type's fields. */
export interface BrokerTarget {
  url: URL
  fields: Readonly<Record<string, string>>
}

/** How a type reaches a broker: the sending policy's address check, applied before connecting. */
export interface ConnectContext {
  policy: CompiledAddressPolicy
  /** The resolver (default dns.lookup). */
  lookup?: LookupFunction | undefined
  /** Connect deadline. */
  connectTimeoutMs: number
  /**
   * The CAs a TLS connection trusts: the system's plus HOOKPOST_EXTRA_CA_CERTS, as for HTTP
   * endpoints (src/outbound/outbound-tls.ts). Undefined: Node's defaults (the system's).
   */
  ca?: readonly string[] | undefined
}

/** One open connection to one broker URL; pooled by connection-pool.ts. */
export interface BrokerConnection {
  /** Resolves with the outcome; rejects only for a failure that should close this connection. */
  publish(target: BrokerTarget, message: BrokerMessage, timeoutMs: number): Promise<AttemptOutcome>
  /** Told when the connection is lost (then the pool opens a new one on the next publish). */
  onClose(listener: () => void): void
  close(): Promise<void>
}

export interface BrokerDestinationType extends DestinationTypeInfo {
  /** URL schemes, with the colon: the plain ones need HOOKPOST_ALLOW_HTTP, like http://. */
  schemes: { plain: readonly string[]; tls: readonly string[] }
  defaultPort: { plain: number; tls: number }
  fields: readonly DestinationField[]
  /**
   * The path of the URL (AMQP's vhost, Redis's db): refuse what the type cannot use. Undefined
   * when it is fine; the reason otherwise.
   */
  checkUrl?(url: URL): string | undefined
  /**
   * Opens a connection to `url` at `address` (already checked by the sending policy: connect
   * there, never to the name again; TLS still verifies the name).
   */
  connect(url: URL, address: string, ctx: ConnectContext): Promise<BrokerConnection>
}
