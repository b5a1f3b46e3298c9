// The connect-time SSRF guard against real servers on loopback (reliability §7.3 S02–S05, S13).
// A "canary" stands for an internal service: no test may ever reach it.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { LookupFunction } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { Agent, request } from 'undici'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type AddressPolicy, compileAddressPolicy } from '../../src/network/address-policy.ts'
import {
  BlockedAddressError,
  createGuardedConnector,
  createGuardedLookup,
  type GuardedConnectorOptions,
} from '../../src/outbound/guarded-connector.ts'

// A throwaway self-signed certificate for `receiver.test` (test use only; valid until 2126).
const testKey = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgDhvDf/YKzCmJ1zpB
WVVieqgAQTdRXzJ50hKTXM5Dmo2hRANCAAQfK1L572iAQ7M4OMaJ6geKtUOjUxez
36GV2vi8eQxu0+NoebN24rnYNXSlDMRpL0cv+/zUiNEUwDGPWullkbIc
-----END PRIVATE KEY-----
`
const testCert = `-----BEGIN CERTIFICATE-----
MIIBoTCCAUegAwIBAgIUfpZgqCayZwAkqyIIp87YLTMW15swCgYIKoZIzj0EAwIw
GDEWMBQGA1UEAwwNcmVjZWl2ZXIudGVzdDAgFw0yNjExMjgxMzQwMTVaGA8yMTI2
MTEwNDEzNDAxNVowGDEWMBQGA1UEAwwNcmVjZWl2ZXIudGVzdDBZMBMGByqGSM49
AgEGCCqGSM49AwEHA0IABB8rUvnvaIBDszg4xonqB4q1Q6NTF7PfoZXa+Lx5DG7T
42h5s3biudg1dKUMxGkvRy/7/NSI0RTAMY9a6WWRshyjbTBrMB0GA1UdDgQWBBQZ
ddvp0OoQB3Rr+tfFvMktXw0X0DAfBgNVHSMEGDAWgBQZddvp0OoQB3Rr+tfFvMkt
Xw0X0DAPBgNVHRMBAf8EBTADAQH/MBgGA1UdEQQRMA+CDXJlY2VpdmVyLnRlc3Qw
CgYIKoZIzj0EAwIDSAAwRQIhANMy4gKQ/lxC12MFCzRse9Fpe2bPV8+sodLbgPC0
sEe4AiAILIwfrpLUI4hrWNAMW2qG3CVvQIOUWbxhmgqD6gPk5g==
-----END CERTIFICATE-----
`

interface Counted {
  server: Server
  port: number
  hits: number
  /** Local address each request arrived on. */
  arrivedOn: string[]
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void

const ok: Handler = (_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' })
  res.end('ok')
}

async function listen(server: Server, host: string, port = 0): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const a = server.address()
  if (a === null || typeof a === 'string') throw new Error('no address')
  return a.port
}

async function counted(host: string, port = 0, handler: Handler = ok, tls = false): Promise<Counted> {
  const c: Counted = { server: undefined as unknown as Server, port: 0, hits: 0, arrivedOn: [] }
  const onRequest: Handler = (req, res) => {
    c.hits++
    c.arrivedOn.push(req.socket.localAddress ?? '')
    req.resume()
    req.on('end', () => handler(req, res))
  }
  c.server = tls ? createHttpsServer({ key: testKey, cert: testCert }, onRequest) : createServer(onRequest)
  c.port = await listen(c.server, host, port)
  return c
}

async function close(c: Counted | undefined): Promise<void> {
  if (!c) return
  c.server.closeAllConnections()
  await new Promise<void>((r) => c.server.close(() => r()))
}

/** A stub resolver answering from a table (or a function of the call count), counting calls. */
function stubLookup(answer: (host: string, call: number) => string[]): LookupFunction & { calls: string[] } {
  const calls: string[] = []
  const fn = ((hostname, options, callback) => {
    calls.push(hostname)
    const addrs = answer(hostname, calls.length).map((address) => ({
      address,
      family: address.includes(':') ? 6 : 4,
    }))
    setImmediate(() => {
      if (addrs.length === 0) {
        callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), '', 0)
      } else if (options.all) callback(null, addrs)
      else callback(null, addrs[0]!.address, addrs[0]!.family)
    })
  }) as LookupFunction & { calls: string[] }
  fn.calls = calls
  return fn
}

const agents: Agent[] = []

function agentFor(policy: AddressPolicy, opts: GuardedConnectorOptions = {}): Agent {
  const agent = new Agent({ connect: createGuardedConnector(compileAddressPolicy(policy), opts) })
  agents.push(agent)
  return agent
}

type Outcome = { status: number; location?: string } | { error: string; message: string; cause: unknown }

async function attempt(url: string, dispatcher: Agent): Promise<Outcome> {
  try {
    const res = await request(url, {
      dispatcher,
      method: 'POST',
      body: '{"hello":"world"}',
      headers: { 'content-type': 'application/json' },
      signal: AbortSignal.timeout(5_000),
    })
    await res.body.dump()
    const location = res.headers['location']
    return typeof location === 'string' ? { status: res.statusCode, location } : { status: res.statusCode }
  } catch (e) {
    const err = e as { code?: string; message?: string }
    return { error: err.code ?? 'unknown', message: err.message ?? '', cause: e }
  }
}

const strict: AddressPolicy = { allowHttp: true, allowedCidrs: [] }

let canary: Counted
let canary6: Counted | undefined

beforeAll(async () => {
  canary = await counted('127.0.0.1')
  try {
    canary6 = await counted('::1')
  } catch {
    canary6 = undefined // no IPv6 loopback on this machine
  }
})

afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.close()))
})

afterAll(async () => {
  expect(canary.hits).toBe(0)
  if (canary6) expect(canary6.hits).toBe(0)
  await close(canary)
  await close(canary6)
})

describe('guarded connector', () => {
  it('(a) refuses a name that resolves to loopback, before connecting', async () => {
    const lookup = stubLookup(() => ['127.0.0.1'])
    const out = await attempt(`http://internal.example:${canary.port}/`, agentFor(strict, { lookup }))
    expect(out).toMatchObject({ error: 'blocked_address' })
    if ('cause' in out) {
      expect(out.cause).toBeInstanceOf(BlockedAddressError)
      // The tenant sees the host, not what it resolves to; the server log gets the detail.
      expect(out.message).toContain('internal.example')
      expect(out.message).not.toContain('127.0.0.1')
      expect(out.message).toContain('not public')
      expect((out.cause as BlockedAddressError).detail).toContain('127.0.0.1')
      expect((out.cause as BlockedAddressError).detail).toContain('loopback')
    }
    expect(lookup.calls).toEqual(['internal.example'])
    expect(canary.hits).toBe(0)
  })

  it('refuses names resolving to other blocked addresses (metadata, mapped, NAT64, private)', async () => {
    for (const addr of [
      '169.254.169.254',
      '::ffff:127.0.0.1',
      '64:ff9b::7f00:1',
      '10.0.0.1',
      '::1',
      '0.0.0.0',
    ]) {
      const lookup = stubLookup(() => [addr])
      const out = await attempt(`http://svc.example:${canary.port}/`, agentFor(strict, { lookup }))
      expect(out, addr).toMatchObject({ error: 'blocked_address' })
    }
    expect(canary.hits).toBe(0)
  })

  it('(b) refuses a name answering both a public and a private address (rebinding), in either order', async () => {
    for (const answer of [
      ['93.184.215.14', '127.0.0.1'],
      ['127.0.0.1', '93.184.215.14'],
      ['2606:4700::1111', '::1'],
    ]) {
      const lookup = stubLookup(() => answer)
      const out = await attempt(`http://rebind.example:${canary.port}/`, agentFor(strict, { lookup }))
      expect(out, answer.join(',')).toMatchObject({ error: 'blocked_address' })
      expect(lookup.calls).toHaveLength(1)
    }
    expect(canary.hits).toBe(0)
  })

  it('resolves once per connection and connects only to the address it checked (S03)', async () => {
    // The receiver listens on 127.0.0.2, the canary on 127.0.0.1, on the same port; only
    // 127.0.0.2 is exempted. The resolver answers the receiver first, the canary afterwards.
    const receiver = await counted('127.0.0.2', canary.port)
    try {
      const policy: AddressPolicy = { allowHttp: true, allowedCidrs: ['127.0.0.2/32'] }
      const lookup = stubLookup((_h, call) => (call === 1 ? ['127.0.0.2'] : ['127.0.0.1']))
      const url = `http://flip.example:${canary.port}/`
      expect(await attempt(url, agentFor(policy, { lookup }))).toMatchObject({ status: 200 })
      expect(lookup.calls).toHaveLength(1)
      expect(receiver.arrivedOn).toEqual(['127.0.0.2'])
      // A new connection resolves again, and the now-private answer is refused.
      expect(await attempt(url, agentFor(policy, { lookup }))).toMatchObject({ error: 'blocked_address' })
      expect(lookup.calls).toHaveLength(2)
      expect(receiver.hits).toBe(1)
      expect(canary.hits).toBe(0)
    } finally {
      await close(receiver)
    }
  })

  it('(c) refuses IP-literal hosts in every spelling without consulting the resolver (S04)', async () => {
    const lookup = stubLookup(() => ['93.184.215.14'])
    const agent = agentFor(strict, { lookup })
    const p = canary.port
    const urls = [
      `http://127.0.0.1:${p}/`,
      `http://[::ffff:127.0.0.1]:${p}/`,
      `http://[::ffff:7f00:1]:${p}/`,
      `http://2130706433:${p}/`,
      `http://0x7f.1:${p}/`,
      `http://0177.0.0.1:${p}/`,
      `http://127.1:${p}/`,
      `http://0:${p}/`,
      `http://[::]:${p}/`,
      `http://[::7f00:1]:${p}/`,
      `http://[64:ff9b::7f00:1]:${p}/`,
    ]
    if (canary6) urls.push(`http://[::1]:${canary6.port}/`, `http://[0:0:0:0:0:0:0:1]:${canary6.port}/`)
    for (const url of urls) {
      expect(await attempt(url, agent), url).toMatchObject({ error: 'blocked_address' })
    }
    expect(lookup.calls).toEqual([])
    expect(canary.hits).toBe(0)
  })

  it('(d) reaches a loopback receiver when allowedCidrs exempts loopback', async () => {
    const receiver = await counted('127.0.0.1')
    try {
      const lookup = stubLookup(() => ['127.0.0.1'])
      const agent = agentFor({ allowHttp: true, allowedCidrs: ['127.0.0.0/8'] }, { lookup })
      expect(await attempt(`http://127.0.0.1:${receiver.port}/`, agent)).toMatchObject({ status: 200 })
      expect(await attempt(`http://receiver.example:${receiver.port}/`, agent)).toMatchObject({ status: 200 })
      expect(receiver.hits).toBe(2)
    } finally {
      await close(receiver)
    }
  })

  it('(e) does not follow a redirect to an internal address (S05)', async () => {
    const redirect: Handler = (_req, res) => {
      res.writeHead(302, { location: `http://127.0.0.1:${canary.port}/` })
      res.end()
    }
    const receiver = await counted('127.0.0.2', 0, redirect)
    try {
      const agent = agentFor({ allowHttp: true, allowedCidrs: ['127.0.0.2/32'] })
      const out = await attempt(`http://127.0.0.2:${receiver.port}/`, agent)
      expect(out).toEqual({ status: 302, location: `http://127.0.0.1:${canary.port}/` })
      expect(receiver.hits).toBe(1)
      expect(canary.hits).toBe(0)
    } finally {
      await close(receiver)
    }
  })

  it('(f) refuses our own address even inside allowedCidrs (S13)', async () => {
    const receiver = await counted('127.0.0.1')
    try {
      const lookup = stubLookup(() => ['127.0.0.1'])
      const policy: AddressPolicy = {
        allowHttp: true,
        allowedCidrs: ['127.0.0.0/8'],
        deniedAddresses: ['127.0.0.1'],
      }
      const agent = agentFor(policy, { lookup })
      for (const url of [
        `http://127.0.0.1:${receiver.port}/`,
        `http://[::ffff:127.0.0.1]:${receiver.port}/`,
        `http://self.example:${receiver.port}/`,
      ]) {
        const out = await attempt(url, agent)
        expect(out, url).toMatchObject({ error: 'blocked_address' })
        if ('cause' in out)
          expect((out.cause as BlockedAddressError).detail).toContain("this service's own addresses")
      }
      expect(receiver.hits).toBe(0)
    } finally {
      await close(receiver)
    }
  })

  it('speaks TLS to a checked address with the name as SNI and certificate identity', async () => {
    const receiver = await counted('127.0.0.2', 0, ok, true)
    try {
      const lookup = stubLookup(() => ['127.0.0.2'])
      const policy: AddressPolicy = { allowHttp: false, allowedCidrs: ['127.0.0.2/32'] }
      let sni: string | false | null | undefined
      receiver.server.on('secureConnection', (s: TLSSocket) => {
        sni = s.servername
      })
      const agent = agentFor(policy, { lookup, tls: { ca: testCert } })
      expect(await attempt(`https://receiver.test:${receiver.port}/`, agent)).toMatchObject({ status: 200 })
      expect(sni).toBe('receiver.test')
      // The same address under another name fails certificate verification, not the guard.
      const other = await attempt(
        `https://other.test:${receiver.port}/`,
        agentFor(policy, { lookup, tls: { ca: testCert } }),
      )
      expect(other).toMatchObject({ error: 'ERR_TLS_CERT_ALTNAME_INVALID' })
      // And a refused address never starts a handshake.
      const blocked = stubLookup(() => ['127.0.0.1'])
      const refused = await attempt(
        `https://receiver.test:${canary.port}/`,
        agentFor(policy, { lookup: blocked }),
      )
      expect(refused).toMatchObject({ error: 'blocked_address' })
    } finally {
      await close(receiver)
    }
  })

  it('passes resolver failures through and survives a resolver that throws', async () => {
    const missing = stubLookup(() => [])
    expect(
      await attempt(`http://nowhere.example:${canary.port}/`, agentFor(strict, { lookup: missing })),
    ).toMatchObject({ error: 'ENOTFOUND' })
    const throwing: LookupFunction = () => {
      throw new Error('resolver exploded')
    }
    const out = await attempt(`http://boom.example:${canary.port}/`, agentFor(strict, { lookup: throwing }))
    expect(out).toMatchObject({ message: 'resolver exploded' })
    const empty: LookupFunction = (_h, _o, cb) => cb(null, [])
    expect(
      await attempt(`http://empty.example:${canary.port}/`, agentFor(strict, { lookup: empty })),
    ).toMatchObject({
      error: 'ENOTFOUND',
    })
    expect(canary.hits).toBe(0)
  })
})

describe('guarded lookup', () => {
  const policy = compileAddressPolicy({ allowHttp: false, allowedCidrs: [] })
  const call = (lookup: LookupFunction, all: boolean) =>
    new Promise<{ err: NodeJS.ErrnoException | null; address: unknown; family: unknown }>((resolve) =>
      lookup('svc.example', { all, family: 0 }, (err, address, family) => resolve({ err, address, family })),
    )

  it('always asks the resolver for every address and answers in the shape requested', async () => {
    const seen: unknown[] = []
    const base: LookupFunction = (_h, options, cb) => {
      seen.push(options.all)
      cb(null, [
        { address: '93.184.215.14', family: 4 },
        { address: '2606:4700::1111', family: 6 },
      ])
    }
    const guarded = createGuardedLookup(policy, base)
    expect(await call(guarded, true)).toEqual({
      err: null,
      address: [
        { address: '93.184.215.14', family: 4 },
        { address: '2606:4700::1111', family: 6 },
      ],
      family: undefined,
    })
    expect(await call(guarded, false)).toEqual({ err: null, address: '93.184.215.14', family: 4 })
    expect(seen).toEqual([true, true])
  })

  it('refuses when any answer is blocked, naming the host and the address', async () => {
    const base: LookupFunction = (_h, _o, cb) => cb(null, '10.1.2.3', 4)
    const { err } = await call(createGuardedLookup(policy, base), true)
    expect(err).toBeInstanceOf(BlockedAddressError)
    expect(err).toMatchObject({
      code: 'blocked_address',
      host: 'svc.example',
      address: '10.1.2.3',
      range: 'private',
    })
  })

  it('calls back once even if the resolver calls back twice', async () => {
    let calls = 0
    const base: LookupFunction = (_h, _o, cb) => {
      cb(null, [{ address: '93.184.215.14', family: 4 }])
      cb(null, [{ address: '127.0.0.1', family: 4 }])
    }
    await new Promise<void>((resolve) => {
      createGuardedLookup(policy, base)('svc.example', { all: true }, () => {
        calls++
        setImmediate(resolve)
      })
    })
    expect(calls).toBe(1)
  })
})
