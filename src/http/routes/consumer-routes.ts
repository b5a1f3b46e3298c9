// Consumer API at BaseKit's paths (contract section 4): subscriptions, the signing secret, the
// event catalogue and the delivery log. Every query is scoped to the credential's environment.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { Hookpost } from '../../hookpost.ts'
import { credentialGuard, envOf } from '../auth.ts'
import {
  iso,
  presentAttempt,
  presentDelivery,
  presentOperationalEvent,
  presentReplay,
  presentSigningKey,
  presentSubscription,
} from '../presenters.ts'
import {
  DeliveriesQuery,
  DeliveryOut,
  DeliveryWithAttemptsOut,
  DestinationTypeOut,
  ErrorOut,
  EventTypeOut,
  HmacSecretOut,
  OperationalEventOut,
  OperationalEventsQuery,
  ReplayIn,
  ReplayOut,
  SigningKeyIn,
  SigningKeyOut,
  SubscriptionIn,
  SubscriptionOut,
  UrlCheckIn,
  UrlCheckOut,
} from '../schemas.ts'

const security = [{ basicAuth: [] }]
const errors = { 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut }
const SubscriptionParams = Type.Object({ subscriptionId: Type.String({ maxLength: 100 }) })
const DeliveryParams = Type.Object({ deliveryId: Type.String({ maxLength: 100 }) })
const ReplayParams = Type.Object({ replayId: Type.String({ maxLength: 100 }) })
const SigningKeyParams = Type.Object({ signingKeyId: Type.String({ maxLength: 100 }) })

export const consumerRoutes: FastifyPluginAsyncTypebox<{ hookpost: Hookpost }> = async (
  app,
  { hookpost },
) => {
  app.addHook('onRequest', credentialGuard(hookpost.environments, 'consumer'))
  const subs = hookpost.subscriptions

  app.get(
    '/webhooks/subscription',
    {
      schema: {
        tags: ['subscriptions'],
        operationId: 'listSubscriptions',
        summary: 'List subscriptions, active and inactive',
        security,
        response: { 200: Type.Object({ subscriptions: Type.Array(SubscriptionOut) }), ...errors },
      },
    },
    async (req) => ({ subscriptions: (await subs.list(envOf(req))).map(presentSubscription) }),
  )

  app.post(
    '/webhooks/subscription',
    {
      schema: {
        tags: ['subscriptions'],
        operationId: 'createSubscription',
        summary: 'Create a subscription: one event type, one URL',
        security,
        body: SubscriptionIn,
        response: { 201: Type.Object({ subscription: SubscriptionOut }), ...errors },
      },
    },
    async (req, reply) => {
      const s = await subs.create(envOf(req), req.body)
      return reply.status(201).send({ subscription: presentSubscription(s) })
    },
  )

  app.get(
    '/webhooks/subscription/:subscriptionId',
    {
      schema: {
        tags: ['subscriptions'],
        operationId: 'getSubscription',
        summary: 'Get one subscription',
        security,
        params: SubscriptionParams,
        response: { 200: Type.Object({ subscription: SubscriptionOut }), ...errors },
      },
    },
    async (req) => ({
      subscription: presentSubscription(await subs.get(envOf(req), req.params.subscriptionId)),
    }),
  )

  app.put(
    '/webhooks/subscription/:subscriptionId',
    {
      schema: {
        tags: ['subscriptions'],
        operationId: 'replaceSubscription',
        summary: 'Replace a subscription (all fields required); deactivating cancels its pending deliveries',
        security,
        params: SubscriptionParams,
        body: SubscriptionIn,
        response: { 200: Type.Object({ subscription: SubscriptionOut }), ...errors },
      },
    },
    async (req) => ({
      subscription: presentSubscription(await subs.update(envOf(req), req.params.subscriptionId, req.body)),
    }),
  )

  app.delete(
    '/webhooks/subscription/:subscriptionId',
    {
      schema: {
        tags: ['subscriptions'],
        operationId: 'deleteSubscription',
        summary: 'Delete a subscription; its pending deliveries are cancelled',
        security,
        params: SubscriptionParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (req, reply) => {
      await subs.delete(envOf(req), req.params.subscriptionId)
      return reply.status(204).send(null)
    },
  )

  app.post(
    '/webhooks/hmac-secret',
    {
      schema: {
        tags: ['secrets'],
        operationId: 'rotateSigningSecret',
        summary:
          'Generate a new signing secret for the environment (shown once); the previous one keeps signing beside it until previousExpires',
        description:
          'Every environment has a secret from its creation, so every delivery is signed, but nobody is shown that one: the first call replaces it at once and answers previousExpires null. After that, the previous secret keeps signing beside the new one for HOOKPOST_SECRET_GRACE (24 h by default). Concurrent calls, on any node, take turns: the secret each answers became the current one in its turn and, once the next call replaced it, keeps signing for the grace like any previous secret.',
        security,
        response: { 201: HmacSecretOut, ...errors },
      },
    },
    async (req, reply) => {
      const r = await hookpost.secrets.rotate(envOf(req))
      return reply
        .status(201)
        .header('cache-control', 'no-store')
        .send({
          hmacSecret: {
            secret: r.secret,
            created: iso(r.created),
            previousExpires: r.previousExpires === null ? null : iso(r.previousExpires),
          },
        })
    },
  )

  app.post(
    '/webhooks/signing-keys',
    {
      schema: {
        tags: ['secrets'],
        operationId: 'createSigningKey',
        summary:
          'Create an Ed25519 key pair: from now on every delivery also carries a v1a signature in webhook-signature',
        description:
          'The answer shows the public key (whpk_…), which a receiver verifies v1a with; the private key is sealed and never shown. At most 10 keys per environment (signing_key_limit).',
        security,
        body: SigningKeyIn,
        response: { 201: Type.Object({ signingKey: SigningKeyOut }), 409: ErrorOut, ...errors },
      },
    },
    async (req, reply) =>
      reply
        .status(201)
        .send({ signingKey: presentSigningKey(await hookpost.signingKeys.create(envOf(req))) }),
  )

  app.get(
    '/webhooks/signing-keys',
    {
      schema: {
        tags: ['secrets'],
        operationId: 'listSigningKeys',
        summary: "The environment's Ed25519 signing keys (public keys only), oldest first",
        security,
        response: { 200: Type.Object({ signingKeys: Type.Array(SigningKeyOut) }), ...errors },
      },
    },
    async (req) => ({ signingKeys: (await hookpost.signingKeys.list(envOf(req))).map(presentSigningKey) }),
  )

  app.delete(
    '/webhooks/signing-keys/:signingKeyId',
    {
      schema: {
        tags: ['secrets'],
        operationId: 'deleteSigningKey',
        summary: 'Delete an Ed25519 signing key: deliveries stop carrying its v1a signature',
        security,
        params: SigningKeyParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (req, reply) => {
      await hookpost.signingKeys.delete(envOf(req), req.params.signingKeyId)
      return reply.status(204).send(null)
    },
  )

  app.get(
    '/webhooks/event-types',
    {
      schema: {
        tags: ['event types'],
        operationId: 'listEventTypes',
        summary: 'The event catalogue, each type with its JSON Schema and an example payload',
        security,
        response: { 200: Type.Object({ eventTypes: Type.Array(EventTypeOut) }), ...errors },
      },
    },
    async () => ({
      eventTypes: hookpost.eventTypes.map((t) => ({
        name: t.name,
        description: t.description,
        schema: t.schema,
        example: t.example,
      })),
    }),
  )

  app.get(
    '/webhooks/destination-types',
    {
      schema: {
        tags: ['subscriptions'],
        operationId: 'listDestinationTypes',
        summary: 'The destination types a subscription may name, each with its fields',
        security,
        response: { 200: Type.Object({ destinationTypes: Type.Array(DestinationTypeOut) }), ...errors },
      },
    },
    async () => ({
      destinationTypes: hookpost.destinationTypes.map((t) => ({ ...t, fields: [...t.fields] })),
    }),
  )

  app.get(
    '/webhooks/deliveries',
    {
      schema: {
        tags: ['deliveries'],
        operationId: 'listDeliveries',
        summary: 'The delivery log, newest first, in pages',
        security,
        querystring: DeliveriesQuery,
        response: {
          200: Type.Object({
            deliveries: Type.Array(DeliveryOut),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
          }),
          ...errors,
        },
      },
    },
    async (req) => {
      const { limit, ...rest } = req.query
      const r = await hookpost.deliveries.list(envOf(req), {
        ...rest,
        limit: limit === undefined ? undefined : Number(limit),
      })
      return { deliveries: r.deliveries.map(presentDelivery), nextCursor: r.nextCursor }
    },
  )

  app.get(
    '/webhooks/deliveries/:deliveryId',
    {
      schema: {
        tags: ['deliveries'],
        operationId: 'getDelivery',
        summary: 'One delivery with its attempt log',
        security,
        params: DeliveryParams,
        response: { 200: Type.Object({ delivery: DeliveryWithAttemptsOut }), ...errors },
      },
    },
    async (req) => {
      const r = await hookpost.deliveries.get(envOf(req), req.params.deliveryId)
      return { delivery: { ...presentDelivery(r.delivery), attemptLog: r.attempts.map(presentAttempt) } }
    },
  )

  app.post(
    '/webhooks/deliveries/:deliveryId/retry',
    {
      schema: {
        tags: ['deliveries'],
        operationId: 'retryDelivery',
        summary: 'One more attempt now, under the same delivery id',
        description:
          'A pending delivery gets this attempt on top of its schedule: if it fails, the automatic retries go on as before (the same number left, the next after the delay the schedule had reached). A delivered, failed or cancelled delivery gets this one attempt. 409 delivery_not_retryable while an attempt is in flight or when its subscription was deleted; 409 delivery_held while its subscription is paused or its endpoint not verified (it goes out once resumed or verified).',
        security,
        params: DeliveryParams,
        response: { 202: Type.Object({ delivery: DeliveryOut }), 409: ErrorOut, ...errors },
      },
    },
    async (req, reply) => {
      const d = await hookpost.deliveries.retry(envOf(req), req.params.deliveryId)
      return reply.status(202).send({ delivery: presentDelivery(d) })
    },
  )
  app.post(
    '/webhooks/subscription/:subscriptionId/test',
    {
      schema: {
        tags: ['subscriptions'],
        operationId: 'sendTestDelivery',
        summary: "Send the event type's example payload to this one subscription, signed like any delivery",
        security,
        params: SubscriptionParams,
        response: {
          202: Type.Object({
            event: Type.Object({ id: Type.String() }),
            delivery: Type.Object({ id: Type.String() }),
          }),
          409: ErrorOut,
          ...errors,
        },
      },
    },
    async (req, reply) => {
      const r = await hookpost.testDeliveries.send(envOf(req), req.params.subscriptionId)
      return reply.status(202).send({ event: { id: r.eventId }, delivery: { id: r.deliveryId } })
    },
  )

  app.post(
    '/webhooks/subscription/:subscriptionId/replay',
    {
      schema: {
        tags: ['deliveries'],
        operationId: 'startReplay',
        summary:
          "Replay a subscription's deliveries created in [since, until), optionally of one status, under their own ids",
        description:
          'Starts a replay job: total is counted before it starts; the deliveries go out again with a fresh retry schedule and the same webhook-id.',
        security,
        params: SubscriptionParams,
        body: ReplayIn,
        response: { 202: Type.Object({ replay: ReplayOut }), ...errors },
      },
    },
    async (req, reply) => {
      const job = await hookpost.replays.start(envOf(req), req.params.subscriptionId, req.body)
      return reply.status(202).send({ replay: presentReplay(job) })
    },
  )

  app.get(
    '/webhooks/replays',
    {
      schema: {
        tags: ['deliveries'],
        operationId: 'listReplays',
        summary: 'Replay jobs, newest first',
        security,
        querystring: Type.Object({ subscriptionId: Type.Optional(Type.String({ maxLength: 100 })) }),
        response: { 200: Type.Object({ replays: Type.Array(ReplayOut) }), ...errors },
      },
    },
    async (req) => ({
      replays: (await hookpost.replays.list(envOf(req), req.query.subscriptionId)).map(presentReplay),
    }),
  )

  app.get(
    '/webhooks/replays/:replayId',
    {
      schema: {
        tags: ['deliveries'],
        operationId: 'getReplay',
        summary: 'One replay job and its progress',
        security,
        params: ReplayParams,
        response: { 200: Type.Object({ replay: ReplayOut }), ...errors },
      },
    },
    async (req) => ({ replay: presentReplay(await hookpost.replays.get(envOf(req), req.params.replayId)) }),
  )

  app.post(
    '/webhooks/replays/:replayId/cancel',
    {
      schema: {
        tags: ['deliveries'],
        operationId: 'cancelReplay',
        summary: 'Stop a replay; deliveries already re-queued still go out',
        security,
        params: ReplayParams,
        response: { 200: Type.Object({ replay: ReplayOut }), ...errors },
      },
    },
    async (req) => ({
      replay: presentReplay(await hookpost.replays.cancel(envOf(req), req.params.replayId)),
    }),
  )

  app.get(
    '/webhooks/operational-events',
    {
      schema: {
        tags: ['operations'],
        operationId: 'listOperationalEvents',
        summary:
          "The environment's operational events (delivery.failed, subscription.deactivated, replay.finished), newest first",
        security,
        querystring: OperationalEventsQuery,
        response: {
          200: Type.Object({
            events: Type.Array(OperationalEventOut),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
          }),
          ...errors,
        },
      },
    },
    async (req) => {
      const { limit, ...rest } = req.query
      const r = await hookpost.operationalEvents.list({
        ...rest,
        envId: envOf(req),
        limit: limit === undefined ? undefined : Number(limit),
      })
      return { events: r.events.map(presentOperationalEvent), nextCursor: r.nextCursor }
    },
  )

  app.post(
    '/webhooks/url-check',
    {
      schema: {
        tags: ['subscriptions'],
        operationId: 'checkUrl',
        summary: 'Explain whether the sending policy accepts a URL, without saving anything',
        security,
        body: UrlCheckIn,
        response: { 200: UrlCheckOut, ...errors },
      },
    },
    async (req) => hookpost.explainUrl(req.body.url),
  )
}
