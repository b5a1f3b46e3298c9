// Ed25519 signing keys at the use-case level: a key created or deleted through one node's use
// case signs, or stops, on every node's keyring at its next batch (the keyring caches private
// keys by id but re-reads the list each time, as it does for secrets), and the sealed row is
// bound to its environment.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createHookpost, type Hookpost } from '../../src/hookpost.ts'
import { generateMasterKey, parseMasterKey, SecretBox } from '../../src/secrets/secret-box.ts'
import { keyPairAssociatedData, SigningKeyring } from '../../src/secrets/signing-keyring.ts'
import { signDelivery } from '../../src/signing/signature.ts'
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.ts'
import type { Store } from '../../src/store/store.ts'
import { asymmetricEntriesValid } from '../support/independent-verify.ts'

const box = new SecretBox(parseMasterKey(generateMasterKey()))
const body = Buffer.from('{"eventName":"site.publish"}')

describe('Ed25519 signing keys (use case and keyring)', () => {
  let store: Store
  let hookpost: Hookpost
  beforeEach(async () => {
    store = openSqliteStore(':memory:')
    await store.migrate()
    hookpost = createHookpost({
      store,
      box,
      checkUrl: () => ({ ok: true }),
      retryPolicy: { scheduleMs: [1000], jitter: 0, maxRetryAfterMs: 1000 },
      secretGraceMs: 60_000,
    })
  })
  afterEach(async () => {
    await store.close()
  })

  async function signedBy(keyring: SigningKeyring, envId: string) {
    const k = (await keyring.keysFor([envId], Date.now())).get(envId)!
    return { ...signDelivery(k.keys, 'dlv_1', 1_700_000_000, body, 'hex', k.pairs) }
  }

  it('takes effect on every node at its next batch, created or deleted', async () => {
    const env = await hookpost.environments.create({ name: 'a' })
    const nodes = [new SigningKeyring(store, box), new SigningKeyring(store, box)]
    for (const n of nodes) expect((await signedBy(n, env.id))['webhook-signature']).not.toContain('v1a,')
    const key = await hookpost.signingKeys.create(env.id)
    for (const n of nodes)
      expect(asymmetricEntriesValid(key.publicKey, body, await signedBy(n, env.id))).toBe(1)
    await hookpost.signingKeys.delete(env.id, key.id)
    for (const n of nodes) expect((await signedBy(n, env.id))['webhook-signature']).not.toContain('v1a,')
  })

  it("keeps environments apart: another environment's key neither signs here nor is deleted from here", async () => {
    const a = await hookpost.environments.create({ name: 'a' })
    const b = await hookpost.environments.create({ name: 'b' })
    const key = await hookpost.signingKeys.create(a.id)
    expect(await hookpost.signingKeys.list(b.id)).toEqual([])
    await expect(hookpost.signingKeys.delete(b.id, key.id)).rejects.toMatchObject({
      code: 'signing_key_not_found',
    })
    expect((await signedBy(new SigningKeyring(store, box), b.id))['webhook-signature']).not.toContain('v1a,')
    // The sealed private key opens only under its own environment.
    const [row] = await store.signingKeyPairs.list([a.id])
    const sealed = { keyId: row!.keyId, ciphertext: row!.ciphertext }
    expect(box.open(sealed, keyPairAssociatedData(a.id))).toMatch(/^MC4CAQAwBQYDK2Vw/)
    expect(() => box.open(sealed, keyPairAssociatedData(b.id))).toThrow()
  })
})
