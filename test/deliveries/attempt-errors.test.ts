// What a failed attempt tells the tenant: that a name resolves to an address that is not
// allowed, never which address (a DNS oracle into the operator's network otherwise). The
// address goes to the server log only.
import type { LookupFunction } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import type { AttemptReport } from '../../src/deliveries/worker.ts'
import { eventTypes } from '../../src/events/event-types.ts'
import { compileAddressPolicy } from '../../src/network/address-policy.ts'
import { attemptLogger } from '../../src/observability/attempt-log.ts'
import { createGuardedConnector } from '../../src/outbound/guarded-connector.ts'
import { describeSendError, HttpSender } from '../../src/outbound/http-sender.ts'
import type { Logger } from '../../src/shared/logger.ts'
import { eventually } from '../support/eventually.ts'
import { freePort } from '../support/service-process.ts'
import { type WorkerHarness, workerHarness } from '../support/worker-harness.ts'

const internal = '10.20.30.40'
const lookup: LookupFunction = (_h, options, cb) =>
  options.all ? cb(null, [{ address: internal, family: 4 }]) : cb(null, internal, 4)
const example = Buffer.from(JSON.stringify(eventTypes.find((t) => t.name === 'site.publish')!.example))

function capturingLogger(lines: string[]): Logger {
  const log: Logger = {
    error: (o, m) => lines.push(JSON.stringify({ ...o, m })),
    warn: (o, m) => lines.push(JSON.stringify({ ...o, m })),
    info: (o, m) => lines.push(JSON.stringify({ ...o, m })),
    debug: (o, m) => lines.push(JSON.stringify({ ...o, m })),
    child: () => log,
  }
  return log
}

describe('attempt errors', () => {
  let h: WorkerHarness | undefined
  afterEach(async () => {
    await h?.close()
    h = undefined
  })

  async function attemptTo(
    url: string,
    policy: { allowHttp: boolean; allowedCidrs: string[] },
    resolve: LookupFunction = lookup,
  ): Promise<{ tenantSees: string; serverLog: string }> {
    const reports: AttemptReport[] = []
    const lines: string[] = []
    const logAttempt = attemptLogger(capturingLogger(lines))
    const sender = new HttpSender({
      connect: createGuardedConnector(compileAddressPolicy(policy), { lookup: resolve }),
    })
    h = await workerHarness({
      scheduleMs: [60_000],
      worker: {
        sender,
        onAttempt: (a) => {
          reports.push(a)
          logAttempt(a)
        },
      },
    })
    await h.hookpost.subscriptions.create(h.envId, { event: 'site.publish', url, active: true })
    await h.hookpost.publisher.publish(h.envId, example)
    await eventually(() => expect(reports).toHaveLength(1))
    const [delivery] = await h.store.deliveries.list(h.envId, { limit: 10 })
    // What the consumer API shows: the delivery and its attempt log.
    const shown = await eventually(async () => {
      const d = await h!.hookpost.deliveries.get(h!.envId, delivery!.id)
      expect(d.attempts).toHaveLength(1)
      return d
    })
    return { tenantSees: JSON.stringify(shown), serverLog: lines.join('\n') }
  }

  it('names the host but not the internal address it resolves to; the server log has the address', async () => {
    const { tenantSees, serverLog } = await attemptTo('http://intranet.example/hook', {
      allowHttp: true,
      allowedCidrs: [],
    })
    expect(tenantSees).toContain('blocked_address')
    expect(tenantSees).toContain('intranet.example')
    expect(tenantSees).toContain('not public')
    expect(tenantSees).not.toContain(internal)
    expect(tenantSees).not.toContain('private')
    expect(serverLog).toContain(internal)
  })

  it('keeps the resolved address out of connection errors too (an exempted range, nothing listening)', async () => {
    const port = await freePort()
    const loopback: LookupFunction = (_h, options, cb) =>
      options.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4)
    const { tenantSees, serverLog } = await attemptTo(
      `http://closed.example:${port}/hook`,
      { allowHttp: true, allowedCidrs: ['127.0.0.0/8'] },
      loopback,
    )
    expect(tenantSees).toContain('connection_refused')
    expect(tenantSees).not.toContain('127.0.0.1')
    expect(serverLog).toContain('127.0.0.1')
  })

  it('withholds addresses a message names without saying so (undici lists the ones it attempted)', () => {
    const e = new Error('Connect Timeout Error (attempted addresses: 10.0.0.5:443, [fd00::1]:443, ::1:443)')
    const d = describeSendError(e)
    expect(d.message).toContain('Connect Timeout Error')
    for (const a of ['10.0.0.5', 'fd00::1', '::1']) expect(d.message).not.toContain(a)
    expect(d.detail).toBe(e.message)
    expect(describeSendError(new Error('getaddrinfo ENOTFOUND nowhere.example'))).toEqual({
      message: 'getaddrinfo ENOTFOUND nowhere.example',
    })
  })
})
