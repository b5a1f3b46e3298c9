// The core, a store, a worker and the real DestinationSender (HTTP sender + the three broker
// types), with the sending policy applied at connect time: loopback allowed unless a test
// passes its own allowedCidrs.
import type { LookupFunction } from 'node:net'
import { DeliveryWorker } from '../../src/deliveries/worker.ts'
import { BrokerPublisher } from '../../src/destinations/broker-publisher.ts'
import { destinationCheck, destinationTypeInfo } from '../../src/destinations/check-destination.ts'
import { DestinationSender } from '../../src/destinations/destination-sender.ts'
import { brokerDestinationTypes } from '../../src/destinations/registry.ts'
import { createHookpost, type Hookpost } from '../../src/hookpost.ts'
import { checkUrl, compileAddressPolicy } from '../../src/network/address-policy.ts'
import { HttpSender } from '../../src/outbound/http-sender.ts'
import { generateMasterKey, parseMasterKey, SecretBox } from '../../src/secrets/secret-box.ts'
import { SigningKeyring } from '../../src/secrets/signing-keyring.ts'
import { silentLogger } from '../../src/shared/logger.ts'
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.ts'
import type { Store } from '../../src/store/store.ts'
import { destinationAssociatedData } from '../../src/subscriptions/destination.ts'

export interface DestinationHarness {
  hookpost: Hookpost
  store: Store
  box: SecretBox
  sender: DestinationSender
  /** The broker side of the sender (its connection pools). */
  brokers: BrokerPublisher
  worker: DeliveryWorker
  envId: string
  secret: string
  /** The broker connect deadline the sender was given. */
  connectTimeoutMs: number
  close(): Promise<void>
}

export async function destinationHarness(
  opts: {
    allowedCidrs?: string[]
    scheduleMs?: number[]
    timeoutMs?: number
    /** The broker connect deadline (default 2000 ms). */
    connectTimeoutMs?: number
    start?: boolean
    /** The CAs broker TLS connections trust (main.ts: the system's plus HOOKPOST_EXTRA_CA_CERTS). */
    ca?: string[]
    /** The resolver the sending policy checks (default dns.lookup). */
    lookup?: LookupFunction
  } = {},
): Promise<DestinationHarness> {
  const store = openSqliteStore(':memory:')
  await store.migrate()
  const box = new SecretBox(parseMasterKey(generateMasterKey()))
  const connectTimeoutMs = opts.connectTimeoutMs ?? 2000
  const retryPolicy = { scheduleMs: opts.scheduleMs ?? [100, 200, 400], jitter: 0, maxRetryAfterMs: 2000 }
  const addressPolicy = compileAddressPolicy({
    allowHttp: true,
    allowedCidrs: opts.allowedCidrs ?? ['127.0.0.0/8', '::1/128'],
  })
  const brokers = new BrokerPublisher(brokerDestinationTypes, {
    policy: addressPolicy,
    connectTimeoutMs,
    ca: opts.ca,
    lookup: opts.lookup,
  })
  const sender = new DestinationSender({
    http: new HttpSender(),
    brokers,
    openUrl: (sealed, envId) => box.open(sealed, destinationAssociatedData(envId)),
  })
  const worker = new DeliveryWorker({
    store,
    sender,
    keyring: new SigningKeyring(store, box),
    policy: retryPolicy,
    requestTimeoutMs: opts.timeoutMs ?? 3000,
    concurrency: 64,
    perSubscription: 8,
    userAgent: 'Hookpost/test',
    log: silentLogger,
    pollIntervalMs: 20,
  })
  // Registration checks the host with a policy that allows loopback, whatever connect time does:
  // the connect-time guard is what the blocked-address tests exercise.
  const registration = compileAddressPolicy({ allowHttp: true, allowedCidrs: ['127.0.0.0/8', '::1/128'] })
  const check = (u: string) => checkUrl(u, registration)
  const hookpost = createHookpost({
    store,
    box,
    checkUrl: check,
    destinations: {
      check: destinationCheck(brokerDestinationTypes, { checkUrl: check, allowPlain: true }),
      types: destinationTypeInfo(brokerDestinationTypes),
    },
    retryPolicy,
    secretGraceMs: 86_400_000,
    onWork: () => worker.wake(),
  })
  const env = await hookpost.environments.create({ name: 'acme' })
  const { secret } = await hookpost.secrets.rotate(env.id)
  if (opts.start !== false) worker.start()
  return {
    hookpost,
    store,
    box,
    sender,
    brokers,
    worker,
    envId: env.id,
    secret,
    connectTimeoutMs,
    async close() {
      await worker.stop(2000)
      await sender.close()
      await store.close()
    },
  }
}
