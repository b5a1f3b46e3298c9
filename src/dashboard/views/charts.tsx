// Server-rendered inline SVG charts (no client chart library): deliveries per time bucket by
// status, and the share of deliveries whose latest attempt failed. Each chart has a text title
// and description and its numbers in a table behind a disclosure, for screen readers.
import type { Timeline } from '../stats.ts'
import { formatTime } from './layout.tsx'

const W = 480
const H = 200
const padL = 40
const padR = 6
const padT = 10
const padB = 26
const colors = { delivered: '#17803d', failed: '#c62828', pending: '#e0a400', cancelled: '#6b7280' } as const
const order = ['delivered', 'failed', 'pending', 'cancelled'] as const

function niceMax(n: number): number {
  if (n <= 5) return 5
  const p = 10 ** Math.floor(Math.log10(n))
  for (const m of [1, 2, 2.5, 5, 10]) if (n <= m * p) return m * p
  return 10 * p
}

function label(ms: number, bucketMs: number): string {
  const t = formatTime(ms)
  // Within a day: HH:MM; longer windows: MM-DD HH:MM.
  return bucketMs < 3_600_000 ? t.slice(11, 16) : t.slice(5, 16)
}

function Axis({ max, unit }: { max: number; unit: string }) {
  const plotH = H - padT - padB
  return (
    <g>
      {[0, 0.5, 1].map((f) => {
        const y = padT + plotH * (1 - f)
        return (
          <g key={f}>
            <line x1={padL} x2={W - padR} y1={y} y2={y} stroke="#d9dde5" stroke-width="1" />
            <text x={padL - 6} y={y + 4} text-anchor="end" font-size="12" fill="#5b6475">
              {`${Number.isInteger(max * f) ? max * f : (max * f).toFixed(1)}${unit}`}
            </text>
          </g>
        )
      })}
    </g>
  )
}

function XLabels({ t }: { t: Timeline }) {
  const plotW = W - padL - padR
  const n = t.buckets.length
  const every = Math.max(1, Math.ceil(n / 4))
  return (
    <g>
      {t.buckets.map((b, i) =>
        i % every === 0 ? (
          <text key={b.start} x={padL + (plotW / n) * i} y={H - 8} font-size="12" fill="#5b6475">
            {label(b.start, t.bucketMs)}
          </text>
        ) : null,
      )}
    </g>
  )
}

export function ThroughputChart({ t, id }: { t: Timeline; id: string }) {
  const plotW = W - padL - padR
  const plotH = H - padT - padB
  const n = t.buckets.length
  const totals = t.buckets.map((b) => b.delivered + b.failed + b.pending + b.cancelled)
  const max = niceMax(Math.max(0, ...totals))
  const bw = plotW / n
  const sum = totals.reduce((a, b) => a + b, 0)
  return (
    <figure class="chart">
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-labelledby={`${id}-title ${id}-desc`}
        xmlns="http://www.w3.org/2000/svg"
      >
        <title id={`${id}-title`}>Deliveries over time, by status</title>
        <desc id={`${id}-desc`}>
          {`${sum} deliveries created between ${formatTime(t.start)} and ${formatTime(t.end)}, in ${n} buckets.`}
        </desc>
        <Axis max={max} unit="" />
        {t.buckets.map((b, i) => {
          let y = padT + plotH
          return (
            <g key={b.start}>
              {order.map((k) => {
                const h = (b[k] / max) * plotH
                y -= h
                return h > 0 ? (
                  <rect
                    key={k}
                    x={padL + i * bw + 1}
                    y={y}
                    width={Math.max(1, bw - 2)}
                    height={h}
                    fill={colors[k]}
                  />
                ) : null
              })}
            </g>
          )
        })}
        <XLabels t={t} />
      </svg>
      <figcaption class="legend">
        {order.map((k) => (
          <span key={k}>
            <span class={`key k-${k}`} aria-hidden="true" />
            {k}
          </span>
        ))}
      </figcaption>
      <NumbersTable t={t} />
    </figure>
  )
}

export function FailureChart({ t, id }: { t: Timeline; id: string }) {
  const plotW = W - padL - padR
  const plotH = H - padT - padB
  const n = t.buckets.length
  const bw = plotW / n
  const rates = t.buckets.map((b) => {
    const total = b.delivered + b.failed + b.pending + b.cancelled
    return total === 0 ? null : (b.failing / total) * 100
  })
  const failing = t.buckets.reduce((a, b) => a + b.failing, 0)
  return (
    <figure class="chart">
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-labelledby={`${id}-title ${id}-desc`}
        xmlns="http://www.w3.org/2000/svg"
      >
        <title id={`${id}-title`}>Failing deliveries over time, in percent</title>
        <desc id={`${id}-desc`}>
          {`${failing} deliveries whose latest attempt failed, between ${formatTime(t.start)} and ${formatTime(t.end)}.`}
        </desc>
        <Axis max={100} unit="%" />
        {rates.map((r, i) =>
          r === null || r === 0 ? null : (
            <rect
              key={t.buckets[i]!.start}
              x={padL + i * bw + 1}
              y={padT + plotH * (1 - r / 100)}
              width={Math.max(1, bw - 2)}
              height={(plotH * r) / 100}
              fill={colors.failed}
            />
          ),
        )}
        <XLabels t={t} />
      </svg>
    </figure>
  )
}

function NumbersTable({ t }: { t: Timeline }) {
  return (
    <details>
      <summary>Show the numbers</summary>
      <table class="stack">
        <thead>
          <tr>
            <th scope="col">From</th>
            <th scope="col">Delivered</th>
            <th scope="col">Failed</th>
            <th scope="col">Pending</th>
            <th scope="col">Cancelled</th>
            <th scope="col">Latest attempt failed</th>
          </tr>
        </thead>
        <tbody>
          {t.buckets.map((b) => (
            <tr key={b.start}>
              <td data-label="From">{formatTime(b.start)}</td>
              <td data-label="Delivered">{b.delivered}</td>
              <td data-label="Failed">{b.failed}</td>
              <td data-label="Pending">{b.pending}</td>
              <td data-label="Cancelled">{b.cancelled}</td>
              <td data-label="Latest attempt failed">{b.failing}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  )
}
