// Deliveries as a table (the delivery log, a subscription's recent deliveries) and a delivery's
// last result in words.
import type { DeliveryRow } from '../../store/store.ts'
import { Id, StatusBadge, Time } from './layout.tsx'

const base = '/dashboard/portal'

export function DeliveryRows({ rows, showSubscription }: { rows: DeliveryRow[]; showSubscription: boolean }) {
  return (
    <table class="stack">
      <caption class="visually-hidden">Deliveries, newest first</caption>
      <thead>
        <tr>
          <th scope="col">Delivery</th>
          <th scope="col">Event</th>
          {showSubscription ? <th scope="col">Subscription</th> : null}
          <th scope="col">Status</th>
          <th scope="col">Attempts</th>
          <th scope="col">Last result</th>
          <th scope="col">Created</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((d) => (
          <tr key={d.id} data-delivery={d.id} data-status={d.status}>
            <td data-label="Delivery">
              <a href={`${base}/deliveries/${d.id}`}>
                <Id id={d.id} />
              </a>
            </td>
            <td data-label="Event">{d.event}</td>
            {showSubscription ? (
              <td data-label="Subscription">
                <a href={`${base}/subscriptions/${d.subscriptionId}`}>
                  <Id id={d.subscriptionId} />
                </a>
              </td>
            ) : null}
            <td data-label="Status">
              <StatusBadge status={d.status} />
            </td>
            <td data-label="Attempts">{d.attempts}</td>
            <td data-label="Last result">{lastResult(d)}</td>
            <td data-label="Created">
              <Time ms={d.created} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

export function lastResult(d: Pick<DeliveryRow, 'lastStatusCode' | 'lastError' | 'attempts'>): string {
  if (d.attempts === 0) return 'not attempted yet'
  const parts: string[] = []
  if (d.lastStatusCode !== null) parts.push(`HTTP ${d.lastStatusCode}`)
  if (d.lastError !== null) parts.push(d.lastError)
  // Neither: a broker acknowledged it.
  return parts.length ? parts.join(' · ') : 'acknowledged'
}
