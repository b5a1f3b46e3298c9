// Operational events (delivery.failed, subscription.deactivated, replay.finished): listed by the
// API, for one environment or, for the operator, all of them.
import { AppError } from '../shared/errors.ts'
import type { OperationalEventRow, Store } from '../store/store.ts'

export const operationalEventTypes = [
  'delivery.failed',
  'subscription.deactivated',
  'replay.finished',
] as const

export function operationalEvents(deps: { store: Store }) {
  return {
    async list(q: {
      envId?: string | undefined
      type?: string | undefined
      cursor?: string | undefined
      limit?: number | undefined
    }): Promise<{ events: OperationalEventRow[]; nextCursor: string | null }> {
      if (q.type !== undefined && !(operationalEventTypes as readonly string[]).includes(q.type)) {
        throw new AppError('invalid_request', {
          message: `type must be one of ${operationalEventTypes.join(', ')}`,
          details: [{ path: '/type', message: 'unknown type' }],
        })
      }
      let beforeId: string | undefined
      if (q.cursor !== undefined) {
        beforeId = Buffer.from(q.cursor, 'base64url').toString('utf8')
        if (!/^oev_[0-9A-Za-z]+$/.test(beforeId)) throw new AppError('invalid_cursor')
      }
      const limit = q.limit ?? 50
      const rows = await deps.store.operationalEvents.list({
        ...(q.envId !== undefined ? { envId: q.envId } : {}),
        ...(q.type !== undefined ? { type: q.type } : {}),
        ...(beforeId !== undefined ? { beforeId } : {}),
        limit: limit + 1,
      })
      const page = rows.slice(0, limit)
      const last = page[page.length - 1]
      return {
        events: page,
        nextCursor: rows.length > limit && last ? Buffer.from(last.id).toString('base64url') : null,
      }
    },
  }
}

export type OperationalEvents = ReturnType<typeof operationalEvents>
