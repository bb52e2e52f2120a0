// Benchmark: settling one month of a hub with 400 members and 2,000,000 service charges (5,000 per
// member) in a fresh database (regiobalie_bench_settlement), beside the time PostgreSQL takes to
// COPY the same rows out, measured in the same run. The run happens in its own worker process
// (settlement-worker.mjs), whose peak RSS is reported; then one member's 5,000-line invoice is
// streamed out as UBL, timed, and validated against the UBL 2.1 XSD.
//   npm run bench:settlement [-- --members 400 --per-member 5000]   (PostgreSQL running; builds first)
// Seeding writes the rows the real charge path writes (cases, balanced ledger entries and lines,
// service charges, charge lines numbered in posting order), set-based with generate_series (see below).
import { execFile } from 'node:child_process'
import { cpus, loadavg, totalmem } from 'node:os'
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
const { DEFAULT_SCOPES } = await import(join(ROOT, 'dist/api/domain/scopes.js'))
const { dutchDate } = await import(join(ROOT, 'dist/api/time.js'))
const { nextPeriod } = await import(join(ROOT, 'dist/api/domain/money.js'))

const today = dutchDate()
const period = nextPeriod(today.slice(0, 7), -1)
const c = new pg.Client({ connectionString: owner })
await c.connect()
const { rows: [{ region_id: regionId }] } = await c.query('select region_id from tenants where id = $1', [demo.hub.id])

const seedStart = performance.now()
const steps = []
const timed = async (name, text, params) => {
  const t = performance.now()
  await c.query(text, params)
  steps.push(`${name} ${((performance.now() - t) / 1000).toFixed(1)} s`)
}
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
// The charges, as the real charge path writes them (fees.service.ts chargeOnEnteringReview): per
// case entering review one ledger entry `service_charge:<case>` with its four balanced lines
// (serviceChargePosting), one service charge and its open_charges row — set-based, in posting order
// (members interleaved through the month, as cases enter review), with random uuids as in the app.
// For the bulk load the foreign-key and trigger checks are off (session_replication_role) and the
// secondary indexes are built after it; what those checks guard is then verified set-based below.
const BIG = ['cases', 'ledger_entries', 'ledger_lines', 'service_charges', 'charge_lines']
const { rows: secondary } = await c.query(
  `select i.indexrelid::regclass::text as name, pg_get_indexdef(i.indexrelid) as def from pg_index i
   where i.indrelid::regclass::text = any($1) and not exists (select 1 from pg_constraint k where k.conindid = i.indexrelid)`,
  [BIG],
)
for (const ix of secondary) await c.query(`drop index ${ix.name}`)
await c.query(`set session_replication_role = replica`)
await timed('seed table',
  `create temp table seed on commit preserve rows as
   select g, m.n, m.id as member_tenant_id, gen_random_uuid() as case_id, gen_random_uuid() as entry_id, gen_random_uuid() as charge_id,
          'RB-B' || m.n || '-' || g as reference, d.day, d.day + interval '8 hours' + (g % 97) * interval '5 minutes' + m.n * interval '1 second' as posted_at
   from generate_series(1, $2::int) g
   cross join (select id, row_number() over (order by id) as n from tenants where municipality_code like 'GM5%' and region_id = $1) m
   cross join lateral (select ($3 || '-01')::date + ((g - 1) * 28 / $2::int) as day) d
   order by g, m.n`,
  [regionId, PER, period],
)
await timed('cases',
  `insert into cases (id, hub_tenant_id, member_tenant_id, reference, case_type, case_type_version, status, subject, due_date, created_at, updated_at)
   select case_id, $1, member_tenant_id, reference, 'naturalisation', '2024-01-01', 'in_review',
          '{"givenNames":"x","surname":"y","dateOfBirth":"1990-01-01"}'::jsonb, '2027-01-01', posted_at - interval '1 day', posted_at
   from seed order by g, n`,
  [demo.hub.id],
)
await timed('ledger entries',
  `insert into ledger_entries (id, hub_tenant_id, member_tenant_id, case_id, kind, period, idempotency_key, created_at)
   select entry_id, $1, member_tenant_id, case_id, 'service_charge', $2, 'service_charge:' || case_id, posted_at from seed order by g, n`,
  [demo.hub.id, period],
)
// serviceChargePosting: member service-cost / payable-to-hub, hub receivable-from-members / service-revenue.
await timed('ledger lines',
  `insert into ledger_lines (entry_id, line_no, hub_tenant_id, member_tenant_id, tenant_id, account, debit_cents, credit_cents)
   select s.entry_id, l.no, $1, s.member_tenant_id, case when l.hub then $1::uuid else s.member_tenant_id end, l.account, l.debit, l.credit
   from seed s cross join (values (1, false, 'service-cost', 45000, 0), (2, false, 'payable-to-hub', 0, 45000),
     (3, true, 'receivable-from-members', 45000, 0), (4, true, 'service-revenue', 0, 45000)) l(no, hub, account, debit, credit)
   order by s.g, s.n, l.no`,
  [demo.hub.id],
)
await timed('service charges',
  `insert into service_charges (id, hub_tenant_id, member_tenant_id, case_id, case_reference, case_type, entered_review_on, period, amount_cents, ledger_entry_id, posted_at)
   select charge_id, $1, member_tenant_id, case_id, reference, 'naturalisation', day, $2, 45000, entry_id, posted_at from seed order by g, n`,
  [demo.hub.id, period],
)
await timed('open charges',
  `insert into open_charges (charge_id, hub_tenant_id, member_tenant_id, period, posted_at, amount_cents)
   select charge_id, $1, member_tenant_id, $2, posted_at, 45000 from seed order by g, n`,
  [demo.hub.id, period],
)
await c.query(`set session_replication_role = origin`)
await c.query(`drop table seed`)
{
  const t = performance.now()
  for (const ix of secondary) await c.query(ix.def)
  steps.push(`${secondary.length} indexes ${((performance.now() - t) / 1000).toFixed(1)} s`)
}
// What the switched-off checks guard, verified once for the whole load.
const checkStart = performance.now()
const { rows: [bad] } = await c.query(
  `select (select count(*) from (select entry_id from ledger_lines group by entry_id having sum(debit_cents) <> sum(credit_cents) or count(*) <> 4) u)::int as unbalanced,
          (select count(*) from service_charges s where not exists (select 1 from cases k where k.id = s.case_id)
             or not exists (select 1 from ledger_entries e where e.id = s.ledger_entry_id and e.case_id = s.case_id))::int as orphans,
          (select count(*) from charge_lines o where not exists (select 1 from service_charges s where s.id = o.charge_id and s.amount_cents = o.amount_cents))::int as open_orphans`,
)
steps.push(`checks ${((performance.now() - checkStart) / 1000).toFixed(1)} s`)
if (bad.unbalanced + bad.orphans + bad.open_orphans !== 0) throw new Error(`seeding produced invalid rows: ${JSON.stringify(bad)}`)
await timed('vacuum analyze', 'vacuum analyze cases, ledger_entries, ledger_lines, service_charges, charge_lines')
const seedSeconds = (performance.now() - seedStart) / 1000
const charges = MEMBERS * PER

// Baseline: PostgreSQL copying the same rows out (psql, COPY … TO STDOUT, discarded).
const copyStart = performance.now()
await run('sh', ['-c', `psql "${owner}" -qAt -c "copy (select * from service_charges where hub_tenant_id = '${demo.hub.id}' and period = '${period}') to stdout" > /dev/null`], { maxBuffer: 1 << 20 })
const copyMs = performance.now() - copyStart
const loadAtCopy = loadavg()

const hub = { kind: 'client', keyId: 'bench', scopes: new Set(DEFAULT_SCOPES.hubClient), tenantId: demo.hub.id, tenantRole: 'hub', regionId }
const s = await startSettlement(db, hub, { period })
const worker = await run(process.execPath, [join(ROOT, 'scripts/bench/settlement-worker.mjs'), app, demo.hub.id, s.id], { maxBuffer: 1 << 20 })
const w = JSON.parse(worker.stdout.trim().split('\n').pop())
const loadAtRun = loadavg()
const { rows: [check] } = await c.query(
  `select count(*)::int as invoices, sum(line_count)::int as lines, max(sequence) as last, sum(total_cents)::text as total from invoices where settlement_id = $1`,
  [s.id],
)
const { rows: [left] } = await c.query(`select count(*)::int as n from open_charges where hub_tenant_id = $1`, [demo.hub.id])
// Where a batch's time goes: its one read (the charges in its members' ranges, migration 0023),
// re-run for all invoices at once — and the lines it gives must be those the invoices recorded.
const rangesStart = performance.now()
const { rows: [reread] } = await c.query(
  `select count(*)::int as lines, sum(r.amount_cents)::text as total from invoices i
   cross join lateral charges_in_range(i.hub_tenant_id, i.member_tenant_id, i.charges_below, i.step_upto, i.step_from) r where i.settlement_id = $1`,
  [s.id],
)
const rangesMs = performance.now() - rangesStart

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
console.log(`seeded ${MEMBERS} members × ${PER.toLocaleString('en')} = ${charges.toLocaleString('en')} charges for ${period} in ${seedSeconds.toFixed(1)} s (${steps.join(', ')})`)
const load = (l) => l.map((v) => v.toFixed(2)).join(' ')
console.log(`COPY of the same rows out (baseline): ${(copyMs / 1000).toFixed(2)} s (load average ${load(loadAtCopy)})`)
console.log(`settlement run: ${(w.ms / 1000).toFixed(2)} s = ${(w.ms / copyMs).toFixed(2)} × COPY (goal ≤ 30 s and ≤ 3 ×); ${Math.round(charges / (w.ms / 1000)).toLocaleString('en')} charges/s (load average ${load(loadAtRun)})`)
console.log(`  ${check.invoices} invoices, ${check.lines} lines, last number ${check.last}, total ${check.total} cents; charges left uninvoiced: ${left.n}`)
console.log(`  the invoices' ranges re-read at once: ${reread.lines} lines, ${reread.total} cents in ${(rangesMs / 1000).toFixed(2)} s (${reread.lines === check.lines && reread.total === check.total ? 'equal to the invoices' : 'NOT EQUAL to the invoices'})`)
console.log(`worker RSS: baseline ${w.baselineRssMiB.toFixed(0)} MiB, peak ${w.peakRssMiB.toFixed(0)} MiB (goal < 256 MiB)`)
console.log(`UBL of one ${one.line_count}-line invoice: ${(ublMs / 1000).toFixed(2)} s, ${(xml.length / 2 ** 20).toFixed(1)} MiB, XSD ${valid.valid ? 'valid' : `INVALID: ${valid.errors[0]?.rawMessage}`} (goal ≤ 2 s and valid)`)
await c.end()
await db.destroy()
if (!valid.valid || left.n !== 0 || check.lines !== charges || reread.lines !== check.lines || reread.total !== check.total) process.exitCode = 1
