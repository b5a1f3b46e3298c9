// One pool per client certificate, bounded: the least recently used pool is closed past the
// limit, and a pool unused for the idle time is closed by the sweep.
import { Agent } from 'undici'
import { describe, expect, it } from 'vitest'
import { ClientIdentityAgents } from '../../src/outbound/client-identity-agents.ts'

const identity = (id: string) => ({ id, certificate: `cert-${id}`, privateKey: `key-${id}` })

describe('client identity pools', () => {
  it('keeps one pool per identity, closes the least recently used past the limit', async () => {
    const made: string[] = []
    const pools = new ClientIdentityAgents(
      (i) => {
        made.push(i.id)
        return new Agent()
      },
      { max: 2 },
    )
    const a = pools.get(identity('a'))
    const b = pools.get(identity('b'))
    expect(pools.get(identity('a'))).toBe(a)
    const c = pools.get(identity('c'))
    expect(made).toEqual(['a', 'b', 'c'])
    expect(pools.size).toBe(2)
    // b was the least recently used.
    await new Promise((r) => setImmediate(r))
    expect(b.closed).toBe(true)
    expect(a.closed).toBe(false)
    expect(pools.get(identity('a'))).toBe(a)
    expect(pools.get(identity('c'))).toBe(c)
    await pools.close()
    expect(a.destroyed && c.destroyed).toBe(true)
  })

  it('closes a pool unused for the idle time', async () => {
    const pools = new ClientIdentityAgents(() => new Agent(), { idleMs: 50 })
    const a = pools.get(identity('a'))
    await new Promise((r) => setTimeout(r, 200))
    expect(pools.size).toBe(0)
    expect(a.closed).toBe(true)
    await pools.close()
  })
})
