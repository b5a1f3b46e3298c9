// A throwaway PKI for TLS tests, made with the `openssl` command (node:crypto cannot issue X.509
// certificates): a CA, a server certificate for localhost / 127.0.0.1 and a client certificate
// (clientAuth) signed by it, plus a second CA and a client certificate it signed (not trusted by
// the receivers). Written to a temporary directory, removed by cleanup().
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { onPath } from './external-tool.ts'

export const openssl = onPath('openssl', 'apt-get install openssl')

export interface TestPki {
  dir: string
  caFile: string
  ca: string
  server: { cert: string; key: string }
  client: { cert: string; key: string }
  /** Signed by a CA nobody trusts. */
  stranger: { cert: string; key: string }
  cleanup(): void
}

export function makeTestPki(): TestPki {
  if (!openssl.path) throw new Error(openssl.missing)
  const dir = mkdtempSync(join(tmpdir(), 'hookpost-pki-'))
  const run = (...args: string[]) => execFileSync(openssl.path!, args, { cwd: dir, stdio: 'pipe' })
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes']
  const ca = (name: string) =>
    run(
      'req',
      '-x509',
      ...ec,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
      '-days',
      '3650',
      '-subj',
      `/CN=Hookpost Test ${name}`,
    )
  const leaf = (name: string, issuer: string, cn: string, ext: string) => {
    writeFileSync(join(dir, `${name}.ext`), ext)
    run('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`)
    run(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${issuer}.crt`,
      '-CAkey',
      `${issuer}.key`,
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '3650',
      '-extfile',
      `${name}.ext`,
    )
  }
  ca('ca')
  ca('other-ca')
  leaf(
    'server',
    'ca',
    'localhost',
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n',
  )
  leaf('client', 'ca', 'hookpost-client', 'extendedKeyUsage=clientAuth\n')
  leaf('stranger', 'other-ca', 'stranger', 'extendedKeyUsage=clientAuth\n')
  const read = (f: string) => readFileSync(join(dir, f), 'utf8')
  return {
    dir,
    caFile: join(dir, 'ca.crt'),
    ca: read('ca.crt'),
    server: { cert: read('server.crt'), key: read('server.key') },
    client: { cert: read('client.crt'), key: read('client.key') },
    stranger: { cert: read('stranger.crt'), key: read('stranger.key') },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  }
}
