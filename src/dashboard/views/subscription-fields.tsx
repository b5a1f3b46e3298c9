// The fields a subscription is created and edited with: its event type, its destination, active
// and ordered. The new subscription page and a subscription's "Edit" card share them.
import type { EventType } from '../../events/event-types.ts'
import type { DestinationTypeInfo } from '../../subscriptions/destination.ts'
import { DestinationFields, type DestinationValues } from './destination-fields.tsx'

export interface SubValues {
  event?: string | undefined
  url?: string | undefined
  destination?: DestinationValues | undefined
  active: boolean
  ordered: boolean
}

export function SubscriptionFields(props: {
  types: readonly EventType[]
  destinationTypes: readonly DestinationTypeInfo[]
  values: SubValues
  idp: string
}) {
  const { values, idp } = props
  return (
    <>
      <label for={`${idp}-event`}>Event type</label>
      <select id={`${idp}-event`} name="event" required>
        {props.types.map((t) => (
          <option key={t.name} value={t.name} selected={t.name === values.event}>
            {t.name}
          </option>
        ))}
      </select>
      <DestinationFields
        types={props.destinationTypes}
        value={values.destination ?? { type: 'http', url: values.url ?? '' }}
        idp={idp}
      />
      <p>
        <label class="inline">
          <input type="checkbox" name="active" value="true" checked={values.active} /> Active
        </label>
      </p>
      <p>
        <label class="inline">
          <input type="checkbox" name="ordered" value="true" checked={values.ordered} /> Ordered (one at a
          time per ordering key)
        </label>
      </p>
    </>
  )
}
