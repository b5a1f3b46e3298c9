// TLS for deliveries: HOOKPOST_EXTRA_CA_CERTS trusted beside the system's roots, a client
// certificate per request (mTLS) with one connection pool per certificate, against real https
// receivers on loopback with a private CA made by openssl.

import { createHash } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { rootCertificates } from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { outboundEgress, outboundSender, readExtraCaCerts } from '../../src/outbound/outbound-tls.ts'
import { createSendingPolicy } from '../../src/outbound/sending-policy.ts'
import { HttpsReceiver } from '../support/endpoint-peers.ts'
import { skipWithout } from '../support/external-tool.ts'
import { makeTestPki, openssl, type TestPki } from '../support/test-pki.ts'

const loopback = { allowHttp: false, allowedCidrs: ['127.0.0.0/8'] }
const req = (url: string) => ({
  url,
  headers: { 'content-type': 'application/json' },
  body: Buffer.from('{}'),
  timeoutMs: 5000,
})

describe.skipIf(skipWithout(openssl))('outbound TLS', () => {
  let pki: TestPki
  let rx: HttpsReceiver
  let mtls: HttpsReceiver
  beforeAll(async () => {
    pki = makeTestPki()
    rx = await new HttpsReceiver(pki.server).start()
    mtls = await new HttpsReceiver({ ...pki.server, clientCa: pki.ca }).start()
  })
  afterAll(async () => {
    await Promise.all([rx?.stop(), mtls?.stop()])
    pki?.cleanup()
  })

  it('trusts the extra CAs beside the system roots, and only then', async () => {
    const egress = outboundEgress({ extraCaPem: pki.ca })
    expect(egress.tls?.ca).toEqual([...rootCertificates, pki.ca])
    const trusting = outboundSender(createSendingPolicy(loopback, undefined, egress), 4)
    const plain = outboundSender(createSendingPolicy(loopback, undefined, {}), 4)
    try {
      expect(await trusting.send(req(rx.url('/ca')))).toMatchObject({ kind: 'response', statusCode: 200 })
      expect(await plain.send(req(rx.url('/ca')))).toMatchObject({ kind: 'error', code: 'tls_failure' })
      // Verified for the name: the certificate is for localhost and 127.0.0.1, not for another name.
      expect(rx.on('/ca')).toHaveLength(1)
    } finally {
      await Promise.all([trusting.close(), plain.close()])
    }
  })

  it('presents a request’s client certificate on a pool of its own', async () => {
    const sender = outboundSender(
      createSendingPolicy(loopback, undefined, outboundEgress({ extraCaPem: pki.ca })),
      4,
    )
    const identity = {
      id: createHash('sha256').update(pki.client.cert).digest('base64url'),
      certificate: pki.client.cert,
      privateKey: pki.client.key,
    }
    try {
      expect(await sender.send({ ...req(mtls.url('/a')), clientIdentity: identity })).toMatchObject({
        statusCode: 200,
      })
      expect(mtls.on('/a')[0]!.clientCn).toBe('hookpost-client')
      // The same origin without a certificate does not ride on the authenticated connection.
      const bare = await sender.send(req(mtls.url('/b')))
      expect(bare.kind).toBe('error')
      expect(mtls.on('/b')).toHaveLength(0)
      expect(await sender.send({ ...req(mtls.url('/c')), clientIdentity: identity })).toMatchObject({
        statusCode: 200,
      })
    } finally {
      await sender.close()
    }
  })

  it("says an https:// URL at a plain http port does not speak TLS, not OpenSSL's words", async () => {
    const server = createServer((_, res) => res.end('plain'))
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const port = (server.address() as AddressInfo).port
    const sender = outboundSender(createSendingPolicy(loopback, undefined, {}), 4)
    try {
      const outcome = await sender.send(req(`https://127.0.0.1:${port}/hook`))
      expect(outcome).toMatchObject({ kind: 'error', code: 'tls_failure' })
      const message = (outcome as { message: string }).message
      expect(message).toMatch(/does not speak TLS on this port .*plain http port/)
      expect(message).not.toContain('127.0.0.1')
    } finally {
      await sender.close()
      await new Promise((r) => server.close(r))
    }
  })

  it('reads HOOKPOST_EXTRA_CA_CERTS or says why not', () => {
    const good = join(pki.dir, 'extra.pem')
    writeFileSync(good, `# comment\n${pki.ca}`)
    expect(readExtraCaCerts(good)).toBe(pki.ca.trim())
    const none = join(pki.dir, 'none.pem')
    writeFileSync(none, 'nothing here')
    expect(() => readExtraCaCerts(none)).toThrow(/holds no PEM certificate/)
    expect(() => readExtraCaCerts(join(pki.dir, 'missing.pem'))).toThrow(/cannot read .*ENOENT/)
  })
})
