// A stand-in for Hookpost's POST /events/batch on 127.0.0.1 (contract section 10): it keeps
// every request, creates one event per new idempotency key and answers the first event's id for
// a key seen before, unless a test scripts another answer.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'

export interface BatchRequest {
  authorization: string | undefined
  raw: string
  items: { payload: Record<string, unknown>; idempotencyKey: string; orderingKey?: string }[]
}

export interface ScriptedAnswer {
  status: number
  body?: unknown
  headers?: Record<string, string>
}

export interface FakeHookpost {
  url: string
  requests: BatchRequest[]
  /** idempotency key → event id, in creation order. */
  events: Map<string, string>
  /** Answers a request instead of accepting it when it returns something. */
  script: ((r: BatchRequest) => ScriptedAnswer | undefined | Promise<ScriptedAnswer | undefined>) | undefined
  /** Runs once an answer has been written (a test kills the relay there). */
  afterAnswer: ((r: BatchRequest, status: number) => void) | undefined
  /** Runs once a batch's events are created, before its 202 is written (a crash after the commit). */
  beforeAnswer: ((r: BatchRequest) => void | Promise<void>) | undefined
  close(): Promise<void>
}

export async function startFakeHookpost(): Promise<FakeHookpost> {
  const fake: FakeHookpost = {
    url: '',
    requests: [],
    events: new Map(),
    script: undefined,
    afterAnswer: undefined,
    beforeAnswer: undefined,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
  async function handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const raw = Buffer.concat(chunks).toString('utf8')
    if (req.method !== 'POST' || req.url !== '/events/batch') {
      res.writeHead(404, { 'content-type': 'application/json' })
      return res.end('{"error":{"code":"not_found","message":"no such route"}}')
    }
    const r: BatchRequest = { authorization: req.headers.authorization, raw, items: JSON.parse(raw).events }
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers })
      res.end(JSON.stringify(body), () => fake.afterAnswer?.(r, status))
    }
    fake.requests.push(r)
    const scripted = await fake.script?.(r)
    if (scripted) return answer(scripted.status, scripted.body ?? {}, scripted.headers)
    const events = r.items.map((item) => {
      let id = fake.events.get(item.idempotencyKey)
      if (id === undefined) {
        id = `evt_${fake.events.size + 1}`
        fake.events.set(item.idempotencyKey, id)
      }
      return { id, eventName: item.payload['eventName'], deliveries: 0 }
    })
    await fake.beforeAnswer?.(r)
    if (res.destroyed || req.socket.destroyed) return
    answer(202, { events })
  }
  const server = createServer((req, res) => {
    handle(req, res).catch((e) => {
      res.writeHead(500)
      res.end(String(e))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  fake.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  return fake
}
