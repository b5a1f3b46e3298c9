// Which connection error codes are a TLS failure (a certificate that does not verify, a name it
// does not cover, a peer that does not speak TLS): one list for HTTP endpoints and brokers, so
// both record `tls_failure` for the same causes.
const tlsCodes = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
])

/** True for a Node/OpenSSL error code that says the TLS handshake or verification failed. */
export function isTlsFailure(code: string): boolean {
  return tlsCodes.has(code) || code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL')
}

/** The code of plainPortError: a client found out another way that the port does not speak TLS. */
const plainPortCode = 'ERR_TLS_PLAIN_PORT'

// The peer answered the ClientHello, but not in TLS: OpenSSL read its first bytes (an AMQP
// header, a RESP error, an HTTP status line) as a record header it cannot accept.
const plainPortCodes = new Set([
  plainPortCode,
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_SSL_PACKET_LENGTH_TOO_LONG',
  'ERR_SSL_UNKNOWN_PROTOCOL',
])

/** True when the TLS failure says the port does not speak TLS at all (a plain port). */
export function isPlainPort(code: string): boolean {
  return plainPortCodes.has(code)
}

/**
 * The error a client raises when it learns by other means that the port does not speak TLS
 * (NATS: an INFO without TLS; Redis: silence, then a plain answer): classified like OpenSSL's.
 */
export function plainPortError(evidence: string): Error & { code: string } {
  return Object.assign(new Error(evidence), { code: plainPortCode })
}
