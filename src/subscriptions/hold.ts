// Whether a subscription is held: nothing is sent to it, its deliveries wait (pending, no due
// time) and go out, oldest first, once it is released. Pause and endpoint verification are the
// two reasons; the store keeps the deliveries in step with the flag the core decides here.
import type { SubscriptionRow } from '../store/store.ts'

export function isHeld(s: Pick<SubscriptionRow, 'paused' | 'verification'>): boolean {
  const v = s.verification?.state
  return (s.paused ?? false) || v === 'pending' || v === 'failed'
}
