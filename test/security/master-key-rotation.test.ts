// Master key rotation without downtime: at the use-case level (every row sealed again, the old
// key no longer needed, signing unchanged, a node keeps working during the run), and end to end
// with `hookpost secrets rotate-master-key --generate` run beside a live service.
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { auditLog } from '../../src/audit/audit-log.ts'
import { KeyFileSecretBox, rotateKeyFiles } from '../../src/data-dir/master-key-files.ts'
import { EndpointSettingsCache } from '../../src/deliveries/endpoint-request.ts'
import { eventTypes } from '../../src/events/event-types.ts'
import { createHookpost, type Hookpost } from '../../src/hookpost.ts'
import { resealSigningSecrets } from '../../src/secrets/master-key-rotation.ts'
import { generateMasterKey, parseMasterKey, SecretBox } from '../../src/secrets/secret-box.ts'
import { SigningKeyring, secretAssociatedData } from '../../src/secrets/signing-keyring.ts'
import { signDelivery, signingKey } from '../../src/signing/signature.ts'
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.ts'
import type { SigningSecretRow, Store } from '../../src/store/store.ts'
import { eventually } from '../support/eventually.ts'
import {
  asymmetricEntriesValid,
  basekitHeaderValid,
  standardHeadersValid,
} from '../support/independent-verify.ts'
import { TestReceiver } from '../support/receiver.ts'
import { client, repoRoot, type ServiceProcess, startService } from '../support/service-process.ts'
import { createTenant } from '../support/tenant.ts'

const run = promisify(execFile)
const k1 = parseMasterKey(generateMasterKey())
const k2 = parseMasterKey(generateMasterKey())

function core(store: Store, box: SecretBox): Hookpost {
  return createHookpost({
    store,
    box,
    checkUrl: () => ({ ok: true }),
    retryPolicy: { scheduleMs: [1000], jitter: 0, maxRetryAfterMs: 1000 },
    secretGraceMs: 60_000,
  })
}

async function allRows(store: Store): Promise<SigningSecretRow[]> {
  return store.secrets.listAll(null, 10_000)
}

describe('master key rotation (use case)', () => {
  let store: Store
  beforeEach(async () => {
    store = openSqliteStore(':memory:')
    await store.migrate()
  })
  afterEach(async () => {
    await store.close()
  })

  it('seals every row again under the new key; the old key is then not needed and signing is unchanged', async () => {
    const before = core(store, new SecretBox(k1))
    const a = await before.environments.create({ name: 'a' })
    const b = await before.environments.create({ name: 'b' })
    const secretsA = [(await before.secrets.rotate(a.id)).secret, (await before.secrets.rotate(a.id)).secret]
    const secretB = (await before.secrets.rotate(b.id)).secret
    const rowsBefore = await allRows(store)
    expect(rowsBefore).toHaveLength(5)
    expect(new Set(rowsBefore.map((r) => r.keyId))).toEqual(new Set([k1.id]))

    // The new key is current, the old one previous: a node in this state opens both.
    const during = new SecretBox(k2, [k1])
    const node = core(store, during)
    let sealedMidway: string | undefined
    const report = await resealSigningSecrets({
      store,
      box: during,
      audit: auditLog({ store }),
      batchSize: 2,
      onBatch: (r) => {
        // A node keeps working while the rows move: it rotates a secret mid-run.
        if (r.examined === 2 && !sealedMidway) {
          sealedMidway = 'pending'
          void node.secrets.rotate(b.id).then((s) => {
            sealedMidway = s.secret
          })
        }
      },
    })
    await eventually(() => expect(sealedMidway).toMatch(/^whsec_/))
    expect(report).toMatchObject({ keyId: k2.id, fromKeyIds: [k1.id], unopenableCount: 0, unopenable: [] })
    expect(report.resealed).toBe(5)

    const rowsAfter = await allRows(store)
    expect(rowsAfter.length).toBeGreaterThanOrEqual(6)
    for (const r of rowsAfter) expect(r.keyId).toBe(k2.id)
    for (const old of rowsBefore) {
      const now = rowsAfter.find((r) => r.id === old.id)!
      expect(now.ciphertext).not.toBe(old.ciphertext)
      expect([now.envId, now.created]).toEqual([old.envId, old.created])
    }

    // Only the new key from now on: every row opens, to the same secrets; the old key alone opens none.
    const after = new SecretBox(k2)
    const oldOnly = new SecretBox(k1)
    for (const r of rowsAfter) {
      const sealed = { keyId: r.keyId, ciphertext: r.ciphertext }
      expect(after.open(sealed, secretAssociatedData(r.envId))).toMatch(/^whsec_/)
      expect(() => oldOnly.open(sealed, secretAssociatedData(r.envId))).toThrow()
    }
    const keys = await new SigningKeyring(store, after).keysFor([a.id, b.id], Date.now())
    const body = Buffer.from('{"eventName":"site.publish"}')
    const ts = Math.floor(Date.now() / 1000)
    const headersA = signDelivery(keys.get(a.id)!.keys, 'dlv_1', ts, body, 'hex')
    expect(basekitHeaderValid(secretsA[1]!, body, headersA['x-delivery-hmac-sha256'])).toBe(true)
    expect(standardHeadersValid(secretsA[0]!, body, { ...headersA })).toBe(true)
    const headersB = signDelivery(keys.get(b.id)!.keys, 'dlv_2', ts, body, 'hex')
    expect(standardHeadersValid(secretB, body, { ...headersB })).toBe(true)
    expect(basekitHeaderValid(sealedMidway!, body, headersB['x-delivery-hmac-sha256'])).toBe(true)
    expect(keys.get(a.id)!.keys[0]).toEqual(signingKey(secretsA[1]!))

    // Idempotent, and audited without key material.
    const again = await resealSigningSecrets({ store, box: after, audit: auditLog({ store }) })
    expect(again).toMatchObject({ resealed: 0, alreadyCurrent: rowsAfter.length, unopenableCount: 0 })
    const entries = await store.audit.list({ action: 'master_key.rotated', limit: 10 })
    expect(entries).toHaveLength(2)
    expect(entries[1]).toMatchObject({
      actor: 'operator',
      envId: null,
      target: k2.id,
      detail: { keyId: k2.id, resealed: 5, fromKeyIds: [k1.id], unopenable: 0 },
    })
    const text = JSON.stringify(entries)
    for (const k of [k1, k2]) {
      expect(text).not.toContain(k.key.toString('base64'))
      expect(text).not.toContain(k.key.toString('hex'))
    }
  })

  it('seals Ed25519 private keys again too: they sign v1a under the new key alone', async () => {
    const before = core(store, new SecretBox(k1))
    const a = await before.environments.create({ name: 'a' })
    const pair = await before.signingKeys.create(a.id)
    const [row] = await store.signingKeyPairs.listAll(null, 10)
    expect(row!.keyId).toBe(k1.id)

    const report = await resealSigningSecrets({ store, box: new SecretBox(k2, [k1]) })
    // The environment's first secret and its key pair.
    expect(report).toMatchObject({ examined: 2, resealed: 2, fromKeyIds: [k1.id], unopenableCount: 0 })
    const [moved] = await store.signingKeyPairs.listAll(null, 10)
    expect(moved).toMatchObject({ id: row!.id, keyId: k2.id, publicKey: pair.publicKey })
    expect(moved!.ciphertext).not.toBe(row!.ciphertext)

    const keys = (await new SigningKeyring(store, new SecretBox(k2)).keysFor([a.id], Date.now())).get(a.id)!
    const body = Buffer.from('{"eventName":"site.publish"}')
    const headers = signDelivery(keys.keys, 'dlv_1', 1_700_000_000, body, 'hex', keys.pairs)
    expect(asymmetricEntriesValid(pair.publicKey, body, { ...headers })).toBe(1)
  })

  it("seals subscriptions' endpoint secrets again too: a worker opens them under the new key alone", async () => {
    const before = core(store, new SecretBox(k1))
    const a = await before.environments.create({ name: 'a' })
    const sub = await before.subscriptions.create(a.id, {
      event: eventTypes[0]!.name,
      url: 'https://example.com/hook',
      active: true,
      auth: { type: 'basic', username: 'u', password: 'the-password' },
      headers: { 'x-api-key': 'the-header-value' },
    })
    const [row] = await store.subscriptions.listSealedEndpoints(null, 10)
    expect(row).toMatchObject({ id: sub.id, keyId: k1.id })

    const report = await resealSigningSecrets({ store, box: new SecretBox(k2, [k1]) })
    // The environment's first secret and the subscription's endpoint secrets.
    expect(report).toMatchObject({ examined: 2, resealed: 2, fromKeyIds: [k1.id], unopenableCount: 0 })
    const [moved] = await store.subscriptions.listSealedEndpoints(null, 10)
    expect(moved).toMatchObject({ id: sub.id, keyId: k2.id })
    expect(moved!.ciphertext).not.toBe(row!.ciphertext)
    const stored = (await store.subscriptions.get(a.id, sub.id))!
    expect(stored.updated).toBe(sub.updated)
    const settings = new EndpointSettingsCache(new SecretBox(k2)).for(stored)
    expect(settings?.headers).toEqual({
      'x-api-key': 'the-header-value',
      authorization: `Basic ${Buffer.from('u:the-password').toString('base64')}`,
    })
    // Bound to its subscription: copied onto another one, it does not open.
    const other = await core(store, new SecretBox(k2)).subscriptions.create(a.id, {
      event: eventTypes[0]!.name,
      url: 'https://example.com/other',
      active: true,
      headers: { 'x-other': 'v' },
    })
    await store.subscriptions.resealEndpoint(other.id, moved!.keyId, moved!.ciphertext)
    expect(() => new EndpointSettingsCache(new SecretBox(k2)).for({ ...stored, id: other.id })).toThrow()
  })

  it('reports rows no configured key opens, leaves them as they are, and moves the rest', async () => {
    const lost = parseMasterKey(generateMasterKey())
    const h0 = core(store, new SecretBox(lost))
    const env0 = await h0.environments.create({ name: 'orphan' })
    const h1 = core(store, new SecretBox(k1))
    await h1.environments.create({ name: 'fine' })
    const orphan = (await allRows(store)).find((r) => r.envId === env0.id)!
    const report = await resealSigningSecrets({ store, box: new SecretBox(k2, [k1]) })
    expect(report.resealed).toBe(1)
    expect(report.unopenableCount).toBe(1)
    expect(report.unopenable).toEqual([{ id: orphan.id, keyId: lost.id }])
    expect((await allRows(store)).find((r) => r.id === orphan.id)).toEqual(orphan)
  })

  it('refuses a ciphertext moved to another row: the environment is bound in', async () => {
    const h = core(store, new SecretBox(k1))
    const a = await h.environments.create({ name: 'a' })
    const b = await h.environments.create({ name: 'b' })
    const rows = await allRows(store)
    const ra = rows.find((r) => r.envId === a.id)!
    const rb = rows.find((r) => r.envId === b.id)!
    await store.secrets.reseal(rb.id, ra.keyId, ra.ciphertext)
    const report = await resealSigningSecrets({ store, box: new SecretBox(k2, [k1]) })
    expect(report.unopenable).toEqual([{ id: rb.id, keyId: k1.id }])
  })
})

describe('master key files', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hookpost-keys-'))
  })
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true })
  })

  it('rotate: the new key becomes current, the old one joins master.key.previous, both 0600', () => {
    writeFileSync(join(dir, 'master.key'), `${generateMasterKey()}\n`)
    const old = readFileSync(join(dir, 'master.key'), 'utf8').trim()
    const box = new KeyFileSecretBox(dir)
    const sealedOld = box.seal('whsec_x', 'ad')
    const r = rotateKeyFiles(dir)
    expect(r.previousKeyId).toBe(parseMasterKey(old).id)
    expect(readFileSync(join(dir, 'master.key.previous'), 'utf8')).toBe(`${old}\n`)
    for (const f of ['master.key', 'master.key.previous'])
      expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600)
    // A running process follows: it seals with the new key and still opens the old ciphertexts.
    expect(box.currentKeyId).toBe(r.keyId)
    const sealedNew = box.seal('whsec_y', 'ad')
    expect(sealedNew.keyId).toBe(r.keyId)
    expect(box.open(sealedOld, 'ad')).toBe('whsec_x')
    // A process that started before a rotation opens a row sealed by a newer process.
    const stale = new KeyFileSecretBox(dir)
    rotateKeyFiles(dir)
    const fresh = new KeyFileSecretBox(dir)
    const sealedNewest = fresh.seal('whsec_z', 'ad')
    expect(stale.open(sealedNewest, 'ad')).toBe('whsec_z')
    expect(readFileSync(join(dir, 'master.key.previous'), 'utf8').trim().split('\n')).toHaveLength(2)
  })
})

describe('hookpost secrets rotate-master-key --generate beside a running service', () => {
  let svc: ServiceProcess | undefined
  let rx: TestReceiver
  let dataDir: string
  beforeEach(async () => {
    rx = await new TestReceiver().start()
    dataDir = mkdtempSync(join(tmpdir(), 'hookpost-mkrot-'))
  })
  afterEach(async () => {
    await svc?.stop()
    await rx.stop()
    rmSync(dataDir, { recursive: true, force: true })
  })

  const cli = async (...args: string[]) => {
    const r = await run(process.execPath, [join(repoRoot, 'bin/hookpost.js'), ...args, '--json'], {
      cwd: repoRoot,
      env: {
        PATH: process.env['PATH'] ?? '',
        HOME: process.env['HOME'] ?? '/tmp',
        HOOKPOST_DATABASE_URL: `sqlite:${join(dataDir, 'hookpost.db')}`,
        HOOKPOST_DATA_DIR: dataDir,
      },
    })
    return JSON.parse(r.stdout) as { masterKeyRotation: Record<string, unknown> }
  }

  it('keeps delivering, signed with the same secrets, during and after; the old key can then go', async () => {
    const env = {
      HOOKPOST_ALLOW_HTTP: 'true',
      HOOKPOST_ALLOWED_CIDRS: '127.0.0.0/8',
      HOOKPOST_ADMIN_TOKEN: 'rotation-admin-token-123456',
      HOOKPOST_RETRY_SCHEDULE: '200ms,400ms',
    }
    svc = await startService(env, { dataDir })
    const tenant = await createTenant(svc, 'rot')
    const consumer = client(svc.url, tenant.consumer.authorization)
    const publisher = client(svc.url, tenant.publisher.authorization)
    expect(
      (
        await consumer('POST', '/webhooks/subscription', {
          event: 'site.publish',
          url: `${rx.url}/a`,
          active: true,
        })
      ).status,
    ).toBe(201)
    const s1: string = (await consumer('POST', '/webhooks/hmac-secret')).json.hmacSecret.secret
    const body = JSON.stringify(eventTypes.find((t) => t.name === 'site.publish')!.example)
    const deliverAndVerify = async (current: string) => {
      const n = rx.received.length
      expect((await publisher('POST', '/events', body)).status).toBe(202)
      await eventually(() => expect(rx.received.length).toBe(n + 1), 15_000)
      const got = rx.received[n]!
      expect(basekitHeaderValid(current, got.body, got.headers['x-delivery-hmac-sha256'] as string)).toBe(
        true,
      )
      expect(standardHeadersValid(current, got.body, got.headers)).toBe(true)
    }
    await deliverAndVerify(s1)
    const oldKey = readFileSync(join(dataDir, 'master.key'), 'utf8').trim()

    const first = (await cli('secrets', 'rotate-master-key', '--generate')).masterKeyRotation
    expect(first).toMatchObject({ generated: true, resealed: 2, alreadyCurrent: 0, unopenableCount: 0 })
    expect(first['fromKeyIds']).toEqual([parseMasterKey(oldKey).id])
    expect(readFileSync(join(dataDir, 'master.key'), 'utf8').trim()).not.toBe(oldKey)
    expect(readFileSync(join(dataDir, 'master.key.previous'), 'utf8').trim()).toBe(oldKey)

    // The running node was not restarted: it still delivers, and a new secret it seals is
    // under the new key (a second run finds nothing left to move).
    await deliverAndVerify(s1)
    const s2: string = (await consumer('POST', '/webhooks/hmac-secret')).json.hmacSecret.secret
    await deliverAndVerify(s2)
    const second = (await cli('secrets', 'rotate-master-key')).masterKeyRotation
    expect(second).toMatchObject({ generated: false, resealed: 0, alreadyCurrent: 3, keyId: first['keyId'] })

    // Remove the old key and restart cold: nothing needs it any more.
    await svc.stop()
    unlinkSync(join(dataDir, 'master.key.previous'))
    svc = await startService(env, { dataDir })
    const publisher2 = client(svc.url, tenant.publisher.authorization)
    const n = rx.received.length
    expect((await publisher2('POST', '/events', body)).status).toBe(202)
    await eventually(() => expect(rx.received.length).toBe(n + 1), 15_000)
    const got = rx.received[n]!
    expect(standardHeadersValid(s2, got.body, got.headers)).toBe(true)
    expect(standardHeadersValid(s1, got.body, got.headers)).toBe(true)
    expect(svc.output()).not.toContain(oldKey)

    const audit = (
      await client(svc.url, `Bearer ${env.HOOKPOST_ADMIN_TOKEN}`)(
        'GET',
        '/admin/audit?action=master_key.rotated',
      )
    ).json
    expect(audit.entries).toHaveLength(2)
  }, 60_000)

  it('refuses --generate when the key comes from HOOKPOST_MASTER_KEY', async () => {
    const r = await run(
      process.execPath,
      [join(repoRoot, 'bin/hookpost.js'), 'secrets', 'rotate-master-key', '--generate'],
      {
        cwd: repoRoot,
        env: {
          PATH: process.env['PATH'] ?? '',
          HOOKPOST_DATABASE_URL: `sqlite:${join(dataDir, 'hookpost.db')}`,
          HOOKPOST_DATA_DIR: dataDir,
          HOOKPOST_MASTER_KEY: generateMasterKey(),
        },
      },
    ).catch((e: { code: number; stderr: string }) => e)
    expect((r as { code: number }).code).toBe(1)
    expect((r as { stderr: string }).stderr).toContain('HOOKPOST_MASTER_KEY_PREVIOUS')
  })
})
