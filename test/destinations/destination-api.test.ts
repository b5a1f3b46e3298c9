// Subscriptions with a destination through the HTTP API: `url` alone is the http type (BaseKit's
// form, unchanged), answers carry both; broker URLs are checked, their credentials sealed at
// rest, shown masked, kept across a PUT of what GET showed, and re-sealed by master key rotation.
import { afterEach, describe, expect, it } from 'vitest'
import { destinationCheck, destinationTypeInfo } from '../../src/destinations/check-destination.ts'
import { brokerDestinationTypes } from '../../src/destinations/registry.ts'
import { checkUrl, compileAddressPolicy } from '../../src/network/address-policy.ts'
import { resealSigningSecrets } from '../../src/secrets/master-key-rotation.ts'
import { generateMasterKey, parseMasterKey, SecretBox } from '../../src/secrets/secret-box.ts'
import { destinationAssociatedData } from '../../src/subscriptions/destination.ts'
import { type AppHarness, appHarness } from '../support/app-harness.ts'

function harness(allowPlain = true, allowedCidrs: string[] = []) {
  const policy = compileAddressPolicy({ allowHttp: allowPlain, allowedCidrs })
  const check = (u: string) => checkUrl(u, policy)
  return appHarness({
    checkUrl: check,
    destinations: {
      check: destinationCheck(brokerDestinationTypes, { checkUrl: check, allowPlain }),
      types: destinationTypeInfo(brokerDestinationTypes),
    },
  })
}

const amqpDest = {
  type: 'amqp',
  url: 'amqps://hook:s3cr%3Et@rabbit.example.com:5671/orders',
  exchange: 'webhooks',
  routingKey: 'orders.created',
}

describe('subscriptions with a destination (API)', () => {
  let h: AppHarness
  afterEach(async () => {
    await h?.close()
  })
  const post = (body: Record<string, unknown>) =>
    h.app.inject({
      method: 'POST',
      url: '/webhooks/subscription',
      headers: { authorization: h.consumer },
      payload: body,
    })

  it("keeps BaseKit's form: url alone is an http destination, and the answer shows both", async () => {
    h = await harness()
    const r = await post({ event: 'site.publish', url: 'https://example.com/hook', active: true })
    expect(r.statusCode).toBe(201)
    expect(r.json().subscription).toMatchObject({
      url: 'https://example.com/hook',
      destination: { type: 'http', url: 'https://example.com/hook' },
    })
    const same = await post({
      event: 'site.publish',
      destination: { type: 'http', url: 'https://example.com/h2' },
      active: true,
    })
    expect(same.json().subscription).toMatchObject({
      url: 'https://example.com/h2',
      destination: { type: 'http' },
    })
  })

  it('stores a broker destination with its password sealed, shows it masked, and keeps it across a PUT', async () => {
    h = await harness()
    const r = await post({ event: 'site.publish', destination: amqpDest, active: true })
    expect(r.statusCode).toBe(201)
    const sub = r.json().subscription
    expect(sub.url).toBeUndefined()
    expect(sub.destination).toEqual({ ...amqpDest, url: 'amqps://hook:****@rabbit.example.com:5671/orders' })
    expect(JSON.stringify(r.json())).not.toContain('s3cr')
    // At rest: the password is only inside the sealed URL, which opens to the URL given.
    const row = (await h.store.subscriptions.get(h.envId, sub.id))!
    expect(JSON.stringify({ ...row, destination: { ...row.destination, sealedUrl: null } })).not.toContain(
      's3cr',
    )
    expect(h.box.open(row.destination!.sealedUrl!, destinationAssociatedData(h.envId))).toBe(amqpDest.url)
    // GET, then PUT what it showed (deactivating): the sealed credentials stay.
    const put = await h.app.inject({
      method: 'PUT',
      url: `/webhooks/subscription/${sub.id}`,
      headers: { authorization: h.consumer },
      payload: { event: sub.event, destination: sub.destination, active: false },
    })
    expect(put.statusCode).toBe(200)
    const after = (await h.store.subscriptions.get(h.envId, sub.id))!
    expect(h.box.open(after.destination!.sealedUrl!, destinationAssociatedData(h.envId))).toBe(amqpDest.url)
    // The list shows the same masked form.
    const list = await h.app.inject({
      method: 'GET',
      url: '/webhooks/subscription',
      headers: { authorization: h.consumer },
    })
    expect(list.json().subscriptions[0].destination.url).toBe(
      'amqps://hook:****@rabbit.example.com:5671/orders',
    )
  })

  it('takes nats and redis destinations; a NATS token is masked too', async () => {
    h = await harness()
    const n = await post({
      event: 'site.publish',
      destination: { type: 'nats', url: 'tls://t0ken@nats.example.com:4222', subject: 'hooks.site' },
      active: true,
    })
    expect(n.json().subscription.destination).toEqual({
      type: 'nats',
      url: 'tls://****@nats.example.com:4222',
      subject: 'hooks.site',
    })
    const r = await post({
      event: 'site.publish',
      destination: { type: 'redis', url: 'rediss://:pw@redis.example.com:6380/2', stream: 'hooks' },
      active: true,
    })
    expect(r.json().subscription.destination).toEqual({
      type: 'redis',
      url: 'rediss://:****@redis.example.com:6380/2',
      stream: 'hooks',
    })
    const types = await h.app.inject({
      method: 'GET',
      url: '/webhooks/destination-types',
      headers: { authorization: h.consumer },
    })
    expect(types.json().destinationTypes.map((t: { type: string }) => t.type)).toEqual([
      'http',
      'amqp',
      'nats',
      'redis',
    ])
  })

  it.each([
    [{ ...amqpDest, type: 'kafka' }, '/destination/type', 'invalid_destination'],
    [{ ...amqpDest, url: 'https://rabbit.example.com' }, '/destination/url', 'invalid_url'],
    [{ ...amqpDest, exchange: undefined }, '/destination/exchange', 'invalid_destination'],
    [{ ...amqpDest, routingKey: 'a\nb' }, '/destination/routingKey', 'invalid_destination'],
    [{ ...amqpDest, queue: 'x' }, '/destination/queue', 'invalid_destination'],
    [{ ...amqpDest, url: 'amqps://10.0.0.5/' }, '/destination/url', 'url_not_allowed'],
    [{ ...amqpDest, url: 'amqps://localhost/' }, '/destination/url', 'url_not_allowed'],
    [
      { type: 'nats', url: 'nats://nats.example.com', subject: 'a.*' },
      '/destination/subject',
      'invalid_destination',
    ],
    [{ type: 'redis', url: 'redis://redis.example.com/x', stream: 's' }, '/destination/url', 'invalid_url'],
    [
      { type: 'http', url: 'https://example.com', exchange: 'x' },
      '/destination/exchange',
      'invalid_destination',
    ],
  ])('refuses %j naming the bad part', async (destination, path, code) => {
    h = await harness()
    const r = await post({ event: 'site.publish', destination, active: true })
    expect(r.statusCode).toBe(400)
    expect(r.json().error.code).toBe(code)
    expect(r.json().error.details[0].path).toBe(path)
    expect(JSON.stringify(r.json())).not.toContain('s3cr')
  })

  it('refuses url and destination together unless they agree, and neither', async () => {
    h = await harness()
    const both = await post({
      event: 'site.publish',
      url: 'https://a.example.com',
      destination: amqpDest,
      active: true,
    })
    expect(both.json().error).toMatchObject({ code: 'invalid_destination', details: [{ path: '/url' }] })
    const none = await post({ event: 'site.publish', active: true })
    // BaseKit's answer to a body without url, unchanged.
    expect(none.json().error).toMatchObject({ code: 'invalid_request', details: [{ path: '/url' }] })
  })

  it('refuses endpoint auth or static headers on a broker destination, and creates nothing', async () => {
    h = await harness()
    const withAuth = await post({
      event: 'site.publish',
      destination: amqpDest,
      auth: { type: 'bearer', token: 'tok_s3cret' },
      active: true,
    })
    expect(withAuth.statusCode).toBe(400)
    expect(withAuth.json().error).toMatchObject({ code: 'invalid_destination', details: [{ path: '/auth' }] })
    const withHeaders = await post({
      event: 'site.publish',
      destination: amqpDest,
      headers: { 'x-tenant': 'acme' },
      active: true,
    })
    expect(withHeaders.json().error).toMatchObject({
      code: 'invalid_destination',
      details: [{ path: '/headers' }],
    })
    expect(JSON.stringify([withAuth.json(), withHeaders.json()])).not.toContain('s3cr')
    const list = await h.app.inject({
      method: 'GET',
      url: '/webhooks/subscription',
      headers: { authorization: h.consumer },
    })
    expect(list.json().subscriptions).toEqual([])
  })

  it('refuses plain amqp:// unless HOOKPOST_ALLOW_HTTP, as it refuses http://', async () => {
    h = await harness(false)
    const r = await post({
      event: 'site.publish',
      destination: { ...amqpDest, url: 'amqp://rabbit.example.com/' },
      active: true,
    })
    expect(r.json().error).toMatchObject({ code: 'url_not_allowed', details: [{ path: '/destination/url' }] })
  })

  it('master key rotation seals destination URLs again; they open under the new key alone', async () => {
    h = await harness()
    const sub = (await post({ event: 'site.publish', destination: amqpDest, active: true })).json()
      .subscription
    const before = (await h.store.subscriptions.get(h.envId, sub.id))!.destination!.sealedUrl!
    const next = parseMasterKey(generateMasterKey())
    const report = await resealSigningSecrets({
      store: h.store,
      box: new SecretBox(next, [h.box.currentKey()]),
    })
    expect(report.unopenableCount).toBe(0)
    const after = (await h.store.subscriptions.get(h.envId, sub.id))!.destination!.sealedUrl!
    expect(after.keyId).toBe(next.id)
    expect(after.ciphertext).not.toBe(before.ciphertext)
    expect(new SecretBox(next).open(after, destinationAssociatedData(h.envId))).toBe(amqpDest.url)
    const [listed] = await h.store.destinationSecrets.listAll(null, 10)
    expect(listed).toMatchObject({ id: sub.id, keyId: next.id })
  })
})
