// Whether this tree's service routes POST /events/batch (contract section 10), which the outbox
// relay publishes to: its tests against the real service run once it does.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { repoRoot } from './service-process.ts'

export function serviceHasBatchEndpoint(): boolean {
  const dir = join(repoRoot, 'src/http')
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.ts'))
    .some((f) => readFileSync(join(dir, f), 'utf8').includes('/events/batch'))
}
