// The webhook sender's keep-alive pools (api/webhooks/sender.ts): a subscription's requests go
// through its own pool, no more connections than its sockets, reused from batch to batch; another
// subscription on the same host has connections of its own.
import { createServer, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EXCERPT_CHARS, httpSender } from '../../api/webhooks/sender.js'

let server: Server
let url: string
const connections: Socket[] = []
let inFlight = 0
let most = 0

beforeAll(async () => {
  server = createServer((req, res) => {
    inFlight += 1
    most = Math.max(most, inFlight)
    req.resume()
    req.on('end', () =>
      setTimeout(() => {
        inFlight -= 1
        res.writeHead(204).end()
      }, 20),
    )
  })
  server.on('connection', (socket) => connections.push(socket))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

const post = (key: string, sockets: number) => httpSender({ url, body: '{}', headers: { 'content-type': 'application/json' }, address: null, pool: { key, sockets } })

describe('the webhook sender', () => {
  it('keeps a subscription to its own pool of sockets, reused from batch to batch; another subscription gets its own', async () => {
    for (let batch = 0; batch < 3; batch += 1) {
      const results = await Promise.all(Array.from({ length: 6 }, () => post('subscription-a', 2)))
      expect(results.map((r) => r.statusCode)).toEqual(Array(6).fill(204))
    }
    // Six at a time through a pool of two: never more than two at once, over the same two connections.
    expect(most).toBe(2)
    expect(connections).toHaveLength(2)
    most = 0
    const [a, b] = await Promise.all([post('subscription-a', 2), post('subscription-b', 2)])
    expect([a.statusCode, b.statusCode]).toEqual([204, 204])
    // Subscription b's request did not wait for a socket of a's: it has a connection of its own.
    expect(connections).toHaveLength(3)
  })

  it('connects to the address the guard checked, whatever the name would resolve to now', async () => {
    const port = (server.address() as AddressInfo).port
    // `.invalid` never resolves (RFC 6761): only the pinned address can take the request anywhere.
    const to = `http://hook.invalid:${port}/hook`
    const pinned = await httpSender({ url: to, body: '{}', headers: { 'content-type': 'application/json' }, address: { address: '127.0.0.1', family: 4 }, pool: { key: 'pinned', sockets: 1 } })
    expect(pinned).toMatchObject({ statusCode: 204, error: null })
    const unpinned = await httpSender({ url: to, body: '{}', headers: {}, address: null })
    expect(unpinned).toMatchObject({ statusCode: null, error: 'dns-failure' })
  })

  it('keeps at most a short excerpt of a long answer', async () => {
    const talkative = createServer((req, res) => {
      req.resume()
      req.on('end', () => res.writeHead(500, { 'content-type': 'text/plain' }).end('x'.repeat(1_000_000)))
    })
    await new Promise<void>((resolve) => talkative.listen(0, '127.0.0.1', resolve))
    try {
      const result = await httpSender({ url: `http://127.0.0.1:${(talkative.address() as AddressInfo).port}/`, body: '{}', headers: {}, address: null })
      expect(result.statusCode).toBe(500)
      expect(result.excerpt).toBe('x'.repeat(EXCERPT_CHARS))
    } finally {
      talkative.closeAllConnections()
      await new Promise((resolve) => talkative.close(resolve))
    }
  })
})
