// kill -9 the settlement worker process in the middle of a run, resume the run: every charge is on
// exactly one invoice and the invoice numbers are 1…N without a gap or a duplicate.
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { sql } from 'kysely'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runSettlement, startSettlement } from '../../api/settlement/settlement.service.js'
import { DEFAULT_SCOPES } from '../../api/domain/scopes.js'
import type { Principal } from '../../api/auth/principal.js'
import { nextPeriod } from '../../api/domain/money.js'
import * as tenancy from '../../api/tenancy/tenancy.service.js'
import { dutchDate } from '../../api/time.js'
import { ADMIN, newRegion } from '../helpers/builders.js'
import { createTestDatabase, type TestDatabase } from '../helpers/db.js'
import { billingBody } from '../helpers/settlement-builders.js'
import { build, ROOT, until } from './helpers.js'

let database: TestDatabase

// The build takes more than the default minute on a loaded machine.
beforeAll(async () => {
  build()
  database = await createTestDatabase()
}, 300_000)
afterAll(async () => database.drop())

const MEMBERS = 24
const PER_MEMBER = 1000
/** Members per transaction: several batches, so the kill lands between (or inside) them. */
const BATCH = 4

describe('the settlement worker killed with SIGKILL mid-run', () => {
  it('resumes without duplicates or gaps', async () => {
    const db = database.db
    const region = await newRegion(db)
    const { rows: regionRows } = await sql<{ region_id: string }>`select region_id from tenants where id = ${region.hub.id}`.execute(database.owner)
    const regionId = regionRows[0]!.region_id
    const period = nextPeriod(dutchDate().slice(0, 7), -1)
    // More members, and their charges, straight into the tables (the run only reads those).
    await sql`insert into tenants (region_id, municipality_code, name, role)
      select ${regionId}, 'GM' || lpad((8000 + i)::text, 4, '0'), 'Kill test ' || i, 'member' from generate_series(1, ${MEMBERS - 2}::int) i`.execute(database.owner)
    await sql`insert into agreements (hub_tenant_id, member_tenant_id, case_type, tariff_cents, valid_from)
      select ${region.hub.id}, id, 'naturalisation', 45000, '2020-01-01' from tenants where municipality_code like 'GM8%'`.execute(database.owner)
    const { rows: tenants } = await sql<{ id: string }>`select id from tenants where region_id = ${regionId}`.execute(database.owner)
    for (const t of tenants) await tenancy.updateTenantStatus(db, ADMIN, t.id, { billing: billingBody() })
    await sql`insert into cases (hub_tenant_id, member_tenant_id, reference, case_type, case_type_version, status, subject, due_date)
      select ${region.hub.id}, a.member_tenant_id, 'RB-K-' || left(a.member_tenant_id::text, 8) || '-' || g, 'naturalisation', '2024-01-01', 'in_review',
             '{"givenNames":"x","surname":"y","dateOfBirth":"1990-01-01"}'::jsonb, '2027-01-01'
      from (select distinct member_tenant_id from agreements where hub_tenant_id = ${region.hub.id}) a, generate_series(1, ${PER_MEMBER}::int) g`.execute(database.owner)
    await sql`insert into ledger_entries (hub_tenant_id, member_tenant_id, case_id, kind, period, idempotency_key)
      select hub_tenant_id, member_tenant_id, id, 'service_charge', ${period}, 'service_charge:' || id from cases where reference like 'RB-K-%'`.execute(database.owner)
    await sql`with c as (
        insert into service_charges (hub_tenant_id, member_tenant_id, case_id, case_reference, case_type, entered_review_on, period, amount_cents, ledger_entry_id, posted_at)
        select c.hub_tenant_id, c.member_tenant_id, c.id, c.reference, c.case_type, (${period} || '-15')::date, ${period}, 45000, e.id, now() - interval '1 day'
        from cases c join ledger_entries e on e.case_id = c.id where c.reference like 'RB-K-%'
        returning id, hub_tenant_id, member_tenant_id, period, posted_at, amount_cents)
      insert into open_charges (charge_id, hub_tenant_id, member_tenant_id, period, posted_at, amount_cents)
      select id, hub_tenant_id, member_tenant_id, period, posted_at, amount_cents from c`.execute(database.owner)

    const hub: Principal = { kind: 'client', keyId: 'e2e', scopes: new Set(DEFAULT_SCOPES.hubClient), tenantId: region.hub.id, tenantRole: 'hub', regionId }
    const s = await startSettlement(db, hub, { period })
    expect(s.progress.total).toBe(MEMBERS)

    const done = async () => (await sql<{ n: number }>`select done as n from settlements where id = ${s.id}`.execute(database.owner)).rows[0]!.n
    // A whole run takes milliseconds, so the kill is made to land mid-run: the first member of the
    // second batch (members are settled in id order) is held locked, and its invoice's foreign key
    // check waits for it. Once the first batch is settled and the second waits, the worker dies.
    const { rows: members } = await sql<{ id: string }>`
      select distinct member_tenant_id as id from service_charges where hub_tenant_id = ${region.hub.id} order by 1`.execute(database.owner)
    const blocker = new pg.Client({ connectionString: database.ownerUrl })
    await blocker.connect()
    await blocker.query('begin')
    await blocker.query('select 1 from tenants where id = $1 for update', [members[BATCH]!.id])
    const worker = spawn(process.execPath, [join(ROOT, 'scripts/bench/settlement-worker.mjs'), database.appUrl, region.hub.id, s.id, String(BATCH), '1'], { stdio: 'ignore' })
    const exited = new Promise<number | null>((resolve) => worker.on('exit', (code) => resolve(code)))
    const waiting = async () =>
      Number((await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`.execute(database.owner)).rows[0]!.n)
    await until('the worker to have settled a batch and to wait in the next', async () => (await done()) >= 1 && (await waiting()) > 0, 60_000)
    worker.kill('SIGKILL')
    await exited
    await blocker.query('rollback')
    await blocker.end()
    const atKill = await done()
    expect(atKill).toBeLessThan(MEMBERS)
    // Progress moves a whole batch at a time: what was in flight rolled back.
    expect(atKill % BATCH).toBe(0)

    // The retried job (BullMQ redelivers a stalled one) resumes where the killed one stopped.
    await runSettlement(db, { tenantId: region.hub.id, settlementId: s.id })
    expect(await done()).toBe(MEMBERS)
    const { rows: numbers } = await sql<{ sequence: number; lines: number; total: string; sum: string }>`
      select i.sequence, i.line_count as lines, i.total_cents::text as total,
             (select sum(amount_cents) from invoice_lines l where l.invoice_id = i.id)::text as sum
      from invoices i where i.hub_tenant_id = ${region.hub.id} order by i.sequence`.execute(database.owner)
    expect(numbers.map((n) => n.sequence)).toEqual(Array.from({ length: MEMBERS }, (_, i) => i + 1))
    for (const n of numbers) {
      expect(n.lines).toBe(PER_MEMBER)
      expect(n.sum).toBe(n.total)
    }
    const { rows: open } = await sql<{ n: number }>`select count(*)::int as n from open_charges where hub_tenant_id = ${region.hub.id}`.execute(database.owner)
    expect(open[0]!.n).toBe(0)
    const { rows: lines } = await sql<{ n: number }>`select count(*)::int as n from invoice_lines where hub_tenant_id = ${region.hub.id}`.execute(database.owner)
    expect(lines[0]!.n).toBe(MEMBERS * PER_MEMBER)
  }, 120_000)
})
