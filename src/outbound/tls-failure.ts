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
