import type pg from 'pg'
import { describe, expect, it } from 'vitest'
import { nameStatements } from '../../src/store/postgres/postgres-store.ts'

/** A stand-in pg client that records what each query call was given. */
function recordingClient() {
  const calls: unknown[][] = []
  const client = { query: (...a: unknown[]) => calls.push(a) } as unknown as pg.PoolClient
  return { client: nameStatements(client), calls }
}

describe('PostgreSQL named statements', () => {
  it('names a parameterised statement by its text, the same name every time', () => {
    const { client, calls } = recordingClient()
    const text = 'select "id" from "deliveries" where "id" = $1'
    void client.query(text, ['a'])
    void client.query(text, ['b'])
    void client.query('select "url" from "subscriptions" where "id" = $1', ['c'])
    const [first, second, other] = calls.map((c) => c[0] as { name: string; text: string; values: unknown[] })
    expect(first).toMatchObject({ text, values: ['a'] })
    expect(first!.name).toMatch(/^hp_/)
    expect(second!.name).toBe(first!.name)
    expect(other!.name).not.toBe(first!.name)
  })

  it('leaves unnamed what a migration could change under it, and what has no parameters', () => {
    const { client, calls } = recordingClient()
    void client.query('select * from "credentials" where "key" = $1', ['k'])
    void client.query('update "deliveries" set "status" = $1 returning *', ['x'])
    void client.query('begin')
    void client.query('listen hookpost_work', [])
    expect(calls).toEqual([
      ['select * from "credentials" where "key" = $1', ['k']],
      ['update "deliveries" set "status" = $1 returning *', ['x']],
      ['begin', undefined],
      ['listen hookpost_work', []],
    ])
  })

  it('patches a pooled client once, however often it is handed out', () => {
    const { client, calls } = recordingClient()
    nameStatements(client)
    void client.query('select "id" from "events" where "id" = $1', ['e'])
    expect(calls).toHaveLength(1)
    expect((calls[0]![0] as { name: string }).name).toMatch(/^hp_/)
  })
})
