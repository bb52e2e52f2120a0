// Benchmark: listing cases at a million cases. Seeds 1,000,000 cases for one hub and two members
// in a fresh database (regiobalie_bench_list), then times the list service — first page and a
// page deep in the cursor walk — for every filter the list offers, as the hub and as a member.
//   npm run bench:list [-- --cases 1000000 --runs 40]   (PostgreSQL running; builds first; seeding takes about a minute)
// The database server is the one of the platform's configuration (api/config.ts).
import { cpus, totalmem } from 'node:os'
import { performance } from 'node:perf_hooks'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { freshBenchDatabase, ROOT } from './bench-database.mjs'

const { values: args } = parseArgs({ options: { cases: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '40' } } })
const CASES = Number(args.cases)
const RUNS = Number(args.runs)

const { owner, db, demo } = await freshBenchDatabase('regiobalie_bench_list')
const { listCases } = await import(join(ROOT, 'dist/api/cases/cases.service.js'))
const { DEFAULT_SCOPES } = await import(join(ROOT, 'dist/api/auth/scopes.js'))

const seedStart = Date.now()
const ownerClient = new pg.Client({ connectionString: owner })
await ownerClient.connect()
await ownerClient.query(
  `insert into cases (hub_tenant_id, member_tenant_id, reference, case_type, case_type_version, status, subject, due_date,
                      assigned_staff_id, created_at, updated_at)
   select $1, case when i % 3 = 0 then $3::uuid else $2::uuid end,
          'RB-B-' || lpad(i::text, 7, '0'),
          (array['naturalisation','option','first_registration','ipr_assessment'])[1 + i % 4],
          '2024-01-01',
          (array['submitted','intake','in_review','awaiting_information','decided','closed','withdrawn'])[1 + (i / 7) % 7],
          '{"givenNames":"x","surname":"y","dateOfBirth":"1990-01-01"}'::jsonb,
          '2027-01-01',
          case when i % 5 = 0 then $4::uuid end,
          now() - make_interval(secs => i), now()
   from generate_series(1, $5::int) as i`,
  [demo.hub.id, demo.members[0].id, demo.members[1].id, demo.specialist.id, CASES],
)
await ownerClient.query('analyze cases')
const seedSeconds = (Date.now() - seedStart) / 1000

const principal = (kind, tenant, extra = {}) => ({
  kind,
  keyId: '00000000-0000-4000-8000-000000000000',
  scopes: new Set(DEFAULT_SCOPES.hubClient),
  tenantId: tenant.id,
  regionId: demo.regionId ?? null,
  ...extra,
})
const { rows: regionRows } = await ownerClient.query('select region_id from tenants where id = $1', [demo.hub.id])
const regionId = regionRows[0].region_id
const hub = { ...principal('staff', demo.hub, { tenantRole: 'hub', staffId: demo.specialist.id, staffRole: 'specialist' }), regionId }
const member = { ...principal('client', demo.members[0], { tenantRole: 'member' }), regionId }

const scenarios = [
  ['hub, no filter', hub, {}],
  ['hub, status=in_review', hub, { status: 'in_review' }],
  ['hub, caseType=option', hub, { caseType: 'option' }],
  ['hub, assignedTo=me', hub, { assignedTo: 'me' }],
  ['hub, memberTenantId', hub, { memberTenantId: demo.members[1].id }],
  ['member, no filter', member, {}],
  ['member, status=closed', member, { status: 'closed' }],
  ['member, caseType=naturalisation', member, { caseType: 'naturalisation' }],
]
const deps = { db, bsnHashKey: Buffer.alloc(32) }
const pct = (xs, p) => xs.sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]

console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`)
console.log(`seeded ${CASES.toLocaleString('en')} cases in ${seedSeconds.toFixed(1)} s; ${RUNS} runs per line, limit 25`)
for (const [label, who, filter] of scenarios) {
  // A cursor ten pages deep, to show keyset pages cost the same wherever they start.
  let cursor
  for (let i = 0; i < 10; i += 1) cursor = (await listCases(deps, who, { ...filter, limit: 25, ...(cursor ? { cursor } : {}) })).nextCursor
  const first = []
  const deep = []
  for (let i = 0; i < RUNS; i += 1) {
    let t = performance.now()
    const page = await listCases(deps, who, { ...filter, limit: 25 })
    first.push(performance.now() - t)
    t = performance.now()
    await listCases(deps, who, { ...filter, limit: 25, cursor })
    deep.push(performance.now() - t)
    if (page.items.length === 0) throw new Error(`${label}: empty page`)
  }
  console.log(`${label.padEnd(34)} first page p50 ${pct(first, 50).toFixed(1)} ms p95 ${pct(first, 95).toFixed(1)} ms | page 11 p50 ${pct(deep, 50).toFixed(1)} ms p95 ${pct(deep, 95).toFixed(1)} ms`)
}
await ownerClient.end()
await db.destroy()
