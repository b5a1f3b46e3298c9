// The operator's "Recent operational events" section: a delivery failed, a subscription deactivated,
// a replay finished; newest first, each event's data as key-value pairs.
import type { OperationalEventRow } from '../../store/store.ts'
import { EnvLink, type EnvNames } from './env-link.tsx'
import { Time } from './layout.tsx'

/** An operational event's data as "key value" pairs (ids, counts, codes), not raw JSON. */
function EventData({ data }: { data: Record<string, unknown> }) {
  const entries = Object.entries(data).filter(([, v]) => v !== null && v !== undefined)
  if (entries.length === 0) return <span class="data">—</span>
  return (
    <span class="data">
      {entries.map(([k, v], i) => (
        <span key={k}>
          {i > 0 ? ' · ' : ''}
          {`${k} `}
          <code>{typeof v === 'string' ? v : JSON.stringify(v)}</code>
        </span>
      ))}
    </span>
  )
}

export function OperationalEventsSection({
  events,
  envNames,
}: {
  events: OperationalEventRow[]
  envNames: EnvNames
}) {
  return (
    <section aria-labelledby="oev-h">
      <h2 id="oev-h">Recent operational events</h2>
      {events.length === 0 ? (
        <p>None.</p>
      ) : (
        <table class="stack">
          <caption class="visually-hidden">Operational events, newest first</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Type</th>
              <th scope="col">Environment</th>
              <th scope="col">Data</th>
            </tr>
          </thead>
          <tbody>
            {events.map((e) => (
              <tr key={e.id}>
                <td data-label="When">
                  <Time ms={e.created} />
                </td>
                <td data-label="Type">{e.type}</td>
                <td data-label="Environment">
                  {e.envId === null ? '—' : <EnvLink envId={e.envId} names={envNames} />}
                </td>
                <td data-label="Data">
                  <EventData data={e.data} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  )
}
