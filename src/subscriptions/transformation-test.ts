// "Test run" of a transformation: the saved code (or code not saved yet) applied to a payload
// (given, or the event type's example) under the same rules as a delivery, and nothing sent.
import { findEventType } from '../events/event-types.ts'
import { AppError } from '../shared/errors.ts'
import type { Store } from '../store/store.ts'
import type { UrlCheck } from './subscriptions.ts'
import { checkTransformation, type Transformer, transform } from './transformation.ts'

export interface TransformationTestIn {
  /** Code to try instead of the saved one. */
  code?: string | undefined
  /** The payload to transform; default: the event type's example. */
  payload?: unknown
}

export type TransformationTestResult =
  | {
      kind: 'send'
      webhook: { eventName: string; payload: unknown; url: string; headers: Record<string, string> }
    }
  | { kind: 'cancel' }
  | { kind: 'error'; message: string }

export function transformationTests(deps: {
  store: Pick<Store, 'subscriptions'>
  transformer?: Transformer | undefined
  checkUrl: UrlCheck
  maxBodyBytes: number
}) {
  return {
    async run(
      envId: string,
      subscriptionId: string,
      input: TransformationTestIn,
    ): Promise<TransformationTestResult> {
      const sub = await deps.store.subscriptions.get(envId, subscriptionId)
      if (!sub) throw new AppError('subscription_not_found')
      let code = sub.transformation ?? null
      if (input.code !== undefined) code = await checkTransformation(deps.transformer, input.code, '/code')
      if (code === null || !deps.transformer) {
        throw new AppError('invalid_transformation', {
          message: 'The subscription has no transformation: give one as code.',
          details: [{ path: '/code', message: 'required: the subscription has no transformation saved' }],
        })
      }
      const payload = input.payload === undefined ? findEventType(sub.event)?.example : input.payload
      const payloadJson = JSON.stringify(payload ?? null)
      const t = await transform(
        { transformer: deps.transformer, checkUrl: deps.checkUrl, maxBodyBytes: deps.maxBodyBytes },
        code,
        { eventName: sub.event, payloadJson, url: sub.url, headers: {} },
      )
      if (t.kind !== 'send') return t
      return {
        kind: 'send',
        webhook: {
          eventName: t.eventName,
          payload: JSON.parse(t.body.toString('utf8')) as unknown,
          url: t.url,
          headers: t.headers,
        },
      }
    },
  }
}

export type TransformationTests = ReturnType<typeof transformationTests>
