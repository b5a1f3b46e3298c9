// Environments, their API credentials and their signing secrets over Kysely (both adapters). An
// environment is created with its first secret, in one transaction.
import { sql } from 'kysely'
import type { SigningSecretRow, Store } from '../store.ts'
import { deleteCredentialSessions } from './access-store.ts'
import { type Db, toCredential, toEnv, toSecret } from './row-mappers.ts'
import type { SqlContext } from './sql-store.ts'

export function sqlEnvironments({ db, run }: SqlContext): Store['environments'] {
  return {
    create: (env, first) =>
      run(() =>
        db.transaction().execute(async (tx) => {
          await tx
            .insertInto('environments')
            .values({
              id: env.id,
              name: env.name,
              signature_encoding: env.signatureEncoding,
              created: env.created,
            })
            .execute()
          await insertSecret(tx, first)
        }),
      ),
    list: () =>
      run(async () => (await db.selectFrom('environments').selectAll().orderBy('id').execute()).map(toEnv)),
    get: (id) =>
      run(async () => {
        const r = await db.selectFrom('environments').selectAll().where('id', '=', id).executeTakeFirst()
        return r && toEnv(r)
      }),
  }
}

export function sqlCredentials({ db, run, prepared }: SqlContext): Store['credentials'] {
  return {
    create: (c) =>
      run(async () => {
        await db
          .insertInto('credentials')
          .values({
            id: c.id,
            env_id: c.envId,
            role: c.role,
            name: c.name,
            key: c.key,
            secret_hash: c.secretHash,
            created: c.created,
            revoked: c.revoked,
          })
          .execute()
      }),
    findByKey: (key) =>
      run(async () => {
        // Every API request authenticates: prepared once.
        const q = prepared.get('credentials.byKey', (p) =>
          db.selectFrom('credentials').selectAll().where('key', '=', p('key')),
        )
        const r = (await db.executeQuery(q.bind({ key }))).rows[0]
        return r && toCredential(r)
      }),
    list: (envId) =>
      run(async () =>
        (
          await db.selectFrom('credentials').selectAll().where('env_id', '=', envId).orderBy('id').execute()
        ).map(toCredential),
      ),
    revoke: (envId, id, now) =>
      run(() =>
        db.transaction().execute(async (tx) => {
          const r = await tx
            .updateTable('credentials')
            .set({ revoked: now })
            .where('id', '=', id)
            .where('env_id', '=', envId)
            .where('revoked', 'is', null)
            .executeTakeFirst()
          if (Number(r.numUpdatedRows) === 0) return false
          await deleteCredentialSessions(tx, id)
          return true
        }),
      ),
  }
}

export function sqlSecrets({ db, run, traits }: SqlContext): Store['secrets'] {
  return {
    rotate: (row, expires) =>
      run(() =>
        db.transaction().execute(async (tx) => {
          // Rotations of one environment take turns: without the lock (PostgreSQL), concurrent
          // ones each expire the secret they saw current and all add theirs. The statements after
          // it see the rotations committed before (read committed). No key update: the foreign
          // key checks of inserts elsewhere (publish, subscriptions) do not wait for it. SQLite's
          // write transactions begin immediate: one writer at a time already.
          await tx
            .selectFrom('environments')
            .select('id')
            .where('id', '=', row.envId)
            .$if(traits.skipLocked, (q) => q.forNoKeyUpdate())
            .execute()
          const previous: SigningSecretRow[] = []
          for (const [revealed, at] of [
            [1, expires.revealed],
            [0, expires.unrevealed],
          ] as const) {
            const rows = await tx
              .updateTable('signing_secrets')
              .set({ expires: at })
              .where('env_id', '=', row.envId)
              .where('expires', 'is', null)
              .where('revealed', '=', revealed)
              .returningAll()
              .execute()
            previous.push(...rows.map(toSecret))
          }
          await insertSecret(tx, row)
          return previous
        }),
      ),
    listValid: (envIds, now) =>
      run(async () => {
        if (envIds.length === 0) return []
        const rows = await db
          .selectFrom('signing_secrets')
          .selectAll()
          .where('env_id', 'in', [...envIds])
          .where((w) => w.or([w('expires', 'is', null), w('expires', '>', now)]))
          .orderBy('env_id')
          // The current one first even if an older one was created later (clocks of two nodes).
          .orderBy(sql`expires is null`, 'desc')
          .orderBy('created', 'desc')
          .orderBy('id', 'desc')
          .execute()
        return rows.map(toSecret)
      }),
    listAll: (afterId, limit) =>
      run(async () =>
        (
          await db
            .selectFrom('signing_secrets')
            .selectAll()
            .$if(afterId !== null, (q) => q.where('id', '>', afterId!))
            .orderBy('id')
            .limit(limit)
            .execute()
        ).map(toSecret),
      ),
    reseal: (id, keyId, ciphertext) =>
      run(async () => {
        const r = await db
          .updateTable('signing_secrets')
          .set({ key_id: keyId, ciphertext })
          .where('id', '=', id)
          .executeTakeFirst()
        return Number(r.numUpdatedRows) > 0
      }),
  }
}

async function insertSecret(tx: Db, s: SigningSecretRow): Promise<void> {
  await tx
    .insertInto('signing_secrets')
    .values({
      id: s.id,
      env_id: s.envId,
      key_id: s.keyId,
      ciphertext: s.ciphertext,
      created: s.created,
      expires: s.expires,
      revealed: s.revealed ? 1 : 0,
    })
    .execute()
}
