// One log line per delivery attempt that did not succeed, carrying the delivery's ids, so a
// JSON log search by deliveryId or subscriptionId finds what happened to it. Successes are
// debug; a retry is info; attempts exhausted and 410 Gone are warnings.
import type { AttemptReport } from '../deliveries/worker.ts'
import type { Logger } from '../shared/logger.ts'

export function attemptLogger(log: Logger): (a: AttemptReport) => void {
  return (a) => {
    const fields = {
      deliveryId: a.deliveryId,
      subscriptionId: a.subscriptionId,
      envId: a.envId,
      event: a.event,
      outcome: a.outcome,
      statusCode: a.statusCode,
      error: a.error,
      // The address a name resolved to, refused or unreachable: the operator's to see, never the tenant's.
      ...(a.detail !== undefined ? { detail: a.detail } : {}),
      durationMs: a.durationMs,
    }
    switch (a.outcome) {
      case 'delivered':
        log.debug(fields, 'delivered')
        break
      case 'retry':
        log.info(fields, 'delivery attempt failed; retry scheduled')
        break
      case 'failed':
        log.warn(fields, 'delivery failed: no attempts left')
        break
      case 'gone':
        log.warn(fields, 'endpoint answered 410 Gone: delivery failed, subscription deactivated')
        break
      case 'cancelled':
        log.info(fields, 'delivery cancelled by its transformation')
        break
    }
  }
}
