// booking.updated. Only the event name is confirmed by BaseKit; the whole `booking` object is
// inferred (BaseKit publishes no booking schema). docs/events.md lists every assumption.
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

export const bookingUpdatedSchema: JsonSchema = eventSchema({
  name: 'booking.updated',
  title: 'booking.updated',
  description:
    'A booking made through a site’s booking feature changed (e.g. confirmed, moved or cancelled).',
  required: ['booking'],
  properties: {
    booking: lenientObject(
      'The booking after the change (inferred shape).',
      {
        ref: integerRef('Booking ref.'),
        siteRef: integerRef('Ref of the site the booking was made on.'),
        status: text('Booking status, e.g. "confirmed" or "cancelled" (values not documented).'),
        service: lenientObject('The booked service.', {
          ref: integerRef('Service ref.'),
          name: text('Service name.'),
        }),
        startDate: dateTime('Start of the booked slot.'),
        endDate: dateTime('End of the booked slot.'),
        customer: lenientObject('The person who made the booking (a site visitor, not an account holder).', {
          firstName: text('First name.'),
          lastName: text('Last name.'),
          email: text('Email address.'),
          phone: text('Phone number as entered.'),
        }),
        created: dateTime('When the booking was made.'),
        updated: dateTime('When the booking last changed.'),
        accountHolder: ownerAccountHolder,
      },
      ['ref'],
    ),
  },
})

export const bookingUpdatedExample = {
  eventName: 'booking.updated',
  booking: {
    ref: 5021,
    siteRef: 3412,
    status: 'confirmed',
    service: { ref: 12, name: 'Initial Consultation' },
    startDate: '2023-03-10T14:00:00+00:00',
    endDate: '2023-03-10T14:30:00+00:00',
    customer: {
      firstName: 'Jane',
      lastName: 'Doe',
      email: 'jane.doe@example.com',
      phone: '+44 20 7946 0958',
    },
    created: '2023-03-07T08:12:45+00:00',
    updated: '2023-03-07T09:03:17+00:00',
    accountHolder: exampleOwner,
  },
}
