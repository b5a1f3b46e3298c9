// The development relay of `hookpost listen` (src/relay/relay-hub.ts), in two halves:
//
// - the consumer's side (Basic credentials): open a session, hold its event stream (SSE), post
//   the local server's answers, close it;
// - the receiving side, POST /relay/<token>: what the worker delivers to a temporary
//   subscription. It is a capability URL (a 32-character random token), reachable by the worker
//   only through the sending policy's exemption for `<public URL>/relay/<token>`, and it forwards
//   only requests whose `webhook-id` names a delivery of the session's own environment.
//
// Sessions live in this process: see relay-hub.ts for the multi-node limitation.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import type { Hookpost } from '../../hookpost.ts'
import { type RelayAnswer, type RelayHub, RelayLimitError } from '../../relay/relay-hub.ts'
import { AppError } from '../../shared/errors.ts'
import { credentialGuard, envOf } from '../auth.ts'
import { ErrorOut } from '../schemas.ts'

export interface RelayRoutesOptions {
  hookpost: Hookpost
  hub: RelayHub
  /** The origin relay URLs are built on (HOOKPOST_PUBLIC_URL or the API's own). */
  publicOrigin: () => string
  /** Largest relayed body (the event body limit). */
  bodyLimit: number
}

/** The local answer's body is kept up to this size, as an attempt's response body is. */
export const maxRelayAnswerBytes = 64 * 1024
const hopByHop = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-length',
  'upgrade',
  'te',
  'trailer',
  'proxy-authorization',
  'proxy-authenticate',
  'host',
])

const TokenParams = Type.Object({ token: Type.String({ pattern: '^[0-9A-Za-z_-]{1,100}$' }) })
const security = [{ basicAuth: [] }]
const errors = { 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut }
// Documentation only: fastify sends a string with a non-JSON type, and a Buffer, as they are.
const plainText = (description: string) => ({
  description,
  content: { 'text/plain': { schema: Type.String() } },
})

export function endToEndHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined || hopByHop.has(k.toLowerCase())) continue
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v
  }
  return out
}

const noSession = () =>
  new AppError('route_not_found', {
    message: 'No such relay session: it was closed, expired, or is held by another API node.',
  })

export const relayRoutes: FastifyPluginAsyncTypebox<RelayRoutesOptions> = async (app, opts) => {
  const { hookpost, hub } = opts
  const sessionOf = (req: FastifyRequest, token: string) => {
    const s = hub.get(token)
    // Another environment's session answers as if it did not exist.
    if (!s || s.envId !== envOf(req)) throw noSession()
    return s
  }

  const consumerSide: FastifyPluginAsyncTypebox = async (consumer) => {
    consumer.addHook('onRequest', credentialGuard(hookpost.environments, 'consumer'))

    consumer.post(
      '/relay/sessions',
      {
        schema: {
          tags: ['relay'],
          operationId: 'openRelaySession',
          summary: 'Open a development relay session (hookpost listen)',
          description:
            'Returns a relay URL to subscribe; deliveries to it are pushed on GET /relay/{token}/events. The session closes when no stream is attached for 30 s, then its URL answers 410 Gone.',
          security,
          response: {
            201: Type.Object({
              relay: Type.Object({
                token: Type.String(),
                url: Type.String(),
                deadlineMs: Type.Integer(),
                created: Type.String({ format: 'date-time' }),
              }),
            }),
            409: ErrorOut,
            ...errors,
          },
        },
      },
      async (req, reply) => {
        let s: ReturnType<RelayHub['open']>
        try {
          s = hub.open(envOf(req))
        } catch (e) {
          if (e instanceof RelayLimitError) throw new AppError('conflict', { message: e.message })
          throw e
        }
        return reply.status(201).send({
          relay: {
            token: s.token,
            url: `${opts.publicOrigin()}/relay/${s.token}`,
            deadlineMs: hub.deadlineMs,
            created: new Date(s.created).toISOString(),
          },
        })
      },
    )

    consumer.get(
      '/relay/:token/events',
      {
        schema: {
          tags: ['relay'],
          operationId: 'streamRelayRequests',
          summary: "The session's requests as a server-sent event stream",
          description:
            'Events: `ready`, then one `request` per relayed delivery ({ id, method, headers, body (base64) }), and `closed`. Comments keep the stream alive.',
          security,
          params: TokenParams,
          response: {
            200: {
              description: 'The event stream',
              content: { 'text/event-stream': { schema: Type.String() } },
            },
            ...errors,
          },
        },
      },
      async (req, reply) => {
        const s = sessionOf(req, req.params.token)
        reply.hijack()
        const res = reply.raw
        res.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-store',
          'x-accel-buffering': 'no',
          'x-request-id': req.id,
        })
        const send = (event: string, data: unknown) => {
          if (!res.writableEnded) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)
        }
        let ended = false
        let detach: (() => void) | undefined
        const ping = setInterval(() => {
          if (!res.writableEnded) res.write(': ping\n\n')
        }, 15_000)
        const end = () => {
          if (ended) return
          ended = true
          clearInterval(ping)
          detach?.()
          if (!res.writableEnded) res.end()
        }
        res.on('close', end)
        send('ready', { token: s.token, deadlineMs: hub.deadlineMs })
        detach = hub.attach(
          s.token,
          (r) =>
            send('request', {
              id: r.id,
              method: r.method,
              headers: r.headers,
              body: r.body.toString('base64'),
            }),
          () => {
            send('closed', { token: s.token })
            end()
          },
        )
        if (!detach) end()
        return reply
      },
    )

    consumer.post(
      '/relay/:token/responses/:requestId',
      {
        bodyLimit: 4 * maxRelayAnswerBytes,
        schema: {
          tags: ['relay'],
          operationId: 'answerRelayRequest',
          summary: "The local server's answer to one relayed request",
          security,
          params: Type.Object({
            token: Type.String({ pattern: '^[0-9A-Za-z_-]{1,100}$' }),
            requestId: Type.String({ pattern: '^[0-9A-Za-z_-]{1,100}$' }),
          }),
          body: Type.Object(
            {
              status: Type.Integer({ minimum: 200, maximum: 599 }),
              headers: Type.Optional(Type.Record(Type.String(), Type.String({ maxLength: 8192 }))),
              body: Type.Optional(
                Type.String({ maxLength: Math.ceil(maxRelayAnswerBytes / 3) * 4, description: 'base64' }),
              ),
            },
            { additionalProperties: false },
          ),
          response: { 204: Type.Null(), ...errors },
        },
      },
      async (req, reply) => {
        const s = sessionOf(req, req.params.token)
        const answer: RelayAnswer = {
          status: req.body.status,
          headers: endToEndHeaders(req.body.headers ?? {}),
          body: Buffer.from(req.body.body ?? '', 'base64').subarray(0, maxRelayAnswerBytes),
        }
        if (!hub.answer(s.token, req.params.requestId, answer)) {
          throw new AppError('route_not_found', {
            message: 'No such request waiting on this session (it timed out or was answered).',
          })
        }
        return reply.status(204).send(null)
      },
    )

    consumer.delete(
      '/relay/:token',
      {
        schema: {
          tags: ['relay'],
          operationId: 'closeRelaySession',
          summary: 'Close a relay session; its URL answers 410 Gone from now on',
          security,
          params: TokenParams,
          response: { 204: Type.Null(), ...errors },
        },
      },
      async (req, reply) => {
        hub.close(sessionOf(req, req.params.token).token)
        return reply.status(204).send(null)
      },
    )
  }
  await app.register(consumerSide)

  // The receiving side: any content type, the bytes kept as they came.
  const receivingSide: FastifyPluginAsyncTypebox = async (ingress) => {
    ingress.removeAllContentTypeParsers()
    ingress.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: opts.bodyLimit }, (_r, body, done) =>
      done(null, body),
    )
    const text = (reply: FastifyReply, status: number, message: string) =>
      reply.status(status).type('text/plain; charset=utf-8').send(`${message}\n`)

    ingress.post(
      '/relay/:token',
      {
        bodyLimit: opts.bodyLimit,
        schema: {
          tags: ['relay'],
          operationId: 'relayDelivery',
          summary: 'A delivery to a relay session, answered with what the local server answered',
          description:
            '410 when the session is closed (the subscription is then deactivated), 504 when no answer came in time.',
          // No credential: the token in the path is the capability (see the top of this file).
          security: [],
          params: TokenParams,
          response: {
            200: {
              description: "The local server's answer: its status (any), headers and body, as it gave them",
              content: { '*/*': { schema: Type.Unknown() } },
            },
            403: plainText("The delivery is not one of the session's environment"),
            410: plainText('The session is closed'),
            503: plainText('Too many requests are waiting on this session'),
            504: plainText('No answer from hookpost listen in time'),
          },
        },
      },
      async (req, reply) => {
        const s = hub.get(req.params.token)
        if (!s) return text(reply, 410, 'hookpost: this relay session is closed (hookpost listen stopped)')
        const webhookId = req.headers['webhook-id']
        const ours =
          typeof webhookId === 'string' &&
          /^dlv_[0-9A-Za-z]{1,60}$/.test(webhookId) &&
          (await hookpost.deliveries.exists(s.envId, webhookId))
        if (!ours) {
          return text(reply, 403, "hookpost: only deliveries of the session's environment are relayed")
        }
        const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0)
        const outcome = await hub.forward(s.token, {
          method: req.method,
          headers: endToEndHeaders(req.headers),
          body,
        })
        switch (outcome.kind) {
          case 'answer':
            // Whatever status the local server chose (the schema names 200 and the relay's own).
            return (reply as FastifyReply)
              .status(outcome.answer.status)
              .headers(outcome.answer.headers)
              .send(outcome.answer.body)
          case 'gone':
            return text(reply, 410, 'hookpost: this relay session is closed (hookpost listen stopped)')
          case 'timeout':
            return text(reply, 504, `hookpost: no answer from hookpost listen within ${hub.deadlineMs} ms`)
          case 'busy':
            return reply
              .header('retry-after', '5')
              .status(503)
              .type('text/plain; charset=utf-8')
              .send('hookpost: too many requests waiting on this relay session\n')
        }
      },
    )
  }
  await app.register(receivingSide)

  app.addHook('preClose', async () => hub.closeAll())
}
