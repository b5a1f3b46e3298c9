// The portal's "New subscription" page: a plain form (post, then redirect; shown again with the
// values as typed and the reason when refused).
import type { EventType } from '../../events/event-types.ts'
import type { DestinationTypeInfo } from '../../subscriptions/destination.ts'
import { CsrfField, ErrorBox, Page, type PageCtx } from './layout.tsx'
import { SubscriptionFields, type SubValues } from './subscription-fields.tsx'

const base = '/dashboard/portal'

export function NewSubscriptionPage(props: {
  ctx: PageCtx
  types: readonly EventType[]
  destinationTypes: readonly DestinationTypeInfo[]
  values: SubValues
  error?: string | undefined
}) {
  return (
    <Page ctx={{ ...props.ctx, current: 'subscriptions' }} title="New subscription">
      <h1>New subscription</h1>
      <ErrorBox text={props.error} />
      <form method="post" action={`${base}/subscriptions`} class="card">
        <CsrfField ctx={props.ctx} />
        <SubscriptionFields
          types={props.types}
          destinationTypes={props.destinationTypes}
          values={props.values}
          idp="new"
        />
        <div class="actions">
          <button type="submit">Create subscription</button>
          <a href={`${base}/subscriptions`}>Cancel</a>
        </div>
      </form>
    </Page>
  )
}
