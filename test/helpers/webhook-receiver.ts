// A local webhook receiver on 127.0.0.1 for tests: records every request it gets (and every body,
// for the personal-data scan) and answers as each test tells it to.
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http'

export interface Received {
  path: string
  headers: IncomingHttpHeaders
  body: string
}

export type Behaviour = (req: Received, res: ServerResponse) => void

export interface Receiver {
  url(path?: string): string
  received: Received[]
  /** Every body this receiver was ever sent, across tests. */
  allBodies: string[]
  /** How a path answers (default: 204). */
  on(path: string, behaviour: Behaviour): void
  close(): Promise<void>
}

export const answer = (status: number, body = '', headers: Record<string, string> = {}): Behaviour => (_req, res) => {
  res.writeHead(status, headers).end(body)
}

export async function startReceiver(): Promise<Receiver> {
  const behaviours = new Map<string, Behaviour>()
  const received: Received[] = []
  const allBodies: string[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const r: Received = { path: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') }
      received.push(r)
      allBodies.push(r.body)
      ;(behaviours.get(r.path) ?? answer(204))(r, res)
    })
  })
  server.keepAliveTimeout = 1_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  return {
    url: (path = '/hook') => `http://127.0.0.1:${port}${path}`,
    received,
    allBodies,
    on: (path, behaviour) => void behaviours.set(path, behaviour),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
