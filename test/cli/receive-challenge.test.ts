// `hookpost receive` echoes an endpoint verification challenge whose signatures hold, and
// nothing else: a subscription to the development receiver gets verified.
import { describe, expect, it } from 'vitest'
import { receive } from '../../src/cli/receive.ts'
import { generateSigningSecret, signDelivery, signingKey } from '../../src/signing/signature.ts'
import { freePort } from '../support/service-process.ts'

describe('hookpost receive and verification challenges', () => {
  it('answers a signed challenge with it, a badly signed one with 400', async () => {
    const secret = generateSigningSecret()
    const port = await freePort()
    const stop = await receive({
      host: '127.0.0.1',
      port,
      secret,
      status: undefined,
      printBody: false,
      out: () => {},
    })
    try {
      const body = Buffer.from(JSON.stringify({ type: 'webhook.verification', challenge: 'abc123' }))
      const post = (key: string) =>
        fetch(`http://127.0.0.1:${port}/hook`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-delivery-event': 'webhook.verification',
            ...signDelivery([signingKey(key)], 'vrf_1', Math.floor(Date.now() / 1000), body, 'hex'),
          },
          body,
        })
      const good = await post(secret)
      expect(good.status).toBe(200)
      expect(await good.text()).toBe('abc123')
      const bad = await post(generateSigningSecret())
      expect(bad.status).toBe(400)
      expect(await bad.text()).not.toContain('abc123')
    } finally {
      await stop()
    }
  })
})
