// Audit log entries over Kysely (both adapters).
import type { AuditEntryRow, Store } from '../store.ts'
import type { SqlContext } from './sql-store.ts'

export function sqlAudit({ db, run }: SqlContext): Store['audit'] {
  return {
    record: (e) =>
      run(async () => {
        await db
          .insertInto('audit_log')
          .values({
            id: e.id,
            env_id: e.envId,
            actor: e.actor,
            action: e.action,
            target: e.target,
            detail: JSON.stringify(e.detail),
            created: e.created,
            request_id: e.requestId,
          })
          .execute()
      }),
    list: (f) =>
      run(async () =>
        (
          await db
            .selectFrom('audit_log')
            .selectAll()
            .$if(f.envId !== undefined, (q) => q.where('env_id', '=', f.envId!))
            .$if(f.action !== undefined, (q) => q.where('action', '=', f.action!))
            .$if(f.beforeId !== undefined, (q) => q.where('id', '<', f.beforeId!))
            .orderBy('id', 'desc')
            .limit(f.limit)
            .execute()
        ).map(
          (r): AuditEntryRow => ({
            id: r.id,
            envId: r.env_id,
            actor: r.actor,
            action: r.action,
            target: r.target,
            detail: JSON.parse(r.detail) as Record<string, unknown>,
            created: Number(r.created),
            requestId: r.request_id,
          }),
        ),
      ),
  }
}
