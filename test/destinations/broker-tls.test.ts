// Deliveries to brokers over TLS (amqps://, NATS tls://, rediss://), the only broker URLs a
// production node accepts: a TLS proxy with a test CA's certificate in front of each plain
// loopback broker (NATS: the in-protocol upgrade), consumed with the broker's own client. The
// certificate is verified against the URL's name while the socket goes to the address the
// sending policy checked; a name it does not cover, or a CA nobody gave, fails the attempt with
// `tls_failure` and publishes nothing; the CA given as HOOKPOST_EXTRA_CA_CERTS is trusted.
import type { LookupFunction } from 'node:net'
import { rootCertificates } from 'node:tls'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { verifyWebhookDetailed } from '../../packages/verify/src/index.ts'
import { brokerPorts, describeWithBroker } from '../support/brokers.ts'
import { eventually } from '../support/eventually.ts'
import { skipWithout } from '../support/external-tool.ts'
import { makeTestPki, openssl, type TestPki } from '../support/test-pki.ts'
import { TlsBrokerProxy } from '../support/tls-broker-proxy.ts'
import { type Rig, rigs } from './broker-rigs.ts'
import { type DestinationHarness, destinationHarness } from './destination-harness.ts'

const tlsScheme = { amqp: 'amqps:', nats: 'tls:', redis: 'rediss:' } as const

/** Every name resolves to 127.0.0.1 (where the proxy listens): the sending policy checks that. */
const toLoopback = ((_host: string, opts: unknown, cb?: unknown) => {
  const done = (typeof opts === 'function' ? opts : cb) as (
    err: Error | null,
    a: { address: string; family: number }[] | string,
    f?: number,
  ) => void
  const all = typeof opts === 'object' && opts !== null && (opts as { all?: boolean }).all
  if (all) done(null, [{ address: '127.0.0.1', family: 4 }])
  else done(null, '127.0.0.1', 4)
}) as LookupFunction

for (const broker of ['amqp', 'nats', 'redis'] as const) {
  // openssl makes the test CA: skipped without it, except under CI=true (then it fails).
  await describeWithBroker(broker, `${broker} destination over TLS`, () =>
    describe.skipIf(skipWithout(openssl))('behind a TLS proxy with a test CA', () => {
      let rig: Rig
      let pki: TestPki
      let proxy: TlsBrokerProxy
      let h: DestinationHarness | undefined
      beforeAll(async () => {
        rig = await rigs[broker]()
        pki = makeTestPki()
        proxy = new TlsBrokerProxy({
          target: brokerPorts[broker],
          identity: pki.server,
          nats: broker === 'nats',
        })
        await proxy.start()
      })
      afterAll(async () => {
        await proxy?.stop()
        await rig?.dispose()
        pki?.cleanup()
      })
      afterEach(async () => {
        await h?.close()
        h = undefined
      })

      /** The rig's destination over TLS, named `host`, on the proxy (or another port). */
      const destination = (host: string, port = proxy.port) => {
        const d = rig.destination(port)
        const u = new URL(d['url']!)
        return {
          ...d,
          url: `${tlsScheme[broker]}${d['url']!.slice(u.protocol.length).replace('127.0.0.1', host)}`,
        }
      }
      // The system's roots plus the test CA, as main.ts builds them from HOOKPOST_EXTRA_CA_CERTS.
      const withExtraCa = () => [...rootCertificates, pki.ca]

      const deliverOnce = async (host: string, ca: string[] | undefined, port?: number) => {
        h = await destinationHarness({ ca, lookup: toLoopback, scheduleMs: [60_000] })
        const before = (await rig.received()).length
        const sub = await h.hookpost.subscriptions.create(h.envId, {
          event: 'site.publish',
          destination: destination(host, port) as { type: string; url: string },
          active: true,
        })
        const body = Buffer.from(
          `{"eventName":"site.publish",  "site":{"ref":1.0,"x":"\\u00e9","n":${Math.random()}}}`,
        )
        await h.hookpost.publisher.publish(h.envId, body)
        return { before, sub, body }
      }

      it('delivers over TLS to the checked address, verifying the URL name with the extra CA', async () => {
        const { before, sub, body } = await deliverOnce('localhost', withExtraCa())
        expect(destination('localhost').url.startsWith(tlsScheme[broker])).toBe(true)
        const msg = await eventually(async () => {
          const all = await rig.received()
          expect(all.length).toBe(before + 1)
          return all[before]!
        })
        expect(Buffer.compare(msg.body, body)).toBe(0)
        expect(msg.headers['X-Delivery-Event']).toBe('site.publish')
        expect(msg.headers['content-type']).toBe('application/json')
        const verified = await verifyWebhookDetailed(msg.body, msg.headers, h!.secret)
        expect(verified.id).toBe(msg.headers['webhook-id'])
        await eventually(async () => {
          const d = await h!.hookpost.deliveries.get(h!.envId, msg.headers['webhook-id']!)
          expect(d.delivery).toMatchObject({ status: 'delivered', attempts: 1, subscriptionId: sub.id })
          expect(d.attempts[0]).toMatchObject({ statusCode: null, error: null })
        })
      })

      /** The attempt fails with `code` (its error matching `why`) and nothing reaches the broker. */
      const fails = async (
        o: { host: string; ca: string[] | undefined; port?: number },
        code: string,
        why: RegExp,
      ) => {
        const { host, ca, port } = o
        const { before, sub } = await deliverOnce(host, ca, port)
        const d = await eventually(async () => {
          const [d] = (await h!.hookpost.deliveries.list(h!.envId, { subscriptionId: sub.id })).deliveries
          expect(d?.lastError).toBe(code)
          return d!
        })
        const got = await h!.hookpost.deliveries.get(h!.envId, d.id)
        expect(got.attempts[0]).toMatchObject({ statusCode: null })
        expect(got.attempts[0]!.error).toMatch(new RegExp(`^${code}: `))
        expect(got.attempts[0]!.error).toMatch(why)
        // Nothing reached the broker.
        expect((await rig.received()).length).toBe(before)
        return got.attempts[0]!
      }

      it('refuses a certificate that does not cover the URL name (tls_failure, nothing published)', async () => {
        await fails({ host: 'wrong-name.test', ca: withExtraCa() }, 'tls_failure', /altnames/)
      })

      it('refuses a certificate from a CA not given in HOOKPOST_EXTRA_CA_CERTS (tls_failure)', async () => {
        await fails({ host: 'localhost', ca: undefined }, 'tls_failure', /UNABLE_TO_VERIFY_LEAF_SIGNATURE/)
      })

      it('never falls back to plain TCP: a TLS URL to the plain broker port fails at once (tls_failure)', async () => {
        // AMQP answers a ClientHello with its protocol header, NATS with an INFO that offers no
        // TLS; Redis reads it as a command that never ends and stays silent until it is asked.
        const plain = { host: 'localhost', ca: withExtraCa(), port: brokerPorts[broker] }
        const attempt = await fails(plain, 'tls_failure', /localhost:\d+ does not speak TLS .*plain port/)
        // Told by the broker's answer, not by the connect deadline running out.
        expect(attempt.durationMs).toBeLessThan(h!.connectTimeoutMs)
      })
    }),
  )
}
