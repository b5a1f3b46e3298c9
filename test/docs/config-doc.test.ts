import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { configDoc } from '../../src/config/config-doc.ts'

describe('docs/config.md', () => {
  it('is the one generated from the schema (run npx tsx scripts/gen-config-docs.ts)', () => {
    expect(readFileSync(new URL('../../docs/config.md', import.meta.url), 'utf8')).toBe(configDoc())
  })
})

describe('README.md', () => {
  it('shows the configuration table generated from the schema', async () => {
    const { configTable } = await import('../../src/config/config-doc.ts')
    expect(readFileSync(new URL('../../README.md', import.meta.url), 'utf8')).toContain(configTable())
  })
})
