// Benchmark: webhook fan-out and delivery. In a fresh database (regiobalie_bench_webhooks) with the
// demo region, 20 subscriptions (10 of a member, 10 of its hub) on a local receiver on 127.0.0.1
// (its own process). Three phases, each printed beside its baseline from the same run:
//   1. burst — `--events` case events emitted as fast as the database takes them, each fanned out
//      to every subscription, delivered by one workers process (relay, BullMQ, notifications
//      worker). Delivery rate against a bare Node HTTP client POSTing the same number of bodies
//      to the same receiver (keep-alive, 64 in flight): the ratio is the figure.
//   2. paced — `--paced` events at `--rate` per second: p50/p95 event-to-delivery (the body's
//      timestamp to the receiver's clock).
//   3. paced again with a 21st subscription whose receiver answers in 9 s: the p95 of the other 20
//      beside phase 2's (one slow receiver must not slow the others).
// Beside the rates: statements sent to PostgreSQL per delivery (every pg query of this process,
// where the workers run) and CPU per delivery (this process, the database's backends) against the
// bare client's — figures that hold on a loaded machine, where the rates do not.
//   npm run bench:webhooks [-- --events 10000 --subscriptions 20 --paced 1000 --rate 25]
// BENCH_CPU_PROF=<dir> writes a CPU profile of the burst (this process: emitter, relay, BullMQ and
// the delivery pumps, without the baseline and the paced phases) there.
// The default is the issue's size (10,000 events × 20 subscriptions = 200,000 deliveries); the
// `size` line of the output states the size that was run.
// PostgreSQL and Redis as for `npm start`; the queues use a prefix of their own and are removed after.
import { fork } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { request, Agent } from 'node:http'
import { cpus, loadavg, totalmem } from 'node:os'
import { mkdirSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { freshBenchDatabase, ROOT } from './bench-database.mjs'
import { backendCpuMs, backendCpuSince, cpuProfileDir } from './bench-process.mjs'

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '10000' },
    subscriptions: { type: 'string', default: '20' },
    paced: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '25' },
    statements: { type: 'boolean', default: false },
  },
})
const EVENTS = Number(args.events)
const SUBS = Number(args.subscriptions)
const PACED = Number(args.paced)
const RATE = Number(args.rate)

const { config: benchConfig, owner, app: appUrl, db, demo } = await freshBenchDatabase('regiobalie_bench_webhooks')
const { loadConfig } = await import(join(ROOT, 'dist/api/config.js'))
const { startWorkers } = await import(join(ROOT, 'dist/workers/main.js'))
const { createSubscription } = await import(join(ROOT, 'dist/api/webhooks/webhooks.service.js'))
const { secretsKey } = await import(join(ROOT, 'dist/api/webhooks/secrets.js'))
const { emitEvent } = await import(join(ROOT, 'dist/api/webhooks/events.js'))
const { withTenantOf } = await import(join(ROOT, 'dist/api/db/database.js'))
const { createQueues } = await import(join(ROOT, 'dist/api/jobs/queues.js'))
const { createLogger } = await import(join(ROOT, 'dist/api/logger.js'))
const { Redis } = await import('ioredis')

// Statements sent to PostgreSQL by this process (the workers run in it): every pg client query.
// --statements also tallies them by their first words (printed at the end of the burst), as bench:relay's does.
let statements = 0
const tally = args.statements ? new Map() : null
const originalQuery = pg.Client.prototype.query
pg.Client.prototype.query = function (...a) {
  statements += 1
  if (tally) {
    const text = (typeof a[0] === 'string' ? a[0] : a[0]?.text ?? '?').replace(/\s+/g, ' ').trim().slice(0, 70)
    tally.set(text, (tally.get(text) ?? 0) + 1)
  }
  return originalQuery.apply(this, a)
}

// --- the receiver, in its own process
const receiver = fork(join(ROOT, 'scripts/bench/webhook-receiver.mjs'))
receiver.on('exit', (code) => {
  if (code !== 0) {
    console.error(`the receiver process ended (${code}); the figures would be meaningless`)
    process.exit(1)
  }
})
const messages = []
let waiting = null
receiver.on('message', (m) => {
  if (waiting) {
    const w = waiting
    waiting = null
    w(m)
  } else messages.push(m)
})
const next = () => (messages.length ? Promise.resolve(messages.shift()) : new Promise((r) => (waiting = r)))
const { port } = await next()
const step = (s) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${s}\n`)
step(`receiver on ${port}`)
const ask = async (msg) => {
  receiver.send(msg)
  return next()
}

const ownerClient = new pg.Client({ connectionString: owner })
await ownerClient.connect()
// CPU time, which holds under load where rates do not: this process (the bare client in the
// baseline; emitter, relay, BullMQ and the delivery pumps in the burst) and this database's
// PostgreSQL backends (from /proc; backends that end between two readings are missed).
const cpuSince = async (before) => {
  const node = process.cpuUsage(before.node)
  return { nodeMs: (node.user + node.system) / 1000, pgMs: await backendCpuSince(ownerClient, before.pg) }
}
const cpuMark = async () => ({ node: process.cpuUsage(), pg: await backendCpuMs(ownerClient) })
const regionOf = async (id) => (await ownerClient.query('select region_id from tenants where id = $1', [id])).rows[0].region_id
const principal = async (tenant, role) => ({ kind: 'client', keyId: randomUUID(), scopes: new Set(['webhooks:write']), tenantId: tenant.id, tenantRole: role, regionId: await regionOf(tenant.id) })
const member = demo.members[0]
const memberP = await principal(member, 'member')
const hubP = await principal(demo.hub, 'hub')

const baseConfig = benchConfig
const wdeps = { db, secretsKey: secretsKey(baseConfig.blobMasterKey), allowPrivateNetworks: true }
const fastEvents = ['case.status_changed']
for (let i = 0; i < SUBS; i += 1) {
  await createSubscription(wdeps, i % 2 === 0 ? memberP : hubP, { url: `http://127.0.0.1:${port}/fast/${i}`, events: fastEvents })
}

// --- the platform: one workers process (in this process), its own queue prefix
const prefix = `{bench-${randomBytes(4).toString('hex')}}`
const config = loadConfig({ DEMO_KEYS: 'on', ...process.env, DATABASE_URL: owner, APP_DATABASE_URL: appUrl, QUEUE_PREFIX: prefix, WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', LOG_LEVEL: 'error' })
const workers = await startWorkers(config, createLogger('error'), { queues: ['notifications'] })

const emitBatch = (n) =>
  withTenantOf(db, member.id, async (trx) => {
    for (let i = 0; i < n; i += 1) {
      await emitEvent(trx, {
        type: 'case.status_changed',
        hubTenantId: demo.hub.id,
        memberTenantId: member.id,
        objectPath: `/v1/cases/${randomUUID()}`,
        data: { caseId: randomUUID(), reference: `RB-2026-${String(i).padStart(6, '0')}`, status: 'in_review', previousStatus: 'intake' },
      })
    }
  })

const waitFor = async (group, expected, timeoutMs) => {
  const until = Date.now() + timeoutMs
  for (;;) {
    const { report } = await ask('report')
    const got = report[group]?.distinct ?? 0
    if (got >= expected || Date.now() > until) return report
    await new Promise((r) => setTimeout(r, 200))
  }
}
const pct = (xs, p) => {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]
}

// --- phase 0: the bare Node client, the same number of POSTs as phase 1 deliveries
const total = EVENTS * SUBS
const agent = new Agent({ keepAlive: true, maxSockets: 64 })
const sample = JSON.stringify({ type: 'case.status_changed', timestamp: new Date().toISOString(), data: { caseId: randomUUID(), reference: 'RB-2026-000001', status: 'in_review', previousStatus: 'intake', url: `http://127.0.0.1:3000/v1/cases/${randomUUID()}` } })
const post = () =>
  new Promise((resolve, reject) => {
    const body = sample.replace(/"timestamp":"[^"]+"/, `"timestamp":"${new Date().toISOString()}"`)
    const req = request({ host: '127.0.0.1', port, path: '/baseline', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume()
      res.on('end', resolve)
    })
    req.on('error', reject)
    req.end(body)
  })
step('baseline')
const baseCpuMark = await cpuMark()
const baseStart = performance.now()
let sent = 0
await Promise.all(Array.from({ length: 64 }, async () => {
  while (sent < total) {
    sent += 1
    await post()
  }
}))
const baseSeconds = (performance.now() - baseStart) / 1000
const baseRate = total / baseSeconds
const baseCpu = await cpuSince(baseCpuMark)
agent.destroy()
await ask('reset')

// --- phase 1: burst
step('burst')
const profileDir = cpuProfileDir()
const profiler = profileDir ? new Session() : null
if (profiler) {
  profiler.connect()
  await profiler.post('Profiler.enable')
  await profiler.post('Profiler.start')
}
const statementsBefore = statements
const burstCpuMark = await cpuMark()
const burstStart = Date.now()
// Events come from many requests at once: four transactions side by side (the pool's size), 25 each.
let emitted = 0
await Promise.all(
  Array.from({ length: 4 }, async () => {
    while (emitted < EVENTS) {
      const n = Math.min(25, EVENTS - emitted)
      emitted += n
      await emitBatch(n)
    }
  }),
)
const emitSeconds = (Date.now() - burstStart) / 1000
const burst = await waitFor('fast', total, 30 * 60_000)
const burstFast = burst.fast ?? { count: 0, distinct: 0, last: Date.now(), latencies: [] }
const burstSeconds = (burstFast.last - burstStart) / 1000
const burstRate = burstFast.distinct / burstSeconds
const burstStatements = statements - statementsBefore
const burstCpu = await cpuSince(burstCpuMark)
if (profiler) {
  const { profile } = await profiler.post('Profiler.stop')
  mkdirSync(profileDir, { recursive: true })
  const file = join(profileDir, `webhooks-burst-${process.pid}.cpuprofile`)
  writeFileSync(file, JSON.stringify(profile))
  profiler.disconnect()
  step(`CPU profile of the burst: ${file}`)
}
if (tally) {
  for (const [text, n] of [...tally].sort((x, y) => y[1] - x[1]).slice(0, 25)) process.stderr.write(`${String(n).padStart(7)}  ${text}\n`)
  tally.clear()
}
await ask('reset')

// --- phases 2 and 3: paced, without and with a slow subscription
async function paced(label) {
  await ask('reset')
  const start = Date.now()
  const perBatch = Math.max(1, Math.round(RATE / 10))
  for (let done = 0; done < PACED; done += perBatch) {
    const due = start + (done / RATE) * 1000
    const wait = due - Date.now()
    if (wait > 0) await new Promise((r) => setTimeout(r, wait))
    await emitBatch(Math.min(perBatch, PACED - done))
  }
  await waitFor('fast', PACED * SUBS, 10 * 60_000)
  const { report } = await ask('latencies')
  const fast = report.fast ?? { distinct: 0, latencies: [] }
  return { label, delivered: fast.distinct, p50: pct(fast.latencies, 50), p95: pct(fast.latencies, 95), p99: pct(fast.latencies, 99), slow: report.slow?.count ?? 0 }
}
step('paced')
const calm = await paced('20 subscriptions')
await createSubscription(wdeps, memberP, { url: `http://127.0.0.1:${port}/slow`, events: fastEvents })
const withSlow = await paced('20 subscriptions + 1 answering in 9 s')

const dead = (await ownerClient.query(`select status, count(*)::int as n from webhook_deliveries group by status order by status`)).rows
const cpu = cpus()[0]?.model ?? 'unknown cpu'
console.log(`machine: ${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`)
console.log(`baseline  bare Node client → receiver: ${total} POSTs in ${baseSeconds.toFixed(1)} s = ${Math.round(baseRate)}/s (keep-alive, 64 in flight)`)
console.log(`size      ${EVENTS} events × ${SUBS} subscriptions = ${total} deliveries in the burst; paced ${PACED} events at ${RATE}/s; load average at the end ${loadavg().map((l) => l.toFixed(2)).join(' ')}`)
console.log(`burst     ${EVENTS} events × ${SUBS} subscriptions: emitted in ${emitSeconds.toFixed(1)} s; ${burstFast.distinct}/${total} delivered in ${burstSeconds.toFixed(1)} s = ${Math.round(burstRate)}/s (${burstFast.count - burstFast.distinct} sent twice)`)
console.log(`ratio     platform ${Math.round(burstRate)}/s ÷ bare client ${Math.round(baseRate)}/s = ${(burstRate / baseRate).toFixed(2)}× (goal ≥ 0.5×)`)
console.log(`statements during the burst (emit + relay + delivery): ${burstStatements} = ${(burstStatements / Math.max(1, burstFast.distinct)).toFixed(2)} per delivery`)
const perDelivery = (ms, n) => `${Math.round((ms * 1000) / Math.max(1, n))} µs`
console.log(
  `cpu       per POST/delivery: bare client ${perDelivery(baseCpu.nodeMs, total)} (node); platform ${perDelivery(burstCpu.nodeMs, burstFast.distinct)} node + ${perDelivery(burstCpu.pgMs, burstFast.distinct)} PostgreSQL`,
)
for (const r of [calm, withSlow]) {
  console.log(
    `paced     ${r.label}: ${PACED} events at ${RATE}/s, ${r.delivered}/${PACED * SUBS} delivered; event → delivery p50 ${r.p50} ms, p95 ${r.p95} ms, p99 ${r.p99} ms (goal p95 < 1000 ms)${r.label.includes('9 s') ? `; slow receiver got ${r.slow}` : ''}`,
  )
}
console.log(`slow receiver: p95 of the other 20 is ${(withSlow.p95 / calm.p95).toFixed(2)}× their p95 without it`)
console.log(`deliveries by status at the end: ${dead.map((r) => `${r.status} ${r.n}`).join(', ')}`)
// Bounded: a worker still waiting on the 9-second receiver must not keep the process alive; the
// receiver is told to exit and not waited for (it sends no answer).
const within = (p, ms, what) =>
  Promise.race([
    p,
    new Promise((resolve) => {
      setTimeout(() => resolve(step(`${what}: gave up after ${ms} ms`)), ms).unref()
    }),
  ])
step('cleanup')
await within(workers.close(), 20_000, 'closing the workers')
const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null })
await within(
  (async () => {
    for (const q of Object.values(createQueues(redis, prefix))) {
      await q.obliterate({ force: true })
      await q.close()
    }
  })(),
  20_000,
  'removing the queues',
)
redis.disconnect()
receiver.removeAllListeners('exit')
receiver.send('exit')
await within(Promise.all([ownerClient.end(), db.destroy()]), 5_000, 'closing the database')
step('done')
process.exit(0)
