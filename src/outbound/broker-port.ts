// Where a broker delivery goes once its destination's URL is opened (src/destinations/
// destination-sender.ts): the BrokerPublisher in process, or the sending thread that runs one
// (threaded-sender.ts). Outbound's own port, beside the core's Sender: the core never sees it.
import type { AttemptOutcome } from '../deliveries/sender.ts'

/** One delivery to a broker: what crosses to the sending thread. */
export interface BrokerRequest {
  type: string
  /** Names the url and fields below (the same for every delivery to the same destination). */
  key: string
  /** The destination URL, opened (credentials included): never logged, never stored. */
  url: string
  /** The type's fields, without `url`. */
  fields: Readonly<Record<string, string>>
  body: Buffer
  /** The worker's (HTTP) headers: the carrier's names are chosen here. */
  headers: Readonly<Record<string, string>>
  timeoutMs: number
}

/** Where broker requests go: a BrokerPublisher, or the sending thread that runs one. */
export interface BrokerPort {
  publish(req: BrokerRequest): Promise<AttemptOutcome>
}
