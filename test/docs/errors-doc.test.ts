import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { statusOfKind } from '../../src/shared/error-status.ts'
import { errorCatalogue } from '../../src/shared/errors.ts'

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8')
const rows = [...doc.matchAll(/^\|\s*`([a-z_]+)`\s*\|\s*(\d{3})\s*\|/gm)].map((m) => ({
  code: m[1]!,
  status: Number(m[2]),
}))

describe('docs/errors.md', () => {
  it('lists every code in the catalogue with its HTTP status', () => {
    for (const [code, { kind }] of Object.entries(errorCatalogue)) {
      const row = rows.find((r) => r.code === code)
      expect(row, `${code} is missing from docs/errors.md`).toBeDefined()
      expect(row!.status, code).toBe(statusOfKind[kind])
    }
  })

  it('names no code that no longer exists', () => {
    for (const r of rows)
      expect(Object.keys(errorCatalogue), `${r.code} is not in src/shared/errors.ts`).toContain(r.code)
  })
})
