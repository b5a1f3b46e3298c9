// S12 of reliability.md 7.3: secrets at rest and in logs. The real service runs the whole flow
// at debug level; then its output and every file of its data directory (the database, -wal,
// -shm) are searched for every secret it handled: none may appear in clear. Beside it, the
// unit facts this rests on: a fresh nonce per seal, the environment bound in as associated
// data, and the logger's redaction.
import { randomBytes } from 'node:crypto'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import BetterSqlite3 from 'better-sqlite3'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventTypes } from '../../src/events/event-types.ts'
import { redactPaths } from '../../src/main.ts'
import { generateMasterKey, parseMasterKey, SecretBox } from '../../src/secrets/secret-box.ts'
import {
  keyPairAssociatedData,
  SigningKeyring,
  secretAssociatedData,
} from '../../src/secrets/signing-keyring.ts'
import { appHarness } from '../support/app-harness.ts'
import { basic } from '../support/basic-auth.ts'
import { eventually } from '../support/eventually.ts'
import { standardHeadersValid } from '../support/independent-verify.ts'
import { TestReceiver } from '../support/receiver.ts'
import { client, type ServiceProcess, startService } from '../support/service-process.ts'

/** Every encoding a secret could leak in: as given, its base64 body, the raw bytes as hex. */
function forms(secret: string): string[] {
  const out = [secret]
  const m = /^whsec_(.+)$/.exec(secret)
  if (m) {
    out.push(m[1]!)
    out.push(Buffer.from(m[1]!, 'base64').toString('hex'))
    out.push(Buffer.from(m[1]!, 'base64').toString('base64url'))
  }
  const hps = /^hps_(.+)$/.exec(secret)
  if (hps) out.push(hps[1]!)
  return out
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f)
    return statSync(p).isDirectory() ? filesUnder(p) : [p]
  })
}

describe('S12: no secret in clear in the database files or the logs (real service)', () => {
  let svc: ServiceProcess
  let rx: TestReceiver
  const adminToken = `hpa_${randomBytes(24).toString('hex')}`
  const known: { label: string; value: string; raw?: Buffer }[] = []
  const snapshots: { name: string; bytes: Buffer }[] = []
  let masterKey = ''
  const publicKeys: string[] = []
  const ed25519PublicKeys: string[] = []

  beforeAll(async () => {
    rx = await new TestReceiver().start()
    let calls = 0
    // A failure first, so that attempts (with their request headers) are recorded and retried.
    rx.respond = () => (++calls % 3 === 1 ? { status: 500, body: 'try again' } : { status: 200, body: 'ok' })
    svc = await startService({
      HOOKPOST_ALLOW_HTTP: 'true',
      HOOKPOST_ALLOWED_CIDRS: '127.0.0.0/8',
      HOOKPOST_LOG_LEVEL: 'debug',
      HOOKPOST_ADMIN_TOKEN: adminToken,
      HOOKPOST_RETRY_SCHEDULE: '100ms,200ms',
    })
    known.push({ label: 'admin token', value: adminToken })
    const admin = client(svc.url, `Bearer ${adminToken}`)
    const body = JSON.stringify(eventTypes.find((t) => t.name === 'site.publish')!.example)
    for (const name of ['alpha', 'beta']) {
      const env = (await admin('POST', '/admin/environments', { name })).json.environment
      const cred = async (role: string) => {
        const c = (await admin('POST', `/admin/environments/${env.id}/credentials`, { role, name: role }))
          .json.credential
        known.push({ label: `${role} credential secret`, value: c.secret })
        publicKeys.push(c.key)
        return c
      }
      const c = await cred('consumer')
      const p = await cred('publisher')
      const revoked = await cred('consumer')
      expect((await admin('DELETE', `/admin/environments/${env.id}/credentials/${revoked.id}`)).status).toBe(
        204,
      )
      const consumer = client(svc.url, basic(c.key, c.secret))
      const publisher = client(svc.url, basic(p.key, p.secret))
      // Wrong secrets and tokens that carry real ones: refused, and not echoed anywhere.
      expect(
        (await client(svc.url, basic(c.key, `${p.secret}`))('GET', '/webhooks/subscription')).status,
      ).toBe(401)
      expect(
        (await client(svc.url, basic(revoked.key, revoked.secret))('GET', '/webhooks/subscription')).status,
      ).toBe(401)
      expect((await client(svc.url, `Bearer ${c.secret}`)('GET', '/admin/environments')).status).toBe(401)
      expect(
        (
          await consumer('POST', '/webhooks/subscription', {
            event: 'site.publish',
            url: `${rx.url}/${name}`,
            active: true,
          })
        ).status,
      ).toBe(201)
      // A broker destination with a password in its URL: sealed at rest, shown masked, never logged
      // (nothing listens on port 1, so its attempts fail and are retried, logging their errors).
      const brokerPassword = `bkpw${randomBytes(12).toString('hex')}`
      known.push({ label: 'broker password', value: brokerPassword })
      const broker = await consumer('POST', '/webhooks/subscription', {
        event: 'site.publish',
        destination: {
          type: 'amqp',
          url: `amqp://hook:${brokerPassword}@127.0.0.1:1/`,
          exchange: 'x',
          routingKey: 'k',
        },
        active: true,
      })
      expect(broker.status).toBe(201)
      expect(broker.json.subscription.destination.url).toBe('amqp://hook:****@127.0.0.1:1/')
      let latest = ''
      for (let i = 0; i < 2; i++) {
        const r = await consumer('POST', '/webhooks/hmac-secret')
        expect(r.status).toBe(201)
        latest = r.json.hmacSecret.secret
        known.push({ label: 'signing secret', value: latest, raw: Buffer.from(latest.slice(6), 'base64') })
      }
      // An Ed25519 key: its private key is sealed like a secret (found below, by opening the row).
      const pair = await consumer('POST', '/webhooks/signing-keys', { type: 'ed25519' })
      expect(pair.status).toBe(201)
      ed25519PublicKeys.push(pair.json.signingKey.publicKey)
      for (let i = 0; i < 3; i++) {
        const r = await publisher('POST', '/events', body, { 'idempotency-key': `${name}-${i}` })
        expect(r.status).toBe(202)
      }
      await eventually(async () => {
        const list = (await consumer('GET', '/webhooks/deliveries')).json.deliveries as { status: string }[]
        expect(list.filter((d) => d.status === 'delivered')).toHaveLength(3)
      }, 20_000)
      const got = rx.received.filter((r) => r.path === `/${name}`)
      expect(got.length).toBeGreaterThanOrEqual(4)
      expect(got.every((g) => standardHeadersValid(latest, g.body, g.headers))).toBe(true)
      // The delivery log (attempts with their request headers) is read back too.
      const d = (await consumer('GET', '/webhooks/deliveries')).json.deliveries[0]
      expect((await consumer('GET', `/webhooks/deliveries/${d.id}`)).status).toBe(200)
    }
    expect((await admin('GET', '/admin/audit')).status).toBe(200)
    masterKey = readFileSync(join(svc.dataDir, 'master.key'), 'utf8').trim()
    // While it runs (the -wal and -shm files exist), then after a clean stop.
    for (const f of filesUnder(svc.dataDir))
      snapshots.push({ name: `${f} (running)`, bytes: readFileSync(f) })
    await svc.stop()
    for (const f of filesUnder(svc.dataDir)) snapshots.push({ name: f, bytes: readFileSync(f) })
    // The private keys, opened here with the master key, so that the search below knows them.
    const box = new SecretBox(parseMasterKey(masterKey))
    const db = new BetterSqlite3(join(svc.dataDir, 'hookpost.db'), { readonly: true })
    try {
      const rows = db.prepare('select env_id, key_id, ciphertext from signing_key_pairs').all() as {
        env_id: string
        key_id: string
        ciphertext: string
      }[]
      for (const r of rows) {
        const pkcs8 = box.open({ keyId: r.key_id, ciphertext: r.ciphertext }, keyPairAssociatedData(r.env_id))
        // The 32-byte seed is the tail of the PKCS#8 DER.
        known.push({
          label: 'Ed25519 private key',
          value: pkcs8,
          raw: Buffer.from(pkcs8, 'base64').subarray(-32),
        })
      }
    } finally {
      db.close()
    }
  }, 90_000)

  afterAll(async () => {
    await svc?.stop()
    svc?.cleanup()
    await rx?.stop()
  })

  it('handled the secrets the search looks for', () => {
    expect(known.filter((k) => k.label === 'signing secret')).toHaveLength(4)
    expect(known.filter((k) => k.label.includes('credential'))).toHaveLength(6)
    expect(known.filter((k) => k.label === 'Ed25519 private key')).toHaveLength(2)
    expect(known.filter((k) => k.label === 'broker password')).toHaveLength(2)
    expect(snapshots.some((s) => s.name.endsWith('hookpost.db-wal (running)'))).toBe(true)
    expect(snapshots.some((s) => s.name.endsWith('hookpost.db'))).toBe(true)
  })

  it('finds none of them in any file of the data directory, running or stopped', () => {
    // A positive control: what is meant to be stored in clear (a credential's public key) is found.
    const db = Buffer.concat(snapshots.filter((x) => x.name.includes('hookpost.db')).map((x) => x.bytes))
    expect(publicKeys.length).toBe(6)
    for (const k of publicKeys) expect(db.includes(Buffer.from(k)), k).toBe(true)
    for (const k of ed25519PublicKeys) expect(db.includes(Buffer.from(k)), k).toBe(true)
    for (const s of snapshots) {
      if (s.name.includes('master.key')) continue
      for (const k of known) {
        for (const form of forms(k.value)) {
          expect(s.bytes.includes(Buffer.from(form)), `${k.label} (${form.slice(0, 10)}…) in ${s.name}`).toBe(
            false,
          )
        }
        if (k.raw) expect(s.bytes.includes(k.raw), `raw ${k.label} in ${s.name}`).toBe(false)
      }
    }
  })

  it('keeps the master key out of the database and the logs, and its file private', () => {
    const key = parseMasterKey(masterKey).key
    for (const s of snapshots) {
      if (s.name.includes('master.key')) continue
      for (const form of [masterKey, key.toString('hex')])
        expect(s.bytes.includes(Buffer.from(form)), s.name).toBe(false)
      expect(s.bytes.includes(key), s.name).toBe(false)
    }
    expect(svc.output()).not.toContain(masterKey)
    expect(statSync(join(svc.dataDir, 'master.key')).mode & 0o777).toBe(0o600)
  })

  it('finds none of them in the process output, though it logged at debug level', () => {
    const out = svc.output()
    // Every request was logged (url, method, status), at the most talkative level configured.
    expect(out.match(/"msg":"incoming request"/g)?.length).toBeGreaterThan(40)
    for (const k of known) for (const form of forms(k.value)) expect(out, k.label).not.toContain(form)
    expect(out).not.toMatch(/whsec_[A-Za-z0-9+/]{20}/)
    expect(out).not.toMatch(/hps_[A-Za-z0-9]{20}/)
    expect(out).not.toMatch(/Basic [A-Za-z0-9+/=]{20}/)
  })

  it('stores a different nonce and ciphertext for every row, under a key id, and hashes credentials', () => {
    const db = new BetterSqlite3(join(svc.dataDir, 'hookpost.db'), { readonly: true })
    try {
      const rows = db.prepare('select env_id, key_id, ciphertext from signing_secrets').all() as {
        env_id: string
        key_id: string
        ciphertext: string
      }[]
      expect(rows.length).toBe(6)
      expect(new Set(rows.map((r) => r.ciphertext)).size).toBe(rows.length)
      const ivs = rows.map((r) => Buffer.from(r.ciphertext, 'base64').subarray(0, 12).toString('hex'))
      expect(new Set(ivs).size).toBe(rows.length)
      expect(new Set(rows.map((r) => r.key_id))).toEqual(new Set([parseMasterKey(masterKey).id]))
      const hashes = db.prepare('select secret_hash from credentials').all() as { secret_hash: string }[]
      for (const h of hashes) expect(h.secret_hash).toMatch(/^[0-9a-f]{64}$/)
    } finally {
      db.close()
    }
  })
})

describe('S12: sealing (unit)', () => {
  const box = new SecretBox(parseMasterKey(generateMasterKey()))
  const secret = 'whsec_' + randomBytes(32).toString('base64')

  it('uses a fresh nonce per seal: the same secret never seals to the same bytes', () => {
    const a = box.seal(secret, secretAssociatedData('env_a'))
    const b = box.seal(secret, secretAssociatedData('env_a'))
    expect(a.ciphertext).not.toBe(b.ciphertext)
    expect(Buffer.from(a.ciphertext, 'base64').subarray(0, 12)).not.toEqual(
      Buffer.from(b.ciphertext, 'base64').subarray(0, 12),
    )
    expect(box.open(a, secretAssociatedData('env_a'))).toBe(secret)
    expect(box.open(b, secretAssociatedData('env_a'))).toBe(secret)
    expect(a.ciphertext).not.toContain(secret.slice(6, 20))
  })

  it('does not open a ciphertext under another environment, a flipped byte, a truncation or another key', () => {
    const sealed = box.seal(secret, secretAssociatedData('env_a'))
    expect(() => box.open(sealed, secretAssociatedData('env_b'))).toThrow()
    const raw = Buffer.from(sealed.ciphertext, 'base64')
    for (const i of [0, 12, 27, 28, raw.length - 1]) {
      const bad = Buffer.from(raw)
      bad[i]! ^= 1
      expect(() =>
        box.open({ ...sealed, ciphertext: bad.toString('base64') }, secretAssociatedData('env_a')),
      ).toThrow()
    }
    expect(() =>
      box.open(
        { ...sealed, ciphertext: raw.subarray(0, 30).toString('base64') },
        secretAssociatedData('env_a'),
      ),
    ).toThrow()
    const other = new SecretBox(parseMasterKey(generateMasterKey()))
    expect(() => other.open(sealed, secretAssociatedData('env_a'))).toThrow(/no master key/)
    const sameIdWrongKey = new SecretBox(parseMasterKey(generateMasterKey()))
    expect(() =>
      sameIdWrongKey.open({ ...sealed, keyId: sameIdWrongKey.currentKeyId }, secretAssociatedData('env_a')),
    ).toThrow()
  })

  it('refuses a ciphertext copied into another environment’s row in the database', async () => {
    const h = await appHarness()
    try {
      const rows = await h.store.secrets.listAll(null, 100)
      const mine = rows.find((r) => r.envId === h.envId)!
      const theirs = rows.find((r) => r.envId === h.other.envId)!
      await h.store.secrets.reseal(theirs.id, mine.keyId, mine.ciphertext)
      const keyring = new SigningKeyring(h.store, h.box)
      await expect(keyring.keysFor([h.other.envId], Date.now())).rejects.toThrow()
      expect((await keyring.keysFor([h.envId], Date.now())).get(h.envId)!.keys).toHaveLength(1)
    } finally {
      await h.close()
    }
  })

  it('redacts authorization headers and secret fields in log lines', () => {
    let out = ''
    const sink = new Writable({
      write(chunk, _enc, done) {
        out += String(chunk)
        done()
      },
    })
    const log = pino({ level: 'debug', redact: { paths: redactPaths, censor: '[redacted]' } }, sink)
    log.info({ req: { headers: { authorization: 'Basic c2VjcmV0', cookie: 'hp_session=abc' } } }, 'request')
    log.info({ headers: { authorization: 'Bearer hpa_token' } }, 'outbound')
    log.info({ secret: 'whsec_top', credential: { secret: 'hps_top' }, adminToken: 'hpa_top' }, 'secrets')
    log.info({ masterKey: 'bWFzdGVy', masterKeyPrevious: ['b2xk'] }, 'config')
    expect(out).not.toMatch(/c2VjcmV0|hpa_token|whsec_top|hps_top|hpa_top|bWFzdGVy|b2xk|hp_session/)
    expect(out.match(/\[redacted\]/g)?.length).toBeGreaterThanOrEqual(8)
  })
})
