// The audit log of operator and secret actions: append-only, listed by the operator
// (GET /admin/audit). An entry says who (the operator or a credential id) did what to which
// resource, and never carries a secret: details are scrubbed before they are stored.
import { cursorPage } from '../shared/cursor-page.ts'
import { AppError } from '../shared/errors.ts'
import { newId } from '../shared/ids.ts'
import type { AuditEntryRow, Store } from '../store/store.ts'

export const auditActions = [
  'environment.created',
  'credential.created',
  'credential.revoked',
  'signing_secret.rotated',
  'signing_key.created',
  'signing_key.deleted',
  'portal_link.issued',
  'portal_link.revoked',
  'master_key.rotated',
] as const

export type AuditAction = (typeof auditActions)[number]

/** The actor of actions taken with the operator token or the CLI. */
export const operatorActor = 'operator'

export interface AuditInput {
  action: AuditAction
  /** `operator` or the acting credential's id. */
  actor: string
  envId?: string | null
  target?: string | null
  detail?: Record<string, unknown>
  requestId?: string | null
}

/** Keys whose values are never kept, whatever they hold. */
const secretKeys = /secret|token|password|authorization|ciphertext|masterkey|^key$/i
/** Values that look like one of Hookpost's secrets (signing, credential, operator token, portal link, session). */
const secretValues = /(whsec_|hps_|hpa_|hpl_|hds_)[A-Za-z0-9+/=_-]*/g

/** Copies detail without secret-named keys and with secret-looking strings masked. */
export function scrubDetail(detail: Record<string, unknown>, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(detail)) {
    if (secretKeys.test(k)) continue
    out[k] = scrubValue(v, depth)
  }
  return out
}

function scrubValue(v: unknown, depth: number): unknown {
  if (typeof v === 'string') return v.replace(secretValues, '$1[redacted]')
  if (Array.isArray(v)) return depth > 4 ? '[truncated]' : v.map((x) => scrubValue(x, depth + 1))
  if (v !== null && typeof v === 'object') {
    return depth > 4 ? '[truncated]' : scrubDetail(v as Record<string, unknown>, depth + 1)
  }
  return v
}

function auditId(now: number): string {
  return newId('aud', now)
}

export function auditLog(deps: { store: Store; now?: () => number }) {
  const now = deps.now ?? Date.now
  return {
    async record(input: AuditInput): Promise<AuditEntryRow> {
      const t = now()
      const entry: AuditEntryRow = {
        id: auditId(t),
        envId: input.envId ?? null,
        actor: input.actor,
        action: input.action,
        target: input.target ?? null,
        detail: scrubDetail(input.detail ?? {}),
        created: t,
        // A caller may choose its request id (X-Request-Id): it is masked like any detail.
        requestId: input.requestId == null ? null : (scrubValue(input.requestId, 0) as string),
      }
      await deps.store.audit.record(entry)
      return entry
    },

    async list(q: {
      envId?: string | undefined
      action?: string | undefined
      cursor?: string | undefined
      limit?: number | undefined
    }): Promise<{ entries: AuditEntryRow[]; nextCursor: string | null }> {
      if (q.action !== undefined && !(auditActions as readonly string[]).includes(q.action)) {
        throw new AppError('invalid_request', {
          message: `action must be one of ${auditActions.join(', ')}`,
          details: [{ path: '/action', message: 'unknown action' }],
        })
      }
      const { page, nextCursor } = await cursorPage(q, 'aud', (f) =>
        deps.store.audit.list({
          ...(q.envId !== undefined ? { envId: q.envId } : {}),
          ...(q.action !== undefined ? { action: q.action } : {}),
          ...f,
        }),
      )
      return { entries: page, nextCursor }
    },
  }
}

export type AuditLog = ReturnType<typeof auditLog>
