// Benchmark: settling one month of a hub with 400 members and 2,000,000 service charges (5,000 per
// member) in a fresh database (regiobalie_bench_settlement), beside the time PostgreSQL takes to
// COPY the same rows out, measured in the same run. The run happens in its own worker process
// (settlement-worker.mjs), whose peak RSS is reported; then one member's 5,000-line invoice is
// streamed out as UBL, timed, and validated against the UBL 2.1 XSD.
//   npm run bench:settlement [-- --members 400 --per-member 5000]   (PostgreSQL running; builds first)
// Seeding writes real rows (cases, ledger entries, charges) with generate_series; at the default size
// it takes several minutes. The ledger lines of the seeded charges are not written: the run never
// reads them (it bills service_charges), and they would only slow the seeding.
import { execFile } from 'node:child_process'
import { cpus, totalmem } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { readdirSync, readFileSync } from 'node:fs'
import { parseArgs, promisify } from 'node:util'
import pg from 'pg'
import { freshBenchDatabase, ROOT } from './bench-database.mjs'

const run = promisify(execFile)
const { values: args } = parseArgs({ options: { members: { type: 'string', default: '400' }, 'per-member': { type: 'string', default: '5000' } } })
const MEMBERS = Number(args.members)
const PER = Number(args['per-member'])

const { owner, app, db, demo } = await freshBenchDatabase('regiobalie_bench_settlement')
const { startSettlement, exportInvoice } = await import(join(ROOT, 'dist/api/settlement/settlement.service.js'))
const { DEFAULT_SCOPES } = await import(join(ROOT, 'dist/api/auth/scopes.js'))
const { dutchDate } = await import(join(ROOT, 'dist/api/time.js'))
const { nextPeriod } = await import(join(ROOT, 'dist/api/domain/money.js'))

const today = dutchDate()
const period = nextPeriod(today.slice(0, 7), -1)
const c = new pg.Client({ connectionString: owner })
await c.connect()
const { rows: [{ region_id: regionId }] } = await c.query('select region_id from tenants where id = $1', [demo.hub.id])

const seedStart = performance.now()
await c.query(
  `insert into tenants (region_id, municipality_code, name, role)
   select $1, 'GM' || lpad((5000 + i)::text, 4, '0'), 'Bench member ' || i, 'member' from generate_series(1, $2::int) i`,
  [regionId, MEMBERS],
)
await c.query(
  `insert into agreements (hub_tenant_id, member_tenant_id, case_type, tariff_cents, valid_from)
   select $1, id, 'naturalisation', 45000, '2020-01-01' from tenants where municipality_code like 'GM5%' and region_id = $2`,
  [demo.hub.id, regionId],
)
// The demo's own two members would be settled too; the bench settles the 400 only.
await c.query(`delete from agreements where member_tenant_id = any($1::uuid[])`, [demo.members.map((m) => m.id)])
await c.query(
  `insert into billing_details (tenant_id, region_id, oin, street, house_number, postal_code, city, iban, email)
   select id, region_id, '00000001' || lpad((100000000 + row_number() over (order by id))::text, 9, '0') || '000', 'Markt', '1', '8011 PK', 'Zwolle',
          'NL91ABNA0417164300', 'facturen@bench.invalid'
   from tenants where region_id = $1`,
  [regionId],
)
await c.query(
  `insert into cases (hub_tenant_id, member_tenant_id, reference, case_type, case_type_version, status, subject, due_date)
   select $1, m.id, 'RB-B' || m.n || '-' || g, 'naturalisation', '2024-01-01', 'in_review',
          '{"givenNames":"x","surname":"y","dateOfBirth":"1990-01-01"}'::jsonb, '2027-01-01'
   from (select id, row_number() over (order by id) as n from tenants where municipality_code like 'GM5%' and region_id = $2) m,
        generate_series(1, $3::int) g`,
  [demo.hub.id, regionId, PER],
)
await c.query(
  `insert into ledger_entries (hub_tenant_id, member_tenant_id, case_id, kind, period, idempotency_key)
   select hub_tenant_id, member_tenant_id, id, 'service_charge', $2, 'service_charge:' || id from cases where hub_tenant_id = $1`,
  [demo.hub.id, period],
)
await c.query(
  `insert into service_charges (hub_tenant_id, member_tenant_id, case_id, case_reference, case_type, entered_review_on, period, amount_cents, ledger_entry_id, posted_at)
   select c.hub_tenant_id, c.member_tenant_id, c.id, c.reference, c.case_type, ($2 || '-' || lpad((1 + abs(hashtext(c.reference)) % 28)::text, 2, '0'))::date,
          $2, 45000, e.id, now() - interval '1 day'
   from cases c join ledger_entries e on e.case_id = c.id where c.hub_tenant_id = $1`,
  [demo.hub.id, period],
)
await c.query(
  `insert into open_charges (charge_id, hub_tenant_id, member_tenant_id, period, posted_at)
   select id, hub_tenant_id, member_tenant_id, period, posted_at from service_charges where hub_tenant_id = $1`,
  [demo.hub.id],
)
await c.query('vacuum analyze service_charges, open_charges')
const seedSeconds = (performance.now() - seedStart) / 1000
const charges = MEMBERS * PER

// Baseline: PostgreSQL copying the same rows out (psql, COPY … TO STDOUT, discarded).
const copyStart = performance.now()
await run('sh', ['-c', `psql "${owner}" -qAt -c "copy (select * from service_charges where hub_tenant_id = '${demo.hub.id}' and period = '${period}') to stdout" > /dev/null`], { maxBuffer: 1 << 20 })
const copyMs = performance.now() - copyStart

const hub = { kind: 'client', keyId: 'bench', scopes: new Set(DEFAULT_SCOPES.hubClient), tenantId: demo.hub.id, tenantRole: 'hub', regionId }
const s = await startSettlement(db, hub, { period })
const worker = await run(process.execPath, [join(ROOT, 'scripts/bench/settlement-worker.mjs'), app, demo.hub.id, s.id], { maxBuffer: 1 << 20 })
const w = JSON.parse(worker.stdout.trim().split('\n').pop())
const { rows: [check] } = await c.query(
  `select count(*)::int as invoices, sum(line_count)::int as lines, max(sequence) as last, sum(total_cents)::text as total from invoices where settlement_id = $1`,
  [s.id],
)
const { rows: [left] } = await c.query(`select count(*)::int as n from open_charges where hub_tenant_id = $1`, [demo.hub.id])

// One member's invoice as UBL, streamed out and validated.
const { rows: [one] } = await c.query(`select id, line_count from invoices where settlement_id = $1 order by sequence limit 1`, [s.id])
const ublStart = performance.now()
let xml = ''
for await (const chunk of await exportInvoice(db, hub, one.id, 'ubl')) xml += chunk
const ublMs = performance.now() - ublStart
const { validateXML } = await import('xmllint-wasm')
const xsd = join(ROOT, 'test/fixtures/ubl-2.1/xsd')
const files = (dir) => readdirSync(join(xsd, dir)).map((f) => ({ fileName: `${dir}/${f}`, contents: readFileSync(join(xsd, dir, f), 'utf8') }))
const maindoc = files('maindoc')
const valid = await validateXML({
  xml: [{ fileName: 'invoice.xml', contents: xml }],
  schema: [maindoc.find((f) => f.fileName.endsWith('Invoice-2.1.xsd'))],
  preload: [...files('common'), ...maindoc],
  maxMemoryPages: 16384,
})

console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`)
console.log(`seeded ${MEMBERS} members × ${PER.toLocaleString('en')} = ${charges.toLocaleString('en')} charges for ${period} in ${seedSeconds.toFixed(1)} s`)
console.log(`COPY of the same rows out (baseline): ${(copyMs / 1000).toFixed(2)} s`)
console.log(`settlement run: ${(w.ms / 1000).toFixed(2)} s = ${(w.ms / copyMs).toFixed(2)} × COPY (goal ≤ 30 s and ≤ 3 ×); ${Math.round(charges / (w.ms / 1000)).toLocaleString('en')} charges/s`)
console.log(`  ${check.invoices} invoices, ${check.lines} lines, last number ${check.last}, total ${check.total} cents; charges left uninvoiced: ${left.n}`)
console.log(`worker RSS: baseline ${w.baselineRssMiB.toFixed(0)} MiB, peak ${w.peakRssMiB.toFixed(0)} MiB (goal < 256 MiB)`)
console.log(`UBL of one ${one.line_count}-line invoice: ${(ublMs / 1000).toFixed(2)} s, ${(xml.length / 2 ** 20).toFixed(1)} MiB, XSD ${valid.valid ? 'valid' : `INVALID: ${valid.errors[0]?.rawMessage}`} (goal ≤ 2 s and valid)`)
await c.end()
await db.destroy()
if (!valid.valid || left.n !== 0 || check.lines !== charges) process.exitCode = 1
