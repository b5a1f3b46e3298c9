// The worker thread behind ThreadedSender: an HttpSender under the same sending policy (the
// SSRF guard, never our own API) as the main thread would use, and the broker destinations'
// publisher under the same address policy and trust, answering in batches.
import { parentPort, workerData } from 'node:worker_threads'
import { BrokerPublisher } from '../destinations/broker-publisher.ts'
import { brokerDestinationTypes } from '../destinations/registry.ts'
import { compileAddressPolicy } from '../network/address-policy.ts'
import type { HttpSender } from './http-sender.ts'
import { outboundSender } from './outbound-tls.ts'
import { createSendingPolicy } from './sending-policy.ts'
import { batchSize, type FromThread, type SenderThreadConfig, type ToThread } from './threaded-sender.ts'

const port = parentPort
if (!port) throw new Error('sender-thread runs as a worker thread')
const config = workerData as SenderThreadConfig
const policy = createSendingPolicy(config.policy, config.ownApi, config.egress)
const sender: HttpSender = outboundSender(policy, config.connectionsPerOrigin)
const brokers = new BrokerPublisher(brokerDestinationTypes, {
  policy: compileAddressPolicy(config.policy),
  connectTimeoutMs: config.brokerConnectTimeoutMs,
  ca: config.egress?.tls?.ca,
})

let answers: Extract<FromThread, { t: 'done' }>['batch'] = []
let scheduled = false
function answer(a: (typeof answers)[number]): void {
  answers.push(a)
  // A full batch goes at once (batchSize: the main thread starts on it while confirms go on
  // arriving here); the rest at the end of this turn.
  if (answers.length >= batchSize) postAnswers()
  else if (!scheduled) {
    scheduled = true
    setImmediate(() => {
      scheduled = false
      postAnswers()
    })
  }
}
function postAnswers(): void {
  if (answers.length === 0) return
  const batch = answers
  answers = []
  port!.postMessage({ t: 'done', batch } satisfies FromThread)
}

port.on('message', (m: ToThread) => {
  if (m.t === 'send') {
    for (const r of m.batch) {
      const body = Buffer.from(r.body.buffer, r.body.byteOffset, r.body.byteLength)
      const sent = r.broker
        ? brokers.publish({ ...r.broker, body, headers: r.headers, timeoutMs: r.timeoutMs })
        : sender.send({
            url: r.url,
            headers: r.headers,
            body,
            timeoutMs: r.timeoutMs,
            ...(r.clientIdentity ? { clientIdentity: r.clientIdentity } : {}),
          })
      void sent.then((outcome) => answer({ id: r.id, outcome }))
    }
  } else if (m.t === 'port') policy.setOwnPort(m.port)
  else if (m.t === 'close') {
    void Promise.all([sender.close(), brokers.close()]).finally(() =>
      port.postMessage({ t: 'closed' } satisfies FromThread),
    )
  }
})

port.postMessage({ t: 'ready' } satisfies FromThread)
