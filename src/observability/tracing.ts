// Optional OpenTelemetry tracing, off by default (HOOKPOST_OTEL=true turns it on). Hookpost does
// not depend on OpenTelemetry: when enabled, `@opentelemetry/api` is imported at start if the
// operator installed it, and publishes and delivery attempts become spans of whatever SDK was
// registered (docs/observability.md: install it and `--import` a setup file). When the package
// is absent, one warning is logged and everything runs untraced.
import type { AttemptOutcome, OutboundRequest, Sender } from '../deliveries/sender.ts'
import type { BatchOptions, Publisher, PublishOptions } from '../events/publish.ts'
import { parseTraceparent } from '../events/traceparent.ts'
import type { Logger } from '../shared/logger.ts'
import type { PublishResult } from '../store/store.ts'

export type SpanAttributes = Record<string, string | number | boolean>
export type SpanKindName = 'internal' | 'server' | 'client' | 'producer' | 'consumer'

export interface SpanHandle {
  set(a: SpanAttributes): void
  fail(message: string): void
  /** This span's W3C traceparent (to propagate), undefined when untraced. */
  traceparent(): string | undefined
}

export interface Tracing {
  readonly enabled: boolean
  /**
   * Runs fn inside an active span named `name`, a child of `parent` (a W3C traceparent) when
   * given and valid; fn may add attributes known later and mark the span failed. A thrown error
   * is recorded and rethrown.
   */
  span<T>(
    name: string,
    kind: SpanKindName,
    attributes: SpanAttributes,
    fn: (span: SpanHandle) => Promise<T>,
    parent?: string,
  ): Promise<T>
}

const noSpan: SpanHandle = { set() {}, fail() {}, traceparent: () => undefined }

export const noTracing: Tracing = {
  enabled: false,
  span: (_name, _kind, _attributes, fn) => fn(noSpan),
}

// The few parts of @opentelemetry/api 1.x used here (typed locally: the package is optional).
interface OtelSpan {
  setAttributes(a: SpanAttributes): unknown
  setStatus(s: { code: number; message?: string }): unknown
  recordException(e: unknown): unknown
  end(): void
  spanContext(): OtelSpanContext
}
interface OtelSpanContext {
  traceId: string
  spanId: string
  traceFlags: number
  isRemote?: boolean
}
interface OtelTracer {
  startActiveSpan<F extends (span: OtelSpan) => unknown>(
    name: string,
    options: { kind?: number; attributes?: SpanAttributes },
    context: unknown,
    fn: F,
  ): ReturnType<F>
}
interface OtelApi {
  trace: {
    getTracer(name: string, version?: string): OtelTracer
    setSpanContext(context: unknown, spanContext: OtelSpanContext): unknown
  }
  context: { active(): unknown }
}

const statusError = 2
const kinds: Record<SpanKindName, number> = { internal: 0, server: 1, client: 2, producer: 3, consumer: 4 }

export const otelApiPackage = '@opentelemetry/api'

export interface LoadTracingOptions {
  enabled: boolean
  log: Logger
  version: string
  /** How the package is imported (tests pass a stub). */
  importModule?: (specifier: string) => Promise<unknown>
}

/** noTracing unless enabled and `@opentelemetry/api` can be imported. */
export async function loadTracing(o: LoadTracingOptions): Promise<Tracing> {
  if (!o.enabled) return noTracing
  let api: OtelApi
  try {
    const specifier = otelApiPackage
    const mod = (await (o.importModule ?? ((s: string) => import(s)))(specifier)) as OtelApi & {
      default?: OtelApi
    }
    api = typeof mod.trace?.getTracer === 'function' ? mod : (mod.default as OtelApi)
    if (typeof api?.trace?.getTracer !== 'function') throw new Error(`${specifier} has no trace API`)
  } catch (e) {
    o.log.warn(
      { err: e, package: otelApiPackage },
      'HOOKPOST_OTEL is true but @opentelemetry/api could not be loaded; continuing without tracing (docs/observability.md)',
    )
    return noTracing
  }
  o.log.info({ package: otelApiPackage }, 'tracing publishes and delivery attempts with OpenTelemetry')
  return otelTracing(api, api.trace.getTracer('hookpost', o.version))
}

/** A span context's traceparent; undefined for the invalid (all-zero) one of an unsampled no-op. */
function traceparentOf(c: OtelSpanContext): string | undefined {
  const flags = (c.traceFlags & 0xff).toString(16).padStart(2, '0')
  return parseTraceparent(`00-${c.traceId}-${c.spanId}-${flags}`) && `00-${c.traceId}-${c.spanId}-${flags}`
}

function otelTracing(api: OtelApi, tracer: OtelTracer): Tracing {
  /** The active context, with the remote parent `traceparent` names when it is valid. */
  const contextOf = (traceparent: string | undefined): unknown => {
    const active = api.context.active()
    const t = traceparent === undefined ? undefined : parseTraceparent(traceparent)
    if (!t) return active
    return api.trace.setSpanContext(active, {
      traceId: t.traceId,
      spanId: t.parentId,
      traceFlags: Number.parseInt(t.flags, 16),
      isRemote: true,
    })
  }
  return {
    enabled: true,
    span(name, kind, attributes, fn, parent) {
      const options = { kind: kinds[kind], attributes }
      return tracer.startActiveSpan(name, options, contextOf(parent), async (span: OtelSpan) => {
        try {
          return await fn({
            set: (a) => span.setAttributes(a),
            fail: (message) => span.setStatus({ code: statusError, message }),
            traceparent: () => traceparentOf(span.spanContext()),
          })
        } catch (e) {
          span.recordException(e)
          span.setStatus({ code: statusError, message: (e as Error).message ?? String(e) })
          throw e
        } finally {
          span.end()
        }
      })
    },
  }
}

/** A Sender whose every attempt is a client span carrying the delivery's ids (from its headers). */
export function tracedSender(sender: Sender, tracing: Tracing): Sender {
  if (!tracing.enabled) return sender
  return {
    send(req: OutboundRequest): Promise<AttemptOutcome> {
      let host = ''
      try {
        host = new URL(req.url).host
      } catch {
        // The sender reports the bad URL itself.
      }
      const attributes: SpanAttributes = {
        'http.request.method': 'POST',
        'server.address': host,
        'hookpost.delivery_id': req.headers['webhook-id'] ?? '',
        'hookpost.event': req.headers['x-delivery-event'] ?? '',
        'hookpost.attempt': Number(req.headers['x-delivery-attempt'] ?? 0),
      }
      // A child of the publisher's trace; the receiver sees this attempt's span as its parent.
      const parent = req.headers['traceparent']
      return tracing.span(
        'hookpost.delivery.attempt',
        'client',
        attributes,
        async (span) => {
          const traceparent = span.traceparent() ?? parent
          const outcome = await sender.send(
            traceparent === undefined ? req : { ...req, headers: { ...req.headers, traceparent } },
          )
          if (outcome.kind === 'response') {
            span.set({ 'http.response.status_code': outcome.statusCode })
            if (outcome.statusCode < 200 || outcome.statusCode >= 300) span.fail(`HTTP ${outcome.statusCode}`)
          } else if (outcome.kind === 'error') {
            span.set({ 'error.type': outcome.code })
            span.fail(outcome.message)
          }
          return outcome
        },
        parent,
      )
    },
    close: () => sender.close(),
  }
}

/** The publisher with each publish in a producer span, and told about each result (metrics). */
export function instrumentPublisher(
  publisher: Publisher,
  o: { tracing: Tracing; onPublished?: (r: PublishResult) => void },
): Publisher {
  const tell = (r: PublishResult) => {
    try {
      o.onPublished?.(r)
    } catch {
      // Metrics must never break a publish.
    }
  }
  /** A producer span over one request's publish; its results are told, their attributes set. */
  const traced = <T>(
    name: string,
    envId: string,
    body: Buffer,
    run: (span: SpanHandle) => Promise<T>,
    results: (r: T) => PublishResult[],
    attributes: (r: T) => SpanAttributes,
    parent?: string,
  ): Promise<T> =>
    o.tracing.span(
      name,
      'producer',
      { 'hookpost.environment_id': envId, 'hookpost.body_bytes': body.length },
      async (span) => {
        const r = await run(span)
        span.set(attributes(r))
        for (const x of results(r)) tell(x)
        return r
      },
      parent,
    )
  return {
    ...publisher,
    publish: (envId: string, body: Buffer, opts?: PublishOptions) =>
      traced(
        'hookpost.publish',
        envId,
        body,
        // The event keeps the publish span's traceparent: its attempts become that span's children.
        (span) =>
          publisher.publish(envId, body, { ...opts, traceparent: span.traceparent() ?? opts?.traceparent }),
        (r) => [r],
        (r) => ({
          'hookpost.event_id': r.eventId,
          'hookpost.event': r.eventName,
          'hookpost.deliveries': r.deliveries,
          'hookpost.idempotent_repeat': r.replayed,
        }),
        opts?.traceparent,
      ),
    publishBatch: (envId: string, body: Buffer, opts?: BatchOptions) => {
      // Each item that names a trace gets its own publish span in that trace, open until the commit.
      const items: { index: number; end: (r?: PublishResult) => void }[] = []
      const traceItems = (parents: readonly (string | undefined)[]) =>
        parents.map((parent, index) => {
          if (parent === undefined) return undefined
          const item = itemSpan(o.tracing, envId, parent)
          items.push({ index, end: item.end })
          return item.traceparent
        })
      let results: PublishResult[] = []
      return traced(
        'hookpost.publish_batch',
        envId,
        body,
        async () =>
          (results = await publisher.publishBatch(
            envId,
            body,
            o.tracing.enabled ? { ...opts, traceItems } : opts,
          )),
        (rs) => rs,
        (rs) => ({
          'hookpost.events': rs.length,
          'hookpost.idempotent_repeats': rs.filter((r) => r.replayed).length,
        }),
      ).finally(() => {
        for (const item of items) item.end(results[item.index])
      })
    },
  }
}

/** A publish span of one batch item in its own trace, ended by end() (with the item's result). */
function itemSpan(
  tracing: Tracing,
  envId: string,
  parent: string,
): { traceparent: string | undefined; end: (r?: PublishResult) => void } {
  let traceparent: string | undefined
  let end: (r?: PublishResult) => void = () => {}
  const ended = new Promise<PublishResult | undefined>((resolve) => {
    end = resolve
  })
  void tracing
    .span(
      'hookpost.publish',
      'producer',
      { 'hookpost.environment_id': envId, 'hookpost.batch_item': true },
      async (span) => {
        // startActiveSpan runs this at once, so the traceparent is known before span() returns.
        traceparent = span.traceparent()
        const r = await ended
        if (r) span.set({ 'hookpost.event_id': r.eventId, 'hookpost.event': r.eventName })
      },
      parent,
    )
    .catch(() => {})
  return { traceparent, end }
}
