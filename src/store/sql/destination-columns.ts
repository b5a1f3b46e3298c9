// A subscription's broker destination in its three columns (both adapters): the shown fields as
// JSON, the sealed URL as key id + ciphertext.
import type { Kysely, Selectable } from 'kysely'
import type { Store, StoredDestination, SubscriptionRow } from '../store.ts'
import type { Database } from './database.ts'
import type { Run } from './sql-store.ts'

type Row = Selectable<Database['subscriptions']>

export function destinationOf(r: Row): StoredDestination | null {
  if (r.destination === null || r.destination === undefined) return null
  const { type, ...fields } = JSON.parse(r.destination) as Record<string, string> & { type: string }
  return {
    type,
    fields,
    sealedUrl:
      r.destination_key_id && r.destination_ciphertext
        ? { keyId: r.destination_key_id, ciphertext: r.destination_ciphertext }
        : null,
  }
}

export function destinationColumns(
  s: SubscriptionRow,
): Pick<Row, 'destination' | 'destination_key_id' | 'destination_ciphertext'> {
  const d = s.destination
  return {
    destination: d ? JSON.stringify({ type: d.type, ...d.fields }) : null,
    destination_key_id: d?.sealedUrl?.keyId ?? null,
    destination_ciphertext: d?.sealedUrl?.ciphertext ?? null,
  }
}

export function sqlDestinationSecrets(db: Kysely<Database>, run: Run): Store['destinationSecrets'] {
  return {
    listAll: (afterId, limit) =>
      run(async () => {
        let q = db
          .selectFrom('subscriptions')
          .select(['id', 'env_id', 'destination_key_id', 'destination_ciphertext'])
          .where('destination_ciphertext', 'is not', null)
        if (afterId !== null) q = q.where('id', '>', afterId)
        const rows = await q.orderBy('id').limit(limit).execute()
        return rows.map((r) => ({
          id: r.id,
          envId: r.env_id,
          keyId: r.destination_key_id ?? '',
          ciphertext: r.destination_ciphertext ?? '',
        }))
      }),
    reseal: (id, keyId, ciphertext) =>
      run(async () => {
        const r = await db
          .updateTable('subscriptions')
          .set({ destination_key_id: keyId, destination_ciphertext: ciphertext })
          .where('id', '=', id)
          .where('destination_ciphertext', 'is not', null)
          .executeTakeFirst()
        return Number(r.numUpdatedRows) > 0
      }),
  }
}
