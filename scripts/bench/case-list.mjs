// Benchmark: the case list at a million cases, over HTTP, beside the very SQL it runs in pgbench.
// Seeds `--cases` cases for one hub and two members in a fresh database (regiobalie_bench_list) in
// a few set-based statements (generate_series; three checklist items and a submission event per
// case, a closing event per finished one), then:
// - captures the statements `GET /v1/cases?limit=100` runs for a hub specialist (one since session
//   4: list_cases_json, which writes the page's JSON, migration 0025) by calling the compiled list
//   service once with pg's query method watched, and writes them, parameters inlined, as a pgbench
//   script to a temp dir;
// - pgbench runs that script with `--clients` connections as the application role (RLS on) for
//   `--seconds`: its per-transaction log gives the median and p99;
// - the compiled API runs as its own process(es); `--clients` keep-alive HTTP connections ask for
//   `GET /v1/cases?limit=100` with the specialist's key for `--seconds`;
// - prints both medians and p99s and their ratio. Then the in-process timings of every list filter
//   (first page and a page deep in the cursor walk), as before.
//   npm run bench:list [-- --cases 1000000 --clients 16 --seconds 10 --processes 1 --runs 40 --client wrk]
// The HTTP clients share the machine's cores with the API and PostgreSQL, as pgbench does with
// PostgreSQL. pgbench is a C program; a JavaScript client (autocannon) spends ~0.8 ms of CPU
// receiving each 136 KiB page, about a third of what PostgreSQL spends writing it. So by default
// the clients are wrk (a C program, like pgbench: Debian's `wrk`) when it is installed, and
// autocannon otherwise (`--client autocannon` chooses it); the line says which ran.
// Goals (issue 13): HTTP median ≤ 20 ms, p99 ≤ 100 ms, median ≤ 1.5× the SQL's median in pgbench.
// BENCH_CPU_PROF=<dir> writes a CPU profile of each API process there.
import autocannon from 'autocannon'
import { execFile, execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { performance } from 'node:perf_hooks'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { freshBenchDatabase, ROOT } from './bench-database.mjs'
import { backendCpuMs, childrenCpuMs, cpuProfileArgs, cpuSpent, machineLine, percentile, pidCpuMs, pidSystemCpuMs, startApi } from './bench-process.mjs'

const { values: args } = parseArgs({
  options: {
    cases: { type: 'string', default: '1000000' },
    clients: { type: 'string', default: '16' },
    seconds: { type: 'string', default: '10' },
    processes: { type: 'string', default: '1' },
    runs: { type: 'string', default: '40' },
    limit: { type: 'string', default: '100' },
    client: { type: 'string', default: '' },
  },
})
const CASES = Number(args.cases)
const CLIENTS = Number(args.clients)
const SECONDS = Number(args.seconds)
const PROCESSES = Number(args.processes)
const RUNS = Number(args.runs)
const LIMIT = Number(args.limit)
const PORT = 3951
const hasWrk = (() => {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' })
    return true
  } catch (e) {
    return e.status === 1 // wrk --version prints its version and exits 1
  }
})()
const CLIENT = args.client || (hasWrk ? 'wrk' : 'autocannon')
if (!['wrk', 'autocannon'].includes(CLIENT)) throw new Error('--client is wrk or autocannon')
if (CLIENT === 'wrk' && !hasWrk) throw new Error('--client wrk: wrk is not installed (apt-get install -y wrk)')

const { config, owner, app, db, demo } = await freshBenchDatabase('regiobalie_bench_list')
const { listCases } = await import(join(ROOT, 'dist/api/cases/cases.service.js'))
const { authenticate } = await import(join(ROOT, 'dist/api/auth/authenticate.js'))

const seedStart = Date.now()
const step = (label) => process.stderr.write(`${label} ${((Date.now() - seedStart) / 1000).toFixed(1)} s\n`)
const ownerClient = new pg.Client({ connectionString: owner })
await ownerClient.connect()
await ownerClient.query('set synchronous_commit = off')
// Bulk seeding: the rows are consistent by construction, so no per-row foreign-key triggers
// (session_replication_role, the owner is a superuser), and the secondary indexes are built once
// after the load instead of being kept up row by row.
await ownerClient.query('set session_replication_role = replica')
await ownerClient.query(`set maintenance_work_mem = '256MB'`)
const { rows: secondaryIndexes } = await ownerClient.query(
  `select i.indexrelid::regclass::text as name, pg_get_indexdef(i.indexrelid) as definition from pg_index i
   where i.indrelid in ('cases'::regclass, 'case_checklist_items'::regclass, 'case_events'::regclass)
     and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid)`,
)
for (const { name } of secondaryIndexes) await ownerClient.query(`drop index ${name}`)
// The checklist's statuses and the closing event's day, as the items and events below get them, are
// written on the case row too (checklist_summary, ended_on: migration 0019's triggers keep them, but
// replication_role replica fires no trigger).
const CHECKLIST_STATUS = (n) => `(array['missing','received','accepted'])[1 + (g.h + ${n}) % 3]`
await ownerClient.query(
  `insert into cases (hub_tenant_id, member_tenant_id, reference, case_type, case_type_version, status, subject, due_date,
                      assigned_staff_id, fee_paid_on, decision_outcome, decided_at, created_at, updated_at, checklist_summary, ended_on)
   select $1, case when g.i % 3 = 0 then $3::uuid else $2::uuid end,
          g.reference,
          (array['naturalisation','option','first_registration','ipr_assessment'])[1 + g.i % 4],
          '2024-01-01',
          (array['submitted','intake','in_review','awaiting_information','decided','closed','withdrawn'])[1 + (g.i / 7) % 7],
          '{"givenNames":"x","surname":"y","dateOfBirth":"1990-01-01","bsn":"123456782","nationality":"TR"}'::jsonb,
          '2027-01-01',
          case when g.i % 5 = 0 then $4::uuid end,
          case when g.i % 2 = 0 then (now() - make_interval(secs => g.i))::date end,
          case when (g.i / 7) % 7 in (4, 5) then (array['advise_grant','grant','registered','recognised'])[1 + g.i % 4] end,
          case when (g.i / 7) % 7 in (4, 5) then now() - make_interval(secs => g.i) + interval '1 day' end,
          g.created_at, now(),
          jsonb_build_array(jsonb_build_array('birth_certificate', ${CHECKLIST_STATUS(2)}),
                            jsonb_build_array('civic_integration_diploma', ${CHECKLIST_STATUS(3)}),
                            jsonb_build_array('passport', ${CHECKLIST_STATUS(1)})),
          case when (g.i / 7) % 7 in (5, 6) then ((g.created_at + interval '2 days') at time zone 'Europe/Amsterdam')::date end
   from (select i, 'RB-B-' || lpad(i::text, 7, '0') as reference, abs(hashtext('RB-B-' || lpad(i::text, 7, '0'))) as h,
                date_trunc('milliseconds', now() - make_interval(secs => i)) as created_at
         from generate_series(1, $5::int) as i) g`,
  [demo.hub.id, demo.members[0].id, demo.members[1].id, demo.specialist.id, CASES],
)
step('seeding')
await ownerClient.query(
  `insert into case_checklist_items (case_id, hub_tenant_id, member_tenant_id, document_kind, status)
   select c.id, c.hub_tenant_id, c.member_tenant_id, k.kind, (array['missing','received','accepted'])[1 + (abs(hashtext(c.reference)) + k.n) % 3]
   from cases c cross join unnest(array['passport','birth_certificate','civic_integration_diploma']) with ordinality as k(kind, n)`,
)
step('seeding')
await ownerClient.query(
  `insert into case_events (case_id, hub_tenant_id, member_tenant_id, actor_kind, actor_id, action, from_status, to_status, version, created_at)
   select id, hub_tenant_id, member_tenant_id, 'member', 'bench', 'submit', null, 'submitted', 1, created_at from cases`,
)
step('seeding')
await ownerClient.query(
  `insert into case_events (case_id, hub_tenant_id, member_tenant_id, actor_kind, actor_id, action, from_status, to_status, version, created_at)
   select id, hub_tenant_id, member_tenant_id, 'hub', 'bench', case status when 'closed' then 'close' else 'withdraw' end, 'in_review', status, 2,
          created_at + interval '2 days'
   from cases where status in ('closed', 'withdrawn')`,
)
step('seeding')
for (const { definition } of secondaryIndexes) await ownerClient.query(definition)
await ownerClient.query('set session_replication_role = origin')
step('indexed')
await ownerClient.query('vacuum analyze cases, case_checklist_items, case_events')
step('seeded')
// The rows written on the case row agree with the items and events (the newest 5,000, which the pages show).
const { rows: drifted } = await ownerClient.query(
  `select count(*)::int as n from (select * from cases order by created_at desc, id desc limit 5000) c
   where c.checklist_summary is distinct from (select jsonb_agg(jsonb_build_array(i.document_kind, i.status) order by i.document_kind)
                                               from case_checklist_items i where i.case_id = c.id)
      or c.ended_on is distinct from (select min((e.created_at at time zone 'Europe/Amsterdam')::date) from case_events e
                                      where e.case_id = c.id and e.action in ('withdraw', 'reject_at_intake', 'close'))`,
)
if (drifted[0].n > 0) throw new Error(`${drifted[0].n} seeded cases disagree with their checklist or events`)
const seedSeconds = (Date.now() - seedStart) / 1000

// The specialist as the API sees it: its key, authenticated like a request.
const specialist = await authenticate(db, `Bearer ${demo.specialist.key}`)
const deps = { db, bsnHashKey: Buffer.alloc(32) }

// The statements the list runs, captured from pg itself while the service lists once.
const captured = []
const originalQuery = pg.Client.prototype.query
pg.Client.prototype.query = function watched(config, values, callback) {
  const text = typeof config === 'string' ? config : config?.text
  const params = typeof config === 'string' ? values : (config?.values ?? values)
  if (typeof text === 'string') captured.push({ text, params: Array.isArray(params) ? params : [] })
  return originalQuery.call(this, config, values, callback)
}
const probe = await listCases(deps, specialist, { limit: LIMIT })
pg.Client.prototype.query = originalQuery
if (probe.items.length !== LIMIT) throw new Error(`the probe listed ${probe.items.length} cases, not ${LIMIT}`)

const literal = (value) => {
  if (value === null || value === undefined) return 'null'
  if (typeof value === 'number' || typeof value === 'bigint') return String(value)
  if (typeof value === 'boolean') return value ? 'true' : 'false'
  if (value instanceof Date) return `'${value.toISOString()}'`
  if (Buffer.isBuffer(value)) return `'\\x${value.toString('hex')}'`
  return `'${String(value).replace(/'/g, "''")}'`
}
const inline = ({ text, params }) => text.replace(/\$(\d+)/g, (_, n) => literal(params[Number(n) - 1])).replace(/\s+/g, ' ').trim()
const script = `${captured.map((q) => `${inline(q)};`).join('\n')}\n`
const dir = mkdtempSync(join(tmpdir(), 'regiobalie-bench-list-'))
const scriptFile = join(dir, 'list.sql')
writeFileSync(scriptFile, script)

// Baseline: the very SQL, as the application role (RLS on), with the same number of clients.
const pgbenchLatencies = () => {
  execFileSync(
    'pgbench',
    ['-n', '-c', String(CLIENTS), '-j', '2', '-T', String(SECONDS), '-f', scriptFile, '-l', '--log-prefix', join(dir, 'log'), app],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  )
  const ms = []
  for (const file of readdirSync(dir).filter((f) => f.startsWith('log'))) {
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      const fields = line.trim().split(/\s+/)
      if (fields.length >= 3) ms.push(Number(fields[2]) / 1000)
    }
  }
  return ms
}

const apis = []
const nodeArgs = cpuProfileArgs()
for (let i = 0; i < PROCESSES; i += 1) apis.push(await startApi({ port: PORT + i, owner, app, config, nodeArgs, startTimeoutMs: 60_000 }))
const path = `/v1/cases?limit=${LIMIT}`
const first = await fetch(`http://127.0.0.1:${PORT}${path}`, { headers: { authorization: `Bearer ${demo.specialist.key}` } })
const firstText = await first.text()
const firstBody = JSON.parse(firstText)
if (first.status !== 200 || firstBody.items?.length !== LIMIT) throw new Error(`GET ${path} answered ${first.status} with ${firstBody.items?.length} items`)
if (firstText !== JSON.stringify(probe)) console.warn('note: the HTTP page differs from the in-process page')
const bodyBytes = Buffer.byteLength(firstText)

// Times in wrk's --latency lines ("50%   12.34ms") as milliseconds.
const wrkMs = (out, label) => {
  const m = new RegExp(`^\\s*${label}\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm').exec(out)
  if (!m) throw new Error(`wrk printed no ${label} line:\n${out}`)
  return Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2]]
}
const runWrk = (port, connections, duration) =>
  new Promise((resolve, reject) => {
    const wrkArgs = ['-t', '2', '-c', String(connections), '-d', `${duration}s`, '--latency', '-H', `authorization: Bearer ${demo.specialist.key}`, `http://127.0.0.1:${port}${path}`]
    execFile('wrk', wrkArgs, { encoding: 'utf8' }, (error, out) => {
      if (error) return reject(error)
      const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN)
      const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0)
      const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out)
      const [connect, read, write, timeout] = errors ? errors.slice(1).map(Number) : [0, 0, 0, 0]
      resolve({ '2xx': requests - non2xx, non2xx, errors: connect + read + write, timeouts: timeout, latency: { p50: wrkMs(out, '50%'), p99: wrkMs(out, '99%') } })
    })
  })
const run = (port, connections, duration) =>
  CLIENT === 'wrk'
    ? runWrk(port, connections, duration)
    : autocannon({ url: `http://127.0.0.1:${port}${path}`, connections, duration, headers: { authorization: `Bearer ${demo.specialist.key}` } })
// Warm-up: code paths compiled, pools connected, pages cached.
await Promise.all(apis.map((_, i) => run(PORT + i, 4, 2)))
pgbenchLatencies() // warm-up of the baseline's plans and buffers; its log is overwritten below
for (const file of readdirSync(dir).filter((f) => f.startsWith('log'))) writeFileSync(join(dir, file), '')
const sqlMs = pgbenchLatencies()
const loadDuringSql = machineLine()
// CPU per page, which holds on a loaded machine where rates do not: the API processes, their
// PostgreSQL backends and this process (the HTTP clients), from /proc.
const apiCpuBefore = apis.map((a) => pidCpuMs(a.pid))
const apiSystemBefore = apis.map((a) => pidSystemCpuMs(a.pid))
const pgCpuBefore = await backendCpuMs(ownerClient)
const clientCpuBefore = process.cpuUsage()
const wrkCpuBefore = childrenCpuMs()
const results = await Promise.all(apis.map((_, i) => run(PORT + i, Math.max(1, Math.round(CLIENTS / PROCESSES)), SECONDS)))
const clientCpu = process.cpuUsage(clientCpuBefore)
// The clients' CPU: this process's (autocannon's, or only waiting while wrk runs) and wrk's.
const clientCpuMs = (clientCpu.user + clientCpu.system) / 1000 + (childrenCpuMs() - wrkCpuBefore)
const pgCpu = cpuSpent(pgCpuBefore, await backendCpuMs(ownerClient))
const apiCpu = apis.reduce((ms, a, i) => ms + pidCpuMs(a.pid) - apiCpuBefore[i], 0)
const apiSystem = apis.reduce((ms, a, i) => ms + pidSystemCpuMs(a.pid) - apiSystemBefore[i], 0)
const loadDuringHttp = machineLine()
for (const api of apis) api.kill('SIGTERM')

const ok = results.reduce((n, r) => n + r['2xx'], 0)
const failed = results.reduce((n, r) => n + r.non2xx + r.errors + r.timeouts, 0)
const httpP50 = Math.max(...results.map((r) => r.latency.p50))
const httpP99 = Math.max(...results.map((r) => r.latency.p99))
const sqlP50 = percentile(sqlMs, 50)
const sqlP99 = percentile(sqlMs, 99)

console.log(machineLine())
console.log(`seeded ${CASES.toLocaleString('en')} cases (with ${(CASES * 3).toLocaleString('en')} checklist items and their events) in ${seedSeconds.toFixed(1)} s`)
console.log(`the list's SQL (${captured.length} statements, RLS as the application role): ${scriptFile}`)
console.log(`baseline  pgbench, that SQL, ${CLIENTS} clients, ${SECONDS} s: ${(sqlMs.length / SECONDS).toFixed(0)} tx/s, median ${sqlP50.toFixed(2)} ms, p99 ${sqlP99.toFixed(2)} ms`)
console.log(`          (${loadDuringSql.replace(/^.*load average/, 'load average')})`)
console.log(
  `platform  GET ${path} as a hub specialist, ${CLIENTS} keep-alive connections (${CLIENT}), ${PROCESSES} API process(es), ${SECONDS} s: ${(ok / SECONDS).toFixed(0)}/s, median ${httpP50} ms, p99 ${httpP99} ms, ${failed} failed`,
)
console.log(`          (${loadDuringHttp.replace(/^.*load average/, 'load average')})`)
console.log(`          (body ${(bodyBytes / 1024).toFixed(0)} KiB per page)`)
const perPage = (ms) => `${(ms / Math.max(1, ok)).toFixed(2)} ms`
console.log(`cpu       per page: API ${perPage(apiCpu)} (in the kernel ${perPage(apiSystem)}), its PostgreSQL backends ${perPage(pgCpu)}, the HTTP clients (${CLIENT}) ${perPage(clientCpuMs)}`)
console.log(`ratio     median ${(httpP50 / sqlP50).toFixed(2)}× the SQL's (goal median ≤ 20 ms, p99 ≤ 100 ms, ≤ 1.5× the SQL)`)
if (failed > 0) process.exitCode = 1

// In-process: every filter, first page and a page deep in the cursor walk (limit 25).
const { rows: regionRows } = await ownerClient.query('select region_id from tenants where id = $1', [demo.hub.id])
const regionId = regionRows[0].region_id
const member = await authenticate(db, `Bearer ${demo.members[0].key}`)
const scenarios = [
  ['hub, no filter', specialist, {}],
  ['hub, status=in_review', specialist, { status: 'in_review' }],
  ['hub, caseType=option', specialist, { caseType: 'option' }],
  ['hub, assignedTo=me', specialist, { assignedTo: 'me' }],
  ['hub, memberTenantId', specialist, { memberTenantId: demo.members[1].id }],
  ['member, no filter', member, {}],
  ['member, status=closed', member, { status: 'closed' }],
  ['member, caseType=naturalisation', member, { caseType: 'naturalisation' }],
]
if (!regionId) throw new Error('the hub has no region')
console.log(`in-process list service, ${RUNS} runs per line, limit 25`)
for (const [label, who, filter] of scenarios) {
  // A cursor ten pages deep, to show keyset pages cost the same wherever they start.
  let cursor
  for (let i = 0; i < 10; i += 1) cursor = (await listCases(deps, who, { ...filter, limit: 25, ...(cursor ? { cursor } : {}) })).nextCursor
  const firstPage = []
  const deep = []
  for (let i = 0; i < RUNS; i += 1) {
    let t = performance.now()
    const page = await listCases(deps, who, { ...filter, limit: 25 })
    firstPage.push(performance.now() - t)
    t = performance.now()
    await listCases(deps, who, { ...filter, limit: 25, cursor })
    deep.push(performance.now() - t)
    if (page.items.length === 0) throw new Error(`${label}: empty page`)
  }
  console.log(
    `${label.padEnd(34)} first page p50 ${percentile(firstPage, 50).toFixed(1)} ms p95 ${percentile(firstPage, 95).toFixed(1)} ms | page 11 p50 ${percentile(deep, 50).toFixed(1)} ms p95 ${percentile(deep, 95).toFixed(1)} ms`,
  )
}
await ownerClient.end()
await db.destroy()
