import { createHmac } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import fc from 'fast-check'
import { Webhook } from 'standardwebhooks'
import { describe, expect, it } from 'vitest'
import {
  basekitSignature,
  generateSigningSecret,
  isSigningSecret,
  signDelivery,
  signingKey,
  standardSignature,
} from '../../src/signing/signature.ts'

describe('signing', () => {
  it('matches the Standard Webhooks known answer', () => {
    const key = signingKey('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')
    const sig = standardSignature(
      key,
      'msg_p5jXN8AQM9LWM0D4loKWxJek',
      1614265330,
      Buffer.from('{"test": 2432232314}'),
    )
    expect(sig).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=')
  })

  it('gives every delivery of one body the BaseKit signature of the key and encoding it is signed with', () => {
    const body = Buffer.from('{"eventName":"site.publish"}')
    const a = signingKey(generateSigningSecret())
    const b = signingKey(generateSigningSecret())
    const expected = (k: typeof a, enc: 'hex' | 'base64') =>
      createHmac('sha256', k.basekitKey).update(body).digest(enc)
    // Same body object each time (as the worker shares it); the key or encoding changes between.
    const seq: [typeof a, 'hex' | 'base64'][] = [
      [a, 'hex'],
      [a, 'hex'],
      [b, 'hex'],
      [a, 'base64'],
      [a, 'hex'],
    ]
    for (const [k, enc] of seq) {
      const h = signDelivery([k], 'msg_1', 1_700_000_000, body, enc)
      expect(h['x-delivery-hmac-sha256']).toBe(expected(k, enc))
    }
  })

  it('keys the BaseKit header with the whole whsec_ string, hex or base64', () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
    const body = Buffer.from('{"eventName":"site.publish"}')
    const expected = createHmac('sha256', secret).update(body)
    const hex = expected.digest('hex')
    expect(basekitSignature(signingKey(secret), body, 'hex')).toBe(hex)
    expect(basekitSignature(signingKey(secret), body, 'base64')).toBe(
      Buffer.from(hex, 'hex').toString('base64'),
    )
  })

  it('generates whsec_ secrets of 32 random bytes', () => {
    const a = generateSigningSecret()
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/)
    expect(isSigningSecret(a)).toBe(true)
    expect(generateSigningSecret()).not.toBe(a)
  })

  it('agrees with the standardwebhooks package over generated cases, one entry per valid secret', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.stringMatching(/^dlv_[0-9A-Za-z]{1,30}$/),
        fc.integer({ min: 0, max: 4_000_000_000 }),
        fc.string({ unit: 'grapheme', maxLength: 300 }),
        (k1, k2, id, ts, text) => {
          const current = `whsec_${Buffer.from(k1).toString('base64')}`
          const previous = `whsec_${Buffer.from(k2).toString('base64')}`
          const body = Buffer.from(text, 'utf8')
          const h = signDelivery([signingKey(current), signingKey(previous)], id, ts, body, 'hex')
          const [c, p] = h['webhook-signature'].split(' ')
          expect(c).toBe(`v1,${new Webhook(current).sign(id, new Date(ts * 1000), text).split(',')[1]}`)
          expect(p).toBe(`v1,${new Webhook(previous).sign(id, new Date(ts * 1000), text).split(',')[1]}`)
          expect(h['x-delivery-hmac-sha256']).toBe(createHmac('sha256', current).update(body).digest('hex'))
          expect(h['webhook-id']).toBe(id)
          expect(h['webhook-timestamp']).toBe(String(ts))
        },
      ),
      { numRuns: 300 },
    )
  })

  const vectors = new URL('../vectors/signing.json', import.meta.url)
  it.runIf(existsSync(vectors))('passes the shared vectors (test/vectors/signing.json)', () => {
    const file = JSON.parse(readFileSync(vectors, 'utf8')) as { cases: Record<string, unknown>[] }
    expect(file.cases.length).toBeGreaterThan(0)
    for (const c of file.cases) {
      const body =
        typeof c['bodyBase64'] === 'string'
          ? Buffer.from(c['bodyBase64'] as string, 'base64')
          : Buffer.from(String(c['body']), 'utf8')
      const secrets = [c['secret'], ...((c['previousSecrets'] as string[] | undefined) ?? [])] as string[]
      const keys = secrets.map(signingKey)
      const h = signDelivery(keys, String(c['id']), Number(c['timestamp']), body, 'hex')
      if (c['basekitHex']) expect(h['x-delivery-hmac-sha256']).toBe(c['basekitHex'])
      if (c['basekitBase64']) expect(basekitSignature(keys[0]!, body, 'base64')).toBe(c['basekitBase64'])
      if (c['standard']) expect(h['webhook-signature']).toBe(c['standard'])
    }
  })
})
