// A W3C traceparent given at publish reaches every delivery attempt with the same trace id;
// with OpenTelemetry on, the publish and each attempt are spans of that trace.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { instrumentPublisher, loadTracing, tracedSender } from '../../src/observability/tracing.ts'
import { HttpSender } from '../../src/outbound/http-sender.ts'
import { silentLogger } from '../../src/shared/logger.ts'
import { eventually } from '../support/eventually.ts'
import { TestReceiver } from '../support/receiver.ts'
import { type WorkerHarness, workerHarness } from '../support/worker-harness.ts'

const tp1 = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
const tp2 = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00'
const body = (n: number) => Buffer.from(`{"eventName":"site.publish","site":{"ref":${n}}}`)
const nOf = (b: Buffer) => (JSON.parse(b.toString()) as { site: { ref: number } }).site.ref

interface FakeSpan {
  name: string
  traceId: string
  spanId: string
  parentSpanId: string | undefined
}

/** Just enough of @opentelemetry/api to see which span is whose child. */
function fakeOtel() {
  const spans: FakeSpan[] = []
  let n = 0
  const id = (len: number) => (++n).toString(16).padStart(len, '0')
  type Sc = { traceId: string; spanId: string; traceFlags: number }
  const api = {
    context: { active: () => ({}) },
    trace: {
      setSpanContext: (_ctx: unknown, sc: Sc) => ({ sc }),
      getTracer: () => ({
        startActiveSpan: (name: string, _o: unknown, ctx: { sc?: Sc }, fn: (s: unknown) => unknown) => {
          const sc = { traceId: ctx.sc?.traceId ?? id(32), spanId: id(16), traceFlags: 1 }
          spans.push({ name, traceId: sc.traceId, spanId: sc.spanId, parentSpanId: ctx.sc?.spanId })
          return fn({
            setAttributes() {},
            setStatus() {},
            recordException() {},
            end() {},
            spanContext: () => sc,
          })
        },
      }),
    },
  }
  return { api, spans }
}

describe('trace propagation', () => {
  let h: WorkerHarness
  let rx: TestReceiver
  beforeEach(async () => {
    rx = await new TestReceiver().start()
  })
  afterEach(async () => {
    await h?.close()
    await rx.stop()
  })

  /** Fails each event's first two attempts, then takes it. */
  const failTwice = () => {
    rx.respond = (r) => ({ status: r.headers['x-delivery-attempt'] === '3' ? 200 : 500 })
  }

  it('sends the traceparent of a publish and of a batch item on every attempt, retries included', async () => {
    h = await workerHarness({ scheduleMs: [20, 20] })
    await h.hookpost.subscriptions.create(h.envId, {
      event: 'site.publish',
      url: `${rx.url}/hook`,
      active: true,
    })
    failTwice()
    await h.hookpost.publisher.publish(h.envId, body(1), { traceparent: tp1 })
    await h.hookpost.publisher.publishBatch(
      h.envId,
      Buffer.from(
        `{"events":[{"payload":${body(2)},"traceparent":"${tp2}"},{"payload":${body(3)}},{"payload":${body(4)}}]}`,
      ),
    )
    await h.hookpost.publisher.publish(h.envId, body(5), { traceparent: 'not-a-traceparent' })
    await eventually(() => expect(rx.received).toHaveLength(15))
    const seen = new Map<number, unknown[]>()
    for (const r of rx.received)
      seen.set(nOf(r.body), [...(seen.get(nOf(r.body)) ?? []), r.headers.traceparent])
    expect(Object.fromEntries(seen)).toEqual({
      1: [tp1, tp1, tp1],
      2: [tp2, tp2, tp2],
      3: [undefined, undefined, undefined],
      4: [undefined, undefined, undefined],
      // An invalid header is ignored, as the W3C asks.
      5: [undefined, undefined, undefined],
    })
  })

  it('refuses a batch item whose traceparent is not a valid one, naming it', async () => {
    h = await workerHarness()
    for (const bad of ['00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01', 'ff-x', 42]) {
      const e = await h.hookpost.publisher
        .publishBatch(
          h.envId,
          Buffer.from(`{"events":[{"payload":${body(1)},"traceparent":${JSON.stringify(bad)}}]}`),
        )
        .catch((x: unknown) => x)
      expect(e).toMatchObject({ code: 'invalid_request', details: [{ path: '/events/0/traceparent' }] })
    }
  })

  it('with OpenTelemetry on, makes the publish and each attempt spans of the given trace', async () => {
    const otel = fakeOtel()
    const tracing = await loadTracing({
      enabled: true,
      log: silentLogger,
      version: 't',
      importModule: async () => otel.api,
    })
    h = await workerHarness({
      scheduleMs: [20, 20],
      worker: { sender: tracedSender(new HttpSender(), tracing) },
    })
    await h.hookpost.subscriptions.create(h.envId, {
      event: 'site.publish',
      url: `${rx.url}/hook`,
      active: true,
    })
    failTwice()
    const publisher = instrumentPublisher(h.hookpost.publisher, { tracing })
    await publisher.publish(h.envId, body(1), { traceparent: tp1 })
    await eventually(() => expect(rx.received).toHaveLength(3))
    const [publish, ...attempts] = otel.spans
    expect(publish).toMatchObject({
      name: 'hookpost.publish',
      traceId: tp1.slice(3, 35),
      parentSpanId: tp1.slice(36, 52),
    })
    expect(attempts).toHaveLength(3)
    for (const [k, a] of attempts.entries()) {
      expect(a).toMatchObject({
        name: 'hookpost.delivery.attempt',
        traceId: publish!.traceId,
        parentSpanId: publish!.spanId,
      })
      // The receiver's parent is this attempt's span.
      expect(rx.received[k]!.headers.traceparent).toBe(`00-${a.traceId}-${a.spanId}-01`)
    }

    // A batch item's publish is a span of the item's own trace, and its attempts are its children.
    otel.spans.length = 0
    rx.received.length = 0
    await publisher.publishBatch(
      h.envId,
      Buffer.from(`{"events":[{"payload":${body(2)},"traceparent":"${tp2}"}]}`),
    )
    await eventually(() => expect(rx.received).toHaveLength(3))
    const item = otel.spans.find((x) => x.name === 'hookpost.publish')
    expect(item).toMatchObject({ traceId: tp2.slice(3, 35), parentSpanId: tp2.slice(36, 52) })
    const itemAttempts = otel.spans.filter((x) => x.name === 'hookpost.delivery.attempt')
    expect(itemAttempts.map((x) => [x.traceId, x.parentSpanId])).toEqual(
      Array(3).fill([item!.traceId, item!.spanId]),
    )
    expect(rx.received.map((r) => String(r.headers.traceparent).slice(3, 35))).toEqual(
      Array(3).fill(tp2.slice(3, 35)),
    )
  })
})
