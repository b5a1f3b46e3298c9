// Writes docs/config.md from src/config/schema.ts (a test fails when the page is stale).
import { writeFileSync } from 'node:fs'
import { configDoc } from '../src/config/config-doc.ts'

writeFileSync(new URL('../docs/config.md', import.meta.url), configDoc())
