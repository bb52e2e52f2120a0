// One outbound webhook POST: 10 s for the whole exchange, redirects never followed (a 3xx is a
// failed attempt like any other non-2xx), at most a short excerpt of the answer kept. When the SSRF
// guard resolved the host, the connection goes to exactly that address (the TLS name stays the
// host's), so a second DNS answer cannot redirect it to an internal one.
import * as http from 'node:http'
import * as https from 'node:https'
import type { LookupFunction } from 'node:net'
import type { ResolvedAddress } from './url-guard.js'

export const DELIVERY_TIMEOUT_MS = 10_000
export const EXCERPT_CHARS = 256
const READ_LIMIT_BYTES = 4_096

export interface SendResult {
  statusCode: number | null
  /** A short error code when no status came back: timeout, connection-refused, network-error. */
  error: string | null
  excerpt: string | null
  durationMs: number
}

export interface OutboundRequest {
  url: string
  headers: Record<string, string>
  body: string
  /** The address the guard checked; null = resolve normally (guard lifted). */
  address: ResolvedAddress | null
  timeoutMs?: number
  /** The keep-alive pool of its subscription: no more sockets than its attempts in flight. */
  pool?: { key: string; sockets: number }
}

export type Sender = (request: OutboundRequest) => Promise<SendResult>

// Keep-alive; as many idle sockets kept as may be busy, so that a burst's batches reuse their
// connections instead of opening new ones after every batch. A request of a subscription goes
// through that subscription's own agent, sized to its in-flight cap: in one pool per host, the
// slow subscriptions of a host could hold all its sockets and make its fast ones wait (and every
// request walked a list of all the host's busy sockets). Without a pool: one agent per scheme,
// bounded per origin.
const SOCKETS_PER_ORIGIN = 256
const shared = {
  http: new http.Agent({ keepAlive: true, maxSockets: SOCKETS_PER_ORIGIN, maxFreeSockets: SOCKETS_PER_ORIGIN }),
  https: new https.Agent({ keepAlive: true, maxSockets: SOCKETS_PER_ORIGIN, maxFreeSockets: SOCKETS_PER_ORIGIN }),
}
const POOLS_KEPT = 1_000
/** An agent no longer kept: its idle sockets close now, the others once their request is done. */
function retire(agent: http.Agent): void {
  agent.maxFreeSockets = 0
  for (const sockets of Object.values(agent.freeSockets)) for (const socket of sockets ?? []) socket.destroy()
}
const pools = new Map<string, http.Agent>()
function agentOf(isHttps: boolean, pool: OutboundRequest['pool']): http.Agent {
  if (!pool) return isHttps ? shared.https : shared.http
  const key = `${isHttps ? 's' : 'p'}|${pool.sockets}|${pool.key}`
  let agent = pools.get(key)
  if (agent) {
    // Most recently used last: the pool evicted first is the one unused longest.
    pools.delete(key)
  } else {
    const options = { keepAlive: true, maxSockets: pool.sockets, maxFreeSockets: pool.sockets }
    agent = isHttps ? new https.Agent(options) : new http.Agent(options)
    if (pools.size >= POOLS_KEPT) {
      const [oldestKey, oldest] = pools.entries().next().value!
      pools.delete(oldestKey)
      retire(oldest)
    }
  }
  pools.set(key, agent)
  return agent
}

const pinned = (address: ResolvedAddress): LookupFunction =>
  ((_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, [{ address: address.address, family: address.family }])
    else callback(null, address.address, address.family)
  }) as unknown as LookupFunction

const printable = (text: string): string => text.replace(/[^\x20-\x7e\u00a0-\uffff]/g, ' ').slice(0, EXCERPT_CHARS)

function errorCode(err: unknown): string {
  const code = (err as { code?: unknown }).code
  if (code === 'ECONNREFUSED') return 'connection-refused'
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'dns-failure'
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'connection-reset'
  if (typeof code === 'string' && (code.startsWith('ERR_TLS') || code.includes('CERT'))) return 'tls-failure'
  return 'network-error'
}

// A subscription's URL, parsed once for all its deliveries (a burst sends thousands to one URL).
interface Target {
  isHttps: boolean
  host: string
  port: string
  path: string
}
const targets = new Map<string, Target>()
function targetOf(raw: string): Target {
  let target = targets.get(raw)
  if (!target) {
    const url = new URL(raw)
    target = { isHttps: url.protocol === 'https:', host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port, path: url.pathname + url.search }
    if (targets.size >= 10_000) targets.clear()
    targets.set(raw, target)
  }
  return target
}

export const httpSender: Sender = (request) =>
  new Promise<SendResult>((resolve) => {
    const started = performance.now()
    const target = targetOf(request.url)
    let settled = false
    const finish = (result: Omit<SendResult, 'durationMs'>) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resolve({ ...result, durationMs: Math.round(performance.now() - started) })
    }
    const headers: Record<string, string> = { ...request.headers, 'content-length': String(Buffer.byteLength(request.body, 'utf8')) }
    const req = (target.isHttps ? https : http).request({
      method: 'POST',
      host: target.host,
      ...(target.port ? { port: target.port } : {}),
      path: target.path,
      agent: agentOf(target.isHttps, request.pool),
      headers,
      ...(request.address ? { lookup: pinned(request.address) } : {}),
    }, (res) => {
      const chunks: Buffer[] = []
      let kept = 0
      res.on('data', (chunk: Buffer) => {
        if (kept < READ_LIMIT_BYTES) {
          chunks.push(chunk)
          kept += chunk.length
        }
        if (kept >= READ_LIMIT_BYTES) res.destroy()
      })
      const done = () => {
        const text = chunks.length === 0 ? '' : Buffer.concat(chunks).subarray(0, READ_LIMIT_BYTES).toString('utf8')
        finish({ statusCode: res.statusCode ?? null, error: null, excerpt: text ? printable(text) : null })
      }
      res.on('end', done)
      res.on('close', done)
      res.on('error', done)
    })
    const timer = setTimeout(() => {
      req.destroy()
      finish({ statusCode: null, error: 'timeout', excerpt: null })
    }, request.timeoutMs ?? DELIVERY_TIMEOUT_MS)
    req.on('error', (err) => finish({ statusCode: null, error: errorCode(err), excerpt: null }))
    // A string body goes out with the headers in one write (a Buffer would be a second chunk).
    req.end(request.body, 'utf8')
  })
