// The registered broker destination types. Adding one: its module, a line here, a section in
// docs/destinations.md (the core, the worker and the API schemas do not change).
import { amqpDestination } from './amqp.ts'
import type { BrokerDestinationType } from './destination-type.ts'
import { natsDestination } from './nats.ts'
import { redisDestination } from './redis.ts'

export const brokerDestinationTypes: readonly BrokerDestinationType[] = [
  amqpDestination,
  natsDestination,
  redisDestination,
]
