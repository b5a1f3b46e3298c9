// Sends operational events to the operator's webhook URL, signed like every delivery (both
// headers, keyed with the operator secret), retried with backoff, at most 20 times each.
import type { Sender } from '../deliveries/sender.ts'
import type { Logger } from '../shared/logger.ts'
import { signDelivery, signingKey } from '../signing/signature.ts'
import type { Store } from '../store/store.ts'

export interface OperatorNotifierOptions {
  store: Store
  sender: Sender
  url: string
  secret: string
  userAgent: string
  timeoutMs: number
  log: Logger
  now?: () => number
}

const batch = 50

export class OperatorNotifier {
  readonly #o: Required<OperatorNotifierOptions>
  readonly #key

  constructor(o: OperatorNotifierOptions) {
    this.#o = { now: Date.now, ...o }
    this.#key = signingKey(o.secret)
  }

  /** Sends what is due; returns how many were sent. */
  async tick(): Promise<number> {
    const o = this.#o
    const now = o.now()
    const events = await o.store.operationalEvents.claimUnsent(now, batch, o.timeoutMs * 2 + 10_000)
    const sent: string[] = []
    await Promise.all(
      events.map(async (e) => {
        const body = Buffer.from(
          JSON.stringify({
            id: e.id,
            type: e.type,
            environmentId: e.envId,
            created: new Date(e.created).toISOString(),
            data: e.data,
          }),
        )
        const ts = Math.floor(o.now() / 1000)
        const outcome = await o.sender.send({
          url: o.url,
          body,
          timeoutMs: o.timeoutMs,
          headers: {
            'content-type': 'application/json',
            'user-agent': o.userAgent,
            'x-delivery-event': e.type,
            'x-delivery-attempt': String(e.sendAttempts),
            ...signDelivery([this.#key], e.id, ts, body, 'hex'),
          },
        })
        if (outcome.kind === 'response' && outcome.statusCode >= 200 && outcome.statusCode < 300)
          sent.push(e.id)
        else {
          const delay = Math.min(3_600_000, 5000 * 2 ** Math.min(e.sendAttempts, 10))
          await o.store.operationalEvents.markUnsent(e.id, o.now() + delay)
          o.log.warn(
            {
              operationalEventId: e.id,
              outcome:
                outcome.kind === 'response'
                  ? outcome.statusCode
                  : outcome.kind === 'error'
                    ? outcome.code
                    : outcome.kind,
            },
            'operator webhook did not accept an operational event; will retry',
          )
        }
      }),
    )
    await o.store.operationalEvents.markSent(sent, o.now())
    return sent.length
  }
}
