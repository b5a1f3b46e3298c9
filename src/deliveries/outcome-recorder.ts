// Attempt outcomes recorded in batches: one store transaction for what a few milliseconds (or a
// full batch) gathered, fenced by each delivery's lease token, with the completion rules applied
// inside it. A store that is down keeps them buffered and retried; if we die first, the leases
// expire and the deliveries are attempted again (at least once).
import type { Failpoints } from '../shared/failpoints.ts'
import type { Logger } from '../shared/logger.ts'
import type { CompleteInput, CompletionRules, Store } from '../store/store.ts'
import { completionRules } from './completion-rules.ts'

const flushDelayMs = 5
const flushBatch = 256

export interface OutcomeRecorderOptions {
  store: Store
  log: Logger
  now: () => number
  failpoints: Failpoints
  /** A subscription failing without a success this long is deactivated. */
  disableAfterMs: number
  /** True once the worker stops: a store still down after a few tries is given up on. */
  stopping: () => boolean
  /** Told about each batch once it is recorded (inside the try: a throw counts as a failure). */
  recorded: (batch: readonly CompleteInput[]) => void
}

export class OutcomeRecorder {
  readonly #o: OutcomeRecorderOptions
  readonly #rules: CompletionRules
  #pending: CompleteInput[] = []
  #flushTimer: NodeJS.Timeout | undefined
  #flushing: Promise<void> = Promise.resolve()

  constructor(options: OutcomeRecorderOptions) {
    this.#o = options
    this.#rules = completionRules({ disableAfterMs: options.disableAfterMs })
  }

  /** Buffers one outcome for the next flush. */
  record(result: CompleteInput): void {
    this.#pending.push(result)
    this.#scheduleFlush()
  }

  #scheduleFlush(): void {
    if (this.#pending.length >= flushBatch) {
      void this.flush()
      return
    }
    if (this.#flushTimer) return
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = undefined
      void this.flush()
    }, flushDelayMs)
  }

  /** Writes buffered outcomes in one transaction; chained so that flushes never overlap. */
  flush(): Promise<void> {
    if (this.#flushTimer) {
      clearTimeout(this.#flushTimer)
      this.#flushTimer = undefined
    }
    this.#flushing = this.#flushing.then(async () => {
      let failures = 0
      while (this.#pending.length > 0) {
        const batch = this.#pending.splice(0, flushBatch)
        try {
          this.#o.failpoints('worker.before_complete')
          await this.#o.store.deliveries.complete(batch, this.#o.now(), this.#rules)
          this.#o.failpoints('worker.after_complete')
          this.#o.recorded(batch)
        } catch (e) {
          // The store is down: keep the outcomes and try again; if we die first, leases expire
          // and the deliveries are attempted again (at least once).
          this.#o.log.error(
            { err: e, count: batch.length, deliveryIds: batch.slice(0, 20).map((b) => b.id) },
            'recording delivery outcomes failed; will retry',
          )
          this.#pending.unshift(...batch)
          failures++
          if (this.#o.stopping() && failures >= 3) return
          await new Promise((r) => setTimeout(r, Math.min(5000, 250 * failures)))
        }
      }
    })
    return this.#flushing
  }
}
