// The delivery statistics the operator's overview and environment pages share: throughput and
// failure charts, the sample they come from, and the most failing and slowest endpoints.
import type { EndpointFailure, EndpointLatency, Timeline } from '../stats.ts'
import { FailureChart, ThroughputChart } from './charts.tsx'
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
  if (rows.length === 0) return <p>No endpoint has failed.</p>
  const showEnv = envNames !== undefined
  return (
    <table class="stack">
      <caption class="visually-hidden">Most failing endpoints</caption>
      <thead>
        <tr>
          <th scope="col">URL</th>
          <th scope="col">Event</th>
          {showEnv ? <th scope="col">Environment</th> : null}
          <th scope="col">Failed attempts</th>
          <th scope="col">Success rate</th>
          <th scope="col">Failing since</th>
          <th scope="col">State</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.subscriptionId}>
            <td data-label="URL">
              <code>{r.url}</code>
            </td>
            <td data-label="Event">{r.event}</td>
            {envNames !== undefined ? (
              <td data-label="Environment">
                <EnvLink envId={r.envId} names={envNames} />
              </td>
            ) : null}
            <td data-label="Failed attempts">{r.failureCount}</td>
            <td data-label="Success rate">{percent(r.successRate)}</td>
            <td data-label="Failing since">
              <Time ms={r.failingSince} empty="not failing" />
            </td>
            <td data-label="State">
              <ActiveBadge active={r.active} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

function SlowTable({ rows }: { rows: EndpointLatency[] }) {
  if (rows.length === 0) return <p>No attempts recorded yet.</p>
  return (
    <table class="stack">
      <caption class="visually-hidden">Slowest endpoints</caption>
      <thead>
        <tr>
          <th scope="col">URL</th>
          <th scope="col">Attempts</th>
          <th scope="col">Mean</th>
          <th scope="col">p95</th>
          <th scope="col">Max</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.subscriptionId}>
            <td data-label="URL">
              <code>{r.url}</code>
            </td>
            <td data-label="Attempts">{r.attempts}</td>
            <td data-label="Mean">{r.meanMs} ms</td>
            <td data-label="p95">{r.p95Ms} ms</td>
            <td data-label="Max">{r.maxMs} ms</td>
          </tr>
        ))}
      </tbody>
    </table>
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
