// Ed25519 signing key pairs over Kysely (both adapters).
import type { Kysely, Selectable } from 'kysely'
import type { SigningKeyPairRow, Store } from '../store.ts'
import type { Database } from './database.ts'
import type { Run } from './sql-store.ts'

const toPair = (r: Selectable<Database['signing_key_pairs']>): SigningKeyPairRow => ({
  id: r.id,
  envId: r.env_id,
  type: r.type as SigningKeyPairRow['type'],
  publicKey: r.public_key,
  keyId: r.key_id,
  ciphertext: r.ciphertext,
  created: Number(r.created),
})

export function sqlSigningKeyPairs(db: Kysely<Database>, run: Run): Store['signingKeyPairs'] {
  return {
    create: (row, limit) =>
      run(() =>
        db.transaction().execute(async (tx) => {
          const { n } = await tx
            .selectFrom('signing_key_pairs')
            .select((e) => e.fn.countAll<number>().as('n'))
            .where('env_id', '=', row.envId)
            .executeTakeFirstOrThrow()
          if (Number(n) >= limit) return false
          await tx
            .insertInto('signing_key_pairs')
            .values({
              id: row.id,
              env_id: row.envId,
              type: row.type,
              public_key: row.publicKey,
              key_id: row.keyId,
              ciphertext: row.ciphertext,
              created: row.created,
            })
            .execute()
          return true
        }),
      ),
    list: (envIds) =>
      run(async () => {
        if (envIds.length === 0) return []
        const rows = await db
          .selectFrom('signing_key_pairs')
          .selectAll()
          .where('env_id', 'in', [...envIds])
          .orderBy('created')
          .orderBy('id')
          .execute()
        return rows.map(toPair)
      }),
    delete: (envId, id) =>
      run(async () => {
        const r = await db
          .deleteFrom('signing_key_pairs')
          .where('env_id', '=', envId)
          .where('id', '=', id)
          .executeTakeFirst()
        return Number(r.numDeletedRows) > 0
      }),
    listAll: (afterId, limit) =>
      run(async () =>
        (
          await db
            .selectFrom('signing_key_pairs')
            .selectAll()
            .$if(afterId !== null, (q) => q.where('id', '>', afterId!))
            .orderBy('id')
            .limit(limit)
            .execute()
        ).map(toPair),
      ),
    reseal: (id, keyId, ciphertext) =>
      run(async () => {
        const r = await db
          .updateTable('signing_key_pairs')
          .set({ key_id: keyId, ciphertext })
          .where('id', '=', id)
          .executeTakeFirst()
        return Number(r.numUpdatedRows) > 0
      }),
  }
}
