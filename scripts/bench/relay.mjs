// Benchmark: the outbox → relay → BullMQ → intake worker path, beside raw BullMQ (the same number
// of no-op jobs added in bulk and consumed at concurrency 50) in the same run.
//   npm run bench:relay [-- --jobs 5000 --rate 500 --seconds 10] [--statements]
// Three figures:
//   throughput  a backlog of `--jobs` intake jobs (real submitted cases) drained: jobs/s;
//   lag         rows committed at `--rate` per second for `--seconds`: p50/p95 from commit to done;
//   baseline    raw BullMQ no-op jobs/s on the same Redis.
// Goals (issue 13): ≥ 1,000 jobs/s; lag p95 < 1 s at 500 arrivals/s.
// --statements counts the PostgreSQL statements and Redis commands per job of the throughput run
// (every statement of this process: relay, intake worker, finished marks, the bench's own polls).
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { Queue, Worker } from 'bullmq'
import { Redis } from 'ioredis'
import pg from 'pg'
import { freshBenchDatabase, ROOT } from './bench-database.mjs'
import { machineLine, percentile, serverCpu } from './bench-process.mjs'

const { values: args } = parseArgs({
  options: {
    jobs: { type: 'string', default: '5000' },
    rate: { type: 'string', default: '500' },
    seconds: { type: 'string', default: '10' },
    statements: { type: 'boolean', default: false },
  },
})
const JOBS = Number(args.jobs)
const RATE = Number(args.rate)
const SECONDS = Number(args.seconds)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const cpuMs = ({ user, system }) => (user + system) / 1000

const { config, owner, app, db, demo } = await freshBenchDatabase('regiobalie_bench_relay')
await db.destroy()
const ownerClient = new pg.Client({ connectionString: owner })
await ownerClient.connect()

/** `n` submitted cases of the first member, each with its intake job in the outbox, in one statement. */
const seedIntake = (n) =>
  ownerClient.query(
    `with c as (
       insert into cases (hub_tenant_id, member_tenant_id, reference, case_type, case_type_version, status, subject, due_date)
       select $1, $2, 'RB-R-' || gen_random_uuid(), 'naturalisation', '2024-01-01', 'submitted',
              '{"givenNames":"x","surname":"y","dateOfBirth":"1990-01-01"}'::jsonb, '2027-01-01'
       from generate_series(1, $3::int)
       returning id, hub_tenant_id)
     insert into outbox (tenant_id, queue, job_name, payload)
     select $2, 'case-intake', 'intake-checks', jsonb_build_object('tenantId', hub_tenant_id, 'caseId', id) from c`,
    [demo.hub.id, demo.members[0].id, n],
  )
const unfinished = async () =>
  Number((await ownerClient.query(`select count(*) as n from outbox where queue = 'case-intake' and finished_at is null`)).rows[0].n)

/** Counts every PostgreSQL statement (by its text) and Redis command (Lua scripts by their first comment) from now until stop(). */
function countStatements() {
  const counts = new Map()
  const bump = (key) => counts.set(key, (counts.get(key) ?? 0) + 1)
  const query = pg.Client.prototype.query
  pg.Client.prototype.query = function (q, ...rest) {
    bump(`pg    ${(typeof q === 'string' ? q : (q?.text ?? '')).replace(/\s+/g, ' ').replace(/ in \([$\d, ]+\)/g, ' in (…)').trim().slice(0, 90)}`)
    return query.call(this, q, ...rest)
  }
  const send = Redis.prototype.sendCommand
  Redis.prototype.sendCommand = function (command, ...rest) {
    const lua = typeof command.args?.[0] === 'string' && command.name.startsWith('eval') ? scriptNames.get(command.args[0]) : null
    bump(`redis ${lua ?? command.name}`)
    return send.call(this, command, ...rest)
  }
  return {
    stop() {
      pg.Client.prototype.query = query
      Redis.prototype.sendCommand = send
      return counts
    },
  }
}
/** BullMQ's Lua scripts by sha and text → the script's first comment line. */
const scriptNames = new Map()
const { createHash } = await import('node:crypto')
const { readdirSync } = await import('node:fs')
const scriptsDir = join(ROOT, 'node_modules/bullmq/dist/esm/scripts')
for (const file of readdirSync(scriptsDir).filter((f) => /-\d+\.js$/.test(f))) {
  const mod = await import(join(scriptsDir, file))
  for (const script of Object.values(mod)) {
    if (typeof script?.content !== 'string') continue
    const name = `lua ${script.name}`
    scriptNames.set(createHash('sha1').update(script.content).digest('hex'), name)
    scriptNames.set(script.content, name)
  }
}

// ---- baseline: raw BullMQ --------------------------------------------------------------------
const rawPrefix = `{bench-raw-${randomUUID().slice(0, 8)}}`
const rawConnection = new Redis(config.redisUrl, { maxRetriesPerRequest: null })
const rawQueue = new Queue('noop', { connection: rawConnection, prefix: rawPrefix })
for (let i = 0; i < JOBS; i += 1000) {
  await rawQueue.addBulk(Array.from({ length: Math.min(1000, JOBS - i) }, (_, j) => ({ name: 'noop', data: { i: i + j }, opts: { removeOnComplete: true } })))
}
const servers = serverCpu(ownerClient, rawConnection)
let rawDone = 0
const rawServers = await servers.mark()
const rawCpu = process.cpuUsage()
const rawStart = performance.now()
const rawWorker = new Worker('noop', async () => undefined, { connection: new Redis(config.redisUrl, { maxRetriesPerRequest: null }), prefix: rawPrefix, concurrency: 50 })
rawWorker.on('completed', () => (rawDone += 1))
while (rawDone < JOBS) await sleep(20)
const rawSeconds = (performance.now() - rawStart) / 1000
const rawCpuMs = cpuMs(process.cpuUsage(rawCpu))
const rawServerMs = await servers.since(rawServers)
await rawWorker.close()
await rawQueue.obliterate({ force: true })
await rawQueue.close()

// ---- the platform: workers in this process on the bench database -------------------------------
const { loadConfig } = await import(join(ROOT, 'dist/api/config.js'))
const { createLogger } = await import(join(ROOT, 'dist/api/logger.js'))
const { startWorkers } = await import(join(ROOT, 'dist/workers/main.js'))
const prefix = `{bench-relay-${randomUUID().slice(0, 8)}}`
const workerConfig = loadConfig({ DEMO_KEYS: 'on', ...process.env, DATABASE_URL: owner, APP_DATABASE_URL: app, REDIS_URL: config.redisUrl, QUEUE_PREFIX: prefix, LOG_LEVEL: 'warn' })

await seedIntake(JOBS)
const counter = args.statements ? countStatements() : null
const drainServers = await servers.mark()
const drainCpu = process.cpuUsage()
const drainStart = performance.now()
const workers = await startWorkers(workerConfig, createLogger('warn'), { queues: ['case-intake'] })
while ((await unfinished()) > 0) await sleep(50)
const drainSeconds = (performance.now() - drainStart) / 1000
const drainCpuMs = cpuMs(process.cpuUsage(drainCpu))
const drainServerMs = await servers.since(drainServers)
const counted = counter?.stop()

// Lag: arrivals at RATE per second, in ten batches a second, timed from commit to finished.
const lagFrom = Number((await ownerClient.query('select coalesce(max(id), 0) as id from outbox')).rows[0].id)
const lagStart = performance.now()
for (let tick = 0; tick < SECONDS * 10; tick += 1) {
  await seedIntake(Math.round(RATE / 10))
  const due = lagStart + (tick + 1) * 100
  await sleep(Math.max(0, due - performance.now()))
}
while ((await unfinished()) > 0) await sleep(50)
const { rows: lagRows } = await ownerClient.query(
  `select extract(epoch from finished_at - created_at) * 1000 as ms from outbox where queue = 'case-intake' and id > $1`,
  [lagFrom],
)
const lags = lagRows.map((r) => Number(r.ms))
await workers.close()
const { rows: doubled } = await ownerClient.query(
  `select count(*)::int as n from (select case_id from case_events where action = 'route' group by case_id having count(*) > 1) d`,
)
const { rows: stuck } = await ownerClient.query(`select count(*)::int as n from cases where status = 'submitted'`)
await ownerClient.end()
const cleanup = new Redis(config.redisUrl)
const keys = await cleanup.keys(`${prefix}*`)
if (keys.length > 0) await cleanup.del(...keys)
cleanup.disconnect()
rawConnection.disconnect()

console.log(machineLine())
console.log(`baseline   raw BullMQ no-op, concurrency 50: ${JOBS} jobs in ${rawSeconds.toFixed(2)} s = ${(JOBS / rawSeconds).toFixed(0)} jobs/s`)
console.log(`throughput outbox → relay → BullMQ → intake worker: ${JOBS} jobs in ${drainSeconds.toFixed(2)} s = ${(JOBS / drainSeconds).toFixed(0)} jobs/s (${(JOBS / drainSeconds / (JOBS / rawSeconds)).toFixed(3)}× raw; goal ≥ 1,000 jobs/s)`)
const msPerJob = (ms) => (ms / JOBS).toFixed(3)
console.log(`cpu        per job (user + system), this process / PostgreSQL / Redis: raw BullMQ ${msPerJob(rawCpuMs)} / ${msPerJob(rawServerMs.pgMs)} / ${msPerJob(rawServerMs.redisMs)} ms, platform ${msPerJob(drainCpuMs)} / ${msPerJob(drainServerMs.pgMs)} / ${msPerJob(drainServerMs.redisMs)} ms`)
console.log(`lag        ${lags.length} arrivals at ${RATE}/s: p50 ${percentile(lags, 50).toFixed(0)} ms, p95 ${percentile(lags, 95).toFixed(0)} ms, max ${Math.max(...lags).toFixed(0)} ms (goal p95 < 1,000 ms)`)
console.log(`check      cases routed twice: ${doubled[0].n}; cases still submitted: ${stuck[0].n}`)
if (counted) {
  const perJob = [...counted].sort((a, b) => b[1] - a[1])
  const total = (kind) => perJob.filter(([k]) => k.startsWith(kind)).reduce((sum, [, n]) => sum + n, 0) / JOBS
  console.log(`statements per job of the throughput run: PostgreSQL ${total('pg').toFixed(2)}, Redis ${total('redis').toFixed(2)}`)
  for (const [key, n] of perJob.slice(0, 25)) console.log(`  ${(n / JOBS).toFixed(3).padStart(7)}  ${key}`)
}
if (doubled[0].n > 0 || stuck[0].n > 0) process.exitCode = 1
process.exit()
