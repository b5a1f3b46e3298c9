// `hookpost publish [file]`: POST /events with a file's bytes, or stdin's, sent unchanged.
import { readFile } from 'node:fs/promises'
import type { Command } from 'commander'
import { ApiClient, clientOptionsOf, type Flags, withClientOptions } from '../api-client.ts'
import { fields, output } from '../output.ts'

async function readStdin(): Promise<Buffer> {
  if (process.stdin.isTTY) {
    throw new Error('no file given and stdin is a terminal: pass a file, or pipe the payload in')
  }
  const chunks: Buffer[] = []
  for await (const c of process.stdin) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}

export function register(program: Command): void {
  withClientOptions(program.command('publish'), 'publisher')
    .argument('[file]', 'the event payload (JSON with its eventName); stdin when absent or -')
    .description('publish an event (publisher credential); the bytes are sent unchanged')
    .option('--idempotency-key <key>', 'the same key within 24 h returns the first event and creates nothing')
    .option('--ordering-key <key>', 'events sharing a key reach ordered subscriptions in order')
    .action(async (file: string | undefined, flags: Flags) => {
      const api = new ApiClient(clientOptionsOf(flags)).requireCredentials()
      const body = file === undefined || file === '-' ? await readStdin() : await readFile(file)
      if (body.length === 0) throw new Error('the payload is empty')
      const headers: Record<string, string> = { 'content-type': 'application/json' }
      if (typeof flags['idempotencyKey'] === 'string') headers['idempotency-key'] = flags['idempotencyKey']
      if (typeof flags['orderingKey'] === 'string') headers['x-ordering-key'] = flags['orderingKey']
      const r = await api.call<{ event: object }>('POST', '/events', { body, headers })
      output(flags, r, () => fields(r.event))
    })
}
