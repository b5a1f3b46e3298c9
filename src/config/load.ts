// The only place that reads process.env. Layers defaults, then the environment, then CLI flags;
// validates everything at once and reports every problem together.
import { type Config, settings } from './schema.ts'

export class ConfigError extends Error {
  readonly problems: string[]
  constructor(problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
}

/** flags: values given on the command line, keyed by Config key. */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  flags: Partial<Record<keyof Config, string>> = {},
): Readonly<Config> {
  const out: Record<string, unknown> = {}
  const problems: string[] = []
  for (const s of settings) {
    const raw = flags[s.key] ?? env[s.env] ?? s.default
    if (raw === undefined) {
      out[s.key] = undefined
      continue
    }
    try {
      out[s.key] = s.parse(raw)
    } catch (e) {
      const source = flags[s.key] !== undefined ? s.flag : env[s.env] !== undefined ? s.env : 'default'
      problems.push(`${source}: ${(e as Error).message}`)
    }
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return Object.freeze(out as unknown as Config)
}
