// A link to an environment's operator page that shows its name (its id when the name is unknown).
import { Id } from './layout.tsx'

const base = '/dashboard/operator'

/** Environment names by id: the operator reads names, not ids. */
export type EnvNames = ReadonlyMap<string, string>

export function EnvLink({ envId, names }: { envId: string; names: EnvNames }) {
  const name = names.get(envId)
  return <a href={`${base}/environments/${envId}`}>{name ?? <Id id={envId} />}</a>
}
