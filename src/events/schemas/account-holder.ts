// account_holder.created (documented by BaseKit in full) and account_holder.package_change
// (documented only up to accountHolder.email; the rest follows account_holder.created).
import { accountHolderSchema, eventSchema, type JsonSchema } from './common.ts'

export const accountHolderCreatedSchema: JsonSchema = eventSchema({
  name: 'account_holder.created',
  title: 'account_holder.created',
  description: 'An account holder (a user of the brand) was created.',
  required: ['accountHolder'],
  properties: {
    accountHolder: accountHolderSchema({
      description: 'The new account holder, as in BaseKit’s documented example.',
      required: [
        'ref',
        'firstName',
        'lastName',
        'email',
        'username',
        'created',
        'brand',
        'packages',
        'metadata',
      ],
      brandRequired: ['ref', 'name'],
      packageRequired: ['ref', 'name', 'productType', 'startDate', 'endDate'],
    }),
  },
})

/** BaseKit's documented example, key for key and value for value (https://apidocs.basekit.com/webhooks). */
export const accountHolderCreatedExample = {
  eventName: 'account_holder.created',
  accountHolder: {
    ref: 199,
    firstName: 'Web',
    lastName: 'Hook',
    email: 'webhooks@basekit.com',
    username: 'webhooks@basekit.com',
    created: '2023-03-06T10:15:59+00:00',
    brand: { ref: 1, name: 'BaseKit Brand' },
    packages: [
      {
        ref: 1,
        name: 'Demo Package',
        productType: 'subscription',
        startDate: '2023-03-06T10:15:59+00:00',
        endDate: null,
      },
      {
        ref: 2,
        name: 'Add-on Package',
        productType: 'add-on',
        startDate: '2023-03-06T10:15:59+00:00',
        endDate: null,
      },
    ],
    metadata: { key1: 'value1' },
  },
}

export const accountHolderPackageChangeSchema: JsonSchema = eventSchema({
  name: 'account_holder.package_change',
  title: 'account_holder.package_change',
  description:
    'An account holder’s packages changed (a new main package or an add-on was assigned, or one ended).',
  required: ['accountHolder'],
  properties: {
    accountHolder: accountHolderSchema({
      description:
        'The account holder after the change. ref, firstName, lastName and email are confirmed by BaseKit; ' +
        'the other fields are inferred from account_holder.created.',
      required: ['ref', 'firstName', 'lastName', 'email'],
      brandRequired: ['ref'],
      packageRequired: ['ref'],
    }),
  },
})

/** Inferred beyond `accountHolder.email`: the account holder of account_holder.created, moved to a new main package. */
export const accountHolderPackageChangeExample = {
  eventName: 'account_holder.package_change',
  accountHolder: {
    ref: 199,
    firstName: 'Web',
    lastName: 'Hook',
    email: 'webhooks@basekit.com',
    username: 'webhooks@basekit.com',
    created: '2023-03-06T10:15:59+00:00',
    brand: { ref: 1, name: 'BaseKit Brand' },
    packages: [
      {
        ref: 1,
        name: 'Demo Package',
        productType: 'subscription',
        startDate: '2023-03-06T10:15:59+00:00',
        endDate: '2023-04-12T09:30:00+00:00',
      },
      {
        ref: 3,
        name: 'Pro Package',
        productType: 'subscription',
        startDate: '2023-04-12T09:30:00+00:00',
        endDate: null,
      },
      {
        ref: 2,
        name: 'Add-on Package',
        productType: 'add-on',
        startDate: '2023-03-06T10:15:59+00:00',
        endDate: null,
      },
    ],
    metadata: { key1: 'value1' },
  },
}
