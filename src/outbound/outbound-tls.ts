// The TLS trust and egress settings every delivery connection shares: the system's CAs plus
// HOOKPOST_EXTRA_CA_CERTS (also when a subscription presents its own client certificate), and
// HOOKPOST_EGRESS_PROXY. Built once in the main thread and handed to the sender's thread as data.
import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { rootCertificates } from 'node:tls'
import { HttpSender } from './http-sender.ts'
import type { SendingConnectorOptions, SendingPolicy } from './sending-policy.ts'

/** Plain data (it crosses into the sender thread): connector options for createSendingPolicy. */
export type OutboundEgress = Pick<SendingConnectorOptions, 'egressProxy'> & { tls?: { ca?: string[] } }

/**
 * extraCaPem: the contents of HOOKPOST_EXTRA_CA_CERTS. Node's `ca` replaces the system's roots,
 * so they are listed first and the extra ones after.
 */
export function outboundEgress(opts: {
  extraCaPem?: string | undefined
  egressProxy?: string | undefined
}): OutboundEgress {
  return {
    ...(opts.egressProxy ? { egressProxy: opts.egressProxy } : {}),
    ...(opts.extraCaPem ? { tls: { ca: [...rootCertificates, opts.extraCaPem] } } : {}),
  }
}

/** The delivery sender over a sending policy: its connector, client certificates, the proxy route. */
export function outboundSender(policy: SendingPolicy, connectionsPerOrigin: number): HttpSender {
  return new HttpSender({
    connect: policy.connect,
    connectionsPerOrigin,
    connectWith: policy.connectWith,
    egressRoute: policy.egressRoute,
  })
}

/** Reads HOOKPOST_EXTRA_CA_CERTS: a PEM file of at least one certificate, or a startup error. */
export function readExtraCaCerts(path: string): string {
  let pem: string
  try {
    pem = readFileSync(path, 'utf8')
  } catch (e) {
    throw new Error(
      `HOOKPOST_EXTRA_CA_CERTS: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? e})`,
    )
  }
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []
  if (blocks.length === 0) throw new Error(`HOOKPOST_EXTRA_CA_CERTS: ${path} holds no PEM certificate`)
  for (const b of blocks) {
    try {
      new X509Certificate(b)
    } catch {
      throw new Error(`HOOKPOST_EXTRA_CA_CERTS: ${path} holds a certificate that does not parse`)
    }
  }
  return blocks.join('\n')
}
