// The page frame (skip link, header, navigation, sign-out) and small shared parts. Everything is
// rendered by Preact on the server: text and attributes are escaped, and no user data ever goes
// through dangerouslySetInnerHTML.
import type { ComponentChildren, VNode } from 'preact'
import { renderToString } from 'preact-render-to-string'
import type { DeliveryStatus } from '../../store/store.ts'

export type Who =
  | { kind: 'anonymous' }
  | { kind: 'operator' }
  | { kind: 'consumer'; envName: string; envId: string; via: 'credential' | 'portal link'; label: string }

export interface PageCtx {
  csrf: string
  who: Who
  /** The navigation entry to mark as current. */
  current?: string
  assets: { htmx: string; css: string; script: string }
}

/**
 * htmx settings: no eval, no inline indicator styles (the CSP forbids them), no page snapshots in
 * localStorage (pages can show secrets once), and 4xx answers swapped in: the pages put their
 * error message inside the region an htmx action replaces.
 */
const htmxConfig = JSON.stringify({
  allowEval: false,
  allowScriptTags: false,
  includeIndicatorStyles: false,
  historyCacheSize: 0,
  refreshOnHistoryMiss: true,
  selfRequestsOnly: true,
  responseHandling: [
    { code: '204', swap: false },
    { code: '[23]..', swap: true },
    { code: '403', swap: false, error: true },
    { code: '4..', swap: true, error: true },
    { code: '503', swap: true, error: true },
    { code: '...', swap: false, error: true },
  ],
})

const portalNav: [string, string, string][] = [
  ['subscriptions', '/dashboard/portal/subscriptions', 'Subscriptions'],
  ['deliveries', '/dashboard/portal/deliveries', 'Delivery log'],
  ['event-types', '/dashboard/portal/event-types', 'Event types'],
  ['signing-secret', '/dashboard/portal/signing-secret', 'Signing secret'],
]

const operatorNav: [string, string, string][] = [['overview', '/dashboard/operator', 'Overview']]

function Nav({ ctx }: { ctx: PageCtx }) {
  const items = ctx.who.kind === 'consumer' ? portalNav : ctx.who.kind === 'operator' ? operatorNav : []
  if (items.length === 0) return null
  return (
    <nav aria-label="Main">
      <ul>
        {items.map(([key, href, label]) => (
          <li key={key}>
            <a href={href} aria-current={ctx.current === key ? 'page' : undefined}>
              {label}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  )
}

export function CsrfField({ ctx }: { ctx: PageCtx }) {
  return <input type="hidden" name="_csrf" value={ctx.csrf} />
}

function WhoBox({ ctx }: { ctx: PageCtx }) {
  const who = ctx.who
  if (who.kind === 'anonymous') return null
  return (
    <div class="who">
      <span>
        {who.kind === 'operator' ? (
          'Operator'
        ) : (
          <>
            Environment <strong>{who.envName}</strong>
            {who.via === 'portal link' ? ' (portal link)' : ''}
          </>
        )}
      </span>
      <form method="post" action="/dashboard/logout">
        <CsrfField ctx={ctx} />
        <button type="submit">Sign out</button>
      </form>
    </div>
  )
}

export function Page(props: { ctx: PageCtx; title: string; children: ComponentChildren }) {
  const { ctx } = props
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <meta name="htmx-config" content={htmxConfig} />
        <title>{`${props.title} · Hookpost`}</title>
        <link rel="stylesheet" href={ctx.assets.css} />
        <script src={ctx.assets.htmx} defer />
        <script src={ctx.assets.script} defer />
      </head>
      <body hx-headers={JSON.stringify({ 'x-csrf-token': ctx.csrf })} hx-history="false">
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="top">
          <div class="bar">
            <a class="brand" href="/dashboard">
              Hookpost
            </a>
            <Nav ctx={ctx} />
            <WhoBox ctx={ctx} />
          </div>
        </header>
        <main id="main" tabindex={-1}>
          {props.children}
        </main>
        <div id="copy-status" class="visually-hidden" role="status" aria-live="polite" />
      </body>
    </html>
  )
}

export function render(node: VNode): string {
  return `<!doctype html>${renderToString(node)}`
}

const pad = (n: number) => String(n).padStart(2, '0')

/** 2026-01-02 13:04:05 UTC */
export function formatTime(ms: number): string {
  const d = new Date(ms)
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(
    d.getUTCMinutes(),
  )}:${pad(d.getUTCSeconds())} UTC`
}

export function Time({ ms, empty = '—' }: { ms: number | null; empty?: string }) {
  if (ms === null) return <span>{empty}</span>
  return <time datetime={new Date(ms).toISOString()}>{formatTime(ms)}</time>
}

export function StatusBadge({ status }: { status: DeliveryStatus }) {
  return <span class={`badge s-${status}`}>{status}</span>
}

export function ActiveBadge({ active, reason }: { active: boolean; reason?: string | null }) {
  return (
    <span class={`badge ${active ? 's-active' : 's-inactive'}`}>
      {active ? 'active' : reason ? `inactive (${reason})` : 'inactive'}
    </span>
  )
}

export function percent(rate: number | null): string {
  return rate === null ? '—' : `${(Math.round(rate * 1000) / 10).toFixed(1)} %`
}

export function Notice({ text }: { text: string | undefined }) {
  return text ? (
    <p class="notice" role="status">
      {text}
    </p>
  ) : null
}

export function ErrorBox({ text }: { text: string | undefined }) {
  return text ? (
    <p class="error" role="alert">
      {text}
    </p>
  ) : null
}

/** Preformatted text in a labelled region that the keyboard can focus (and so scroll). */
export function Pre({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <section aria-label={label} class="pre">
      <pre tabindex={0}>{children}</pre>
    </section>
  )
}

export function Json({ value, label }: { value: unknown; label: string }) {
  return <Pre label={label}>{JSON.stringify(value, null, 2)}</Pre>
}

export function ErrorPage(props: {
  ctx: PageCtx
  title: string
  message: string
  children?: ComponentChildren
}) {
  return (
    <Page ctx={props.ctx} title={props.title}>
      <h1>{props.title}</h1>
      <p class="error" role="alert">
        {props.message}
      </p>
      {props.children}
      <p>
        <a href="/dashboard">Back to the dashboard</a>
      </p>
    </Page>
  )
}

/**
 * A copy button (shown by dashboard.js; hidden without JavaScript). `value` for short text such
 * as a key; `bytes` for a payload, copied exactly (carried as base64: HTML text would not keep
 * CRLF). `label` names what it copies, for screen readers ("Copy signing secret").
 */
export function CopyButton(props: { label: string } & ({ value: string } | { bytes: Buffer })) {
  const data =
    'bytes' in props ? { 'data-copy-b64': props.bytes.toString('base64') } : { 'data-copy': props.value }
  return (
    <button type="button" class="copy" hidden aria-label={props.label} {...data}>
      Copy
    </button>
  )
}

/** A short value (key, secret, id) in code with its copy button beside it. */
export function Copyable({
  value,
  label,
  attrs,
}: {
  value: string
  label: string
  attrs?: Record<string, string>
}) {
  return (
    <span class="copyable">
      <code {...attrs}>{value}</code>
      <CopyButton label={label} value={value} />
    </span>
  )
}

/** An id in a table cell: kept on one line where the table has room. */
export function Id({ id }: { id: string }) {
  return <code class="id">{id}</code>
}
