// The CLI's pure parts, in process: saved-request parsing and verdicts, --since, the progress
// bar, API error formatting, events files for publish --file.
import { describe, expect, it } from 'vitest'
import { errorOf } from '../../src/cli/api-client.ts'
import { batchBodies, payloadsOf } from '../../src/cli/commands/publish.ts'
import { parseSince, progressBar } from '../../src/cli/commands/replay.ts'
import { parseHeaders, verifySaved } from '../../src/cli/commands/verify.ts'
import { generateSigningSecret, signDelivery, signingKey } from '../../src/signing/signature.ts'

describe('hookpost verify', () => {
  const secret = generateSigningSecret()
  const body = Buffer.from('{"eventName":"site.publish","site":{"ref":1}}')
  const signedAt = 1_764_331_200
  const headers = (): Record<string, string> => ({
    'content-type': 'application/json',
    ...signDelivery([signingKey(secret)], 'dlv_abc', signedAt, body, 'hex'),
    'x-delivery-event': 'site.publish',
  })

  it('reads headers as a JSON object or as raw Name: value lines (request line skipped)', () => {
    expect(parseHeaders('{"Webhook-Id":"dlv_1","X-A":["1","2"]}')).toEqual({
      'webhook-id': 'dlv_1',
      'x-a': ['1', '2'],
    })
    expect(parseHeaders('POST /hook HTTP/1.1\r\nWebhook-Id: dlv_1\r\nX-A: 1\r\nX-A: 2\r\n\r\n')).toEqual({
      'webhook-id': 'dlv_1',
      'x-a': ['1', '2'],
    })
    expect(() => parseHeaders('no colon here')).toThrow(/not a header line/)
    expect(() => parseHeaders('{"broken"')).toThrow(/does not parse/)
  })

  it('judges an old saved request by its own timestamp with --tolerance 0 or --ignore-timestamp', async () => {
    const now = (signedAt + 86_400) * 1000
    const strict = await verifySaved({
      body,
      headers: headers(),
      secrets: [secret],
      schemes: ['basekit', 'standard'],
      toleranceSeconds: 300,
      ignoreTimestamp: false,
      now,
    })
    expect(strict.ok).toBe(false)
    expect(strict.lines).toContain('X-Delivery-Hmac-SHA256: ok')
    expect(strict.lines.join('\n')).toMatch(
      /webhook-signature \(Standard Webhooks\): FAILED timestamp_too_old/,
    )
    for (const opts of [
      { toleranceSeconds: 0, ignoreTimestamp: false },
      { toleranceSeconds: 300, ignoreTimestamp: true },
    ]) {
      const lenient = await verifySaved({
        body,
        headers: headers(),
        secrets: [secret],
        schemes: ['standard'],
        now,
        ...opts,
      })
      expect(lenient.ok).toBe(true)
      expect(lenient.lines).toContain(
        'webhook-signature (Standard Webhooks): ok (signed 86400 s ago; timestamp not checked)',
      )
      expect(lenient.lines.at(-1)).toBe('verdict: accepted')
    }
  })

  it('refuses a wrong secret and a missing header, scheme by scheme', async () => {
    const h = headers()
    delete h['x-delivery-hmac-sha256']
    const r = await verifySaved({
      body,
      headers: h,
      secrets: [generateSigningSecret()],
      schemes: ['basekit', 'standard'],
      toleranceSeconds: 0,
      ignoreTimestamp: false,
      now: signedAt * 1000,
    })
    expect(r.ok).toBe(false)
    expect(r.lines[0]).toBe('delivery dlv_abc site.publish')
    expect(r.lines[1]).toMatch(/^X-Delivery-Hmac-SHA256: FAILED missing_signature/)
    expect(r.lines[2]).toMatch(/^webhook-signature \(Standard Webhooks\): FAILED bad_signature/)
    expect(r.lines.at(-1)).toBe('verdict: REFUSED')
  })
})

describe('hookpost replay helpers', () => {
  const now = Date.parse('2026-05-01T12:00:00Z')
  it('takes --since as ISO-8601 or a duration before now', () => {
    expect(parseSince('2h', now, '--since')).toBe('2026-05-01T10:00:00.000Z')
    expect(parseSince('30m', now, '--since')).toBe('2026-05-01T11:30:00.000Z')
    expect(parseSince('2026-04-30T08:00:00+02:00', now, '--since')).toBe('2026-04-30T06:00:00.000Z')
    expect(() => parseSince('yesterday', now, '--since')).toThrow(/ISO-8601 .* or a duration/)
  })
  it('draws a progress bar', () => {
    expect(progressBar(0, 4, 8)).toBe('[--------]   0% 0/4')
    expect(progressBar(1, 4, 8)).toBe('[##------]  25% 1/4')
    expect(progressBar(0, 0, 8)).toBe('[########] 100% 0/0')
  })
})

describe('the API client', () => {
  it('turns an error body into code: message, details included', () => {
    const e = errorOf(
      400,
      {
        error: { code: 'invalid_request', message: 'Bad.', details: [{ path: '/url', message: 'missing' }] },
      },
      '',
    )
    expect(e.message).toBe('invalid_request: Bad.\n  /url: missing')
    expect(errorOf(502, undefined, 'Bad Gateway').message).toBe('http_502: Bad Gateway')
  })
})

describe('hookpost publish --file', () => {
  it('takes each payload of an NDJSON file or a JSON array as its exact bytes', () => {
    const a = '{ "eventName":"site.publish", "site": {"ref": 1.0} }'
    const b = '{"eventName":"site.publish","site":{"ref":2},"t":"\\u00e9 é \\n ]"}'
    const asText = (bs: Buffer[]) => bs.map((x) => x.toString('utf8'))
    expect(asText(payloadsOf(Buffer.from(`${a}\r\n\n  ${b}  \n`)))).toEqual([a, b])
    expect(asText(payloadsOf(Buffer.from(`\uFEFF[ ${a} ,\n${b}]`)))).toEqual([a, b])
    expect(() => payloadsOf(Buffer.from(`${a}\n{"eventName": 1}, {"x": 2}`))).toThrow(/line 2/)
    expect(() => payloadsOf(Buffer.from(`[${a},]`))).toThrow(/not a JSON array/)
  })

  it('sends at most 1000 events per batch, with numbered idempotency keys', () => {
    const payloads = Array.from({ length: 2500 }, (_, i) =>
      Buffer.from(`{"eventName":"site.publish","n":${i}}`),
    )
    const bodies = batchBodies(payloads, { idempotencyKey: 'import-7', orderingKey: 'o' })
    expect(bodies.map((b) => b.first)).toEqual([0, 1000, 2000])
    const items = bodies.flatMap((b) => JSON.parse(b.body.toString('utf8')).events)
    expect(items).toHaveLength(2500)
    expect(items[1234]).toEqual({
      payload: { eventName: 'site.publish', n: 1234 },
      idempotencyKey: 'import-7:1235',
      orderingKey: 'o',
    })
  })
})
