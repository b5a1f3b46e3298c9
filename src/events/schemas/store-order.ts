// store.order_updated. Only the event name is confirmed by BaseKit; the field names follow the
// store-order object of BaseKit's official PHP API client (service/ecommerce.json), the rest is
// inferred. docs/events.md lists every assumption.
import {
  dateTime,
  eventSchema,
  exampleOwner,
  integerRef,
  type JsonSchema,
  lenientObject,
  ownerAccountHolder,
  text,
} from './common.ts'

/** The REST API sends these flags as 0 or 1; a JSON webhook might send booleans instead. */
function flag(description: string): JsonSchema {
  return { enum: [0, 1, false, true], description: `${description} 0/1 (booleans accepted).` }
}

export const storeOrderUpdatedSchema: JsonSchema = eventSchema({
  name: 'store.order_updated',
  title: 'store.order_updated',
  description: 'An order in a site’s online store changed (e.g. paid, dispatched or abandoned).',
  required: ['order'],
  properties: {
    order: lenientObject(
      'The order after the change (inferred shape; field names from BaseKit’s REST store order).',
      {
        ref: integerRef('Order ref.'),
        storeRef: integerRef('Ref of the store the order belongs to.'),
        siteRef: integerRef('Ref of the site the store belongs to.'),
        customerRef: integerRef('Ref of the store customer.'),
        status: text('Order status, e.g. "pending" (other values not documented).'),
        price: { type: 'number', description: 'Order total.' },
        paid: flag('Whether the order is paid:'),
        dispatched: flag('Whether the order is dispatched:'),
        abandoned: flag('Whether the checkout was abandoned:'),
        notes: text('Notes on the order.'),
        items: {
          type: 'array',
          description: 'Order lines.',
          items: lenientObject('One order line.', {
            productVariationRef: integerRef('Ref of the product variation bought.'),
            quantity: { type: 'integer', description: 'Number of units.' },
            price: { type: 'number', description: 'Unit price.' },
            currencyRef: integerRef('Currency ref.'),
            deliveryRef: integerRef('Delivery option ref.'),
          }),
        },
        created: dateTime('When the order was placed.'),
        updated: dateTime('When the order last changed.'),
        accountHolder: ownerAccountHolder,
      },
      ['ref'],
    ),
  },
})

export const storeOrderUpdatedExample = {
  eventName: 'store.order_updated',
  order: {
    ref: 7781,
    storeRef: 311,
    siteRef: 3412,
    customerRef: 5402,
    status: 'pending',
    price: 54.97,
    paid: 1,
    dispatched: 0,
    abandoned: 0,
    notes: 'Please leave the parcel at the front door.',
    items: [
      { productVariationRef: 902, quantity: 2, price: 19.99, currencyRef: 1, deliveryRef: 3 },
      { productVariationRef: 915, quantity: 1, price: 14.99, currencyRef: 1, deliveryRef: 3 },
    ],
    created: '2023-03-09T18:20:05+00:00',
    updated: '2023-03-09T18:24:51+00:00',
    accountHolder: exampleOwner,
  },
}
