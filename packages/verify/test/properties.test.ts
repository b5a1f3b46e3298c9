// Property tests: sign then verify round-trips; any changed byte is refused; malformed
// signatures and timestamps are refused with a WebhookVerificationError and nothing else.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { base64Decode, base64Encode, hexDecode, hexEncode } from '../src/encoding.js'
import {
  isWebhookVerificationError,
  signWebhook,
  verifyWebhookSignature,
  type WebhookScheme,
} from '../src/index.js'
import { nodeSign } from './helpers.js'

const runs = { numRuns: 150 }

const secretArb = fc
  .uint8Array({ minLength: 24, maxLength: 64 })
  .map((b) => `whsec_${Buffer.from(b).toString('base64')}`)
const idArb = fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/).map((s) => `dlv_${s}`)
const timestampArb = fc.integer({ min: 1_000_000_000, max: 4_000_000_000 })
const bodyArb = fc.uint8Array({ maxLength: 512 })
const schemeArb = fc.constantFrom<WebhookScheme>('standard', 'basekit')

async function refusedWith(p: Promise<unknown>): Promise<string> {
  try {
    await p
    return 'accepted'
  } catch (err) {
    if (!isWebhookVerificationError(err)) throw err
    return err.code
  }
}

describe('properties', () => {
  it('signWebhook then verify round-trips, under both schemes and both encodings', async () => {
    await fc.assert(
      fc.asyncProperty(
        bodyArb,
        fc.array(secretArb, { minLength: 1, maxLength: 3 }),
        idArb,
        timestampArb,
        schemeArb,
        fc.constantFrom<'hex' | 'base64'>('hex', 'base64'),
        async (body, secrets, id, timestamp, scheme, encoding) => {
          const headers = await signWebhook(body, secrets, { id, timestamp, encoding })
          const r = await verifyWebhookSignature(body, headers, secrets[0]!, {
            scheme,
            now: () => timestamp * 1000,
          })
          expect(r.scheme).toBe(scheme)
          expect(r.id).toBe(id)
          if (scheme === 'standard') {
            // Every secret of a rotation verifies on its own.
            for (const s of secrets) {
              await verifyWebhookSignature(body, headers, s, { scheme, now: () => timestamp * 1000 })
            }
          }
        },
      ),
      runs,
    )
  })

  it('what node:crypto signs (as the service does) verifies', async () => {
    await fc.assert(
      fc.asyncProperty(
        bodyArb,
        secretArb,
        idArb,
        timestampArb,
        schemeArb,
        async (body, secret, id, timestamp, scheme) => {
          const headers = nodeSign({ secrets: [secret], id, timestamp, body: Buffer.from(body) })
          const r = await verifyWebhookSignature(body, headers, secret, {
            scheme,
            now: () => timestamp * 1000,
          })
          expect(r.scheme).toBe(scheme)
        },
      ),
      runs,
    )
  })

  it('any changed, added or removed byte is refused', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 256 }),
        secretArb,
        timestampArb,
        schemeArb,
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        fc.constantFrom('flip', 'append', 'drop'),
        async (body, secret, timestamp, scheme, at, mask, how) => {
          const headers = await signWebhook(body, secret, { id: 'dlv_prop', timestamp })
          let changed: Uint8Array
          if (how === 'flip') {
            changed = Uint8Array.from(body)
            changed[at % body.length]! ^= mask
          } else if (how === 'append') {
            changed = Uint8Array.from([...body, mask])
          } else {
            changed = body.subarray(0, body.length - 1)
          }
          const code = await refusedWith(
            verifyWebhookSignature(changed, headers, secret, { scheme, now: () => timestamp * 1000 }),
          )
          expect(code).toBe('bad_signature')
        },
      ),
      runs,
    )
  })

  it('a changed id or timestamp is refused under the standard scheme', async () => {
    await fc.assert(
      fc.asyncProperty(bodyArb, secretArb, idArb, timestampArb, async (body, secret, id, timestamp) => {
        const headers = await signWebhook(body, secret, { id, timestamp })
        const now = () => timestamp * 1000
        expect(
          await refusedWith(
            verifyWebhookSignature(body, { ...headers, 'webhook-id': `${id}x` }, secret, { now }),
          ),
        ).toBe('bad_signature')
        const later = { ...headers, 'webhook-timestamp': String(timestamp + 1) }
        expect(await refusedWith(verifyWebhookSignature(body, later, secret, { now }))).toBe('bad_signature')
      }),
      runs,
    )
  })

  it('wrong-length, non-base64 and arbitrary signature headers are refused with a WebhookVerificationError only', async () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
    const junk = fc.oneof(
      fc.string(),
      fc.string({ unit: 'binary' }),
      fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('base64')),
      fc.uint8Array({ maxLength: 64 }).map((b) => `v1,${Buffer.from(b).toString('base64')}`),
      fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('hex')),
      fc
        .uint8Array({ minLength: 32, maxLength: 32 })
        .map((b) => `v1,${Buffer.from(b).toString('base64url')}`),
      fc.array(fc.string(), { maxLength: 5 }).map((parts) => parts.join(' ')),
    )
    await fc.assert(
      fc.asyncProperty(junk, junk, fc.string(), schemeArb, async (signature, basekit, timestamp, scheme) => {
        const headers = {
          'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
          'webhook-timestamp': timestamp,
          'webhook-signature': signature,
          'x-delivery-hmac-sha256': basekit,
        }
        const code = await refusedWith(
          verifyWebhookSignature('{"test": 2432232314}', headers, secret, { scheme }),
        )
        expect(['missing_signature', 'bad_signature', 'bad_timestamp']).toContain(code)
      }),
      { numRuns: 300 },
    )
  })

  it('base64 and hex codecs agree with Buffer, and the base64 decoder refuses what Buffer would bend', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        const b64 = base64Encode(bytes)
        expect(b64).toBe(Buffer.from(bytes).toString('base64'))
        expect(base64Decode(b64)).toEqual(bytes)
        expect(base64Decode(b64.replace(/=+$/, ''))).toEqual(bytes)
        expect(base64Decode(Buffer.from(bytes).toString('base64url'), true)).toEqual(bytes)
        expect(hexEncode(bytes)).toBe(Buffer.from(bytes).toString('hex'))
        expect(hexDecode(hexEncode(bytes).toUpperCase())).toEqual(bytes)
      }),
    )
    for (const bad of ['a', 'ab=c', 'abc==', '====', 'ab cd', 'ab\ncd', 'ab-_', 'YQ===']) {
      expect(base64Decode(bad), bad).toBeNull()
    }
    expect(hexDecode('abc')).toBeNull()
    expect(hexDecode('zz')).toBeNull()
  })
})
