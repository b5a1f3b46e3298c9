// The "Replay" section of a subscription's page: send its deliveries of a time range again (a
// preset or a custom UTC range, optionally one status), and the replays so far, cancellable while
// running.
import { deliveryStatuses as statuses } from '../../deliveries/deliveries.ts'
import type { ReplayJobRow } from '../../store/store.ts'
import { DataTable } from './data-table.tsx'
import { CsrfField, ErrorBox, Id, type PageCtx, Time } from './layout.tsx'

const base = '/dashboard/portal'

/** The replay form's ranges, ending now. */
export const replayPresets: readonly (readonly [value: string, label: string, ms: number])[] = [
  ['1h', 'Last hour', 3_600_000],
  ['24h', 'Last 24 hours', 86_400_000],
  ['7d', 'Last 7 days', 604_800_000],
]

export function ReplaySection(props: {
  ctx: PageCtx
  self: string
  replays: ReplayJobRow[]
  replayError?: string | undefined
}) {
  const { ctx, self } = props
  return (
    <section aria-labelledby="replay-h" class="card">
      <h2 id="replay-h">Replay</h2>
      <p class="hint">
        Sends this subscription's deliveries created in a time range again, under their own ids (receivers can
        dedupe on webhook-id).
      </p>
      <ErrorBox text={props.replayError} />
      <form method="post" action={`${self}/replay`}>
        <CsrfField ctx={ctx} />
        <fieldset>
          <legend>Deliveries created in</legend>
          <div class="choices">
            {replayPresets.map(([value, label], i) => (
              <label class="inline" key={value}>
                <input type="radio" name="range" value={value} checked={i === 0} /> {label}
              </label>
            ))}
            <label class="inline">
              <input type="radio" name="range" value="custom" /> Custom range (UTC)
            </label>
          </div>
        </fieldset>
        <div class="custom-range">
          <div class="filters">
            <div>
              <label for="since">From (UTC)</label>
              <input type="datetime-local" id="since" name="since" step="1" aria-describedby="range-hint" />
            </div>
            <div>
              <label for="until">To (UTC, empty for now)</label>
              <input type="datetime-local" id="until" name="until" step="1" aria-describedby="range-hint" />
            </div>
          </div>
          <p class="hint" id="range-hint">
            Only with <q>Custom range</q>. Times are UTC, whatever your browser's time zone.
          </p>
        </div>
        <div class="filters">
          <div>
            <label for="replay-status">Status</label>
            <select id="replay-status" name="status">
              <option value="">any</option>
              {statuses.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </div>
          <div>
            <button type="submit">Start replay</button>
          </div>
        </div>
      </form>
      <ReplayTable ctx={ctx} replays={props.replays} />
    </section>
  )
}

function ReplayTable({ ctx, replays }: { ctx: PageCtx; replays: ReplayJobRow[] }) {
  return (
    <DataTable
      caption="Replays of this subscription"
      id="replays"
      rows={replays}
      rowKey={(r) => r.id}
      columns={[
        { header: 'Replay', cell: (r) => <Id id={r.id} /> },
        {
          header: 'Range',
          cell: (r) => (
            <>
              <Time ms={r.since} /> – <Time ms={r.until} />
            </>
          ),
        },
        { header: 'Status filter', cell: (r) => r.statusFilter ?? 'any' },
        { header: 'Progress', cell: (r) => `${r.done} / ${r.total}` },
        { header: 'State', cell: (r) => r.state },
        {
          header: 'Actions',
          hiddenHeader: true,
          cell: (r) =>
            r.state === 'running' ? (
              <form method="post" action={`${base}/replays/${r.id}/cancel`}>
                <CsrfField ctx={ctx} />
                <button type="submit" class="secondary">
                  Cancel
                </button>
              </form>
            ) : null,
        },
      ]}
    />
  )
}
