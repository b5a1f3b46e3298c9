// Renders the settings table (docs/config.md and the README) from the schema.
import { settings } from './schema.ts'

export function configTable(): string {
  const lines = ['| Variable | Flag | Meaning | Default |', '|---|---|---|---|']
  for (const s of settings) {
    const generated = 'secret' in s && s.secret
    const def =
      s.default === undefined
        ? generated
          ? '(generated into the data directory)'
          : '(unset)'
        : s.default === ''
          ? '(empty)'
          : `\`${s.default}\``
    lines.push(`| \`${s.env}\` | \`${s.flag}\` | ${s.doc} | ${def} |`)
  }
  return lines.join('\n')
}

export function configDoc(): string {
  return `# Configuration

Generated from \`src/config/schema.ts\` by \`npx tsx scripts/gen-config-docs.ts\`; do not edit by hand.

Every setting is an environment variable and a flag of \`hookpost serve\` (flags win). All are
checked at start; every problem is reported at once and the process exits non-zero.

${configTable()}

Durations take \`ms\`, \`s\`, \`m\`, \`h\` or \`d\` (\`15s\`, \`5m\`). Sizes take \`kb\` or \`mb\`.
`
}
