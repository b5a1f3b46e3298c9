// What a subscription filter costs per delivery, in process: the compiled-filter cache lookup
// plus the fanout-filtered workload's filter on the bench payload, CPU time over 2 M evaluations
// (publish runs exactly this once per subscription with a filter). A report, not a test.
// Run: npx tsx bench/filter-probe.ts
import { FilterCache } from '../src/subscriptions/filter.ts'
import { bodyTail, fallbackExample, makeBody } from './lib/payload.ts'
import { benchFilter } from './workloads/fanout.ts'

const payload: unknown = JSON.parse(makeBody(bodyTail(fallbackExample), 1, 1))
const cache = new FilterCache()
const subs = Array.from({ length: 10 }, (_, i) => ({
  id: `sub_${i}`,
  updated: 1,
  filter: JSON.stringify(benchFilter),
}))
const n = 2_000_000
let matches = 0
for (let i = 0; i < n / 10; i++) if (cache.get(subs[i % 10]!)(payload)) matches++
const t0 = process.cpuUsage()
for (let i = 0; i < n; i++) if (cache.get(subs[i % 10]!)(payload)) matches++
const used = process.cpuUsage(t0)
const ns = ((used.user + used.system) * 1000) / n
process.stdout.write(
  `${ns.toFixed(0)} ns CPU per delivery (filter cache lookup + 3 conditions), ${matches} of ${n + n / 10} matched\n`,
)
