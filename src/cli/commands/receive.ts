// `hookpost receive`: the development receiver's command line. With --background it returns only
// once the receiver listens (it goes on printing to the same terminal), so that a script's next
// step can deliver to it.
import { spawn } from 'node:child_process'
import type { Command } from 'commander'
import type { Flags } from '../api-client.ts'
import { lineOutput, UsageError } from '../output.ts'
import { receive } from '../receive.ts'

/** Set in the background child: tell the parent over IPC once listening. */
const notifyEnv = 'HOOKPOST_RECEIVE_NOTIFY'

export function register(program: Command): void {
  program
    .command('receive')
    .description('run a development receiver that prints deliveries and checks their signatures')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on', '9000')
    .option(
      '--secret <whsec>',
      'the signing secret to check both signatures with (POST /webhooks/hmac-secret)',
    )
    .option('--status <code>', 'always answer with this HTTP status (to watch retries)')
    .option('--print-body', 'print each body too')
    .option('--background', 'return once listening, and go on receiving in the background (prints its pid)')
    .action(async (flags: Flags) => {
      const port = Number(flags['port'])
      const status = flags['status'] === undefined ? undefined : Number(flags['status'])
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new UsageError('--port must be a port number')
      if (status !== undefined && !(Number.isInteger(status) && status >= 100 && status <= 599)) {
        throw new UsageError('--status must be an HTTP status code')
      }
      if (flags['background'] === true) return background(flags)
      // Handlers before the "listening" line: a Ctrl-C right after it must stop cleanly (exit 0),
      // not find Node's default (killed by the signal).
      let stop: (() => Promise<void>) | undefined
      let ending = false
      const end = () => {
        ending = true
        if (stop) void stop().then(() => process.exit(0))
      }
      process.once('SIGINT', end)
      process.once('SIGTERM', end)
      stop = await receive({
        host: String(flags['host']),
        port,
        secret: typeof flags['secret'] === 'string' ? flags['secret'] : undefined,
        status,
        printBody: flags['printBody'] === true,
        out: lineOutput(flags),
      })
      if (ending) return void stop().then(() => process.exit(0))
      if (process.env[notifyEnv] === '1' && process.send) {
        process.send('listening')
        process.disconnect()
      }
    })
}

/** Starts the same command detached, waits for it to listen, prints its pid and returns. */
function background(flags: Flags): Promise<void> {
  const args = process.argv.slice(1).filter((a) => a !== '--background')
  const child = spawn(process.execPath, [...process.execArgv, ...args], {
    detached: true,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, [notifyEnv]: '1' },
  })
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code) =>
      reject(new Error(`the receiver exited (${code ?? 'signal'}) before listening`)),
    )
    child.once('message', () => {
      child.removeAllListeners('exit')
      child.disconnect()
      child.unref()
      lineOutput(flags)(`receiving in the background: pid ${child.pid} (stop it with: kill ${child.pid})`, {
        background: true,
        pid: child.pid,
      })
      resolve()
    })
  })
}
