// The number of connections one client may hold open at once. Without it any number of idle
// connections was accepted from one address (each a socket, a parser and a file descriptor).
// An IPv6 client is counted by its /64, the block one host usually has to itself.
import type { Server } from 'node:http'
import type { Socket } from 'node:net'
import ipaddr from 'ipaddr.js'
import { rawAnswer } from './request-limits.ts'

/** The key connections are counted under: an IPv4 address (also when IPv4-mapped) or an IPv6 /64. */
export function clientKey(remoteAddress: string | undefined): string {
  if (!remoteAddress) return ''
  try {
    const a = ipaddr.process(remoteAddress.replace(/%.*$/, ''))
    if (a.kind() === 'ipv4') return a.toString()
    return `${(a as ipaddr.IPv6).parts
      .slice(0, 4)
      .map((p) => p.toString(16))
      .join(':')}::/64`
  } catch {
    return remoteAddress
  }
}

/**
 * Refuses a connection past `max` from the same client with a 429 `too_many_connections` and
 * closes it at once, before any request on it is read.
 */
export function capConnectionsPerAddress(server: Server, max: number): void {
  const open = new Map<string, number>()
  server.on('connection', (socket: Socket) => {
    const key = clientKey(socket.remoteAddress)
    const n = open.get(key) ?? 0
    if (n >= max) {
      socket.end(
        rawAnswer(429, 'too_many_connections', `At most ${max} connections at once from one address.`, {
          'Retry-After': '1',
        }),
        () => socket.destroy(),
      )
      return
    }
    open.set(key, n + 1)
    socket.once('close', () => {
      const left = (open.get(key) ?? 1) - 1
      if (left <= 0) open.delete(key)
      else open.set(key, left)
    })
  })
}
