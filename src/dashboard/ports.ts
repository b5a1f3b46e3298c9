// What the dashboard needs beyond the Hookpost use cases it already has. Optional: the
// composition root wires it when the core offers it; without it the page says so.
import type { CredentialRow } from '../store/store.ts'

/** An environment's credentials, live and revoked (the Store cannot list them yet). */
export type ListCredentials = (envId: string) => Promise<CredentialRow[]>

export interface DashboardPorts {
  listCredentials?: ListCredentials | undefined
}
