// Writes docs/config.md and the README's configuration table from src/config/schema.ts
// (tests fail when either is stale). Run: npx tsx scripts/gen-config-docs.ts
import { readFileSync, writeFileSync } from 'node:fs'
import { configDoc, configTable } from '../src/config/config-doc.ts'

writeFileSync(new URL('../docs/config.md', import.meta.url), configDoc())
const readmeUrl = new URL('../README.md', import.meta.url)
const readme = readFileSync(readmeUrl, 'utf8')
const start = readme.indexOf('| Variable | Flag |')
const end = readme.indexOf('\n\n', start)
if (start < 0 || end < 0) throw new Error('README.md has no configuration table to replace')
writeFileSync(readmeUrl, readme.slice(0, start) + configTable() + readme.slice(end))
