import { describe, expect, it } from 'vitest'
import { postgresMigrations } from '../../src/store/postgres/migrations.ts'
import { sqliteMigrations } from '../../src/store/sqlite/migrations.ts'

describe('migrations', () => {
  it('keep the same numbers and names in both adapters', () => {
    const shape = (ms: readonly { version: number; name: string }[]) =>
      ms.map((m) => `${m.version} ${m.name}`)
    expect(shape(postgresMigrations)).toEqual(shape(sqliteMigrations))
    expect(sqliteMigrations.map((m) => m.version)).toEqual(sqliteMigrations.map((_, i) => i + 1))
  })

  it('never store a payload as jsonb', () => {
    expect(postgresMigrations.flatMap((m) => m.statements).join('\n')).not.toMatch(/jsonb/i)
  })
})
