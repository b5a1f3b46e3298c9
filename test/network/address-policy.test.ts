// The SSRF address and URL policy (reliability §2.2, §6.1, §7.3 S01/S13). Property-based: random
// addresses inside every special-purpose block, in every spelling an attacker might use, are
// never accepted; random public addresses (picked with this file's own table, not the module's)
// always are.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type AddressPolicy,
  AddressPolicyError,
  checkAddress,
  checkUrl,
  classifyAddress,
  compileAddressPolicy,
  explainUrl,
  isAddressAllowed,
  maxUrlLength,
} from '../../src/network/address-policy.ts'

const strict: AddressPolicy = { allowHttp: false, allowedCidrs: [] }

// ---------------------------------------------------------------------------------------------
// An independent IPv4/IPv6 toolkit (integer maths only; no ipaddr.js)

function v4Cidr(cidr: string): { base: number; bits: number; size: number } {
  const [addr = '', bits = '32'] = cidr.split('/')
  const o = addr.split('.').map(Number)
  const base = (((o[0] ?? 0) << 24) | ((o[1] ?? 0) << 16) | ((o[2] ?? 0) << 8) | (o[3] ?? 0)) >>> 0
  return { base, bits: Number(bits), size: 2 ** (32 - Number(bits)) }
}

function inV4(n: number, cidr: string): boolean {
  const c = v4Cidr(cidr)
  return n >= c.base && n < c.base + c.size
}

const dotted = (n: number) => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`
const octets = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255] as const
const hex16 = (n: number) => (n & 0xffff).toString(16)
const hi16 = (n: number) => hex16(n >>> 16)
const lo16 = (n: number) => hex16(n)

function v6Cidr(cidr: string): { parts: number[]; bits: number } {
  const [addr = '', bits = '128'] = cidr.split('/')
  return { parts: expand(addr), bits: Number(bits) }
}

/** Expands a (possibly compressed) IPv6 address without a dotted tail into 8 numbers. */
function expand(addr: string): number[] {
  const [head = '', tail] = addr.split('::')
  const h = head === '' ? [] : head.split(':').map((x) => parseInt(x, 16))
  const t = tail === undefined || tail === '' ? [] : tail.split(':').map((x) => parseInt(x, 16))
  return [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t]
}

function inV6(parts: readonly number[], cidr: string): boolean {
  const c = v6Cidr(cidr)
  for (let i = 0, left = c.bits; left > 0; i++, left -= 16) {
    const take = Math.min(16, left)
    const mask = (0xffff << (16 - take)) & 0xffff
    if (((parts[i] ?? 0) & mask) !== ((c.parts[i] ?? 0) & mask)) return false
  }
  return true
}

/** Random parts inside a v6 CIDR: the prefix from the CIDR, the rest from `random`. */
function within(cidr: string, random: readonly number[]): number[] {
  const c = v6Cidr(cidr)
  return random.map((r, i) => {
    const take = Math.max(0, Math.min(16, c.bits - i * 16))
    const mask = (0xffff << (16 - take)) & 0xffff
    return ((c.parts[i] ?? 0) & mask) | (r & ~mask & 0xffff)
  })
}

const full = (p: readonly number[]) => p.map((x) => x.toString(16).padStart(4, '0').toUpperCase()).join(':')

/** RFC 5952 compression: the longest run (≥ 2) of zero groups becomes `::`. */
function compressed(p: readonly number[]): string {
  let best = -1
  let bestLen = 1
  for (let i = 0; i < 8; ) {
    if (p[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && p[j] === 0) j++
    if (j - i > bestLen) {
      best = i
      bestLen = j - i
    }
    i = j
  }
  const h = (xs: readonly number[]) => xs.map((x) => x.toString(16)).join(':')
  return best === -1 ? h(p) : `${h(p.slice(0, best))}::${h(p.slice(best + bestLen))}`
}

/** The same address with its last 32 bits written as a dotted quad. */
const dottedTail = (p: readonly number[]) =>
  `${p
    .slice(0, 6)
    .map((x) => x.toString(16))
    .join(':')}:${dotted((((p[6] ?? 0) << 16) | (p[7] ?? 0)) >>> 0)}`

// ---------------------------------------------------------------------------------------------
// The spec's tables, written out here independently of the module

/** reliability §2.2, IPv4 column (everything here is refused). */
const blockedV4: readonly [string, string][] = [
  ['0.0.0.0/8', 'this network'],
  ['10.0.0.0/8', 'RFC 1918'],
  ['172.16.0.0/12', 'RFC 1918'],
  ['192.168.0.0/16', 'RFC 1918'],
  ['100.64.0.0/10', 'CGNAT'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['169.254.169.254/32', 'metadata'],
  ['192.0.0.0/24', 'IETF'],
  ['192.88.99.0/24', '6to4 relay'],
  ['192.0.2.0/24', 'documentation'],
  ['198.51.100.0/24', 'documentation'],
  ['203.0.113.0/24', 'documentation'],
  ['198.18.0.0/15', 'benchmarking'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved'],
  ['255.255.255.255/32', 'broadcast'],
  ['168.63.129.16/32', 'Azure WireServer'],
]

/** reliability §2.2, IPv6 column: blocks refused whatever the rest of the address is. */
const blockedV6: readonly [string, string][] = [
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['::/96', 'IPv4-compatible'],
  ['::ffff:0:0:0/96', 'IPv4-translated'],
  ['64:ff9b:1::/48', 'local-use NAT64'],
  ['100::/64', 'discard'],
  ['2001::/32', 'Teredo'],
  ['2001::/23', 'IETF protocol assignments'],
  ['2001:db8::/32', 'documentation'],
  ['3fff::/20', 'documentation'],
  ['5f00::/16', 'SRv6'],
  ['fc00::/7', 'ULA'],
  ['fd00:ec2::254/128', 'AWS metadata'],
  ['fe80::/10', 'link-local'],
  ['fec0::/10', 'site-local'],
  ['ff00::/8', 'multicast'],
]

const isSpecialV4 = (n: number) => blockedV4.some(([c]) => inV4(n, c))

// ---------------------------------------------------------------------------------------------
// Spellings

/** Every spelling of an IPv4 address that WHATWG accepts as a URL host. */
function v4HostSpellings(n: number, pick: number): string[] {
  const [a, b, c, d] = octets(n)
  const oct = (x: number) => `0${x.toString(8)}`
  const hex = (x: number) => (pick & 1 ? `0x${x.toString(16)}` : `0X${x.toString(16).toUpperCase()}`)
  const radix = [String, oct, hex]
  const mixed = [a, b, c, d].map((x, i) => (radix[(pick >> (i * 2)) % 3] ?? String)(x)).join('.')
  const pct = dotted(n).replace(/\d/g, (ch) => `%3${ch}`)
  const fullwidth = dotted(n)
    .replace(/\d/g, (ch) => String.fromCharCode(0xff10 + Number(ch)))
    .replace(/\./g, '\u3002')
  return [
    dotted(n),
    `${dotted(n)}.`,
    String(n),
    hex(n),
    `0${n.toString(8)}`,
    [a, b, c, d].map(hex).join('.'),
    [a, b, c, d].map(oct).join('.'),
    `${a}.${b}.${(c << 8) | d}`,
    `${a}.${(b << 16) | (c << 8) | d}`,
    `${hex(a)}.${oct((b << 16) | (c << 8) | d)}`,
    mixed,
    pct,
    fullwidth,
  ]
}

/** IPv6 spellings that carry the IPv4 address and forward to it (allowed when it is public). */
function v4CarriedSpellings(n: number, rnd: readonly number[]): string[] {
  const r = (i: number) => hex16(rnd[i] ?? 0)
  return [
    `::ffff:${dotted(n)}`,
    `::FFFF:${hi16(n)}:${lo16(n)}`,
    `0:0:0:0:0:ffff:${dotted(n)}`,
    `64:ff9b::${dotted(n)}`,
    `64:ff9b::${hi16(n)}:${lo16(n)}`,
    `2002:${hi16(n)}:${lo16(n)}:${r(0)}:${r(1)}:${r(2)}:${r(3)}:${r(4)}`,
    `2002:${hi16(n)}:${lo16(n)}::${r(5)}`,
  ]
}

/** IPv6 spellings that carry the IPv4 address but are refused whatever it is. */
function v4DeadSpellings(n: number, rnd: readonly number[]): string[] {
  const r = (i: number) => hex16(rnd[i] ?? 0)
  const client = ~n >>> 0
  return [
    `::${dotted(n)}`,
    `::ffff:0:${dotted(n)}`,
    `64:ff9b:1::${dotted(n)}`,
    `2001:0:${r(0)}:${r(1)}:${r(2)}:${r(3)}:${hi16(client)}:${lo16(client)}`,
  ]
}

function v6Spellings(p: readonly number[]): string[] {
  return [full(p), full(p).toLowerCase(), compressed(p), dottedTail(p)]
}

const urlOf = (host: string) => (host.includes(':') ? `https://[${host}]/` : `https://${host}/`)

function expectRefused(host: string, policy: AddressPolicy = strict): void {
  const r = checkUrl(urlOf(host), policy)
  expect(r.ok, `${host} must be refused`).toBe(false)
  if (!r.ok) {
    // A spelling WHATWG cannot parse is invalid_url; everything else names the address.
    expect(r.code === 'url_not_allowed' || r.code === 'invalid_url').toBe(true)
    if (r.code === 'url_not_allowed') expect(r.reason).toMatch(/^address /)
  }
}

function expectAccepted(host: string, policy: AddressPolicy = strict): void {
  const r = checkUrl(urlOf(host), policy)
  expect(r, host).toMatchObject({ ok: true })
}

const anyParts = fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 })
const inV4Range = (cidr: string) => {
  const c = v4Cidr(cidr)
  return fc.integer({ min: 0, max: c.size - 1 }).map((off) => (c.base + off) >>> 0)
}
const publicV4 = fc.integer({ min: 0, max: 0xffffffff }).filter((n) => !isSpecialV4(n))
const pick = fc.integer({ min: 0, max: 255 })

// ---------------------------------------------------------------------------------------------

describe('WHATWG canonicalisation (reliability §6.1)', () => {
  it('turns every IPv4 spelling into the dotted quad before we see it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), pick, (n, k) => {
        for (const s of v4HostSpellings(n, k)) expect(new URL(`https://${s}/`).hostname, s).toBe(dotted(n))
      }),
    )
  })

  it('keeps IPv6 as IPv6, so mapped forms are not dotted quads', () => {
    expect(new URL('http://[::ffff:127.0.0.1]/').hostname).toBe('[::ffff:7f00:1]')
    expect(new URL('http://[::127.0.0.1]/').hostname).toBe('[::7f00:1]')
    expect(new URL('http://[0:0:0:0:0:0:0:1]/').hostname).toBe('[::1]')
  })

  it('refuses every §6.1 URL that names a blocked address', () => {
    const p: AddressPolicy = { allowHttp: true, allowedCidrs: [] }
    for (const u of [
      'http://0x7f000001/',
      'http://2130706433/',
      'http://0177.0.0.1/',
      'http://017700000001/',
      'http://127.1/',
      'http://0x7f.1/',
      'http://%31%32%37.0.0.1/',
      'http://①②⑦.0.0.1/',
      'http://127。0。0。1/',
      'http://0/',
      'http://0251.0376.0251.0376/',
      'http://169.254.43518/',
      'http://[::ffff:127.0.0.1]/',
      'http://[::ffff:169.254.169.254]/',
      'http://[::127.0.0.1]/',
      'http://[64:ff9b::a9fe:a9fe]/',
      'http://[2002:7f00:1::1]/',
      'http://[fd00:ec2::254]/',
      'http://[::]/',
      'http://[0:0:0:0:0:0:0:1]/',
      'http://[fe80::1%25eth0]/',
      'http://256.0.0.1/',
      'http://ex ample.com/',
      'http://example.com:65536/',
      'http://evil.com@127.0.0.1/',
      'http://evil.com@example.com/',
      'http://127.0.0.1#@evil.com/',
      'http://127.0.0.1\\@evil.com/',
      'http://1.1.1.1 &@2.2.2.2# @3.3.3.3/',
      'http://localhost./',
      'http://LOCALHOST/',
      'http://app.localhost/',
      'http://metadata.google.internal/',
      'http://svc.internal/',
      'http://printer.local/',
      'http://example.com:0/',
      'file:///etc/passwd',
      'gopher://example.com/',
      'dict://example.com/',
      'ftp://example.com/',
      'data:text/plain,hi',
      'javascript:alert(1)',
      'ws://example.com/',
      `http://example.com/${'a'.repeat(maxUrlLength)}`,
      `http://${'a'.repeat(300)}.com/`,
    ]) {
      expect(checkUrl(u, p).ok, u).toBe(false)
    }
  })

  it('stores the canonical form of lenient spellings that are accepted', () => {
    const p: AddressPolicy = { allowHttp: true, allowedCidrs: [] }
    const r = checkUrl('HTTP://EXAM\tPLE.COM/a\r\nb', p)
    expect(r.ok && r.url.href).toBe('http://example.com/ab')
    const idn = checkUrl('https://bücher.example/', p)
    expect(idn.ok && idn.url.hostname).toBe('xn--bcher-kva.example')
  })
})

describe('special-purpose IPv4 blocks (S01)', () => {
  for (const [cidr, why] of blockedV4) {
    it(`refuses ${cidr} (${why}) in every spelling`, () => {
      fc.assert(
        fc.property(inV4Range(cidr), pick, anyParts, (n, k, rnd) => {
          expect(classifyAddress(dotted(n)).allowed).toBe(false)
          expect(isAddressAllowed(dotted(n), strict)).toBe(false)
          for (const s of v4HostSpellings(n, k)) expectRefused(s)
          for (const s of [...v4CarriedSpellings(n, rnd), ...v4DeadSpellings(n, rnd)]) {
            expect(classifyAddress(s).allowed, s).toBe(false)
            expect(isAddressAllowed(s, strict), s).toBe(false)
            expect(isAddressAllowed(`[${s}]`, strict), s).toBe(false)
            expectRefused(s)
          }
        }),
        { numRuns: 60 },
      )
    })
  }

  it('names the range and the address in the reason', () => {
    expect(checkUrl('https://2130706433/', strict)).toEqual({
      ok: false,
      code: 'url_not_allowed',
      reason: 'address 127.0.0.1 is loopback (127.0.0.0/8)',
    })
    const mapped = checkUrl('https://[::ffff:169.254.169.254]/', strict)
    expect(!mapped.ok && mapped.reason).toContain('169.254.169.254')
    expect(!mapped.ok && mapped.reason).toContain('metadata')
    expect(classifyAddress('100.100.100.200')).toMatchObject({ allowed: false })
    expect(classifyAddress('0.0.0.0')).toMatchObject({ allowed: false, cidr: '0.0.0.0/8' })
  })
})

describe('special-purpose IPv6 blocks (S01)', () => {
  for (const [cidr, why] of blockedV6) {
    it(`refuses ${cidr} (${why}) in every spelling`, () => {
      fc.assert(
        fc.property(anyParts, (rnd) => {
          const p = within(cidr, rnd)
          for (const s of v6Spellings(p)) {
            expect(classifyAddress(s).allowed, s).toBe(false)
            expect(isAddressAllowed(s, strict), s).toBe(false)
            expectRefused(s)
          }
        }),
        { numRuns: 60 },
      )
    })
  }

  it('refuses everything outside 2000::/3 that does not carry a public IPv4 address', () => {
    const first = fc.oneof(fc.integer({ min: 0x0100, max: 0x1fff }), fc.integer({ min: 0x4000, max: 0xffff }))
    fc.assert(
      fc.property(first, anyParts, (f, rnd) => {
        const p = [f, ...rnd.slice(1)]
        for (const s of v6Spellings(p)) {
          expect(classifyAddress(s).allowed, s).toBe(false)
          expectRefused(s)
        }
      }),
    )
  })

  it('accepts random global unicast addresses outside the special blocks', () => {
    const own = ['2001::/23', '2001:db8::/32', '2002::/16', '3fff::/20']
    const global = anyParts
      .map((rnd) => within('2000::/3', rnd))
      .filter((p) => !own.some((c) => inV6(p, c)) && !blockedV6.some(([c]) => inV6(p, c)))
    fc.assert(
      fc.property(global, (p) => {
        for (const s of v6Spellings(p)) {
          expect(classifyAddress(s), s).toMatchObject({ allowed: true, range: 'public' })
          expect(isAddressAllowed(s, strict), s).toBe(true)
          expectAccepted(s)
        }
      }),
    )
  })
})

describe('public IPv4 addresses', () => {
  it('are accepted in every spelling, and through the forms that forward to them', () => {
    fc.assert(
      fc.property(publicV4, pick, anyParts, (n, k, rnd) => {
        expect(classifyAddress(dotted(n))).toEqual({ allowed: true, range: 'public' })
        for (const s of v4HostSpellings(n, k)) expectAccepted(s)
        for (const s of v4CarriedSpellings(n, rnd)) {
          expect(classifyAddress(s), s).toMatchObject({ allowed: true, embeddedIPv4: dotted(n) })
          expectAccepted(s)
        }
        // IPv4-compatible, IPv4-translated, local-use NAT64 and Teredo are refused regardless.
        for (const s of v4DeadSpellings(n, rnd)) expect(classifyAddress(s).allowed, s).toBe(false)
      }),
      { numRuns: 300 },
    )
  })
})

describe('operator exemptions (allowedCidrs)', () => {
  it('exempt exactly their range (IPv4)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffff }),
        fc.integer({ min: 8, max: 32 }),
        fc.integer({ min: 0, max: 0xffffff }),
        (netOff, bits, probeOff) => {
          const size = 2 ** (32 - bits)
          const base = (((0x0a000000 + netOff) >>> 0) - (((0x0a000000 + netOff) >>> 0) % size)) >>> 0
          const cidr = `${dotted(base)}/${bits}`
          const policy = compileAddressPolicy({ allowHttp: true, allowedCidrs: [cidr] })
          const probe = (0x0a000000 + probeOff) >>> 0
          const inside = probe >= base && probe < base + size
          expect(isAddressAllowed(dotted(probe), policy), `${dotted(probe)} vs ${cidr}`).toBe(inside)
          // The mapped form is the same destination; the NAT64/compatible forms are not.
          expect(isAddressAllowed(`::ffff:${dotted(probe)}`, policy)).toBe(inside)
          expect(isAddressAllowed(`64:ff9b::${dotted(probe)}`, policy)).toBe(false)
          expect(isAddressAllowed(`::${dotted(probe)}`, policy)).toBe(false)
          expect(checkUrl(`https://${dotted(probe)}/`, policy).ok).toBe(inside)
          // Other blocked ranges stay blocked.
          expect(isAddressAllowed('127.0.0.1', policy)).toBe(false)
          expect(isAddressAllowed('169.254.169.254', policy)).toBe(false)
        },
      ),
    )
  })

  it('exempt exactly their range (IPv6)', () => {
    fc.assert(
      fc.property(
        anyParts,
        fc.integer({ min: 16, max: 128 }),
        anyParts,
        fc.boolean(),
        (netRnd, bits, rnd, near) => {
          const net = within('fd00::/8', netRnd)
          const cidr = `${compressed(within(`${compressed(net)}/${bits}`, new Array(8).fill(0)))}/${bits}`
          const policy = compileAddressPolicy({ allowHttp: true, allowedCidrs: [cidr] })
          // Half the probes share the range's first 64 bits, to land inside more often.
          const probe = near ? within(`${compressed(net)}/64`, rnd) : within('fd00::/8', rnd)
          const inside = inV6(probe, cidr)
          expect(isAddressAllowed(compressed(probe), policy), `${compressed(probe)} vs ${cidr}`).toBe(inside)
          expect(checkUrl(`https://[${full(probe)}]/`, policy).ok).toBe(inside)
          expect(isAddressAllowed('::1', policy)).toBe(false)
        },
      ),
    )
  })

  it('accept a mapped range as the IPv4 range, and a bare address as one host', () => {
    const p = compileAddressPolicy({ allowHttp: true, allowedCidrs: ['::ffff:10.0.0.0/104', '192.168.1.5'] })
    expect(p.allowedCidrs).toEqual(['10.0.0.0/8', '192.168.1.5/32'])
    expect(isAddressAllowed('10.9.8.7', p)).toBe(true)
    expect(isAddressAllowed('192.168.1.5', p)).toBe(true)
    expect(isAddressAllowed('192.168.1.6', p)).toBe(false)
  })

  it('refuse an invalid range when the policy is compiled, naming it', () => {
    for (const bad of [
      '10.0.0.0/33',
      '10.0.0/8',
      '127.1/8',
      'fe80::/129',
      'localhost',
      '',
      '10.0.0.0/-1',
      '::1/x',
    ]) {
      expect(() => compileAddressPolicy({ allowHttp: false, allowedCidrs: [bad] }), bad).toThrow(
        AddressPolicyError,
      )
      expect(() => compileAddressPolicy({ allowHttp: false, allowedCidrs: [bad] }), bad).toThrow(
        JSON.stringify(bad),
      )
    }
    expect(() =>
      compileAddressPolicy({ allowHttp: false, allowedCidrs: [], deniedAddresses: ['nope'] }),
    ).toThrow(/deniedAddresses/)
  })

  it('also work on an uncompiled policy', () => {
    expect(isAddressAllowed('127.0.0.1', { allowHttp: true, allowedCidrs: ['127.0.0.0/8'] })).toBe(true)
  })
})

describe("the service's own addresses (deniedAddresses, S13)", () => {
  it('always win over allowedCidrs, in any form that reaches them', () => {
    fc.assert(
      fc.property(inV4Range('127.0.0.0/8'), (n) => {
        const policy = compileAddressPolicy({
          allowHttp: true,
          allowedCidrs: ['127.0.0.0/8', '0.0.0.0/0'],
          deniedAddresses: [dotted(n)],
        })
        for (const s of [
          dotted(n),
          `::ffff:${dotted(n)}`,
          `::ffff:${hi16(n)}:${lo16(n)}`,
          `64:ff9b::${dotted(n)}`,
        ]) {
          expect(isAddressAllowed(s, policy), s).toBe(false)
          expect(checkAddress(s, policy)).toMatchObject({ allowed: false, range: 'denied' })
        }
        for (const s of v4HostSpellings(n, n & 255))
          expect(checkUrl(`https://${s}/`, policy).ok, s).toBe(false)
        const neighbour = n === 0x7fffffff ? n - 1 : n + 1
        expect(isAddressAllowed(dotted(neighbour), policy)).toBe(true)
      }),
    )
  })

  it('work for public and IPv6 addresses too', () => {
    const policy = compileAddressPolicy({
      allowHttp: false,
      allowedCidrs: [],
      deniedAddresses: ['203.0.113.10', '8.8.4.4', '2606:4700::10'],
    })
    expect(isAddressAllowed('8.8.4.4', policy)).toBe(false)
    expect(isAddressAllowed('8.8.8.8', policy)).toBe(true)
    expect(isAddressAllowed('2606:4700:0:0:0:0:0:10', policy)).toBe(false)
    expect(checkUrl('https://[2606:4700::10]/', policy)).toMatchObject({ ok: false, code: 'url_not_allowed' })
  })
})

describe('URL rules', () => {
  it('refuses http:// unless allowHttp', () => {
    expect(checkUrl('http://example.com/', strict)).toMatchObject({ ok: false, code: 'url_not_allowed' })
    expect(checkUrl('http://example.com/', { ...strict, allowHttp: true })).toMatchObject({ ok: true })
    expect(checkUrl('https://example.com/', strict)).toMatchObject({ ok: true })
  })

  it('refuses other schemes as invalid', () => {
    for (const u of ['ftp://example.com/', 'file:///etc/passwd', 'ws://example.com/', 'mailto:a@example.com'])
      expect(checkUrl(u, { ...strict, allowHttp: true }), u).toMatchObject({ ok: false, code: 'invalid_url' })
  })

  it('refuses userinfo', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z0-9]{1,12}$/),
        fc.option(fc.stringMatching(/^[a-z0-9]{1,12}$/)),
        (u, pw) => {
          const url = `https://${u}${pw === null ? '' : `:${pw}`}@example.com/hook`
          expect(checkUrl(url, strict)).toMatchObject({ ok: false, code: 'url_not_allowed' })
          const e = explainUrl(url, strict)
          expect(e.allowed).toBe(false)
          if (pw !== null) expect(JSON.stringify(e)).not.toContain(`:${pw}@`)
        },
      ),
    )
  })

  it('refuses URLs longer than 2048 characters, and accepts 2048', () => {
    const base = 'https://example.com/'
    const at = (n: number) => base + 'a'.repeat(n - base.length)
    expect(checkUrl(at(maxUrlLength), strict)).toMatchObject({ ok: true })
    expect(checkUrl(at(maxUrlLength + 1), strict)).toMatchObject({ ok: false, code: 'invalid_url' })
    expect(checkUrl(at(100_000), strict)).toMatchObject({ ok: false, code: 'invalid_url' })
    // Canonicalisation can grow a URL past the limit (spaces become %20).
    expect(checkUrl(`${base}${' x'.repeat(1000)}`, strict)).toMatchObject({ ok: false, code: 'invalid_url' })
  })

  it('refuses port 0 but any other port is fine', () => {
    expect(checkUrl('https://example.com:0/', strict)).toMatchObject({ ok: false })
    expect(checkUrl('https://example.com:8443/', strict)).toMatchObject({ ok: true })
    expect(checkUrl('https://example.com:1/', strict)).toMatchObject({ ok: true })
  })

  it('refuses localhost names by default and accepts them when loopback is exempted', () => {
    for (const h of ['localhost', 'LOCALHOST', 'localhost.', 'api.localhost', 'a.b.localhost.']) {
      expect(checkUrl(`https://${h}:8080/`, strict), h).toMatchObject({ ok: false, code: 'url_not_allowed' })
      expect(checkUrl(`https://${h}:8080/`, { ...strict, allowedCidrs: ['127.0.0.0/8'] }), h).toMatchObject({
        ok: true,
      })
    }
    expect(checkUrl('https://localhost/', { ...strict, allowedCidrs: ['::1/128'] })).toMatchObject({
      ok: true,
    })
    // Loopback exempted, but 127.0.0.1 is our own address: localhost would reach us.
    expect(
      checkUrl('https://localhost/', {
        ...strict,
        allowedCidrs: ['127.0.0.0/8'],
        deniedAddresses: ['127.0.0.1'],
      }),
    ).toMatchObject({ ok: false, code: 'url_not_allowed' })
  })

  it('refuses metadata and internal-only names', () => {
    for (const h of ['metadata.google.internal', 'metadata.google.internal.', 'db.internal', 'printer.local'])
      expect(checkUrl(`https://${h}/`, strict), h).toMatchObject({ ok: false, code: 'url_not_allowed' })
    // With a private range exempted, internal names become plausible; metadata never does.
    const corp = { ...strict, allowedCidrs: ['10.0.0.0/8'] }
    expect(checkUrl('https://db.internal/', corp)).toMatchObject({ ok: true })
    expect(checkUrl('https://metadata.google.internal/', corp)).toMatchObject({ ok: false })
  })

  it('lets public names through (they are checked again at connect time)', () => {
    const label = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}[a-z0-9]$/)
    fc.assert(
      fc.property(label, fc.constantFrom('com', 'io', 'org', 'dev'), (l, tld) => {
        const r = checkUrl(`https://${l}.${tld}/webhooks?x=1#frag`, strict)
        expect(r.ok).toBe(true)
        if (r.ok) expect(r.url.hostname).toBe(`${l}.${tld}`)
      }),
    )
  })
})

describe('explainUrl', () => {
  it('gives a structured verdict for an IP literal', () => {
    expect(explainUrl('https://0x7f.1:8443/x', strict)).toEqual({
      allowed: false,
      code: 'url_not_allowed',
      reason: 'address 127.0.0.1 is loopback (127.0.0.0/8)',
      url: 'https://127.0.0.1:8443/x',
      scheme: 'https',
      host: '127.0.0.1',
      hostType: 'ipv4',
      addressKind: 'loopback',
    })
    expect(explainUrl('https://[::ffff:a9fe:a9fe]/', strict)).toMatchObject({
      allowed: false,
      host: '::ffff:a9fe:a9fe',
      hostType: 'ipv6',
      addressKind: 'cloud metadata',
    })
    expect(explainUrl('https://8.8.8.8/', strict)).toMatchObject({ allowed: true, addressKind: 'public' })
  })

  it('explains names and unparseable input', () => {
    expect(explainUrl('https://hooks.example.com/in', strict)).toMatchObject({
      allowed: true,
      url: 'https://hooks.example.com/in',
      scheme: 'https',
      host: 'hooks.example.com',
      hostType: 'name',
    })
    expect(explainUrl('not a url', strict)).toMatchObject({
      allowed: false,
      code: 'invalid_url',
      scheme: null,
      host: null,
    })
    const e = explainUrl('http://example.com/', strict)
    expect(e).toMatchObject({ allowed: false, code: 'url_not_allowed', scheme: 'http' })
    expect(e.reason).toContain('https')
  })
})
