// Ed25519 (Standard Webhooks v1a) end to end: a key pair created through the API signs real
// deliveries to a loopback receiver, verified by node:crypto (not src/signing), and stops once
// deleted. The private key shows up nowhere: not in answers, not in the log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { verifyWebhookSignature } from '../../packages/verify/src/index.ts'
import { eventTypes } from '../../src/events/event-types.ts'
import { eventually } from '../support/eventually.ts'
import { asymmetricEntriesValid, standardHeadersValid } from '../support/independent-verify.ts'
import { TestReceiver } from '../support/receiver.ts'
import { client, type ServiceProcess, startService } from '../support/service-process.ts'
import { createTenant } from '../support/tenant.ts'

describe('Ed25519 signing keys over real HTTP', () => {
  let svc: ServiceProcess
  let rx: TestReceiver
  beforeAll(async () => {
    rx = await new TestReceiver().start()
    svc = await startService({ HOOKPOST_ALLOW_HTTP: 'true', HOOKPOST_ALLOWED_CIDRS: '127.0.0.0/8' })
  })
  afterAll(async () => {
    await svc?.stop()
    svc?.cleanup()
    await rx?.stop()
  })

  it('signs v1a after the v1 entries while a key exists, and stops when it is deleted', async () => {
    const tenant = await createTenant(svc, 'ed', { signingSecret: true })
    const consumer = client(svc.url, tenant.consumer.authorization)
    const publisher = client(svc.url, tenant.publisher.authorization)
    const secret = tenant.signingSecret
    const t = eventTypes[0]!
    await consumer('POST', '/webhooks/subscription', { event: t.name, url: rx.url, active: true })

    const created = await consumer('POST', '/webhooks/signing-keys', { type: 'ed25519' })
    expect(created.status).toBe(201)
    const key = created.json.signingKey
    expect(Object.keys(key).sort()).toEqual(['created', 'id', 'publicKey', 'type'])
    expect(key.type).toBe('ed25519')
    expect(key.id).toMatch(/^spk_/)
    expect(Buffer.from(key.publicKey.slice(5), 'base64')).toHaveLength(32)
    expect(key.publicKey).toMatch(/^whpk_/)
    const listed = await consumer('GET', '/webhooks/signing-keys')
    expect(listed.json).toEqual({ signingKeys: [key] })

    const body = JSON.stringify(t.example)
    await publisher('POST', '/events', body)
    await eventually(() => expect(rx.received).toHaveLength(1), 15_000)
    const got = rx.received[0]!
    const entries = String(got.headers['webhook-signature']).split(' ')
    expect(entries.map((e) => e.split(',')[0])).toEqual(['v1', 'v1a'])
    expect(asymmetricEntriesValid(key.publicKey, got.body, got.headers)).toBe(1)
    // The header as documented in /asyncapi.json (and the OpenAPI webhooks).
    const documented = (await client(svc.url)('GET', '/asyncapi.json')).json.components.schemas
      .DeliveryHeaders
    expect(String(got.headers['webhook-signature'])).toMatch(
      new RegExp(documented.properties['webhook-signature'].pattern),
    )
    expect(standardHeadersValid(secret, got.body, got.headers)).toBe(true)
    // And @hookpost/verify, given only the public key.
    const headers = got.headers as Record<string, string>
    await expect(verifyWebhookSignature(got.body, headers, key.publicKey)).resolves.toMatchObject({
      scheme: 'standard',
    })
    // A key of another pair does not verify it.
    const other = (await consumer('POST', '/webhooks/signing-keys', { type: 'ed25519' })).json.signingKey
    expect(asymmetricEntriesValid(other.publicKey, got.body, got.headers)).toBe(0)

    expect((await consumer('DELETE', `/webhooks/signing-keys/${key.id}`)).status).toBe(204)
    expect((await consumer('DELETE', `/webhooks/signing-keys/${other.id}`)).status).toBe(204)
    const again = await consumer('DELETE', `/webhooks/signing-keys/${key.id}`)
    expect(again.status).toBe(404)
    expect(again.json.error.code).toBe('signing_key_not_found')
    await publisher('POST', '/events', body)
    await eventually(() => expect(rx.received).toHaveLength(2), 15_000)
    expect(String(rx.received[1]!.headers['webhook-signature'])).not.toContain('v1a,')
  })

  it('refuses other key types and keys past the limit, with stable codes', async () => {
    const consumer = client(svc.url, (await createTenant(svc, 'ed-limit')).consumer.authorization)
    const bad = await consumer('POST', '/webhooks/signing-keys', { type: 'rsa' })
    expect(bad.status).toBe(400)
    expect(bad.json.error.code).toBe('invalid_request')
    for (let i = 0; i < 10; i++)
      expect((await consumer('POST', '/webhooks/signing-keys', { type: 'ed25519' })).status).toBe(201)
    const over = await consumer('POST', '/webhooks/signing-keys', { type: 'ed25519' })
    expect(over.status).toBe(409)
    expect(over.json.error.code).toBe('signing_key_limit')
  })

  it('never writes a private key into its log', () => {
    expect(svc.output()).not.toMatch(/MC4CAQAwBQYDK2Vw/) // base64 of an Ed25519 PKCS#8 header
  })
})
