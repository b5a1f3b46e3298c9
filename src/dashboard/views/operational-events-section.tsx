// The operator's "Recent operational events" section: a delivery failed, a subscription deactivated,
// a replay finished; newest first, each event's data as key-value pairs.
import type { OperationalEventRow } from '../../store/store.ts'
import { DataTable } from './data-table.tsx'
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
      <DataTable
        caption="Operational events, newest first"
        empty="None."
        rows={events}
        rowKey={(e) => e.id}
        columns={[
          { header: 'When', cell: (e) => <Time ms={e.created} /> },
          { header: 'Type', cell: (e) => e.type },
          {
            header: 'Environment',
            cell: (e) => (e.envId === null ? '—' : <EnvLink envId={e.envId} names={envNames} />),
          },
          { header: 'Data', cell: (e) => <EventData data={e.data} /> },
        ]}
      />
    </section>
  )
}
