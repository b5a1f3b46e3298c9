// The shared vectors (test/vectors/signing.json): recomputed with node:crypto, checked against
// the standardwebhooks reference package and the service's own signer, and verified by the library.
import { createHmac } from 'node:crypto'
import { Webhook } from 'standardwebhooks'
import { describe, expect, it } from 'vitest'
import { signDelivery, signingKey } from '../../../src/signing/signature.ts'
import { signWebhook, verifyWebhookSignature } from '../src/index.js'
import { loadVectors, type SigningVector, vectorBody } from './helpers.js'

const vectors = loadVectors()

function secretsOf(v: SigningVector): string[] {
  return [v.secret, ...(v.previousSecrets ?? [])]
}

function headersOf(v: SigningVector, basekit = v.basekitHex): Record<string, string> {
  return {
    'x-delivery-hmac-sha256': basekit,
    'webhook-id': v.id,
    'webhook-timestamp': String(v.timestamp),
    'webhook-signature': v.standard,
  }
}

describe('test/vectors/signing.json', () => {
  it('has the cases the format promises', () => {
    const names = vectors.map((v) => v.name)
    expect(new Set(names).size).toBe(names.length)
    for (const name of [
      'standard-webhooks-known-answer',
      'unicode-literal',
      'json-escapes',
      'big-and-odd-numbers',
      'empty-object',
      'invalid-utf8-bytes',
      'rotation-two-secrets',
    ]) {
      expect(names).toContain(name)
    }
    for (const v of vectors) {
      expect((v.body === undefined) !== (v.bodyBase64 === undefined), v.name).toBe(true)
      expect(v.id, v.name).not.toContain('.')
    }
    const kat = vectors.find((v) => v.name === 'standard-webhooks-known-answer')!
    expect(kat.standard).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=')
    expect(vectors.find((v) => v.name === 'rotation-two-secrets')!.standard.split(' ')).toHaveLength(2)
  })

  describe.each(vectors.map((v) => [v.name, v] as const))('%s', (_name, v) => {
    const body = vectorBody(v)

    it('matches node:crypto', () => {
      const basekit = createHmac('sha256', Buffer.from(v.secret, 'utf8')).update(body).digest()
      expect(basekit.toString('hex')).toBe(v.basekitHex)
      expect(basekit.toString('base64')).toBe(v.basekitBase64)
      const standard = secretsOf(v)
        .map((s) => {
          const key = Buffer.from(s.slice('whsec_'.length), 'base64')
          return `v1,${createHmac('sha256', key).update(`${v.id}.${v.timestamp}.`).update(body).digest('base64')}`
        })
        .join(' ')
      expect(standard).toBe(v.standard)
    })

    it('matches the standardwebhooks reference package', () => {
      // The reference hashes payload.toString(), so only UTF-8 bodies can be compared.
      if (v.bodyBase64 !== undefined) return
      const entries = secretsOf(v).map((s) =>
        new Webhook(s).sign(v.id, new Date(v.timestamp * 1000), v.body ?? ''),
      )
      expect(entries.join(' ')).toBe(v.standard)
    })

    it("matches the service's signer (src/signing/signature.ts)", () => {
      const keys = secretsOf(v).map(signingKey)
      expect(signDelivery(keys, v.id, v.timestamp, body, 'hex')).toEqual({
        'x-delivery-hmac-sha256': v.basekitHex,
        'webhook-id': v.id,
        'webhook-timestamp': String(v.timestamp),
        'webhook-signature': v.standard,
      })
      expect(signDelivery(keys, v.id, v.timestamp, body, 'base64')['x-delivery-hmac-sha256']).toBe(
        v.basekitBase64,
      )
    })

    it('matches signWebhook', async () => {
      const hex = await signWebhook(body, secretsOf(v), { id: v.id, timestamp: v.timestamp })
      expect(hex).toMatchObject(headersOf(v))
      const b64 = await signWebhook(body, secretsOf(v), {
        id: v.id,
        timestamp: v.timestamp,
        encoding: 'base64',
      })
      expect(b64['x-delivery-hmac-sha256']).toBe(v.basekitBase64)
    })

    it('is accepted by the library under each scheme, with each valid secret', async () => {
      const now = () => v.timestamp * 1000
      for (const secret of secretsOf(v)) {
        const r = await verifyWebhookSignature(body, headersOf(v), secret, { now })
        expect(r).toMatchObject({ scheme: 'standard', id: v.id, timestamp: v.timestamp })
      }
      for (const basekit of [v.basekitHex, v.basekitBase64]) {
        const r = await verifyWebhookSignature(body, headersOf(v, basekit), v.secret, {
          now,
          scheme: 'basekit',
        })
        expect(r.scheme).toBe('basekit')
      }
    })

    it('is refused by the library once a byte changes', async () => {
      const now = () => v.timestamp * 1000
      const changed = body.length === 0 ? Buffer.from(' ') : Buffer.from(body)
      if (body.length > 0) changed[changed.length - 1]! ^= 0x01
      for (const scheme of ['standard', 'basekit'] as const) {
        await expect(
          verifyWebhookSignature(changed, headersOf(v), v.secret, { now, scheme }),
        ).rejects.toMatchObject({
          code: 'bad_signature',
        })
      }
    })
  })
})
