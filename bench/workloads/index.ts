import { backlog } from './backlog.ts'
import { failing } from './failing.ts'
import { fanout, fanoutBatch, fanoutFiltered, fanoutTransform } from './fanout.ts'
import { latency, latencyBelowCapacity } from './latency.ts'
import { oneEndpoint } from './one-endpoint.ts'
import { slow } from './slow.ts'
import type { Workload } from './types.ts'

/** In the order they run. */
export const workloads: Workload[] = [
  fanout,
  fanoutFiltered,
  fanoutTransform,
  fanoutBatch,
  oneEndpoint,
  slow,
  failing,
  backlog,
  latency,
  latencyBelowCapacity,
]
