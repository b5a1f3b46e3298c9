// The operator's overview (/dashboard/operator): delivery statistics across environments, the
// environments with their counts and a form for a new one, and recent operational events.
import type { EnvironmentRow, OperationalEventRow } from '../../store/store.ts'
import type { EndpointFailure, EndpointLatency, Timeline } from '../stats.ts'
import { DataTable } from './data-table.tsx'
import { DeliveryStats, type Sample } from './delivery-stats.tsx'
import type { EnvNames } from './env-link.tsx'
import { CsrfField, ErrorBox, Id, Notice, Page, type PageCtx, Time } from './layout.tsx'
import { OperationalEventsSection } from './operational-events-section.tsx'

const base = '/dashboard/operator'

export interface EnvSummary {
  env: EnvironmentRow
  subscriptions: number
  active: number
  sampled: number
  failing: number
}

export function OperatorHome(props: {
  ctx: PageCtx
  envs: EnvSummary[]
  envNames: EnvNames
  totalEnvironments: number
  timeline: Timeline
  failing: EndpointFailure[]
  slow: EndpointLatency[]
  events: OperationalEventRow[]
  sample: Sample
  notice?: string | undefined
  error?: string | undefined
}) {
  const { ctx } = props
  return (
    <Page ctx={{ ...ctx, current: 'overview' }} title="Operator overview">
      <h1>Operator overview</h1>
      <Notice text={props.notice} />
      <ErrorBox text={props.error} />
      <DeliveryStats
        timeline={props.timeline}
        idp="all"
        sample={props.sample}
        failing={props.failing}
        slow={props.slow}
        envNames={props.envNames}
      />
      <section aria-labelledby="envs-h">
        <h2 id="envs-h">Environments</h2>
        <DataTable
          caption="Environments"
          empty="No environments yet."
          rows={props.envs}
          rowKey={(e) => e.env.id}
          columns={[
            { header: 'Name', cell: (e) => <a href={`${base}/environments/${e.env.id}`}>{e.env.name}</a> },
            { header: 'Id', cell: (e) => <Id id={e.env.id} /> },
            { header: 'Subscriptions (active)', cell: (e) => `${e.subscriptions} (${e.active})` },
            { header: 'Recent deliveries', cell: (e) => e.sampled },
            { header: 'Latest attempt failed', cell: (e) => e.failing },
            { header: 'Created', cell: (e) => <Time ms={e.env.created} /> },
          ]}
        />
        {props.totalEnvironments > props.envs.length ? (
          <p class="hint">{`Showing ${props.envs.length} of ${props.totalEnvironments} environments.`}</p>
        ) : null}
        <form method="post" action={`${base}/environments`} class="card">
          <CsrfField ctx={ctx} />
          <h3>New environment</h3>
          <label for="env-name">Name</label>
          <input type="text" id="env-name" name="name" required maxLength={200} />
          <div class="actions">
            <button type="submit">Create environment</button>
          </div>
        </form>
      </section>
      <OperationalEventsSection events={props.events} envNames={props.envNames} />
    </Page>
  )
}
