// The local webhook receiver of `npm run bench:webhooks`, in its own process so that it costs the
// platform and the bare client the same. Answers 204 at once, or after 9 s on /slow; records per
// path how many requests came and how long after the event's timestamp each arrived.
import { createServer } from 'node:http'

const SLOW_MS = 9_000
let arrivals = new Map()

const server = createServer((req, res) => {
  const chunks = []
  // A sender that gives up (its timeout) resets the connection: not this process's problem.
  req.on('error', () => undefined)
  res.on('error', () => undefined)
  req.on('data', (c) => chunks.push(c))
  req.on('end', () => {
    const now = Date.now()
    let latency = null
    try {
      latency = now - Date.parse(JSON.parse(Buffer.concat(chunks).toString('utf8')).timestamp)
    } catch {
      // not a webhook body
    }
    const group = req.url.startsWith('/slow') ? 'slow' : req.url.startsWith('/baseline') ? 'baseline' : 'fast'
    const entry = arrivals.get(group) ?? { count: 0, latencies: [], first: now, last: now, ids: new Set() }
    entry.count += 1
    entry.last = now
    if (latency !== null) entry.latencies.push(latency)
    const id = req.headers['webhook-id']
    if (id) entry.ids.add(id)
    arrivals.set(group, entry)
    if (group === 'slow') setTimeout(() => res.writeHead(204).end(), SLOW_MS)
    else res.writeHead(204).end()
  })
})
server.keepAliveTimeout = 30_000
server.headersTimeout = 35_000
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }))

process.on('message', (msg) => {
  if (msg === 'reset') {
    arrivals = new Map()
    process.send({ reset: true })
  } else if (msg === 'report' || msg === 'latencies') {
    // Counts only while the bench polls (a few bytes); the latencies once, at the end of a phase.
    const out = {}
    for (const [group, e] of arrivals) {
      out[group] = { count: e.count, distinct: e.ids.size, first: e.first, last: e.last, ...(msg === 'latencies' ? { latencies: e.latencies } : {}) }
    }
    process.send({ report: out })
  } else if (msg === 'exit') {
    server.closeAllConnections()
    server.close(() => process.exit(0))
  }
})
