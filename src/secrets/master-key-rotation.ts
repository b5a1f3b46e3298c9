// Master key rotation: seals every signing secret, every Ed25519 private key, every
// subscription's endpoint secrets (auth, static headers) and every broker destination URL with
// credentials again under the current master key, in
// batches, while the service runs. Each row keeps its id and plaintext; only its key id and
// ciphertext change, one row at a time, so a node that can open both keys (the new one as
// current, the old one as previous) never meets a row it cannot open. Once this reports no
// row left under an old key, the old key can be removed. Running it again is harmless.
// Rotation answers a suspected compromise, so it also ends every dashboard session and voids
// every portal link, in the store, so that every node stops accepting them at once.
import type { AuditLog } from '../audit/audit-log.ts'
import { operatorActor } from '../audit/audit-log.ts'
import { endAllAccess } from '../sessions/dashboard-sessions.ts'
import type { Store } from '../store/store.ts'
import { destinationAssociatedData } from '../subscriptions/destination.ts'
import { endpointAssociatedData } from '../subscriptions/endpoint-auth.ts'
import type { SecretBox } from './secret-box.ts'
import { keyPairAssociatedData, secretAssociatedData } from './signing-keyring.ts'

/** One table of sealed rows: signing secrets, Ed25519 key pairs, subscriptions' endpoint secrets. */
interface SealedRows {
  listAll(
    afterId: string | null,
    limit: number,
  ): Promise<{ id: string; envId: string; keyId: string; ciphertext: string }[]>
  reseal(id: string, keyId: string, ciphertext: string): Promise<boolean>
  associatedData(row: { id: string; envId: string }): string
}

export interface MasterKeyRotationReport {
  /** The key every secret is now sealed under. */
  keyId: string
  /** Rows read. */
  examined: number
  /** Rows sealed again by this run. */
  resealed: number
  /** Rows already under the current key. */
  alreadyCurrent: number
  /** Key ids the resealed rows were under. */
  fromKeyIds: string[]
  /** Rows no configured key opens (their key is missing, or the row was tampered with). */
  unopenableCount: number
  /** The first 100 of them. */
  unopenable: { id: string; keyId: string }[]
  /** Dashboard sessions ended. */
  sessionsEnded: number
  /** Portal links voided. */
  portalLinksVoided: number
}

export interface MasterKeyRotationDeps {
  store: Store
  box: SecretBox
  audit?: AuditLog
  batchSize?: number
  /** After each batch (progress output). */
  onBatch?: (r: Readonly<MasterKeyRotationReport>) => void
}

const maxListedUnopenable = 100

export async function resealSigningSecrets(deps: MasterKeyRotationDeps): Promise<MasterKeyRotationReport> {
  const { store, box } = deps
  const batchSize = deps.batchSize ?? 200
  const keyId = box.currentKeyId
  const from = new Set<string>()
  const report: MasterKeyRotationReport = {
    keyId,
    examined: 0,
    resealed: 0,
    alreadyCurrent: 0,
    fromKeyIds: [],
    unopenableCount: 0,
    unopenable: [],
    sessionsEnded: 0,
    portalLinksVoided: 0,
  }
  // First: whoever holds a session or link signed under the suspect key is out before anything else.
  const ended = await endAllAccess(store)
  report.sessionsEnded = ended.sessions
  report.portalLinksVoided = ended.portalLinks
  const tables: SealedRows[] = [
    { ...store.secrets, associatedData: (r) => secretAssociatedData(r.envId) },
    { ...store.signingKeyPairs, associatedData: (r) => keyPairAssociatedData(r.envId) },
    {
      listAll: store.subscriptions.listSealedEndpoints,
      reseal: store.subscriptions.resealEndpoint,
      associatedData: (r) => endpointAssociatedData(r.envId, r.id),
    },
    // Broker destination URLs with credentials (docs/destinations.md).
    { ...store.destinationSecrets, associatedData: (r) => destinationAssociatedData(r.envId) },
  ]
  for (const table of tables) {
    let after: string | null = null
    for (;;) {
      const rows = await table.listAll(after, batchSize)
      if (rows.length === 0) break
      for (const row of rows) {
        report.examined++
        if (row.keyId === keyId) {
          report.alreadyCurrent++
          continue
        }
        const aad = table.associatedData(row)
        let plaintext: string
        try {
          plaintext = box.open({ keyId: row.keyId, ciphertext: row.ciphertext }, aad)
        } catch {
          report.unopenableCount++
          if (report.unopenable.length < maxListedUnopenable)
            report.unopenable.push({ id: row.id, keyId: row.keyId })
          continue
        }
        const sealed = box.seal(plaintext, aad)
        // Never write what does not open: a row must stay readable at every moment.
        if (box.open(sealed, aad) !== plaintext) throw new Error(`re-sealing ${row.id} did not round-trip`)
        if (await table.reseal(row.id, sealed.keyId, sealed.ciphertext)) {
          report.resealed++
          from.add(row.keyId)
        }
      }
      after = rows[rows.length - 1]!.id
      report.fromKeyIds = [...from].sort()
      deps.onBatch?.(report)
    }
  }
  await deps.audit?.record({
    action: 'master_key.rotated',
    actor: operatorActor,
    target: keyId,
    detail: {
      keyId,
      examined: report.examined,
      resealed: report.resealed,
      alreadyCurrent: report.alreadyCurrent,
      fromKeyIds: report.fromKeyIds,
      unopenable: report.unopenableCount,
      sessionsEnded: report.sessionsEnded,
      portalLinksVoided: report.portalLinksVoided,
    },
  })
  return report
}
