import { generateKeyPairSync, sign as nodeEd25519Sign, webcrypto } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import { Webhook } from 'standardwebhooks'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  type CryptoLike,
  DEFAULT_TOLERANCE_SECONDS,
  HEADER_NAMES,
  isWebhookVerificationError,
  signWebhook,
  type VerifyOptions,
  verifyWebhook,
  verifyWebhookDetailed,
  verifyWebhookSignature,
  type WebhookHeaders,
  WebhookVerificationError,
  webhookId,
} from '../src/index.js'
import { deliveryId, loadVectors, newSecret, nodeSign, nowSeconds, vectorBody } from './helpers.js'

const kat = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
}
const katHeaders = {
  'webhook-id': kat.id,
  'webhook-timestamp': String(kat.timestamp),
  'webhook-signature': kat.signature,
}
const atKat: VerifyOptions = { now: () => kat.timestamp * 1000 }

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (err) {
    if (err instanceof WebhookVerificationError) return err.code
    throw err
  }
  return 'accepted'
}

function delivery(body = '{"eventName":"site.publish","site":{"ref":1}}', secrets = [newSecret()]) {
  const id = deliveryId()
  const timestamp = nowSeconds()
  return {
    id,
    timestamp,
    body,
    secrets,
    secret: secrets[0]!,
    headers: nodeSign({ secrets, id, timestamp, body }),
  }
}

function without(headers: Record<string, string>, ...names: string[]): Record<string, string> {
  const copy = { ...headers }
  for (const n of names) delete copy[n]
  return copy
}

afterEach(() => {
  vi.unstubAllGlobals()
})

describe('Standard Webhooks known answer and reference suite', () => {
  it('accepts the known-answer vector and returns its payload', async () => {
    await expect(verifyWebhook(kat.body, katHeaders, kat.secret, atKat)).resolves.toEqual({
      test: 2432232314,
    })
  })

  it('accepts the secret with or without its whsec_ prefix', async () => {
    const bare = kat.secret.slice('whsec_'.length)
    await expect(verifyWebhook(kat.body, katHeaders, bare, atKat)).resolves.toEqual({ test: 2432232314 })
  })

  it('refuses when any of the three headers is missing', async () => {
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
      const headers = without(katHeaders, name)
      expect(
        await codeOf(verifyWebhook(kat.body, headers, kat.secret, { ...atKat, scheme: 'standard' })),
      ).toBe('missing_signature')
    }
    expect(await codeOf(verifyWebhook(kat.body, {}, kat.secret, atKat))).toBe('missing_signature')
  })

  it('refuses an invalid or partial signature', async () => {
    const sig = kat.signature
    for (const bad of [
      'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=x',
      'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OD=',
      sig.slice(0, 20),
      'v1,',
      'v1',
      ',',
      'v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
      'v1a,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
      'V1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
      'g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    ]) {
      const headers = { ...katHeaders, 'webhook-signature': bad }
      expect(await codeOf(verifyWebhook(kat.body, headers, kat.secret, atKat)), bad).toBe('bad_signature')
    }
  })

  it('accepts when any v1 entry matches, in any position, and ignores other versions', async () => {
    for (const header of [
      `v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= ${kat.signature}`,
      `v1a,AAAA ${kat.signature} v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=`,
      `${kat.signature}, v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=`,
      `  ${kat.signature}  `,
    ]) {
      const headers = { ...katHeaders, 'webhook-signature': header }
      expect(await codeOf(verifyWebhook(kat.body, headers, kat.secret, atKat)), header).toBe('accepted')
    }
  })

  it('refuses a timestamp outside the tolerance in both directions, with the edge included', async () => {
    const at = (offset: number): VerifyOptions => ({ now: () => (kat.timestamp + offset) * 1000 })
    expect(await codeOf(verifyWebhook(kat.body, katHeaders, kat.secret, at(300)))).toBe('accepted')
    expect(await codeOf(verifyWebhook(kat.body, katHeaders, kat.secret, at(301)))).toBe('timestamp_too_old')
    expect(await codeOf(verifyWebhook(kat.body, katHeaders, kat.secret, at(-300)))).toBe('accepted')
    expect(await codeOf(verifyWebhook(kat.body, katHeaders, kat.secret, at(-301)))).toBe('timestamp_too_new')
    const wide = { ...at(3600), toleranceSeconds: 3600 }
    expect(await codeOf(verifyWebhook(kat.body, katHeaders, kat.secret, wide))).toBe('accepted')
    expect(
      await codeOf(verifyWebhook(kat.body, katHeaders, kat.secret, { ...at(1), toleranceSeconds: 0 })),
    ).toBe('timestamp_too_old')
    expect(DEFAULT_TOLERANCE_SECONDS).toBe(300)
  })

  it('refuses a timestamp that is not an integer of seconds', async () => {
    for (const ts of ['abc', '1614265330.0', '1.6e9', '-1614265330', '0x6037c5f2', '１６１４２６５３３０']) {
      const headers = { ...katHeaders, 'webhook-timestamp': ts }
      expect(await codeOf(verifyWebhook(kat.body, headers, kat.secret, atKat)), ts).toBe('bad_timestamp')
    }
  })

  it('checks the signature before the clock: a forged old delivery is bad_signature', async () => {
    const headers = { ...katHeaders, 'webhook-signature': 'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=' }
    expect(await codeOf(verifyWebhook(kat.body, headers, kat.secret))).toBe('bad_signature')
    expect(await codeOf(verifyWebhook(kat.body, katHeaders, kat.secret))).toBe('timestamp_too_old')
  })
})

describe('interoperability with the standardwebhooks reference package', () => {
  it('accepts what the reference signs, and the reference accepts what signWebhook signs', async () => {
    const secret = newSecret()
    const body = '{"eventName":"booking.updated","booking":{"ref":5021,"name":"Zoë"}}'
    const ref = new Webhook(secret)
    const timestamp = nowSeconds()
    const refSignature = ref.sign('dlv_ref', new Date(timestamp * 1000), body)
    const headers = {
      'webhook-id': 'dlv_ref',
      'webhook-timestamp': String(timestamp),
      'webhook-signature': refSignature,
    }
    await expect(verifyWebhook(body, headers, secret)).resolves.toMatchObject({ booking: { ref: 5021 } })

    const ours = await signWebhook(body, secret, { id: 'dlv_ours', timestamp })
    expect(ours['webhook-signature']).toBe(ref.sign('dlv_ours', new Date(timestamp * 1000), body))
    expect(ref.verify(body, ours)).toMatchObject({ eventName: 'booking.updated' })
  })
})

describe('BaseKit header (X-Delivery-Hmac-SHA256)', () => {
  it('accepts lowercase hex, uppercase hex, base64 and a sha256= prefix', async () => {
    const d = delivery()
    const hex = d.headers['x-delivery-hmac-sha256']!
    const b64 = Buffer.from(hex, 'hex').toString('base64')
    for (const value of [hex, hex.toUpperCase(), b64, `sha256=${hex}`, ` ${b64} `]) {
      const headers = { 'X-Delivery-Hmac-SHA256': value }
      const result = await verifyWebhookSignature(d.body, headers, d.secret, { scheme: 'basekit' })
      expect(result).toEqual({ scheme: 'basekit', id: null, timestamp: null, eventName: null, attempt: null })
    }
  })

  it('refuses a wrong, truncated, non-hex or non-base64 value, and an absent header', async () => {
    const d = delivery()
    const hex = d.headers['x-delivery-hmac-sha256']!
    for (const value of [
      hex.slice(0, 63) + (hex.endsWith('0') ? '1' : '0'), // last digit changed
      hex.slice(0, 62),
      `${hex}00`,
      'z'.repeat(64),
      '!!!!',
      Buffer.from(hex, 'hex').toString('base64').slice(0, 40),
      'sha256=',
    ]) {
      const headers = { 'x-delivery-hmac-sha256': value }
      expect(await codeOf(verifyWebhook(d.body, headers, d.secret, { scheme: 'basekit' })), value).toBe(
        'bad_signature',
      )
    }
    expect(await codeOf(verifyWebhook(d.body, d.headers, d.secret, { scheme: 'basekit' }))).toBe('accepted')
    const noBasekit = without(d.headers, 'x-delivery-hmac-sha256')
    expect(await codeOf(verifyWebhook(d.body, noBasekit, d.secret, { scheme: 'basekit' }))).toBe(
      'missing_signature',
    )
  })

  it('is keyed with the whole whsec_ string, also when the secret is given without the prefix', async () => {
    const d = delivery()
    const basekitOnly = { 'x-delivery-hmac-sha256': d.headers['x-delivery-hmac-sha256']! }
    const bare = d.secret.slice('whsec_'.length)
    expect(await codeOf(verifyWebhook(d.body, basekitOnly, bare, { scheme: 'basekit' }))).toBe('accepted')
  })

  it('has no timestamp: an old body still verifies (replay protection needs the standard scheme)', async () => {
    const d = delivery()
    const old = nodeSign({ secrets: d.secrets, id: d.id, timestamp: d.timestamp - 86_400, body: d.body })
    expect(await codeOf(verifyWebhook(d.body, old, d.secret, { scheme: 'basekit' }))).toBe('accepted')
    expect(await codeOf(verifyWebhook(d.body, old, d.secret))).toBe('timestamp_too_old')
    expect(await codeOf(verifyWebhook(d.body, old, d.secret, { scheme: 'standard' }))).toBe(
      'timestamp_too_old',
    )
  })
})

describe('scheme selection', () => {
  it('by default, refuses a delivery stripped of its standard headers (no silent BaseKit fallback)', async () => {
    const d = delivery()
    expect((await verifyWebhookSignature(d.body, d.headers, d.secret)).scheme).toBe('standard')
    const basekitOnly = without(d.headers, 'webhook-signature', 'webhook-timestamp')
    expect(await codeOf(verifyWebhook(d.body, basekitOnly, d.secret))).toBe('missing_signature')
    expect(await codeOf(verifyWebhook(d.body, without(d.headers, 'webhook-signature'), d.secret))).toBe(
      'missing_signature',
    )
  })

  it('auto, chosen explicitly, uses the standard headers when present, the BaseKit header otherwise', async () => {
    const d = delivery()
    const auto = { scheme: 'auto' } as const
    expect((await verifyWebhookSignature(d.body, d.headers, d.secret, auto)).scheme).toBe('standard')
    const basekitOnly = without(d.headers, 'webhook-signature', 'webhook-timestamp')
    const r = await verifyWebhookSignature(d.body, basekitOnly, d.secret, auto)
    expect(r).toMatchObject({ scheme: 'basekit', id: d.id, timestamp: null })
  })

  it('auto does not fall back to the BaseKit header when the standard signature is wrong', async () => {
    const d = delivery()
    const auto = { scheme: 'auto' } as const
    const headers = { ...d.headers, 'webhook-signature': 'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=' }
    expect(await codeOf(verifyWebhook(d.body, headers, d.secret, auto))).toBe('bad_signature')
    const noTimestamp = without(d.headers, 'webhook-timestamp')
    expect(await codeOf(verifyWebhook(d.body, noTimestamp, d.secret, auto))).toBe('missing_signature')
  })

  it('standard, pinned, refuses a delivery carrying only the BaseKit header', async () => {
    const d = delivery()
    const basekitOnly = { 'x-delivery-hmac-sha256': d.headers['x-delivery-hmac-sha256']! }
    expect(await codeOf(verifyWebhook(d.body, basekitOnly, d.secret, { scheme: 'standard' }))).toBe(
      'missing_signature',
    )
  })

  it('accepts the svix-* header names', async () => {
    const r = await verifyWebhookSignature(
      kat.body,
      { 'svix-id': kat.id, 'svix-timestamp': String(kat.timestamp), 'svix-signature': kat.signature },
      kat.secret,
      atKat,
    )
    expect(r).toMatchObject({ scheme: 'standard', id: kat.id, timestamp: kat.timestamp })
  })
})

describe('headers', () => {
  it('accepts a Fetch Headers object and records with any case and array values', async () => {
    const d = delivery()
    const forms: WebhookHeaders[] = [
      new Headers(d.headers),
      Object.fromEntries(Object.entries(d.headers).map(([k, v]) => [k.toUpperCase(), v])),
      Object.fromEntries(Object.entries(d.headers).map(([k, v]) => [k, [v]])),
      {
        ...d.headers,
        'webhook-signature': [
          'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=',
          d.headers['webhook-signature']!,
        ],
      },
      { ...without(d.headers, 'webhook-id'), 'Webhook-Id': d.id, 'x-delivery-attempt': 3 },
    ]
    for (const headers of forms) {
      expect(await codeOf(verifyWebhook(d.body, headers, d.secret))).toBe('accepted')
    }
  })

  it('types: Node and Fetch headers fit WebhookHeaders', () => {
    const node: IncomingHttpHeaders = { 'webhook-id': 'dlv_1', 'set-cookie': ['a', 'b'] }
    const asRecord: WebhookHeaders = node
    const fetchHeaders: WebhookHeaders = new Headers()
    expect([asRecord, fetchHeaders]).toHaveLength(2)
  })

  it('webhookId reads webhook-id, then svix-id, else null', () => {
    expect(webhookId({ 'Webhook-Id': 'dlv_a' })).toBe('dlv_a')
    expect(webhookId(new Headers({ 'svix-id': 'msg_b' }))).toBe('msg_b')
    expect(webhookId({})).toBeNull()
    expect(HEADER_NAMES.basekitSignature).toBe('x-delivery-hmac-sha256')
  })
})

describe('body', () => {
  it('accepts a string, a Buffer, a Uint8Array view into a larger buffer, an ArrayBuffer and a DataView', async () => {
    const d = delivery('{"eventName":"site.publish","name":"Café ☕"}')
    const bytes = Buffer.from(d.body, 'utf8')
    const big = new Uint8Array(bytes.length + 10)
    big.set(bytes, 5)
    const view = big.subarray(5, 5 + bytes.length)
    const arrayBuffer = new Uint8Array(bytes).buffer
    for (const body of [d.body, bytes, view, arrayBuffer, new DataView(arrayBuffer)]) {
      await expect(verifyWebhook(body as never, d.headers, d.secret)).resolves.toEqual({
        eventName: 'site.publish',
        name: 'Café ☕',
      })
    }
  })

  it('refuses a parsed body with not_raw_body, before anything else', async () => {
    const d = delivery()
    for (const body of [JSON.parse(d.body), {}, null, undefined, 42, [1], true]) {
      expect(await codeOf(verifyWebhook(body as never, d.headers, d.secret))).toBe('not_raw_body')
      expect(await codeOf(verifyWebhook(body as never, {}, d.secret))).toBe('not_raw_body')
    }
  })

  it('refuses a re-serialized body (JSON.parse + JSON.stringify changes the bytes)', async () => {
    const d = delivery('{"eventName":"store.order_updated","price":1.0,"name":"\\u00e9"}')
    const reserialized = JSON.stringify(JSON.parse(d.body))
    expect(reserialized).not.toBe(d.body)
    expect(await codeOf(verifyWebhook(reserialized, d.headers, d.secret))).toBe('bad_signature')
    const basekitOnly = { 'x-delivery-hmac-sha256': d.headers['x-delivery-hmac-sha256']! }
    expect(await codeOf(verifyWebhook(reserialized, basekitOnly, d.secret, { scheme: 'basekit' }))).toBe(
      'bad_signature',
    )
  })

  it('hashes bytes, not text: a body with invalid UTF-8 verifies, then fails to parse with invalid_payload', async () => {
    const v = loadVectors().find((c) => c.name === 'invalid-utf8-bytes')!
    const body = vectorBody(v)
    const headers = {
      'webhook-id': v.id,
      'webhook-timestamp': String(v.timestamp),
      'webhook-signature': v.standard,
    }
    const at = { now: () => v.timestamp * 1000 }
    await expect(verifyWebhookSignature(body, headers, v.secret, at)).resolves.toMatchObject({ id: v.id })
    expect(await codeOf(verifyWebhookSignature(body.toString('utf8'), headers, v.secret, at))).toBe(
      'bad_signature',
    )
    expect(await codeOf(verifyWebhook(body, headers, v.secret, at))).toBe('invalid_payload')
  })

  it('reports invalid_payload only after a valid signature', async () => {
    const d = delivery('not json')
    expect(await codeOf(verifyWebhook(d.body, d.headers, d.secret))).toBe('invalid_payload')
    expect(await codeOf(verifyWebhook('not json!', d.headers, d.secret))).toBe('bad_signature')
    await expect(verifyWebhookSignature(d.body, d.headers, d.secret)).resolves.toMatchObject({
      scheme: 'standard',
    })
  })
})

describe('results, rotation and errors', () => {
  it('verifyWebhookDetailed returns the signed id and timestamp, the event name and the attempt', async () => {
    const secret = newSecret()
    const body = '{"eventName":"site.first_publish","site":{"ref":3412}}'
    const headers = nodeSign({
      secrets: [secret],
      id: 'dlv_detail',
      timestamp: nowSeconds(),
      body,
      attempt: 4,
    })
    const r = await verifyWebhookDetailed<{ site: { ref: number } }>(body, headers, secret)
    expect(r).toEqual({
      scheme: 'standard',
      id: 'dlv_detail',
      timestamp: Number(headers['webhook-timestamp']),
      eventName: 'site.first_publish',
      attempt: 4,
      payload: { eventName: 'site.first_publish', site: { ref: 3412 } },
    })
    expect(r.payload.site.ref).toBe(3412)
  })

  it('accepts any of several receiver secrets, and any of several sender entries', async () => {
    const [oldSecret, newer] = [newSecret(), newSecret()]
    const d = delivery(undefined, [oldSecret])
    expect(await codeOf(verifyWebhook(d.body, d.headers, [newer, oldSecret]))).toBe('accepted')
    expect(await codeOf(verifyWebhook(d.body, d.headers, [newer]))).toBe('bad_signature')
    const rotating = nodeSign({ secrets: [newer, oldSecret], id: d.id, timestamp: d.timestamp, body: d.body })
    expect(await codeOf(verifyWebhook(d.body, rotating, oldSecret))).toBe('accepted')
    expect(await codeOf(verifyWebhook(d.body, rotating, newer))).toBe('accepted')
  })

  it('throws a WebhookVerificationError with a stable name and code', async () => {
    const err = await verifyWebhook(kat.body, katHeaders, kat.secret).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(WebhookVerificationError)
    expect(err).toBeInstanceOf(Error)
    expect(err).toMatchObject({ name: 'WebhookVerificationError', code: 'timestamp_too_old' })
    expect(isWebhookVerificationError(err)).toBe(true)
    expect(isWebhookVerificationError({ name: 'WebhookVerificationError', code: 'bad_signature' })).toBe(true)
    expect(isWebhookVerificationError(new Error('x'))).toBe(false)
    expect(isWebhookVerificationError(null)).toBe(false)
    expect(String(new WebhookVerificationError('bad_signature'))).toBe(
      'WebhookVerificationError: No signature matches the body',
    )
  })

  it('throws TypeError for configuration mistakes', async () => {
    const d = delivery()
    await expect(verifyWebhook(d.body, d.headers, '')).rejects.toThrow(TypeError)
    await expect(verifyWebhook(d.body, d.headers, [])).rejects.toThrow(TypeError)
    await expect(verifyWebhook(d.body, d.headers, 'whsec_not base64!')).rejects.toThrow(TypeError)
    await expect(verifyWebhook(d.body, d.headers, d.secret, { toleranceSeconds: -1 })).rejects.toThrow(
      TypeError,
    )
    await expect(verifyWebhook(d.body, d.headers, d.secret, { scheme: 'hmac' as never })).rejects.toThrow(
      TypeError,
    )
  })
})

describe('WebCrypto injection', () => {
  it('accepts node:crypto webcrypto, or its subtle directly, as options.crypto', async () => {
    const d = delivery()
    const asCrypto: CryptoLike = webcrypto
    const global: CryptoLike = globalThis.crypto
    expect(await codeOf(verifyWebhook(d.body, d.headers, d.secret, { crypto: asCrypto }))).toBe('accepted')
    expect(await codeOf(verifyWebhook(d.body, d.headers, d.secret, { crypto: global }))).toBe('accepted')
    const subtleOnly = webcrypto.subtle as unknown as CryptoLike
    expect(await codeOf(verifyWebhook(d.body, d.headers, d.secret, { crypto: subtleOnly }))).toBe('accepted')
  })

  it('without a global crypto (Node 18), explains what to pass, and works once given one', async () => {
    const d = delivery()
    vi.stubGlobal('crypto', undefined)
    expect(globalThis.crypto).toBeUndefined()
    await expect(verifyWebhook(d.body, d.headers, d.secret)).rejects.toThrow(/webcrypto/)
    await expect(verifyWebhook(d.body, d.headers, d.secret, { crypto: webcrypto })).resolves.toMatchObject({
      eventName: 'site.publish',
    })
    await expect(signWebhook(d.body, d.secret, { crypto: webcrypto })).resolves.toHaveProperty('webhook-id')
  })
})

describe('signWebhook', () => {
  it('signs like the service: hex by default, base64 on request, one v1 entry per secret', async () => {
    const secrets = [newSecret(), newSecret()]
    const body = '{"eventName":"site.publish"}'
    const timestamp = nowSeconds()
    const ours = await signWebhook(body, secrets, { id: 'dlv_sign', timestamp, attempt: 2 })
    const reference = nodeSign({ secrets, id: 'dlv_sign', timestamp, body, attempt: 2 })
    expect(ours).toEqual(without(reference, 'user-agent'))
    const b64 = await signWebhook(body, secrets, { id: 'dlv_sign', timestamp, encoding: 'base64' })
    expect(b64['x-delivery-hmac-sha256']).toBe(
      nodeSign({ secrets, id: 'dlv_sign', timestamp, body, encoding: 'base64' })['x-delivery-hmac-sha256'],
    )
  })

  it('fills in a dlv_ id and the current time, and refuses an id with a dot', async () => {
    const secret = newSecret()
    const h = await signWebhook('{}', secret)
    expect(h['webhook-id']).toMatch(/^dlv_test_[0-9a-z]{20}$/)
    expect(Math.abs(Number(h['webhook-timestamp']) - nowSeconds())).toBeLessThanOrEqual(1)
    expect(h['x-delivery-event']).toBeUndefined()
    await expect(verifyWebhook('{}', h, secret)).resolves.toEqual({})
    await expect(signWebhook('{}', secret, { id: 'a.b' })).rejects.toThrow(TypeError)
  })
})

describe('v1a: Ed25519 signatures with a whpk_ public key', () => {
  // Signed by node:crypto here, independent of the library's WebCrypto code.
  function pair() {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519')
    const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url')
    return { privateKey, whpk: `whpk_${raw.toString('base64')}` }
  }
  const id = 'dlv_ed25519'
  const body = '{"eventName":"site.publish","n":1}'
  const ts = kat.timestamp
  const v1a = (key: ReturnType<typeof pair>['privateKey'], b = body) =>
    `v1a,${nodeEd25519Sign(null, Buffer.from(`${id}.${ts}.${b}`), key).toString('base64')}`
  const at: VerifyOptions = { now: () => ts * 1000 }
  const headersWith = (signature: string) => ({
    'webhook-id': id,
    'webhook-timestamp': String(ts),
    'webhook-signature': signature,
  })

  it('accepts a delivery whose v1a entry verifies, beside v1 entries it cannot check', async () => {
    const k = pair()
    const headers = headersWith(`v1,${Buffer.alloc(32).toString('base64')} ${v1a(k.privateKey)}`)
    expect(await verifyWebhook(body, headers, k.whpk, at)).toEqual(JSON.parse(body))
    expect(await verifyWebhookSignature(body, headers, [pair().whpk, k.whpk], at)).toMatchObject({
      scheme: 'standard',
      id,
      timestamp: ts,
    })
  })

  it('refuses another key, a changed body, a v1a-less header and a stale timestamp', async () => {
    const k = pair()
    const headers = headersWith(v1a(k.privateKey))
    expect(await codeOf(verifyWebhook(body, headers, pair().whpk, at))).toBe('bad_signature')
    expect(await codeOf(verifyWebhook(`${body} `, headers, k.whpk, at))).toBe('bad_signature')
    expect(await codeOf(verifyWebhook(body, headersWith(kat.signature), k.whpk, at))).toBe('bad_signature')
    expect(await codeOf(verifyWebhook(body, headers, k.whpk, { now: () => (ts + 301) * 1000 }))).toBe(
      'timestamp_too_old',
    )
  })

  it('does not let a whsec_ secret accept a v1a entry, nor a whpk_ key a v1 entry', async () => {
    const secret = newSecret()
    const k = pair()
    const signed = await signWebhook(body, secret, { id, timestamp: ts })
    expect(await codeOf(verifyWebhook(body, signed, k.whpk, at))).toBe('bad_signature')
    expect(await codeOf(verifyWebhook(body, headersWith(v1a(k.privateKey)), secret, at))).toBe(
      'bad_signature',
    )
    // Both kinds given: either entry may match.
    expect(await verifyWebhook(body, signed, [k.whpk, secret], at)).toEqual(JSON.parse(body))
  })

  it('throws a TypeError for a malformed public key or a public key on the BaseKit header', async () => {
    await expect(verifyWebhook(body, headersWith('v1a,x'), 'whpk_AAAA', at)).rejects.toThrow(TypeError)
    await expect(verifyWebhook(body, {}, pair().whpk, { scheme: 'basekit' })).rejects.toThrow(TypeError)
  })
})
