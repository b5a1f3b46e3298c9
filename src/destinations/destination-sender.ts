// The Sender the worker talks to, over every registered destination type: a request without a
// broker destination goes to the HTTP sender (the threaded undici sender, unchanged), one with
// a destination to the broker port (broker-publisher.ts, in the sending thread or in process).
// The destination's sealed URL is opened here, once per destination, not per delivery.
import type { AttemptOutcome, OutboundDestination, OutboundRequest, Sender } from '../deliveries/sender.ts'
import type { BrokerPort } from '../outbound/broker-port.ts'

export interface DestinationSenderOptions {
  /** The http type: the existing HTTP sender. */
  http: Sender
  brokers: BrokerPort & { close?(): Promise<void> }
  /** Opens a sealed destination URL (the secret box, bound to the environment). */
  openUrl(sealed: { keyId: string; ciphertext: string }, envId: string): string
}

interface Opened {
  key: string
  url: string
  fields: Readonly<Record<string, string>>
}

export class DestinationSender implements Sender {
  readonly #o: DestinationSenderOptions
  /** Opened URLs by ciphertext: opening costs an AES-GCM decryption per delivery otherwise. */
  readonly #urls = new Map<string, string>()
  readonly #opened = new WeakMap<object, Opened>()

  constructor(o: DestinationSenderOptions) {
    this.#o = o
  }

  send(req: OutboundRequest): Promise<AttemptOutcome> {
    const d = req.destination
    if (!d || d.type === 'http') return this.#o.http.send(req)
    const { key, url, fields } = this.#openedOf(d)
    return this.#o.brokers.publish({
      type: d.type,
      key,
      url,
      fields,
      body: req.body,
      headers: req.headers,
      timeoutMs: req.timeoutMs,
    })
  }

  #urlOf(d: OutboundDestination): string {
    const sealed = d.sealedUrl
    if (!sealed) return d.fields['url'] ?? ''
    let u = this.#urls.get(sealed.ciphertext)
    if (u === undefined) {
      u = this.#o.openUrl(sealed, d.envId)
      if (this.#urls.size > 10_000) this.#urls.clear()
      this.#urls.set(sealed.ciphertext, u)
    }
    return u
  }

  /** Where a destination publishes: its URL opened, its fields without the (shown) url. */
  #openedOf(d: OutboundDestination): Opened {
    // Keyed by the fields object, which the subscription cache keeps for as long as the row.
    let o = this.#opened.get(d.fields)
    if (!o) {
      const { url: _shown, ...fields } = d.fields
      const url = this.#urlOf(d)
      o = { key: JSON.stringify([d.type, url, fields]), url, fields }
      this.#opened.set(d.fields, o)
    }
    return o
  }

  async close(): Promise<void> {
    await Promise.all([this.#o.http.close(), this.#o.brokers.close?.()])
  }
}
