// The SSRF sending policy, as pure functions: which IP addresses a webhook may be sent to, and
// which URLs may be registered. No I/O here; src/outbound/guarded-connector.ts applies the same
// policy at connect time to the addresses a name resolves to (the real control).
//
// Ranges follow docs reliability §2.2: the IANA special-purpose registries plus what Svix,
// smokescreen and the Formbricks list block. IPv6 forms that carry an IPv4 address
// (IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo, IPv4-translated) are unwrapped and the
// embedded address is classified too; only the mapped, well-known NAT64 and 6to4 forms of a
// public IPv4 address are allowed, the others are refused whatever they embed.
import { isIP } from 'node:net'
import ipaddr from 'ipaddr.js'

export interface AddressPolicy {
  /** Let `http://` URLs be registered (dev/test). */
  allowHttp: boolean
  /** Ranges exempt from the denylist, e.g. `127.0.0.0/8`, `::1/128`; a bare address means one host. */
  allowedCidrs: readonly string[]
  /**
   * The service's own addresses (an address, or a range such as `127.0.0.0/8`): always refused,
   * even inside allowedCidrs (no loops).
   */
  deniedAddresses?: readonly string[]
}

export type EmbeddingForm =
  | 'IPv4-mapped'
  | 'IPv4-compatible'
  | 'NAT64'
  | '6to4'
  | 'Teredo'
  | 'IPv4-translated'

export interface AddressClassification {
  allowed: boolean
  /** `public` when allowed; otherwise what the address is, e.g. `loopback`, `private`, `invalid`. */
  range: string
  /** The special-purpose block that matched, e.g. `127.0.0.0/8`. */
  cidr?: string
  /** For IPv6 forms that carry an IPv4 address: which form, and the address it carries. */
  form?: EmbeddingForm
  embeddedIPv4?: string
}

export type AddressVerdict =
  | { allowed: true; range: string }
  | { allowed: false; range: string; reason: string }

export type UrlCheck =
  | { ok: true; url: URL }
  | { ok: false; code: 'invalid_url' | 'url_not_allowed'; reason: string }

export interface UrlExplanation {
  allowed: boolean
  /** One human sentence: why the URL is refused, or what happens next when it is accepted. */
  reason: string
  /** Set when refused. */
  code?: 'invalid_url' | 'url_not_allowed'
  /** The canonical URL (WHATWG href) when it parses. */
  url?: string
  /** e.g. `https`, without the colon; null when the URL does not parse. */
  scheme: string | null
  /** The canonical host name or address (IPv6 without brackets); null when the URL does not parse. */
  host: string | null
  hostType?: 'ipv4' | 'ipv6' | 'name'
  /** For an IP-literal host: its range (`public`, `loopback`, …) or `denied` for our own addresses. */
  addressKind?: string
}

export const maxUrlLength = 2048

export class AddressPolicyError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'AddressPolicyError'
  }
}

// ---------------------------------------------------------------------------------------------
// Parsing and prefix matching

type Parsed = ipaddr.IPv4 | ipaddr.IPv6

function parseIp(input: string): Parsed | null {
  let s = input
  if (s.length > 2 && s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1)
  if (s.length === 0 || s.length > 100) return null
  if (s.includes(':')) return parseV6(s)
  if (!ipaddr.IPv4.isValid(s)) return null
  try {
    return ipaddr.IPv4.parse(s)
  } catch {
    return null
  }
}

/**
 * Parses IPv6 (zone allowed and ignored). A dotted IPv4 tail is rewritten as two hex groups
 * first: ipaddr.js reads the deprecated `::a.b.c.d` as IPv4-*mapped*, but it is the
 * IPv4-compatible address `::xxxx:xxxx` (which is how WHATWG and the kernel read it).
 */
function parseV6(input: string): ipaddr.IPv6 | null {
  const zone = input.indexOf('%')
  let s = zone === -1 ? input : input.slice(0, zone)
  if (isIP(s) !== 6) return null
  const colon = s.lastIndexOf(':')
  const tail = s.slice(colon + 1)
  if (tail.includes('.')) {
    if (isIP(tail) !== 4) return null
    const [a = 0, b = 0, c = 0, d = 0] = tail.split('.').map(Number)
    s = `${s.slice(0, colon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  try {
    return ipaddr.IPv6.parse(s)
  } catch {
    return null
  }
}

function v4Int(octets: readonly number[]): number {
  return (
    (((octets[0] ?? 0) << 24) | ((octets[1] ?? 0) << 16) | ((octets[2] ?? 0) << 8) | (octets[3] ?? 0)) >>> 0
  )
}

function v4String(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`
}

function v4Mask(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0
}

interface V4Net {
  base: number
  mask: number
}

function v4Net(cidr: string): V4Net {
  const [addr, bits] = ipaddr.IPv4.parseCIDR(cidr)
  const mask = v4Mask(bits)
  return { base: (v4Int(addr.octets) & mask) >>> 0, mask }
}

function v4In(ip: number, net: V4Net): boolean {
  return (ip & net.mask) >>> 0 === net.base
}

interface V6Net {
  parts: readonly number[]
  bits: number
}

function v6Net(cidr: string): V6Net {
  const [addr, bits] = ipaddr.IPv6.parseCIDR(cidr)
  return { parts: addr.parts, bits }
}

function v6In(parts: readonly number[], net: V6Net): boolean {
  let left = net.bits
  for (let i = 0; i < 8 && left > 0; i++) {
    const take = Math.min(16, left)
    const mask = (0xffff << (16 - take)) & 0xffff
    if (((parts[i] ?? 0) & mask) !== ((net.parts[i] ?? 0) & mask)) return false
    left -= take
  }
  return true
}

function v6Key(parts: readonly number[]): string {
  return parts.map((p) => p.toString(16)).join(':')
}

function pair(hi: number | undefined, lo: number | undefined): number {
  return ((((hi ?? 0) & 0xffff) << 16) | ((lo ?? 0) & 0xffff)) >>> 0
}

// ---------------------------------------------------------------------------------------------
// The denylist (most specific first; the first match names the range)

interface Rule<N> {
  net: N
  cidr: string
  range: string
}

const v4Rules: readonly Rule<V4Net>[] = (
  [
    ['169.254.169.254/32', 'cloud metadata'],
    ['168.63.129.16/32', 'cloud metadata (Azure WireServer)'],
    ['100.100.100.200/32', 'cloud metadata (Alibaba)'],
    ['255.255.255.255/32', 'broadcast'],
    ['0.0.0.0/8', 'unspecified ("this network")'],
    ['10.0.0.0/8', 'private'],
    ['172.16.0.0/12', 'private'],
    ['192.168.0.0/16', 'private'],
    ['100.64.0.0/10', 'carrier-grade NAT'],
    ['127.0.0.0/8', 'loopback'],
    ['169.254.0.0/16', 'link-local'],
    ['192.0.0.0/24', 'IETF protocol assignments'],
    ['192.0.2.0/24', 'documentation'],
    ['198.51.100.0/24', 'documentation'],
    ['203.0.113.0/24', 'documentation'],
    ['192.88.99.0/24', '6to4 relay anycast'],
    ['198.18.0.0/15', 'benchmarking'],
    ['224.0.0.0/4', 'multicast'],
    ['240.0.0.0/4', 'reserved'],
  ] as const
).map(([cidr, range]) => ({ net: v4Net(cidr), cidr, range }))

const v6Rules: readonly Rule<V6Net>[] = (
  [
    ['fd00:ec2::254/128', 'cloud metadata'],
    ['64:ff9b:1::/48', 'local-use NAT64'],
    ['100::/64', 'discard-only'],
    ['2001:db8::/32', 'documentation'],
    ['2001::/23', 'IETF protocol assignments'],
    ['3fff::/20', 'documentation'],
    ['5f00::/16', 'SRv6'],
    ['fc00::/7', 'unique local'],
    ['fe80::/10', 'link-local'],
    ['fec0::/10', 'site-local (deprecated)'],
    ['ff00::/8', 'multicast'],
  ] as const
).map(([cidr, range]) => ({ net: v6Net(cidr), cidr, range }))

const v6Mapped = v6Net('::ffff:0:0/96')
const v6Translated = v6Net('::ffff:0:0:0/96')
const v6Compatible = v6Net('::/96')
const v6Nat64 = v6Net('64:ff9b::/96')
const v6SixToFour = v6Net('2002::/16')
const v6Teredo = v6Net('2001::/32')
const v6GlobalUnicast = v6Net('2000::/3')

function classifyV4(n: number): AddressClassification {
  for (const r of v4Rules) if (v4In(n, r.net)) return { allowed: false, range: r.range, cidr: r.cidr }
  return { allowed: true, range: 'public' }
}

/** The IPv4 address an IPv6 address carries, in any of the forms that carry one. */
function embedded(parts: readonly number[]): { form: EmbeddingForm; v4: number; cidr: string } | null {
  if (v6In(parts, v6Mapped))
    return { form: 'IPv4-mapped', v4: pair(parts[6], parts[7]), cidr: '::ffff:0:0/96' }
  if (v6In(parts, v6Compatible))
    return { form: 'IPv4-compatible', v4: pair(parts[6], parts[7]), cidr: '::/96' }
  if (v6In(parts, v6Nat64)) return { form: 'NAT64', v4: pair(parts[6], parts[7]), cidr: '64:ff9b::/96' }
  if (v6In(parts, v6SixToFour)) return { form: '6to4', v4: pair(parts[1], parts[2]), cidr: '2002::/16' }
  // Teredo: server address in bits 32-63, client address (bit-inverted) in the last 32 bits.
  if (v6In(parts, v6Teredo)) return { form: 'Teredo', v4: ~pair(parts[6], parts[7]) >>> 0, cidr: '2001::/32' }
  if (v6In(parts, v6Translated))
    return { form: 'IPv4-translated', v4: pair(parts[6], parts[7]), cidr: '::ffff:0:0:0/96' }
  return null
}

function classifyV6(parts: readonly number[]): AddressClassification {
  const isZero = parts.slice(0, 7).every((p) => p === 0)
  if (isZero && parts[7] === 0) return { allowed: false, range: 'unspecified', cidr: '::/128' }
  if (isZero && parts[7] === 1) return { allowed: false, range: 'loopback', cidr: '::1/128' }
  const e = embedded(parts)
  if (e) {
    const inner = classifyV4(e.v4)
    const carried = { form: e.form, embeddedIPv4: v4String(e.v4) }
    // The mapped form *is* the IPv4 address; well-known NAT64 and 6to4 reach it through a
    // translator or relay. The other forms are refused whatever they carry.
    const passesThrough = e.form === 'IPv4-mapped' || e.form === 'NAT64' || e.form === '6to4'
    if (passesThrough || !inner.allowed) return { ...inner, ...carried }
    const range = e.form === 'IPv4-compatible' ? 'IPv4-compatible (deprecated)' : e.form
    return { allowed: false, range, cidr: e.cidr, ...carried }
  }
  for (const r of v6Rules) if (v6In(parts, r.net)) return { allowed: false, range: r.range, cidr: r.cidr }
  if (!v6In(parts, v6GlobalUnicast))
    return { allowed: false, range: 'reserved (outside global unicast)', cidr: 'not in 2000::/3' }
  return { allowed: true, range: 'public' }
}

function classifyParsed(a: Parsed): AddressClassification {
  return a.kind() === 'ipv4'
    ? classifyV4(v4Int((a as ipaddr.IPv4).octets))
    : classifyV6((a as ipaddr.IPv6).parts)
}

/**
 * Classifies one IP address (any spelling ipaddr.js accepts, brackets and IPv6 zone allowed)
 * against the special-purpose denylist alone, without any operator exemptions. A string that
 * is not an IP address is `{ allowed: false, range: 'invalid' }`.
 */
export function classifyAddress(ip: string): AddressClassification {
  const a = parseIp(ip)
  return a ? classifyParsed(a) : { allowed: false, range: 'invalid' }
}

function describe(ip: string, c: AddressClassification): string {
  let s = `address ${ip} is ${c.range}`
  if (c.cidr && !c.cidr.startsWith('not ')) s += ` (${c.cidr})`
  if (c.form) s += `; it is the ${c.form} form of ${c.embeddedIPv4}`
  return s
}

// ---------------------------------------------------------------------------------------------
// The compiled policy (CIDRs parsed once; the hot path only compares numbers)

/** Built by compileAddressPolicy; immutable. */
export class CompiledAddressPolicy implements AddressPolicy {
  readonly allowHttp: boolean
  readonly allowedCidrs: readonly string[]
  readonly deniedAddresses: readonly string[]
  readonly #allowV4: readonly V4Net[]
  readonly #allowV6: readonly V6Net[]
  readonly #denied: ReadonlySet<string>
  readonly #deniedV4: readonly V4Net[]
  readonly #deniedV6: readonly V6Net[]
  /** Whether loopback names (`localhost`) may be registered: loopback is exempted. */
  readonly allowsLoopback: boolean
  /** Whether some non-public range is exempted (then `*.internal`-style names may be registered). */
  readonly exemptsPrivate: boolean

  constructor(policy: AddressPolicy) {
    if (typeof policy.allowHttp !== 'boolean') throw new AddressPolicyError('allowHttp must be true or false')
    const allowV4: V4Net[] = []
    const allowV6: V6Net[] = []
    const canonical: string[] = []
    let exemptsPrivate = false
    for (const raw of policy.allowedCidrs) {
      const c = parseCidr(raw)
      canonical.push(c.text)
      if (c.v4) allowV4.push(c.v4)
      else if (c.v6) allowV6.push(c.v6)
      if (c.special) exemptsPrivate = true
    }
    const denied = new Set<string>()
    const deniedText: string[] = []
    const deniedV4: V4Net[] = []
    const deniedV6: V6Net[] = []
    for (const raw of policy.deniedAddresses ?? []) {
      if (typeof raw === 'string' && raw.includes('/')) {
        let c: ReturnType<typeof parseCidr>
        try {
          c = parseCidr(raw)
        } catch {
          throw new AddressPolicyError(`invalid range ${JSON.stringify(raw)} in deniedAddresses`)
        }
        if (c.v4) deniedV4.push(c.v4)
        else if (c.v6) deniedV6.push(c.v6)
        deniedText.push(c.text)
        continue
      }
      const a = typeof raw === 'string' ? parseIp(raw.trim()) : null
      if (!a || isIP(bare(raw.trim())) === 0)
        throw new AddressPolicyError(`invalid address ${JSON.stringify(raw)} in deniedAddresses`)
      for (const k of keysOf(a)) denied.add(k)
      deniedText.push(a.toString())
    }
    this.allowHttp = policy.allowHttp
    this.allowedCidrs = Object.freeze(canonical)
    this.deniedAddresses = Object.freeze(deniedText)
    this.#allowV4 = allowV4
    this.#allowV6 = allowV6
    this.#denied = denied
    this.#deniedV4 = deniedV4
    this.#deniedV6 = deniedV6
    this.exemptsPrivate = exemptsPrivate
    this.allowsLoopback = false
    this.allowsLoopback = this.check('127.0.0.1').allowed || this.check('::1').allowed
    Object.freeze(this)
  }

  /** The policy's verdict on one address: our own addresses first, then exemptions, then the denylist. */
  check(ip: string): AddressVerdict {
    const a = parseIp(ip)
    if (!a) return { allowed: false, range: 'invalid', reason: `${JSON.stringify(ip)} is not an IP address` }
    const shown = ip.startsWith('[') ? ip.slice(1, -1) : ip
    if (this.#isDenied(a)) {
      return {
        allowed: false,
        range: 'denied',
        reason: `address ${shown} is one of this service's own addresses`,
      }
    }
    if (this.#exempt(a)) return { allowed: true, range: 'allowed by policy' }
    const c = classifyParsed(a)
    return c.allowed
      ? { allowed: true, range: c.range }
      : { allowed: false, range: c.range, reason: describe(shown, c) }
  }

  /** One of our own addresses or ranges, directly or as the IPv4 address an IPv6 form carries. */
  #isDenied(a: Parsed): boolean {
    if (this.#denied.size > 0 && keysOf(a).some((k) => this.#denied.has(k))) return true
    if (this.#deniedV4.length === 0 && this.#deniedV6.length === 0) return false
    let v4: number | undefined
    if (a.kind() === 'ipv4') v4 = v4Int((a as ipaddr.IPv4).octets)
    else {
      const parts = (a as ipaddr.IPv6).parts
      if (this.#deniedV6.some((n) => v6In(parts, n))) return true
      v4 = embedded(parts)?.v4
    }
    return v4 !== undefined && this.#deniedV4.some((n) => v4In(v4, n))
  }

  #exempt(a: Parsed): boolean {
    let v4: number | undefined
    if (a.kind() === 'ipv4') v4 = v4Int((a as ipaddr.IPv4).octets)
    else {
      const parts = (a as ipaddr.IPv6).parts
      for (const n of this.#allowV6) if (v6In(parts, n)) return true
      // The mapped form is the same destination as the IPv4 address it carries.
      if (v6In(parts, v6Mapped)) v4 = pair(parts[6], parts[7])
    }
    if (v4 !== undefined) for (const n of this.#allowV4) if (v4In(v4, n)) return true
    return false
  }
}

function bare(s: string): string {
  return s.startsWith('[') && s.endsWith(']') ? s.slice(1, -1) : s.replace(/%.*$/, '')
}

/** Every key under which an address (or the IPv4 address it carries) is denied. */
function keysOf(a: Parsed): string[] {
  if (a.kind() === 'ipv4') return [v4String(v4Int((a as ipaddr.IPv4).octets))]
  const parts = (a as ipaddr.IPv6).parts
  const e = embedded(parts)
  return e ? [v6Key(parts), v4String(e.v4)] : [v6Key(parts)]
}

/** Whether a v4 range overlaps any special-purpose block. */
function v4Special(n: V4Net): boolean {
  return v4Rules.some((r) => {
    const m = (n.mask & r.net.mask) >>> 0
    return (n.base & m) >>> 0 === (r.net.base & m) >>> 0
  })
}

const v6SpecialNets: readonly V6Net[] = [
  ...v6Rules.map((r) => r.net),
  v6Net('::/96'),
  v6Mapped,
  v6Translated,
  v6Nat64,
  v6SixToFour,
  v6Teredo,
]

/** Whether a v6 range overlaps any special-purpose block or reaches outside 2000::/3. */
function v6Special(n: V6Net): boolean {
  if (n.bits < v6GlobalUnicast.bits || !v6In(n.parts, v6GlobalUnicast)) return true
  return v6SpecialNets.some((r) => v6In(n.parts, { parts: r.parts, bits: Math.min(n.bits, r.bits) }))
}

function parseCidr(raw: string): { text: string; v4?: V4Net; v6?: V6Net; special: boolean } {
  const fail = () =>
    new AddressPolicyError(
      `invalid CIDR ${JSON.stringify(raw)} in allowedCidrs: expected an address range such as 127.0.0.0/8 or ::1/128`,
    )
  if (typeof raw !== 'string') throw fail()
  const s = raw.trim()
  const slash = s.indexOf('/')
  const addr = slash === -1 ? s : s.slice(0, slash)
  const family = isIP(addr)
  if (family === 0) throw fail()
  let bits = family === 4 ? 32 : 128
  if (slash !== -1) {
    const b = s.slice(slash + 1)
    if (!/^\d{1,3}$/.test(b) || Number(b) > bits) throw fail()
    bits = Number(b)
  }
  if (family === 4) {
    const mask = v4Mask(bits)
    const base = (v4Int(ipaddr.IPv4.parse(addr).octets) & mask) >>> 0
    const net = { base, mask }
    return { text: `${v4String(base)}/${bits}`, v4: net, special: v4Special(net) }
  }
  const parsed = parseV6(addr)
  if (!parsed) throw fail()
  // A mapped range (::ffff:a.b.c.d/96+n) is an IPv4 range.
  if (bits >= 96 && v6In(parsed.parts, v6Mapped)) {
    const v4bits = bits - 96
    const mask = v4Mask(v4bits)
    const base = (pair(parsed.parts[6], parsed.parts[7]) & mask) >>> 0
    const net = { base, mask }
    return { text: `${v4String(base)}/${v4bits}`, v4: net, special: v4Special(net) }
  }
  const net: V6Net = { parts: parsed.parts.map((p, i) => p & partMask(bits, i)), bits }
  return {
    text: `${new ipaddr.IPv6([...net.parts]).toRFC5952String()}/${bits}`,
    v6: net,
    special: v6Special(net),
  }
}

function partMask(bits: number, i: number): number {
  const take = Math.max(0, Math.min(16, bits - i * 16))
  return (0xffff << (16 - take)) & 0xffff
}

const compiledCache = new WeakMap<AddressPolicy, CompiledAddressPolicy>()

/**
 * Validates a policy and parses its ranges once. Throws AddressPolicyError naming the bad entry
 * when an allowedCidrs entry is not a range or a deniedAddresses entry is not an address or range.
 */
export function compileAddressPolicy(policy: AddressPolicy): CompiledAddressPolicy {
  return policy instanceof CompiledAddressPolicy ? policy : new CompiledAddressPolicy(policy)
}

function compiled(policy: AddressPolicy): CompiledAddressPolicy {
  if (policy instanceof CompiledAddressPolicy) return policy
  let c = compiledCache.get(policy)
  if (!c) {
    c = new CompiledAddressPolicy(policy)
    compiledCache.set(policy, c)
  }
  return c
}

/** The policy's verdict on one address, with a human reason when refused. */
export function checkAddress(ip: string, policy: AddressPolicy): AddressVerdict {
  return compiled(policy).check(ip)
}

/** Denied addresses always lose; then allowedCidrs exempt; then the special-purpose denylist. */
export function isAddressAllowed(ip: string, policy: AddressPolicy): boolean {
  return compiled(policy).check(ip).allowed
}

// ---------------------------------------------------------------------------------------------
// Registration-time URL policy (early feedback; connect time is the real control)

const loopbackNames = /(^|\.)localhost$/
const metadataNames = new Set(['metadata.google.internal', 'metadata.goog', 'metadata', 'instance-data'])
const internalSuffixes = ['.internal', '.local', '.localdomain', '.home.arpa']

interface Evaluation {
  verdict: UrlCheck
  url?: URL
  scheme: string | null
  host: string | null
  hostType?: 'ipv4' | 'ipv6' | 'name'
  addressKind?: string
}

function refuse(code: 'invalid_url' | 'url_not_allowed', reason: string): UrlCheck {
  return { ok: false, code, reason }
}

function evaluate(raw: string, policy: AddressPolicy): Evaluation {
  const p = compiled(policy)
  const none = { scheme: null, host: null }
  if (typeof raw !== 'string' || raw.length === 0)
    return { verdict: refuse('invalid_url', 'the URL is empty'), ...none }
  if (raw.length > maxUrlLength)
    return { verdict: refuse('invalid_url', `the URL is longer than ${maxUrlLength} characters`), ...none }
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return { verdict: refuse('invalid_url', 'the URL does not parse as an absolute URL'), ...none }
  }
  const scheme = url.protocol.slice(0, -1)
  const ipv6 = url.hostname.startsWith('[')
  const host = ipv6 ? url.hostname.slice(1, -1) : url.hostname
  const seen = { url, scheme, host: host === '' ? null : host }
  const no = (code: 'invalid_url' | 'url_not_allowed', reason: string, extra: Partial<Evaluation> = {}) => ({
    verdict: refuse(code, reason),
    ...seen,
    ...extra,
  })
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    return no('invalid_url', `the scheme ${url.protocol} is not supported; use https://`)
  if (url.protocol === 'http:' && !p.allowHttp)
    return no('url_not_allowed', 'plain http:// URLs are not allowed; use https://')
  if (url.href.length > maxUrlLength)
    return no('invalid_url', `the URL is longer than ${maxUrlLength} characters once normalised`)
  if (host === '') return no('invalid_url', 'the URL has no host')
  if (url.username !== '' || url.password !== '')
    return no('url_not_allowed', 'URLs with credentials (user:password@) are not allowed')
  if (url.port === '0') return no('url_not_allowed', 'port 0 is not allowed')

  // WHATWG has already turned every IPv4 spelling (decimal, hex, octal, short) into a dotted
  // quad; IPv6 stays IPv6, so mapped and NAT64 forms are classified by unwrapping them.
  const literal = ipv6 || isIP(host) !== 0 || ipaddr.IPv4.isValid(host)
  if (literal) {
    const hostType = ipv6 ? 'ipv6' : 'ipv4'
    const v = p.check(host)
    if (!v.allowed) return no('url_not_allowed', v.reason, { hostType, addressKind: v.range })
    return { verdict: { ok: true, url }, ...seen, hostType, addressKind: v.range }
  }

  const name = host.endsWith('.') ? host.slice(0, -1) : host
  if (name.length > 253 || name.split('.').some((l) => l.length === 0 || l.length > 63))
    return no('invalid_url', 'the host is not a valid DNS name (labels of 1 to 63 characters, 253 in all)', {
      hostType: 'name',
    })
  if (loopbackNames.test(name) && !p.allowsLoopback)
    return no('url_not_allowed', `host ${host} is a loopback name`, { hostType: 'name' })
  if (metadataNames.has(name))
    return no('url_not_allowed', `host ${host} is a cloud metadata service name`, { hostType: 'name' })
  const suffix = internalSuffixes.find((s) => name.endsWith(s) || name === s.slice(1))
  if (suffix && !p.exemptsPrivate)
    return no('url_not_allowed', `host ${host} is an internal-only name (*${suffix})`, { hostType: 'name' })
  return { verdict: { ok: true, url }, ...seen, hostType: 'name' }
}

/**
 * The registration-time policy. Parses with WHATWG `new URL` (whose canonical `href` should be
 * stored and later sent to), refuses other schemes, userinfo, port 0, over-long URLs, IP
 * literals outside the policy (in any spelling) and loopback, metadata and internal-only
 * names. Other names pass here and are checked against their resolved addresses at connect time.
 */
export function checkUrl(raw: string, policy: AddressPolicy): UrlCheck {
  return evaluate(raw, policy).verdict
}

/** A structured verdict for `POST /webhooks/url-check`, built on the same rules as checkUrl. */
export function explainUrl(raw: string, policy: AddressPolicy): UrlExplanation {
  const e = evaluate(raw, policy)
  const out: UrlExplanation = { allowed: e.verdict.ok, reason: '', scheme: e.scheme, host: e.host }
  if (e.verdict.ok) {
    out.url = e.verdict.url.href
    out.reason =
      e.hostType === 'name'
        ? `accepted; the addresses ${e.host} resolves to are checked again on every connection`
        : `accepted; address ${e.host} is ${e.addressKind}`
  } else {
    out.code = e.verdict.code
    out.reason = e.verdict.reason
    if (e.url && e.url.href.length <= maxUrlLength) {
      // Never echo credentials back.
      const shown = new URL(e.url.href)
      shown.username = ''
      shown.password = ''
      out.url = shown.href
    }
  }
  if (e.hostType) out.hostType = e.hostType
  if (e.addressKind !== undefined) out.addressKind = e.addressKind
  return out
}
