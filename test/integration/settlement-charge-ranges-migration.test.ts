// Migration 0023 on a database with history: invoices whose charges carry their invoice id (as
// migration 0017 left them), a settlement still running with one member settled, a charge posted
// after that settlement's cutoff. Taken back with down() and forward again with up(), every invoice
// keeps exactly its lines, the running settlement resumes for the member it has not settled, and
// the late charge stays open for the next month — then every charge is on exactly one invoice.
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { nextPeriod } from '../../api/domain/money.js'
import { runSettlement } from '../../api/settlement/settlement.service.js'
import { dutchDate } from '../../api/time.js'
import * as chargeRanges from '../../migrations/2026_12_01_0023_charge_ranges.js'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { newAdminKey, newRegion, type TenantFixture } from '../helpers/builders.js'
import { send } from '../helpers/case-builders.js'
import { caseInIntake, chargeOn, setBilling } from '../helpers/settlement-builders.js'
import { expectOk } from '../helpers/tenancy-builders.js'

let t: TestApp
let adminKey: string

beforeAll(async () => {
  t = await startTestApp()
  adminKey = await newAdminKey(t.database.db)
})
afterAll(async () => t.close())

const today = dutchDate()
const thisMonth = today.slice(0, 7)
const lastMonth = nextPeriod(thisMonth, -1)
const twoMonthsAgo = nextPeriod(thisMonth, -2)
const dayIn = (period: string, day = 10) => `${period}-${String(day).padStart(2, '0')}`

type Settlement = { id: string }

async function charged(member: TenantFixture, n: number, day: string): Promise<void> {
  for (let i = 0; i < n; i += 1) await chargeOn(t.database.db, await caseInIntake(t.app, t.database.db, member.key), day)
}

/** Per invoice of the hub: its recorded line count and total against its lines. */
async function invoiceLines(hubId: string) {
  const { rows } = await sql<{ id: string; line_count: number; lines: number; total: string; sum: string | null }>`
    select i.id, i.line_count, (select count(*) from invoice_lines l where l.invoice_id = i.id)::int as lines,
      i.total_cents::text as total, (select sum(amount_cents) from invoice_lines l where l.invoice_id = i.id)::text as sum
    from invoices i where i.hub_tenant_id = ${hubId} and i.document_type = 'invoice' order by i.sequence`.execute(t.database.owner)
  return rows
}

async function chargesNotOnOneInvoice(hubId: string): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    select count(*)::int as n from service_charges c where c.hub_tenant_id = ${hubId}
      and (select count(*) from invoice_lines l where l.charge_id = c.id) <> 1`.execute(t.database.owner)
  return rows[0]!.n
}

describe('migration 0023 on a database with history', () => {
  it('keeps every invoice’s lines, resumes a running settlement, leaves a late charge for the next month', async () => {
    const r = await newRegion(t.database.db)
    for (const tenant of [r.hub, ...r.members]) await setBilling(t.app, adminKey, tenant.id)
    const start = (body: object) => send(t.app, 'POST', '/v1/settlements', r.hub.key, body)
    for (const m of r.members) await charged(m, 2, dayIn(twoMonthsAgo))
    const first = expectOk<Settlement>(await start({ period: twoMonthsAgo }), 202)
    await runSettlement(t.database.db, { tenantId: r.hub.id, settlementId: first.id })
    for (const m of r.members) await charged(m, 1, dayIn(lastMonth))
    const second = expectOk<Settlement>(await start({ period: lastMonth }), 202)
    const crash = new Error('stopped after one member')
    await expect(runSettlement(t.database.db, { tenantId: r.hub.id, settlementId: second.id }, { batchSize: 1, afterBatch: () => { throw crash } })).rejects.toBe(crash)

    const owner = t.database.owner
    // Back to the schema before 0023: the lines get their invoice ids, as 0017 wrote them.
    await owner.transaction().execute((trx) => chargeRanges.down(trx))
    const before = await invoiceLines(r.hub.id)
    expect(before.map((i) => i.line_count)).toEqual([2, 2, 1])
    const { rows: ids } = await sql<{ n: number }>`select count(*)::int as n from charge_lines where hub_tenant_id = ${r.hub.id} and invoice_id is not null`.execute(owner)
    expect(ids[0]!.n).toBe(5)
    // A charge of the earlier month posted after the running settlement's cutoff (the app's own posting).
    await charged(r.members[0], 1, dayIn(twoMonthsAgo, 20))

    await owner.transaction().execute((trx) => chargeRanges.up(trx))
    expect(await invoiceLines(r.hub.id)).toEqual(before)
    const { rows: cut } = await sql<{ status: string; below: string | null }>`
      select status, charges_below::text as below from settlements where hub_tenant_id = ${r.hub.id} order by created_at`.execute(owner)
    expect(cut.map((c) => c.status)).toEqual(['done', 'running'])
    // A settlement done before 0023 covers no range; the running one covers what it would have taken.
    expect(cut[0]!.below).toBeNull()
    expect(cut[1]!.below).not.toBeNull()

    // The running settlement resumes: the other member's month is invoiced, the late charge stays open.
    expect(await runSettlement(t.database.db, { tenantId: r.hub.id, settlementId: second.id })).toEqual({ settled: 1 })
    const resumed = await invoiceLines(r.hub.id)
    expect(resumed.map((i) => [i.line_count, i.lines])).toEqual([[2, 2], [2, 2], [1, 1], [1, 1]])
    for (const i of resumed) expect(i.sum).toBe(i.total)
    expect(await chargesNotOnOneInvoice(r.hub.id)).toBe(1)
    const { rows: open } = await sql<{ period: string }>`select period from open_charges where hub_tenant_id = ${r.hub.id}`.execute(owner)
    expect(open).toEqual([{ period: twoMonthsAgo }])

    // The next settlement takes it; every charge is on one invoice.
    const third = expectOk<Settlement>(await start({ period: thisMonth, closeEarly: true }), 202)
    await runSettlement(t.database.db, { tenantId: r.hub.id, settlementId: third.id })
    const after = await invoiceLines(r.hub.id)
    expect(after.map((i) => i.lines)).toEqual([2, 2, 1, 1, 1])
    expect(await chargesNotOnOneInvoice(r.hub.id)).toBe(0)
  })
})
