// Operational events (delivery.failed, subscription.deactivated, replay.finished): listed by the
// API, for one environment or, for the operator, all of them.
import { cursorPage } from '../shared/cursor-page.ts'
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
      const { page, nextCursor } = await cursorPage(q, 'oev', (f) =>
        deps.store.operationalEvents.list({
          ...(q.envId !== undefined ? { envId: q.envId } : {}),
          ...(q.type !== undefined ? { type: q.type } : {}),
          ...f,
        }),
      )
      return { events: page, nextCursor }
    },
  }
}

export type OperationalEvents = ReturnType<typeof operationalEvents>
