// Benchmark: fairness of the outbox relay. A large member has `--pending` intake jobs waiting; a
// small member then submits 10. Measures how long the small member's 10 take from commit to done
// while the workers drain the large backlog — beside what first-in-first-out would give (the
// backlog's size divided by the drain rate measured in the same run).
//   npm run bench:fairness [-- --pending 10000]      (also try --pending 1000000)
// Goal (issue 13): ≤ 2 s, also behind 1,000,000 pending rows.
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { Redis } from 'ioredis'
import pg from 'pg'
import { freshBenchDatabase, ROOT } from './bench-database.mjs'
import { machineLine } from './bench-process.mjs'

const { values: args } = parseArgs({ options: { pending: { type: 'string', default: '10000' } } })
const PENDING = Number(args.pending)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

const { config, owner, app, db, demo } = await freshBenchDatabase('regiobalie_bench_fairness')
await db.destroy()
const ownerClient = new pg.Client({ connectionString: owner })
await ownerClient.connect()
const [large, small] = demo.members

// The large member's backlog: intake jobs whose cases were withdrawn meanwhile (the job finds no
// submitted case and ends) — the relay and the workers do all their work for each row.
const seedStart = performance.now()
await ownerClient.query(
  `insert into outbox (tenant_id, queue, job_name, payload)
   select $1, 'case-intake', 'intake-checks', jsonb_build_object('tenantId', $2::uuid, 'caseId', gen_random_uuid())
   from generate_series(1, $3::int)`,
  [large.id, demo.hub.id, PENDING],
)
await ownerClient.query('analyze outbox')
const seedSeconds = (performance.now() - seedStart) / 1000

const { loadConfig } = await import(join(ROOT, 'dist/api/config.js'))
const { createLogger } = await import(join(ROOT, 'dist/api/logger.js'))
const { startWorkers } = await import(join(ROOT, 'dist/workers/main.js'))
const prefix = `{bench-fair-${randomUUID().slice(0, 8)}}`
const workerConfig = loadConfig({ DEMO_KEYS: 'on', ...process.env, DATABASE_URL: owner, APP_DATABASE_URL: app, REDIS_URL: config.redisUrl, QUEUE_PREFIX: prefix, LOG_LEVEL: 'warn' })
const workers = await startWorkers(workerConfig, createLogger('warn'), { queues: ['case-intake'] })
const finishedOf = async (tenantId) =>
  Number((await ownerClient.query(`select count(*) as n from outbox where tenant_id = $1 and queue = 'case-intake' and finished_at is not null`, [tenantId])).rows[0].n)

// Let the drain get going, and measure its rate meanwhile.
const before = await finishedOf(large.id)
const t0 = performance.now()
await sleep(3000)
const drainRate = ((await finishedOf(large.id)) - before) / ((performance.now() - t0) / 1000)

// The small member's 10 real submissions arrive behind the backlog.
const { rows: smallRows } = await ownerClient.query(
  `with c as (
     insert into cases (hub_tenant_id, member_tenant_id, reference, case_type, case_type_version, status, subject, due_date)
     select $1, $2, 'RB-F-' || gen_random_uuid(), 'option', '2024-01-01', 'submitted',
            '{"givenNames":"x","surname":"y","dateOfBirth":"1990-01-01"}'::jsonb, '2027-01-01'
     from generate_series(1, 10)
     returning id, hub_tenant_id)
   insert into outbox (tenant_id, queue, job_name, payload)
   select $2, 'case-intake', 'intake-checks', jsonb_build_object('tenantId', hub_tenant_id, 'caseId', id) from c
   returning id`,
  [demo.hub.id, small.id],
)
const smallStart = performance.now()
while ((await finishedOf(small.id)) < smallRows.length) await sleep(20)
const smallSeconds = (performance.now() - smallStart) / 1000
const largeLeft = PENDING - (await finishedOf(large.id))
await workers.close()
await ownerClient.end()
const cleanup = new Redis(config.redisUrl)
const keys = await cleanup.keys(`${prefix}*`)
if (keys.length > 0) await cleanup.del(...keys)
cleanup.disconnect()

console.log(machineLine())
console.log(`backlog   ${PENDING.toLocaleString('en')} pending rows of one member (seeded in ${seedSeconds.toFixed(1)} s); drain rate ${drainRate.toFixed(0)} jobs/s`)
console.log(`fair      the small member's 10 jobs done in ${smallSeconds.toFixed(2)} s, with ${largeLeft.toLocaleString('en')} of the large member's still waiting (goal ≤ 2 s)`)
console.log(`fifo      first-in-first-out would have taken ≈ ${(PENDING / Math.max(drainRate, 1)).toFixed(0)} s (backlog / drain rate)`)
process.exit()
