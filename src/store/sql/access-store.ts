// Dashboard sessions and portal links over Kysely (both adapters).
// Every dashboard request reads its session: that query is prepared once.
import type { Kysely, Selectable } from 'kysely'
import type { DashboardSessionKind, DashboardSessionRow, PortalLinkRow, Store } from '../store.ts'
import type { Database } from './database.ts'
import type { PreparedQueries } from './prepared-queries.ts'
import type { Db } from './row-mappers.ts'
import type { Run } from './sql-store.ts'

const toSession = (r: Selectable<Database['dashboard_sessions']>): DashboardSessionRow => ({
  idHash: r.id_hash,
  kind: r.kind as DashboardSessionKind,
  envId: r.env_id,
  credentialId: r.credential_id,
  portalLinkId: r.portal_link_id,
  binding: r.binding,
  label: r.label,
  created: Number(r.created),
  idleExpires: Number(r.idle_expires),
  expires: Number(r.expires),
})

const toLink = (r: Selectable<Database['portal_links']>): PortalLinkRow => ({
  id: r.id,
  envId: r.env_id,
  tokenHash: r.token_hash,
  created: Number(r.created),
  expires: Number(r.expires),
  used: r.used === null ? null : Number(r.used),
})

async function insertSession(db: Db, s: DashboardSessionRow): Promise<void> {
  await db
    .insertInto('dashboard_sessions')
    .values({
      id_hash: s.idHash,
      kind: s.kind,
      env_id: s.envId,
      credential_id: s.credentialId,
      portal_link_id: s.portalLinkId,
      binding: s.binding,
      label: s.label,
      created: s.created,
      idle_expires: s.idleExpires,
      expires: s.expires,
    })
    .execute()
}

/** Ends a credential's sessions (inside the transaction that revokes it). */
export async function deleteCredentialSessions(db: Db, credentialId: string): Promise<void> {
  await db.deleteFrom('dashboard_sessions').where('credential_id', '=', credentialId).execute()
}

const deleted = (r: { numDeletedRows: bigint }) => Number(r.numDeletedRows)

export function sqlDashboardSessions(
  db: Kysely<Database>,
  run: Run,
  prepared: PreparedQueries,
): Store['dashboardSessions'] {
  return {
    create: (s) => run(() => insertSession(db, s)),
    get: (idHash, now) =>
      run(async () => {
        // Revoking a credential deletes its sessions; the join also refuses one that a sign-in
        // racing the revocation inserted after that delete.
        const q = prepared.get('dashboardSessions.get', (p) =>
          db
            .selectFrom('dashboard_sessions as s')
            .leftJoin('credentials as c', 'c.id', 's.credential_id')
            .selectAll('s')
            .where('s.id_hash', '=', p('idHash'))
            .where('s.idle_expires', '>', p('now'))
            .where('s.expires', '>', p('now'))
            .where((w) => w.or([w('s.credential_id', 'is', null), w('c.revoked', 'is', null)])),
        )
        const r = (await db.executeQuery(q.bind({ idHash, now }))).rows[0]
        return r && toSession(r)
      }),
    touch: (idHash, idleExpires) =>
      run(async () => {
        await db
          .updateTable('dashboard_sessions')
          .set({ idle_expires: idleExpires })
          .where('id_hash', '=', idHash)
          .execute()
      }),
    delete: (idHash) =>
      run(
        async () =>
          deleted(
            await db.deleteFrom('dashboard_sessions').where('id_hash', '=', idHash).executeTakeFirst(),
          ) > 0,
      ),
    deleteAll: () => run(async () => deleted(await db.deleteFrom('dashboard_sessions').executeTakeFirst())),
    sweep: (now) =>
      run(async () =>
        deleted(
          await db
            .deleteFrom('dashboard_sessions')
            .where((w) => w.or([w('expires', '<=', now), w('idle_expires', '<=', now)]))
            .executeTakeFirst(),
        ),
      ),
  }
}

export function sqlPortalLinks(db: Kysely<Database>, run: Run): Store['portalLinks'] {
  return {
    create: (l) =>
      run(async () => {
        await db
          .insertInto('portal_links')
          .values({
            id: l.id,
            env_id: l.envId,
            token_hash: l.tokenHash,
            created: l.created,
            expires: l.expires,
            used: l.used,
          })
          .execute()
      }),
    list: (envId, now) =>
      run(async () =>
        (
          await db
            .selectFrom('portal_links')
            .selectAll()
            .where('env_id', '=', envId)
            .where('expires', '>', now)
            .orderBy('id', 'desc')
            .execute()
        ).map(toLink),
      ),
    redeem: (tokenHash, now, start) =>
      run(() =>
        db.transaction().execute(async (tx) => {
          // The update takes the row: of two concurrent openings, one finds it used.
          const r = await tx
            .updateTable('portal_links')
            .set({ used: now })
            .where('token_hash', '=', tokenHash)
            .where('used', 'is', null)
            .where('expires', '>', now)
            .returningAll()
            .executeTakeFirst()
          if (!r) return undefined
          const session = start(toLink(r))
          await insertSession(tx, session)
          return session
        }),
      ),
    revoke: (envId, id, now) =>
      run(() =>
        db.transaction().execute(async (tx) => {
          // The link first: a concurrent redeem then finds no row to take.
          const n = deleted(
            await tx
              .deleteFrom('portal_links')
              .where('id', '=', id)
              .where('env_id', '=', envId)
              .where('expires', '>', now)
              .executeTakeFirst(),
          )
          await tx.deleteFrom('dashboard_sessions').where('portal_link_id', '=', id).execute()
          return n > 0
        }),
      ),
    deleteAll: () => run(async () => deleted(await db.deleteFrom('portal_links').executeTakeFirst())),
    sweep: (now) =>
      run(async () =>
        deleted(await db.deleteFrom('portal_links').where('expires', '<=', now).executeTakeFirst()),
      ),
  }
}
