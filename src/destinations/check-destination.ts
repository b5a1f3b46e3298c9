// Registration-time checks of a broker destination, from its type's description: the scheme
// (plain ones only with HOOKPOST_ALLOW_HTTP, like http://), the host through the same sending
// policy as an HTTP URL (literal addresses, loopback and internal names), and each field.
// Connect time checks the resolved address again (broker-address.ts): that is the real control.

import type {
  DestinationCheck,
  DestinationTypeInfo,
  DestinationVerdict,
} from '../subscriptions/destination.ts'
import type { UrlCheck } from '../subscriptions/subscriptions.ts'
import type { BrokerDestinationType } from './destination-type.ts'

const maxUrlLength = 2048

export function destinationCheck(
  types: readonly BrokerDestinationType[],
  policy: { checkUrl: UrlCheck; allowPlain: boolean },
): DestinationCheck {
  const byType = new Map(types.map((t) => [t.type, t]))
  return (input): DestinationVerdict => {
    const no = (
      path: string,
      reason: string,
      code: 'invalid_destination' | 'invalid_url' | 'url_not_allowed' = 'invalid_destination',
    ) => ({ ok: false, code, path, reason }) as const
    const t = byType.get(input.type)
    if (!t)
      return no(
        '/destination/type',
        `unknown destination type ${JSON.stringify(input.type)}; one of http, ${[...byType.keys()].join(', ')}`,
      )
    if (typeof input.url !== 'string' || input.url.length === 0)
      return no('/destination/url', 'the URL is missing')
    if (input.url.length > maxUrlLength)
      return no('/destination/url', `the URL is longer than ${maxUrlLength} characters`, 'invalid_url')
    let url: URL
    try {
      url = new URL(input.url)
    } catch {
      return no('/destination/url', 'the URL does not parse as an absolute URL', 'invalid_url')
    }
    const schemes = [...t.schemes.plain, ...t.schemes.tls]
    if (!schemes.includes(url.protocol))
      return no(
        '/destination/url',
        `a ${t.type} URL starts with ${schemes.map((s) => `${s}//`).join(' or ')}`,
        'invalid_url',
      )
    if (t.schemes.plain.includes(url.protocol) && !policy.allowPlain)
      return no(
        '/destination/url',
        `plain ${url.protocol}// is not allowed (HOOKPOST_ALLOW_HTTP); use ${t.schemes.tls[0]}//`,
        'url_not_allowed',
      )
    if (url.hostname === '') return no('/destination/url', 'the URL has no host', 'invalid_url')
    if (url.hash !== '') return no('/destination/url', 'a broker URL has no #fragment', 'invalid_url')
    const pathProblem = t.checkUrl?.(url)
    if (pathProblem) return no('/destination/url', pathProblem, 'invalid_url')
    // The host goes through the HTTP URL policy: same address ranges, names and port rules.
    const probe = policy.checkUrl(`https://${url.host}/`)
    if (!probe.ok) return no('/destination/url', probe.reason, probe.code)
    const fields: Record<string, string> = {}
    for (const f of t.fields) {
      const v = input[f.name]
      if (typeof v !== 'string') return no(`/destination/${f.name}`, `${f.name} is required (a string)`)
      if (v.length > f.maxLength || !f.pattern.test(v))
        return no(`/destination/${f.name}`, `${f.name}: ${f.rule}`)
      fields[f.name] = v
    }
    const known = new Set(['type', 'url', ...t.fields.map((f) => f.name)])
    const extra = Object.keys(input).find((k) => !known.has(k))
    if (extra) return no(`/destination/${extra}`, `a ${t.type} destination has no ${extra}`)
    return { ok: true, url: url.href, fields }
  }
}

/** What the API and the portal tell about the types (no patterns, no functions). */
export function destinationTypeInfo(types: readonly BrokerDestinationType[]): DestinationTypeInfo[] {
  return types.map((t) => ({
    type: t.type,
    description: t.description,
    urlExample: t.urlExample,
    fields: t.fields.map((f) => ({ name: f.name, description: f.description, example: f.example })),
  }))
}
