// site.first_publish and site.publish share one shape. Only the event names are confirmed by
// BaseKit; `ref`, `primaryDomain` and `domains` follow BaseKit's REST site object, the rest is
// inferred. docs/events.md lists every assumption.
import {
  dateTime,
  eventSchema,
  exampleOwner,
  integerRef,
  type JsonSchema,
  lenientObject,
  ownerAccountHolder,
  phpMap,
  text,
} from './common.ts'

function siteEventSchema(name: string, description: string, siteDescription: string): JsonSchema {
  return eventSchema({
    name,
    title: name,
    description,
    required: ['site'],
    properties: {
      site: lenientObject(
        siteDescription,
        {
          ref: integerRef('Site ref.'),
          primaryDomain: lenientObject('The site’s primary domain (as in the REST site object).', {
            ref: integerRef('Domain ref.'),
            domainName: text('Host name.'),
          }),
          domains: phpMap(
            'All domains of the site: domain ref -> host name (as in the REST site object); `[]` when empty.',
            { type: 'string' },
          ),
          published: dateTime('When this publish happened.'),
          accountHolder: ownerAccountHolder,
        },
        ['ref'],
      ),
    },
  })
}

export const siteFirstPublishSchema: JsonSchema = siteEventSchema(
  'site.first_publish',
  'A site was published for the first time.',
  'The site that was published for the first time (inferred shape).',
)

export const sitePublishSchema: JsonSchema = siteEventSchema(
  'site.publish',
  'A site was published (sent on every publish).',
  'The site that was published (inferred shape).',
)

const exampleSite = {
  ref: 3412,
  primaryDomain: { ref: 88, domainName: 'webhook-demo.example.com' },
  domains: { '88': 'webhook-demo.example.com', '89': 'www.webhook-demo.example.com' },
}

export const siteFirstPublishExample = {
  eventName: 'site.first_publish',
  site: { ...exampleSite, published: '2023-03-06T11:02:37+00:00', accountHolder: exampleOwner },
}

export const sitePublishExample = {
  eventName: 'site.publish',
  site: { ...exampleSite, published: '2023-03-08T16:42:11+00:00', accountHolder: exampleOwner },
}
