// Replay: re-queue a subscription's deliveries in a time range, keeping each delivery's id
// (so receivers can dedupe on webhook-id). A job with a count known before it starts, progress,
// and cancel; the maintenance loop advances it in chunks.
import { AppError } from '../shared/errors.ts'
import { newId } from '../shared/ids.ts'
import type { DeliveryStatus, ReplayJobRow, Store } from '../store/store.ts'
import { deliveryStatuses } from './deliveries.ts'

export interface ReplayIn {
  since: string
  until?: string | undefined
  status?: string | undefined
}

export const maxReplaySpanMs = 90 * 86_400_000

function time(raw: string, field: string): number {
  const t = Date.parse(raw)
  if (Number.isNaN(t)) {
    throw new AppError('invalid_request', {
      message: `${field} must be an ISO-8601 time`,
      details: [{ path: `/${field}`, message: 'not an ISO-8601 time' }],
    })
  }
  return t
}

export function replays(deps: { store: Store; now: () => number; onWork?: () => void }) {
  const { store, now } = deps
  return {
    async start(envId: string, subscriptionId: string, input: ReplayIn): Promise<ReplayJobRow> {
      const sub = await store.subscriptions.get(envId, subscriptionId)
      if (!sub) throw new AppError('subscription_not_found')
      const t = now()
      const since = time(input.since, 'since')
      const until = input.until === undefined ? t : time(input.until, 'until')
      if (until <= since) {
        throw new AppError('invalid_request', {
          message: 'until must be after since',
          details: [{ path: '/until', message: 'not after since' }],
        })
      }
      if (until - since > maxReplaySpanMs) {
        throw new AppError('invalid_request', {
          message: 'a replay spans at most 90 days',
          details: [{ path: '/since', message: 'span too long' }],
        })
      }
      if (input.status !== undefined && !deliveryStatuses.includes(input.status as DeliveryStatus)) {
        throw new AppError('invalid_request', {
          message: `status must be one of ${deliveryStatuses.join(', ')}`,
          details: [{ path: '/status', message: 'unknown status' }],
        })
      }
      const job = await store.replays.create({
        id: newId('job', t),
        envId,
        subscriptionId,
        since,
        until,
        statusFilter: (input.status as DeliveryStatus | undefined) ?? null,
        created: t,
      })
      deps.onWork?.()
      return job
    },
    async get(envId: string, id: string): Promise<ReplayJobRow> {
      const job = await store.replays.get(envId, id)
      if (!job) throw new AppError('replay_not_found')
      return job
    },
    list: (envId: string, subscriptionId?: string): Promise<ReplayJobRow[]> =>
      store.replays.list(envId, subscriptionId),
    async cancel(envId: string, id: string): Promise<ReplayJobRow> {
      const job = await store.replays.cancel(envId, id, now())
      if (!job) throw new AppError('replay_not_found')
      return job
    },
  }
}

export type Replays = ReturnType<typeof replays>
