// The delivery statistics the operator's overview and environment pages share: throughput and
// failure charts, the sample they come from, and the most failing and slowest endpoints.
import type { EndpointFailure, EndpointLatency, Timeline } from '../stats.ts'
import { FailureChart, ThroughputChart } from './charts.tsx'
import { DataTable } from './data-table.tsx'
import { EnvLink, type EnvNames } from './env-link.tsx'
import { ActiveBadge, percent, Time } from './layout.tsx'

export interface Sample {
  /** Deliveries read per environment (newest first), and whether an environment had more. */
  perEnvironment: number
  environments: number
  truncated: boolean
  attemptsOf: number
}

function SampleNote({ sample }: { sample: Sample }) {
  return (
    <p class="hint">
      {`From the newest ${sample.perEnvironment} deliveries of ${sample.environments} environment${
        sample.environments === 1 ? '' : 's'
      }${sample.truncated ? ' (older ones are not counted)' : ''}; response times from the attempts of the newest ${
        sample.attemptsOf
      } finished deliveries.`}
    </p>
  )
}

function FailingTable({ rows, envNames }: { rows: EndpointFailure[]; envNames?: EnvNames | undefined }) {
  return (
    <DataTable
      caption="Most failing endpoints"
      empty="No endpoint has failed."
      rows={rows}
      rowKey={(r) => r.subscriptionId}
      columns={[
        { header: 'URL', cell: (r) => <code>{r.url}</code> },
        { header: 'Event', cell: (r) => r.event },
        envNames !== undefined && {
          header: 'Environment',
          cell: (r) => <EnvLink envId={r.envId} names={envNames} />,
        },
        { header: 'Failed attempts', cell: (r) => r.failureCount },
        { header: 'Success rate', cell: (r) => percent(r.successRate) },
        { header: 'Failing since', cell: (r) => <Time ms={r.failingSince} empty="not failing" /> },
        { header: 'State', cell: (r) => <ActiveBadge active={r.active} /> },
      ]}
    />
  )
}

function SlowTable({ rows }: { rows: EndpointLatency[] }) {
  return (
    <DataTable
      caption="Slowest endpoints"
      empty="No attempts recorded yet."
      rows={rows}
      rowKey={(r) => r.subscriptionId}
      columns={[
        { header: 'URL', cell: (r) => <code>{r.url}</code> },
        { header: 'Attempts', cell: (r) => r.attempts },
        { header: 'Mean', cell: (r) => `${r.meanMs} ms` },
        { header: 'p95', cell: (r) => `${r.p95Ms} ms` },
        { header: 'Max', cell: (r) => `${r.maxMs} ms` },
      ]}
    />
  )
}

function Charts({ t, idp }: { t: Timeline; idp: string }) {
  return (
    <div class="grid">
      <section class="card" aria-labelledby={`${idp}-tp-h`}>
        <h2 id={`${idp}-tp-h`}>Throughput</h2>
        <ThroughputChart t={t} id={`${idp}-tp`} />
      </section>
      <section class="card" aria-labelledby={`${idp}-fail-h`}>
        <h2 id={`${idp}-fail-h`}>Failures</h2>
        <FailureChart t={t} id={`${idp}-fail`} />
      </section>
    </div>
  )
}

/** Charts, their sample and the endpoint rankings; `envNames` adds an environment column (overview). */
export function DeliveryStats(props: {
  timeline: Timeline
  /** Prefix of the charts' ids: the page may hold more than one set. */
  idp: string
  sample: Sample
  failing: EndpointFailure[]
  slow: EndpointLatency[]
  envNames?: EnvNames | undefined
}) {
  return (
    <>
      <Charts t={props.timeline} idp={props.idp} />
      <SampleNote sample={props.sample} />
      <div>
        <section aria-labelledby="failing-h">
          <h2 id="failing-h">Most failing endpoints</h2>
          <FailingTable rows={props.failing} envNames={props.envNames} />
        </section>
        <section aria-labelledby="slow-h">
          <h2 id="slow-h">Slowest endpoints</h2>
          <SlowTable rows={props.slow} />
        </section>
      </div>
    </>
  )
}
