// The composition root: the only module that picks adapters (SQLite or PostgreSQL, the undici
// sender with the SSRF guard) and starts the roles the configuration asks for.

import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import type { Server } from 'node:http'
import { resolve } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import type { FastifyInstance } from 'fastify'
import pino, { type Logger as Pino } from 'pino'
import { auditLog } from './audit/audit-log.ts'
import type { Config } from './config/schema.ts'
import { dashboardSessionKey } from './dashboard/session.ts'
import { KeyFileSecretBox, masterKeyFile, rotateKeyFiles } from './data-dir/master-key-files.ts'
import { defaultJitter, defaultMaxRetryAfterMs, type RetryPolicy } from './deliveries/retry-policy.ts'
import { DeliveryWorker } from './deliveries/worker.ts'
import { BrokerPublisher } from './destinations/broker-publisher.ts'
import { destinationCheck, destinationTypeInfo } from './destinations/check-destination.ts'
import { DestinationSender } from './destinations/destination-sender.ts'
import { brokerDestinationTypes } from './destinations/registry.ts'
import { createHookpost, type Hookpost } from './hookpost.ts'
import { type AddressPolicy, compileAddressPolicy } from './network/address-policy.ts'
import { attemptLogger } from './observability/attempt-log.ts'
import { prettyDestination } from './observability/log-format.ts'
import { Metrics, serveMetrics } from './observability/metrics.ts'
import { instrumentPublisher, loadTracing, tracedSender } from './observability/tracing.ts'
import { Maintenance } from './operations/maintenance.ts'
import { OperatorNotifier } from './operations/operator-notifier.ts'
import { HttpSender } from './outbound/http-sender.ts'
import { outboundEgress, outboundSender, readExtraCaCerts } from './outbound/outbound-tls.ts'
import { createSendingPolicy } from './outbound/sending-policy.ts'
import { ThreadedSender } from './outbound/threaded-sender.ts'
import { RelayHub, relayAwareSender } from './relay/relay-hub.ts'
import { type MasterKeyRotationReport, resealSigningSecrets } from './secrets/master-key-rotation.ts'
import { generateMasterKey, parseMasterKey, SecretBox } from './secrets/secret-box.ts'
import { SigningKeyring } from './secrets/signing-keyring.ts'
import { type Failpoints, noFailpoints } from './shared/failpoints.ts'
import { randomToken } from './shared/ids.ts'
import { generateSigningSecret } from './signing/signature.ts'
import { openSqliteStore, sqlitePathFromUrl } from './store/sqlite/sqlite-store.ts'
import type { Store } from './store/store.ts'
import { destinationAssociatedData } from './subscriptions/destination.ts'
import { EndpointVerifier } from './subscriptions/endpoint-verifier.ts'
import type { UrlCheck } from './subscriptions/subscriptions.ts'
import { QuickJsTransformer } from './transformations/quickjs-transformer.ts'
import { version } from './version.ts'
import { buildWebApp } from './web-app.ts'

export const redactPaths = [
  'req.headers.authorization',
  'req.headers["idempotency-key"]',
  'headers.authorization',
  'secret',
  '*.secret',
  'adminToken',
  'masterKey',
  'masterKeyPrevious',
  'req.headers.cookie',
  'headers.cookie',
  '*.ciphertext',
  // Endpoint authentication (src/subscriptions/endpoint-auth.ts): nothing logs these; if it ever did.
  'password',
  '*.password',
  'token',
  '*.token',
  'clientSecret',
  '*.clientSecret',
  'privateKey',
  '*.privateKey',
  'auth',
  '*.auth',
]

export interface LogDestination {
  /** 1 (stdout, the service's) or 2 (stderr, a one-off command's, whose stdout is its output). */
  fd: 1 | 2
  /** Readable lines (a person at a terminal) instead of JSON lines. */
  pretty: boolean
  /** ANSI colours on the level (pretty only; off under NO_COLOR). */
  color?: boolean
}

export function createLogger(level: string, to: LogDestination = { fd: 1, pretty: false }): Pino {
  const options = {
    level,
    redact: { paths: redactPaths, censor: '[redacted]' },
    base: { service: 'hookpost' },
  }
  if (to.pretty) return pino(options, prettyDestination(to.fd, to.color === true))
  return to.fd === 1 ? pino(options) : pino(options, pino.destination(to.fd))
}

/** Reads a file kept in the data directory, creating it (mode 0600) with make() the first time. */
function dataFile(
  dir: string,
  name: string,
  make: () => string,
): { value: string; path: string; created: boolean } {
  const path = resolve(dir, name)
  if (existsSync(path)) return { value: readFileSync(path, 'utf8').trim(), path, created: false }
  mkdirSync(dir, { recursive: true })
  const value = make()
  writeFileSync(path, `${value}\n`, { mode: 0o600, flag: 'wx' })
  chmodSync(path, 0o600)
  return { value, path, created: true }
}

export async function openStore(config: Config): Promise<Store> {
  if (config.databaseUrl.startsWith('sqlite:')) return openSqliteStore(sqlitePathFromUrl(config.databaseUrl))
  const { openPostgresStore } = await import('./store/postgres/postgres-store.ts')
  return openPostgresStore(config.databaseUrl, config.databasePoolSize)
}

/**
 * HOOKPOST_MASTER_KEY (+ HOOKPOST_MASTER_KEY_PREVIOUS), or else the key files of the data
 * directory, which running processes follow (docs/security.md, master key rotation).
 */
export function openSecretBox(config: Config, log: Pino): SecretBox {
  const previous = config.masterKeyPrevious.map(parseMasterKey)
  if (config.masterKey) return new SecretBox(parseMasterKey(config.masterKey), previous)
  const f = dataFile(config.dataDir, masterKeyFile, generateMasterKey)
  if (f.created)
    log.warn({ path: f.path }, 'generated a master key for signing secrets; back it up with the database')
  return new KeyFileSecretBox(config.dataDir, previous)
}

/**
 * The key of the dashboard's anonymous cookies and operator binding, derived (HKDF) from the
 * current master key, so every API process and every restart agree on it; it follows the key
 * files when they change. (Sessions and portal links themselves live in the store.)
 */
function dashboardKeyOf(box: SecretBox): () => Buffer {
  let derived: { id: string; key: Buffer } | undefined
  return () => {
    const k = box.currentKey()
    if (derived?.id !== k.id) derived = { id: k.id, key: dashboardSessionKey(k.key) }
    return derived.key
  }
}

/**
 * `hookpost secrets rotate-master-key`: with generate, a new key in the data directory first
 * (the old one moves to master.key.previous); then every signing secret sealed again under the
 * current key.
 */
export async function rotateMasterKey(
  config: Config,
  log: Pino,
  opts: { generate: boolean; batchSize?: number },
): Promise<MasterKeyRotationReport & { generated: boolean; previousKeyId?: string | null }> {
  let generated: { previousKeyId: string | null } | undefined
  if (opts.generate) {
    if (config.masterKey) {
      throw new Error(
        '--generate rotates the key files of the data directory, but HOOKPOST_MASTER_KEY is set: deploy the new key there with the old one in HOOKPOST_MASTER_KEY_PREVIOUS, then run this without --generate',
      )
    }
    generated = { previousKeyId: rotateKeyFiles(config.dataDir).previousKeyId }
  }
  const store = await openStore(config)
  try {
    await store.migrate()
    const report = await resealSigningSecrets({
      store,
      box: openSecretBox(config, log),
      audit: auditLog({ store }),
      ...(opts.batchSize !== undefined ? { batchSize: opts.batchSize } : {}),
    })
    return { ...report, generated: generated !== undefined, ...generated }
  } finally {
    await store.close()
  }
}

function operatorSecretOf(config: Config, log: Pino): string {
  if (config.operatorWebhookSecret) return config.operatorWebhookSecret
  const f = dataFile(config.dataDir, 'operator-webhook-secret', generateSigningSecret)
  log.info({ path: f.path }, 'operational events are signed with the secret in this file')
  return f.value
}

function adminTokenOf(config: Config, log: Pino): string {
  if (config.adminToken) return config.adminToken
  const f = dataFile(config.dataDir, 'admin-token', () => `hpa_${randomToken(40)}`)
  log.info(
    { path: f.path },
    f.created ? 'generated the operator token; it is in this file' : 'the operator token is in this file',
  )
  return f.value
}

/** HOOKPOST_FAILPOINT=name[@N]: SIGKILL ourselves the Nth time that point is reached. */
export function failpointsOf(spec: string | undefined): Failpoints {
  if (!spec) return noFailpoints
  const [name, nth] = spec.split('@')
  let left = Number(nth ?? 1)
  return (hit) => {
    if (hit === name && --left === 0) process.kill(process.pid, 'SIGKILL')
  }
}

export function retryPolicyOf(config: Config): RetryPolicy {
  return {
    scheduleMs: config.retryScheduleMs,
    jitter: defaultJitter,
    maxRetryAfterMs: defaultMaxRetryAfterMs,
  }
}

/** The longest per-subscription timeout: HOOKPOST_SUBSCRIPTION_TIMEOUT_MAX, or the request timeout. */
export function subscriptionTimeoutMaxOf(config: Config): number {
  return config.subscriptionTimeoutMaxMs ?? config.requestTimeoutMs
}

export function addressPolicyOf(config: Config): AddressPolicy {
  return { allowHttp: config.allowHttp, allowedCidrs: config.allowedCidrs }
}

/** The registered broker destination types, checked by the same sending policy as URLs. */
function destinationsOf(config: Config, sending: { checkUrl: UrlCheck }) {
  return {
    check: destinationCheck(brokerDestinationTypes, {
      checkUrl: sending.checkUrl,
      allowPlain: config.allowHttp,
    }),
    types: destinationTypeInfo(brokerDestinationTypes),
  }
}

/**
 * Between major collections V8 lets the heap grow up to ~4 times what was live; at thousands of
 * deliveries a second most of that is garbage, and a 1 M-delivery drain peaked at 335 MB RSS.
 * Growing by half: 233 MB at the same throughput, ~5 % more CPU per delivery (`npm run bench --
 * --full --only backlog`). The flag is a heuristic read at every collection. V8 flags are not
 * allowed in NODE_OPTIONS: `node --heap-growing-percent=0 bin/hookpost.js serve` keeps V8's own.
 */
function boundHeapGrowth(): void {
  if (!process.execArgv.some((a) => a.includes('heap-growing-percent')))
    setFlagsFromString('--heap-growing-percent=50')
}

/** The core over the configured store, for one-off operator commands (the CLI). */
export async function openHookpost(
  config: Config,
  log: Pino,
): Promise<{ hookpost: Hookpost; close(): Promise<void> }> {
  const store = await openStore(config)
  await store.migrate()
  const sending = createSendingPolicy(addressPolicyOf(config), { host: config.host, port: config.port })
  const hookpost = createHookpost({
    store,
    box: openSecretBox(config, log),
    checkUrl: sending.checkUrl,
    explainUrl: sending.explainUrl,
    destinations: destinationsOf(config, sending),
    orderingPointers: config.orderingPointers,
    retryPolicy: retryPolicyOf(config),
    maxSubscriptionTimeoutMs: subscriptionTimeoutMaxOf(config),
    secretGraceMs: config.secretGraceMs,
    verifyEndpoints: config.verifyEndpoints,
  })
  return { hookpost, close: () => store.close() }
}

export interface Running {
  hookpost: Hookpost
  app: FastifyInstance | undefined
  worker: DeliveryWorker | undefined
  /** http://host:port when the API listens. */
  url: string | undefined
  close(): Promise<void>
}

export async function start(config: Config, log: Pino = createLogger(config.logLevel)): Promise<Running> {
  boundHeapGrowth()
  const store = await openStore(config)
  await store.migrate()
  const box = openSecretBox(config, log)
  const ownApi = { host: config.host, port: config.port, publicUrl: config.publicUrl }
  const addressPolicy = addressPolicyOf(config)
  const egress = outboundEgress({
    extraCaPem: config.extraCaCerts ? readExtraCaCerts(config.extraCaCerts) : undefined,
    egressProxy: config.egressProxy,
  })
  const sending = createSendingPolicy(addressPolicy, ownApi, egress)
  const policy = retryPolicyOf(config)
  const failpoints = failpointsOf(config.failpoint)
  const userAgent = `Hookpost/${version}`
  const metrics = new Metrics({ backlog: (now) => store.deliveries.backlog(now) })
  const tracing = await loadTracing({ enabled: config.otel, log, version })

  let worker: DeliveryWorker | undefined
  let maintenance: Maintenance | undefined
  const brokerConnect = {
    policy: compileAddressPolicy(addressPolicy),
    connectTimeoutMs: Math.min(10_000, config.requestTimeoutMs),
    // The same trust as HTTP endpoints: the system's CAs plus HOOKPOST_EXTRA_CA_CERTS.
    ca: egress.tls?.ca,
  }
  // Relay URLs of `hookpost listen` go through their own connector (src/outbound/sending-policy.ts);
  // the others, and broker messages, from a thread of their own unless HOOKPOST_SEND_THREAD=false.
  const direct =
    config.sendThread && config.role !== 'api'
      ? new ThreadedSender({
          policy: addressPolicy,
          ownApi,
          connectionsPerOrigin: config.perSubscriptionConcurrency,
          egress,
          brokerConnectTimeoutMs: brokerConnect.connectTimeoutMs,
        })
      : undefined
  const sender = tracedSender(
    relayAwareSender(
      direct ?? outboundSender(sending, config.perSubscriptionConcurrency),
      new HttpSender({
        connect: sending.relayConnect,
        connectionsPerOrigin: config.perSubscriptionConcurrency,
      }),
      sending.isRelayUrl,
    ),
    tracing,
  )
  // Deliveries go to their subscription's destination type: HTTP through the sender above,
  // brokers through their own pooled connections (src/destinations/), in the sending thread
  // when there is one.
  const delivering = new DestinationSender({
    http: sender,
    brokers: direct ?? new BrokerPublisher(brokerDestinationTypes, brokerConnect),
    openUrl: (sealed, envId) => box.open(sealed, destinationAssociatedData(envId)),
  })
  const logAttempt = attemptLogger(log.child({ component: 'worker' }))
  // Loaded on first use: a node whose subscriptions have no transformation never instantiates it.
  const transformer = new QuickJsTransformer({
    timeoutMs: config.transformTimeoutMs,
    memoryBytes: config.transformMemoryBytes,
  })
  const keyring = new SigningKeyring(store, box)
  if (config.role !== 'api') {
    worker = new DeliveryWorker({
      store,
      sender: delivering,
      keyring,
      box,
      policy,
      requestTimeoutMs: config.requestTimeoutMs,
      maxTimeoutMs: subscriptionTimeoutMaxOf(config),
      concurrency: config.workerConcurrency,
      perSubscription: config.perSubscriptionConcurrency,
      perBrokerSubscription: config.brokerSubscriptionConcurrency,
      userAgent,
      log: log.child({ component: 'worker' }),
      failpoints,
      disableAfterMs: config.disableAfterMs,
      transformer,
      checkUrl: sending.checkUrl,
      maxTransformedBytes: config.eventBodyLimitBytes,
      onAttempt: (a) => {
        metrics.onAttempt(a)
        logAttempt(a)
      },
    })
    maintenance = new Maintenance({
      store,
      log: log.child({ component: 'maintenance' }),
      retentionMs: config.retentionMs,
      replayAttempts: policy.scheduleMs.length + 1,
      notifier: config.operatorWebhookUrl
        ? new OperatorNotifier({
            store,
            sender,
            url: config.operatorWebhookUrl,
            secret: operatorSecretOf(config, log),
            userAgent,
            timeoutMs: config.requestTimeoutMs,
            log: log.child({ component: 'operator-webhook' }),
          })
        : undefined,
      verifier: new EndpointVerifier({
        store,
        sender,
        keyring,
        box,
        userAgent,
        timeoutMs: config.requestTimeoutMs,
        log: log.child({ component: 'endpoint-verifier' }),
      }),
    })
  }
  const core = createHookpost({
    store,
    box,
    checkUrl: sending.checkUrl,
    explainUrl: sending.explainUrl,
    destinations: destinationsOf(config, sending),
    orderingPointers: config.orderingPointers,
    retryPolicy: policy,
    maxSubscriptionTimeoutMs: subscriptionTimeoutMaxOf(config),
    secretGraceMs: config.secretGraceMs,
    transformer,
    maxTransformedBytes: config.eventBodyLimitBytes,
    verifyEndpoints: config.verifyEndpoints,
    onVerify: () => maintenance?.wakeVerifier(),
    onWork: () => {
      worker?.wake()
      maintenance?.wake()
    },
    // API and worker in one process: what a publish commits goes to the worker leased, no claim.
    ...(config.role === 'all' && worker
      ? {
          handOff: () => worker?.handOff(),
          onSubscriptionChanged: (id: string) => worker?.subscriptionChanged(id),
        }
      : {}),
    failpoints,
  })
  const hookpost: Hookpost = {
    ...core,
    publisher: instrumentPublisher(core.publisher, { tracing, onPublished: metrics.onPublished }),
  }

  let app: FastifyInstance | undefined
  let url: string | undefined
  let metricsServer: Server | undefined
  if (config.role !== 'worker') {
    app = await buildWebApp({
      hookpost,
      adminToken: adminTokenOf(config, log),
      version,
      eventBodyLimit: config.eventBodyLimitBytes,
      batchBodyLimit: config.batchBodyLimitBytes,
      connections: {
        receiveTimeoutMs: config.receiveTimeoutMs,
        maxPerAddress: config.maxConnectionsPerAddress,
      },
      logger: log,
      sessionKey: dashboardKeyOf(box),
      dashboard: { listCredentials: (envId) => hookpost.environments.listCredentials(envId) },
      rateLimit: {
        perCredential: config.rateLimitPerCredential,
        perEnvironment: config.rateLimitPerEnvironment,
      },
      metrics: {
        contentType: metrics.contentType,
        render: () => metrics.render(),
        token: config.metricsToken,
      },
      relay: {
        hub: new RelayHub({ deadlineMs: Math.max(1000, config.requestTimeoutMs - 1000) }),
        publicOrigin: sending.publicOrigin,
      },
    })
    await app.listen({ host: config.host, port: config.port })
    const addr = app.server.address()
    const port = typeof addr === 'object' && addr ? addr.port : config.port
    sending.setOwnPort(port)
    direct?.setOwnPort(port)
    const host = config.host.includes(':') ? `[${config.host}]` : config.host
    url = `http://${host}:${port}`
    log.info(
      { url, role: config.role, database: config.databaseUrl.replace(/\/\/[^@]*@/, '//…@') },
      'hookpost is listening',
    )
  }
  if (config.metricsPort !== undefined) {
    metricsServer = await serveMetrics(metrics, {
      host: config.host,
      port: config.metricsPort,
      token: config.metricsToken,
    })
    log.info({ port: config.metricsPort }, 'metrics listening on their own port')
  }
  // Another node's publish or retry wakes this worker at once (PostgreSQL); else it polls.
  const unlisten = worker ? await store.work.listen(() => worker?.wake()) : undefined
  // The sender's thread loads before the first claim, so that a claim's attempts start at once.
  if (worker && direct)
    await Promise.race([direct.start(), new Promise((r) => setTimeout(r, 10_000).unref())])
  worker?.start()
  maintenance?.start()
  if (worker) log.info({ role: config.role }, 'delivery worker started')

  let closing: Promise<void> | undefined
  return {
    hookpost,
    app,
    worker,
    url,
    close() {
      closing ??= (async () => {
        await app?.close()
        if (metricsServer) await new Promise((r) => metricsServer?.close(r))
        await unlisten?.()
        await hookpost.feed.close()
        await maintenance?.stop()
        await worker?.stop(config.shutdownGraceMs)
        // After the attempts in flight: broker connections close once their publishes answered.
        await delivering.close()
        transformer.close()
        await store.close()
      })()
      return closing
    },
  }
}
