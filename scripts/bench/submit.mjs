// Benchmark: case submissions over HTTP, beside a single-row insert in pgbench on the same server in
// the same run. The API runs compiled, as its own process(es), on a fresh database with the demo
// region; a member's client posts valid naturalisation cases over `--connections` keep-alive
// connections for `--seconds`.
// With --idempotency-keys every request carries a fresh Idempotency-Key (claimed and completed).
//   npm run bench:submit [-- --connections 32 --seconds 10 --processes 1 --idempotency-keys]
// Goals (issue 13): ≥ 1,500 submissions/s, p99 ≤ 50 ms, ≥ 0.1× the pgbench insert rate.
import autocannon from 'autocannon'
import { randomUUID } from 'node:crypto'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { freshBenchDatabase } from './bench-database.mjs'
import { backendCpuMs, cpuProfileArgs, cpuSpent, machineLine, pgbench, pidCpuMs, startApi } from './bench-process.mjs'

const { values: args } = parseArgs({
  options: {
    connections: { type: 'string', default: '32' },
    seconds: { type: 'string', default: '10' },
    processes: { type: 'string', default: '1' },
    'idempotency-keys': { type: 'boolean', default: false },
  },
})
const CONNECTIONS = Number(args.connections)
const SECONDS = Number(args.seconds)
const PROCESSES = Number(args.processes)
const PORT = 3931

const { config, owner, app, db, demo } = await freshBenchDatabase('regiobalie_bench_submit')
await db.destroy()

// Baseline: the plain single-row insert PostgreSQL does with the same number of clients.
const ownerClient = new pg.Client({ connectionString: owner })
await ownerClient.connect()
await ownerClient.query('create table bench_insert (id bigserial primary key, payload jsonb not null, created_at timestamptz not null default now())')
const baseline = pgbench(owner, `insert into bench_insert (payload) values ('{"caseType":"naturalisation"}');\n`, { clients: CONNECTIONS, seconds: SECONDS })

const apis = []
// BENCH_CPU_PROF=<dir> writes a CPU profile of each API process there (for finding the cost).
const nodeArgs = cpuProfileArgs()
for (let i = 0; i < PROCESSES; i += 1) apis.push(await startApi({ port: PORT + i, owner, app, config, nodeArgs }))

const body = JSON.stringify({
  caseType: 'naturalisation',
  subject: { bsn: '123456782', givenNames: 'Bench', surname: 'Mark', dateOfBirth: '1990-01-01', nationality: 'TR' },
})
const run = (port, connections, duration) =>
  autocannon({
    url: `http://127.0.0.1:${port}/v1/cases`,
    method: 'POST',
    connections,
    duration,
    headers: { authorization: `Bearer ${demo.members[0].key}`, 'content-type': 'application/json' },
    body,
    ...(args['idempotency-keys'] ? { requests: [{ setupRequest: (req) => ({ ...req, headers: { ...req.headers, 'idempotency-key': randomUUID() } }) }] } : {}),
  })
// What the run cost besides its rate: CPU of the API processes and of their PostgreSQL backends
// (the load of other work on the machine does not count), and commits, per submission.
const commits = async () => Number((await ownerClient.query('select xact_commit from pg_stat_database where datname = current_database()')).rows[0].xact_commit)
const costs = async () => ({
  api: apis.reduce((n, a) => n + pidCpuMs(a.pid), 0),
  pg: await backendCpuMs(ownerClient, 'regiobalie-api'),
  commits: await commits(),
})

// Warm-up: code paths compiled, pools connected.
await Promise.all(apis.map((_, i) => run(PORT + i, 4, 2)))
const before = await costs()
const results = await Promise.all(apis.map((_, i) => run(PORT + i, Math.max(1, Math.round(CONNECTIONS / PROCESSES)), SECONDS)))
const after = await costs()
for (const api of apis) api.kill('SIGTERM')
const pgCpu = cpuSpent(before.pg, after.pg)

const ok = results.reduce((n, r) => n + r['2xx'], 0)
const failed = results.reduce((n, r) => n + r.non2xx + r.errors + r.timeouts, 0)
const rate = ok / SECONDS
const p99 = Math.max(...results.map((r) => r.latency.p99))
const p50 = Math.max(...results.map((r) => r.latency.p50))
const { rows } = await ownerClient.query('select count(*)::int as n, count(distinct reference)::int as refs from cases')
await ownerClient.end()

console.log(machineLine())
console.log(`baseline  pgbench single-row insert, ${CONNECTIONS} clients, ${SECONDS} s: ${baseline.tps.toFixed(0)} tps, latency avg ${baseline.latencyMs.toFixed(2)} ms`)
console.log(`platform  POST /v1/cases${args['idempotency-keys'] ? ' with an Idempotency-Key each' : ''}, ${CONNECTIONS} connections, ${PROCESSES} API process(es), ${SECONDS} s: ${rate.toFixed(0)}/s, p50 ${p50} ms, p99 ${p99} ms, ${failed} failed`)
console.log(`ratio     ${(rate / baseline.tps).toFixed(3)}× pgbench (goal ≥ 0.1×, ≥ 1,500/s, p99 ≤ 50 ms)`)
console.log(
  `cost      per submission: API ${((after.api - before.api) / ok).toFixed(2)} ms CPU, its PostgreSQL backends ${(pgCpu / ok).toFixed(2)} ms CPU, ${((after.commits - before.commits) / ok).toFixed(2)} commits`,
)
console.log(`check     ${rows[0].n} cases stored, ${rows[0].refs} distinct references`)
if (failed > 0 || rows[0].n !== rows[0].refs) process.exitCode = 1
