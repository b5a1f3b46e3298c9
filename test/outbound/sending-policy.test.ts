// "Never our own API" (no loops) when the API listens on a wildcard address: every address this
// machine answers on at the API's port is refused, at registration and at connect time, even
// where the operator's allowedCidrs exempt loopback and private ranges.
import type { LookupFunction } from 'node:net'
import { networkInterfaces } from 'node:os'
import { Agent, request } from 'undici'
import { describe, expect, it } from 'vitest'
import { checkAddress } from '../../src/network/address-policy.ts'
import { createSendingPolicy, ownAddresses } from '../../src/outbound/sending-policy.ts'

const port = 8080
// Everything exempt, so that only "our own" can refuse.
const open = { allowHttp: true, allowedCidrs: ['0.0.0.0/0', '::/0'] }

describe('the API listening on a wildcard address', () => {
  for (const host of ['0.0.0.0', '::']) {
    it(`refuses every local address on the API port when bound to ${host}`, () => {
      const p = createSendingPolicy(open, { host, port })
      const local = [
        '127.0.0.1',
        '127.0.0.2',
        '127.1.2.3',
        '127.255.255.254',
        '0.0.0.0',
        '[::1]',
        '[::]',
        '[::ffff:127.0.0.2]',
        '[::ffff:7f00:5]',
      ]
      for (const a of local) {
        expect(p.checkUrl(`http://${a}:${port}/hook`), a).toMatchObject({
          ok: false,
          code: 'url_not_allowed',
        })
        // Another port of the same host stays reachable (a developer's receiver beside Hookpost).
        expect(p.checkUrl(`http://${a}:9000/hook`).ok, a).toBe(true)
      }
    })
  }

  it("counts the machine's interface addresses as its own", () => {
    const mine = Object.values(networkInterfaces())
      .flat()
      .map((i) => i?.address.replace(/%.*$/, ''))
      .filter((a): a is string => typeof a === 'string')
    expect(mine.length).toBeGreaterThan(0)
    const policy = { ...open, deniedAddresses: ownAddresses('::') }
    for (const a of mine)
      expect(checkAddress(a, policy), a).toMatchObject({ allowed: false, range: 'denied' })
    // A specific address is only that address (and the unspecified ones, which reach this host).
    expect(ownAddresses('127.0.0.1')).toEqual(['127.0.0.1', '0.0.0.0', '::'])
    const specific = { ...open, deniedAddresses: ownAddresses('127.0.0.1') }
    expect(checkAddress('127.0.0.2', specific).allowed).toBe(true)
  })

  it('refuses a name resolving to another loopback address at connect time, before connecting', async () => {
    const p = createSendingPolicy(open, { host: '0.0.0.0', port })
    const lookup: LookupFunction = (_h, options, cb) =>
      options.all ? cb(null, [{ address: '127.0.0.2', family: 4 }]) : cb(null, '127.0.0.2', 4)
    const guarded = createSendingPolicy(open, { host: '0.0.0.0', port }, { lookup })
    expect(p.checkUrl(`http://loop.example:${port}/`).ok).toBe(true)
    const agent = new Agent({ connect: guarded.connect })
    try {
      await expect(
        request(`http://loop.example:${port}/`, { dispatcher: agent, method: 'POST', body: '{}' }),
      ).rejects.toMatchObject({ code: 'blocked_address' })
    } finally {
      await agent.close()
    }
  })
})
