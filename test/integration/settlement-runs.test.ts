// Issue 14, second half: settlement runs per hub and month, invoices numbered without gaps (also
// under two concurrent runs and a crashed one), the exports (JSON, CSV, UBL validated against the
// XSD), credit notes, and the IND remittance with its access-logged name list.
import { sql } from 'kysely'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { nextPeriod } from '../../api/domain/money.js'
import { withTenantOf } from '../../api/db/database.js'
import { chargeOnEnteringReview } from '../../api/settlement/fees.service.js'
import { streamLines } from '../../api/settlement/settlement.repository.js'
import { runSettlement } from '../../api/settlement/settlement.service.js'
import { dutchDate } from '../../api/time.js'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { newAdminKey, newRegion, type RegionFixture, type TenantFixture } from '../helpers/builders.js'
import { send, type CaseJson } from '../helpers/case-builders.js'
import { addMember, caseInIntake, chargeOn, setBilling } from '../helpers/settlement-builders.js'
import { expectOk, expectProblem } from '../helpers/tenancy-builders.js'
import { validateUbl } from '../helpers/ubl-validate.js'

let t: TestApp
let adminKey: string

beforeAll(async () => {
  t = await startTestApp()
  adminKey = await newAdminKey(t.database.db)
})
afterAll(async () => t.close())

type Settlement = { id: string; period: string; status: string; progress: { done: number; total: number }; invoices?: Array<{ id: string; number: string }> }
type Invoice = { id: string; number: string; documentType: string; memberTenantId: string; lineCount: number; totalCents: number; period: string }
type Remittance = { id: string; memberTenantId: string; dueOn: string; status: string; totals: { lines: number; feeCents: number; compensationCents: number; remitCents: number }; lines?: Array<{ caseReference: string; tariffCode: string; remitCents: number }> }

const today = dutchDate()
const thisMonth = today.slice(0, 7)
const lastMonth = nextPeriod(thisMonth, -1)
const twoMonthsAgo = nextPeriod(thisMonth, -2)
const dayIn = (period: string, day = 10) => `${period}-${String(day).padStart(2, '0')}`

interface Region extends RegionFixture {
  all: TenantFixture[]
}

async function billedRegion(extraMembers = 0): Promise<Region> {
  const r = await newRegion(t.database.db)
  const all = [...r.members]
  for (let i = 0; i < extraMembers; i += 1) all.push(await addMember(t.database.db, r))
  for (const tenant of [r.hub, ...all]) await setBilling(t.app, adminKey, tenant.id)
  return { ...r, all }
}

/** `n` cases of a member charged on `day`. */
async function charged(member: TenantFixture, n: number, day: string): Promise<CaseJson[]> {
  const cases: CaseJson[] = []
  for (let i = 0; i < n; i += 1) {
    const c = await caseInIntake(t.app, t.database.db, member.key)
    await chargeOn(t.database.db, c, day)
    cases.push(c)
  }
  return cases
}

const start = (key: string, body: object) => send(t.app, 'POST', '/v1/settlements', key, body)
const settle = async (hub: TenantFixture, s: Settlement) => runSettlement(t.database.db, { tenantId: hub.id, settlementId: s.id })

/** Every invoice number of the hub, and checks: unique, sequential from 1, no gap. */
async function assertSeries(hubId: string, code: string): Promise<string[]> {
  const { rows } = await sql<{ number: string; sequence: number }>`select number, sequence from invoices where hub_tenant_id = ${hubId} order by sequence`.execute(t.database.owner)
  expect(rows.map((r) => r.sequence)).toEqual(rows.map((_, i) => i + 1))
  expect(rows.map((r) => r.number)).toEqual(rows.map((_, i) => `${code}-${today.slice(0, 4)}-${String(i + 1).padStart(6, '0')}`))
  return rows.map((r) => r.number)
}

/** Each invoice's total is its lines' sum; no charge is both open and invoiced. */
async function assertChargesInvoicedOnce(hubId: string): Promise<void> {
  const { rows } = await sql<{ bad: number }>`
    select count(*)::int as bad from invoices i
    where i.hub_tenant_id = ${hubId} and i.document_type = 'invoice'
      and (i.total_cents, i.line_count) is distinct from (select (sum(amount_cents)::bigint, count(*)::int) from invoice_lines l where l.invoice_id = i.id)`.execute(t.database.owner)
  expect(rows[0]!.bad).toBe(0)
  const { rows: both } = await sql<{ n: number }>`select count(*)::int as n from open_charges o join invoice_lines l using (charge_id) where o.hub_tenant_id = ${hubId}`.execute(t.database.owner)
  expect(both[0]!.n).toBe(0)
}

describe('starting a settlement', () => {
  let r: Region
  beforeAll(async () => {
    r = await billedRegion()
  })

  it('only the hub (client or lead) settles: a member or a specialist gets 403', async () => {
    expectProblem(await start(r.members[0].key, { period: lastMonth }), 403, 'forbidden')
    expectProblem(await start(r.specialist.key, { period: lastMonth }), 403, 'insufficient-scope')
  })

  it('422 period-not-ended for the running month without closeEarly, and for a future month', async () => {
    expectProblem(await start(r.hub.key, { period: thisMonth }), 422, 'period-not-ended')
    expectProblem(await start(r.hub.key, { period: nextPeriod(thisMonth), closeEarly: true }), 422, 'period-not-ended')
    expectProblem(await start(r.hub.key, { period: '2026-13' }), 400, 'invalid-request')
  })

  it('422 billing-details-missing naming the tenants that lack them', async () => {
    const bare = await newRegion(t.database.db)
    await setBilling(t.app, adminKey, bare.members[0].id)
    const p = expectProblem(await start(bare.hub.key, { period: lastMonth }), 422, 'billing-details-missing')
    expect(p.detail).toContain(bare.hub.code)
    expect(p.detail).toContain(bare.members[1].code)
    expect(p.detail).not.toContain(bare.members[0].code)
  })

  it('202 with progress; the same period again returns the same settlement; a lead may start it too', async () => {
    const first = expectOk<Settlement>(await start(r.hub.key, { period: twoMonthsAgo }), 202)
    expect(first).toMatchObject({ period: twoMonthsAgo, status: 'running', progress: { done: 0, total: 2 } })
    const again = expectOk<Settlement>(await start(r.lead.key, { period: twoMonthsAgo }), 202)
    expect(again.id).toBe(first.id)
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from outbox where queue = 'settlement' and payload->>'settlementId' = ${first.id}`.execute(t.database.owner)
    expect(rows[0]!.n).toBe(1)
    expectProblem(await send(t.app, 'GET', `/v1/settlements/${first.id}`, r.members[0].key), 403, 'forbidden')
    const other = await billedRegion()
    expectProblem(await send(t.app, 'GET', `/v1/settlements/${first.id}`, other.hub.key), 404, 'not-found')
  })
})

describe('a settled month: invoices, exports, credit notes and the remittance', () => {
  let r: Region
  let s: Settlement
  let cases: CaseJson[]
  let feeCase: CaseJson

  beforeAll(async () => {
    r = await billedRegion()
    cases = await charged(r.members[0], 3, dayIn(lastMonth))
    await charged(r.members[1], 1, dayIn(lastMonth, 12))
    // A charge of this month stays for the next invoice.
    await charged(r.members[0], 1, today)
    feeCase = await caseInIntake(t.app, t.database.db, r.members[0].key)
    expectOk(await send(t.app, 'POST', `/v1/cases/${feeCase.id}/fees`, r.members[0].key, { tariffCode: 'D', minors: 1, paidOn: '2022-06-01' }), 201)
    const option = await caseInIntake(t.app, t.database.db, r.members[0].key, 'option')
    expectOk(await send(t.app, 'POST', `/v1/cases/${option.id}/fees`, r.members[0].key, { tariffCode: 'A', paidOn: '2022-06-01' }), 201)
    s = expectOk<Settlement>(await start(r.hub.key, { period: lastMonth }), 202)
    await settle(r.hub, s)
  })

  it('is done, with one invoice per member for the month’s charges', async () => {
    const got = expectOk<Settlement>(await send(t.app, 'GET', `/v1/settlements/${s.id}`, r.hub.key))
    expect(got).toMatchObject({ status: 'done', progress: { done: 2, total: 2 } })
    expect(got.invoices).toHaveLength(2)
    const numbers = await assertSeries(r.hub.id, r.hub.code)
    expect(numbers).toHaveLength(2)
    await assertChargesInvoicedOnce(r.hub.id)
    const mine = expectOk<{ items: Invoice[] }>(await send(t.app, 'GET', '/v1/invoices', r.members[0].key)).items
    expect(mine).toHaveLength(1)
    expect(mine[0]).toMatchObject({ lineCount: 3, totalCents: 3 * 45_000, period: lastMonth, documentType: 'invoice' })
  })

  it('running the job again posts and issues nothing more (idempotent)', async () => {
    expect(await settle(r.hub, s)).toEqual({ settled: 0 })
    const { rows } = await sql<{ n: number }>`update settlements set status = 'running' where id = ${s.id} returning 1 as n`.execute(t.database.owner)
    expect(rows).toHaveLength(1)
    expect(await settle(r.hub, s)).toEqual({ settled: 0 })
    expect(await assertSeries(r.hub.id, r.hub.code)).toHaveLength(2)
  })

  it('a member sees only its own invoices; another member’s is 404', async () => {
    const theirs = expectOk<{ items: Invoice[] }>(await send(t.app, 'GET', '/v1/invoices', r.members[1].key)).items[0]!
    expectProblem(await send(t.app, 'GET', `/v1/invoices/${theirs.id}`, r.members[0].key), 404, 'not-found')
    expectProblem(await send(t.app, 'GET', `/v1/invoices/${theirs.id}/ubl`, r.members[0].key), 404, 'not-found')
    expectProblem(await send(t.app, 'GET', `/v1/invoices/${theirs.id}/csv`, r.members[0].key), 404, 'not-found')
    expect(expectOk<{ items: Invoice[] }>(await send(t.app, 'GET', '/v1/invoices', r.hub.key)).items).toHaveLength(2)
    const other = await billedRegion()
    expectProblem(await send(t.app, 'GET', `/v1/invoices/${theirs.id}`, other.hub.key), 404, 'not-found')
  })

  it('UBL: Peppol BIS 3.0 identifiers, valid against the UBL 2.1 XSD, sums per EN 16931', async () => {
    const inv = expectOk<{ items: Invoice[] }>(await send(t.app, 'GET', '/v1/invoices', r.members[0].key)).items[0]!
    const res = await send(t.app, 'GET', `/v1/invoices/${inv.id}/ubl`, r.members[0].key)
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/^application\/xml/)
    const xml = res.body
    expect(await validateUbl(xml, 'Invoice')).toEqual({ valid: true, errors: [] })
    expect(xml).toContain('<cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0</cbc:CustomizationID>')
    expect(xml).toContain('<cbc:ProfileID>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0</cbc:ProfileID>')
    expect(xml).toContain(`<cbc:BuyerReference>${r.members[0].code}</cbc:BuyerReference>`)
    expect(xml).toMatch(/<cbc:EndpointID schemeID="0190">\d{20}<\/cbc:EndpointID>/)
    expect(xml).toContain('<cbc:PaymentMeansCode name="Credit transfer">58</cbc:PaymentMeansCode>')
    expect(xml).toContain('<cbc:ID>NL91ABNA0417164300</cbc:ID>')
    expect(xml).toContain('<cbc:TaxExemptionReasonCode>VATEX-EU-O</cbc:TaxExemptionReasonCode>')
    const amounts = (tag: string) => [...xml.matchAll(new RegExp(`<cbc:${tag} currencyID="EUR">([0-9.]+)</cbc:${tag}>`, 'g'))].map((m) => m[1]!)
    const cents = (v: string) => BigInt(v.replace('.', ''))
    const lineSum = amounts('LineExtensionAmount').slice(1).reduce((a, v) => a + cents(v), 0n)
    expect(cents(amounts('LineExtensionAmount')[0]!)).toBe(lineSum) // BR-CO-10
    expect(cents(amounts('TaxExclusiveAmount')[0]!)).toBe(lineSum) // BR-CO-13
    expect(cents(amounts('TaxInclusiveAmount')[0]!)).toBe(lineSum + cents(amounts('TaxAmount')[0]!)) // BR-CO-15
    expect(cents(amounts('PayableAmount')[0]!)).toBe(BigInt(inv.totalCents)) // BR-CO-16
    expect(xml).not.toMatch(/Anouk|Verhoevenpersoon/)
    expect(xml.match(/<cac:InvoiceLine>/g)).toHaveLength(3)
  })

  it('CSV: one row per line', async () => {
    const inv = expectOk<{ items: Invoice[] }>(await send(t.app, 'GET', '/v1/invoices', r.members[0].key)).items[0]!
    const res = await send(t.app, 'GET', `/v1/invoices/${inv.id}/csv`, r.hub.key)
    expect(res.headers['content-type']).toMatch(/^text\/csv/)
    const rows = res.body.trim().split('\n')
    expect(rows).toHaveLength(4)
    expect(rows.slice(1).map((l) => l.split(',')[5]).sort()).toEqual(cases.map((c) => c.reference).sort())
  })

  it('a charge of a settled month lands on the next invoice', async () => {
    const late = await charged(r.members[0], 1, dayIn(lastMonth, 20))
    const next = expectOk<Settlement>(await start(r.hub.key, { period: thisMonth, closeEarly: true }), 202)
    await settle(r.hub, next)
    const invoices = expectOk<{ items: Invoice[] }>(await send(t.app, 'GET', `/v1/invoices?period=${thisMonth}`, r.members[0].key)).items
    expect(invoices).toHaveLength(1)
    expect(invoices[0]).toMatchObject({ lineCount: 2 })
    const csv = (await send(t.app, 'GET', `/v1/invoices/${invoices[0]!.id}/csv`, r.members[0].key)).body
    expect(csv).toContain(late[0]!.reference)
    await assertSeries(r.hub.id, r.hub.code)
    await assertChargesInvoicedOnce(r.hub.id)
  })

  it('the remittance: naturalisation fees only, lines and totals, due the first working day of the second month', async () => {
    const list = expectOk<{ items: Remittance[] }>(await send(t.app, 'GET', '/v1/remittances', r.members[0].key)).items
    expect(list).toHaveLength(1)
    const rem = expectOk<Remittance>(await send(t.app, 'GET', `/v1/remittances/${list[0]!.id}`, r.members[0].key))
    // 2022: D 945 + H 139 = 1,084; compensation A 200 + C 22 = 222; remit 862.
    expect(rem.totals).toEqual({ lines: 1, feeCents: 108_400, compensationCents: 22_200, remitCents: 86_200 })
    expect(rem.lines).toEqual([expect.objectContaining({ caseReference: feeCase.reference, tariffCode: 'D', remitCents: 86_200 })])
    expect(rem.dueOn.slice(0, 7)).toBe(nextPeriod(lastMonth, 2))
    expect(expectOk<{ items: Remittance[] }>(await send(t.app, 'GET', '/v1/remittances', r.members[1].key)).items).toHaveLength(0)
    expectProblem(await send(t.app, 'GET', `/v1/remittances/${rem.id}`, r.members[1].key), 404, 'not-found')
  })

  it('the name list is CSV and every case in it is access-logged with purpose ind-remittance', async () => {
    const rem = expectOk<{ items: Remittance[] }>(await send(t.app, 'GET', '/v1/remittances', r.members[0].key)).items[0]!
    expectProblem(await send(t.app, 'GET', `/v1/remittances/${rem.id}/name-list`, r.specialist.key), 403, 'insufficient-scope')
    expectProblem(await send(t.app, 'GET', `/v1/remittances/${rem.id}/name-list`, r.members[1].key), 404, 'not-found')
    const res = await send(t.app, 'GET', `/v1/remittances/${rem.id}/name-list`, r.members[0].key)
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/^text\/csv/)
    expect(res.body).toContain(feeCase.reference)
    expect(res.body).toContain(feeCase.subject.surname)
    const { rows } = await sql<{ purpose: string; action: string }>`select purpose, action from access_log where case_id = ${feeCase.id} and purpose = 'ind-remittance'`.execute(t.database.owner)
    expect(rows).toEqual([{ purpose: 'ind-remittance', action: 'remittance.name-list' }])
  })

  it('remitted posts the transfer; the second time is 409 already-remitted', async () => {
    const rem = expectOk<{ items: Remittance[] }>(await send(t.app, 'GET', '/v1/remittances', r.members[0].key)).items[0]!
    expectProblem(await send(t.app, 'POST', `/v1/remittances/${rem.id}/remitted`, r.hub.key, { remittedOn: today, bankReference: 'X' }), 403, 'forbidden')
    const done = expectOk<Remittance>(await send(t.app, 'POST', `/v1/remittances/${rem.id}/remitted`, r.members[0].key, { remittedOn: today, bankReference: 'IND-2026-1' }))
    expect(done.status).toBe('remitted')
    expectProblem(await send(t.app, 'POST', `/v1/remittances/${rem.id}/remitted`, r.members[0].key, { remittedOn: today, bankReference: 'IND-2026-1' }), 409, 'already-remitted')
    const bal = expectOk<{ accounts: Array<{ account: string; balanceCents: number }>; totals: { debitCents: number; creditCents: number } }>(await send(t.app, 'GET', '/v1/ledger/balances', r.members[0].key))
    expect(bal.accounts.find((a) => a.account === 'ind-payable')?.balanceCents).toBe(0)
    expect(bal.totals.debitCents).toBe(bal.totals.creditCents)
  })

  it('credit notes: in the same series, referring to the invoice; 409 once fully credited', async () => {
    const inv = expectOk<{ items: Invoice[] }>(await send(t.app, 'GET', `/v1/invoices?period=${lastMonth}`, r.members[0].key)).items[0]!
    expectProblem(await send(t.app, 'POST', `/v1/invoices/${inv.id}/credit-notes`, r.hub.key, { reason: 'x' }), 403, 'forbidden')
    expectProblem(await send(t.app, 'POST', `/v1/invoices/${inv.id}/credit-notes`, r.lead.key, { reason: 'x', caseReferences: ['RB-1900-000001'] }), 400, 'invalid-request')
    const part = expectOk<Invoice & { creditedInvoiceNumber: string }>(await send(t.app, 'POST', `/v1/invoices/${inv.id}/credit-notes`, r.lead.key, { reason: 'dubbel', caseReferences: [cases[0]!.reference] }), 201)
    expect(part).toMatchObject({ documentType: 'credit_note', lineCount: 1, totalCents: 45_000, creditedInvoiceNumber: inv.number })
    const ubl = (await send(t.app, 'GET', `/v1/invoices/${part.id}/ubl`, r.members[0].key)).body
    expect(await validateUbl(ubl, 'CreditNote')).toEqual({ valid: true, errors: [] })
    expect(ubl).toContain(`<cac:InvoiceDocumentReference><cbc:ID>${inv.number}</cbc:ID>`)
    const rest = expectOk<Invoice>(await send(t.app, 'POST', `/v1/invoices/${inv.id}/credit-notes`, r.lead.key, { reason: 'rest' }), 201)
    expect(rest.lineCount).toBe(2)
    expectProblem(await send(t.app, 'POST', `/v1/invoices/${inv.id}/credit-notes`, r.lead.key, { reason: 'again' }), 409, 'invoice-fully-credited')
    await assertSeries(r.hub.id, r.hub.code)
    // The reversals brought the member's payable for these cases back; the books still balance.
    const { rows } = await sql<{ d: string; c: string }>`select sum(debit_cents)::text as d, sum(credit_cents)::text as c from ledger_lines where hub_tenant_id = ${r.hub.id}`.execute(t.database.owner)
    expect(rows[0]!.d).toBe(rows[0]!.c)
  })
})

describe('numbering under concurrency and crashes', () => {
  it('two concurrent settlement runs (two months, and the same run twice) leave no gap and no duplicate', async () => {
    const r = await billedRegion(3)
    for (const m of r.all) {
      await charged(m, 2, dayIn(twoMonthsAgo))
      await charged(m, 2, dayIn(lastMonth))
    }
    const a = expectOk<Settlement>(await start(r.hub.key, { period: twoMonthsAgo }), 202)
    const b = expectOk<Settlement>(await start(r.hub.key, { period: lastMonth }), 202)
    await Promise.all([settle(r.hub, a), settle(r.hub, b), settle(r.hub, b), settle(r.hub, a)])
    const numbers = await assertSeries(r.hub.id, r.hub.code)
    expect(numbers).toHaveLength(2 * r.all.length)
    await assertChargesInvoicedOnce(r.hub.id)
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from service_charges c where hub_tenant_id = ${r.hub.id} and not exists (select 1 from invoice_lines l where l.charge_id = c.id)`.execute(t.database.owner)
    expect(rows[0]!.n).toBe(0)
    for (const s of [a, b]) expect(expectOk<Settlement>(await send(t.app, 'GET', `/v1/settlements/${s.id}`, r.hub.key))).toMatchObject({ status: 'done', progress: { done: 5, total: 5 } })
    // Each run billed its own month: the running earlier month keeps its charges.
    const { rows: months } = await sql<{ settlement_id: string; period: string }>`
      select distinct i.settlement_id, c.period from invoices i join invoice_lines l on l.invoice_id = i.id join service_charges c on c.id = l.charge_id
      where i.hub_tenant_id = ${r.hub.id} order by c.period`.execute(t.database.owner)
    expect(months).toEqual([{ settlement_id: a.id, period: twoMonthsAgo }, { settlement_id: b.id, period: lastMonth }])
  })

  it('a run that crashes midway resumes without duplicates or gaps', async () => {
    const r = await billedRegion(3)
    for (const m of r.all) await charged(m, 2, dayIn(lastMonth))
    const s = expectOk<Settlement>(await start(r.hub.key, { period: lastMonth }), 202)
    const crash = new Error('worker killed')
    await expect(
      runSettlement(t.database.db, { tenantId: r.hub.id, settlementId: s.id }, {
        // Two members per transaction; the worker dies as soon as its first batch is committed.
        batchSize: 2,
        afterBatch: () => {
          throw crash
        },
      }),
    ).rejects.toBe(crash)
    const midway = expectOk<Settlement>(await send(t.app, 'GET', `/v1/settlements/${s.id}`, r.hub.key))
    expect(midway).toMatchObject({ status: 'running', progress: { done: 2, total: 5 } })
    expect(await assertSeries(r.hub.id, r.hub.code)).toHaveLength(2)
    await assertChargesInvoicedOnce(r.hub.id)
    // The retried job picks up where it stopped (the default batch takes the other three at once).
    expect(await settle(r.hub, s)).toEqual({ settled: 3 })
    expect(await assertSeries(r.hub.id, r.hub.code)).toHaveLength(5)
    await assertChargesInvoicedOnce(r.hub.id)
    expect(expectOk<Settlement>(await send(t.app, 'GET', `/v1/settlements/${s.id}`, r.hub.key))).toMatchObject({ status: 'done', progress: { done: 5, total: 5 } })
  })

  it('a batch that fails midway is rolled back whole: no member of it is settled, no number taken', async () => {
    const r = await billedRegion(2)
    for (const m of r.all) await charged(m, 1, dayIn(lastMonth))
    const s = expectOk<Settlement>(await start(r.hub.key, { period: lastMonth }), 202)
    // The second batch's invoice insert fails after its lines were taken and its numbers drawn: a
    // sabotaged number collides with the unique (hub, year, sequence). Its transaction rolls back whole.
    const year = Number(today.slice(0, 4))
    let batches = 0
    await expect(
      runSettlement(t.database.db, { tenantId: r.hub.id, settlementId: s.id }, {
        batchSize: 2,
        afterBatch: async () => {
          batches += 1
          if (batches === 1) await sql`update invoice_counters set last_value = last_value - 1 where hub_tenant_id = ${r.hub.id} and year = ${year}`.execute(t.database.owner)
        },
      }),
    ).rejects.toThrow(/duplicate key/)
    expect(expectOk<Settlement>(await send(t.app, 'GET', `/v1/settlements/${s.id}`, r.hub.key))).toMatchObject({ progress: { done: 2, total: 4 } })
    const { rows: open } = await sql<{ n: number }>`select count(*)::int as n from open_charges where hub_tenant_id = ${r.hub.id}`.execute(t.database.owner)
    expect(open[0]!.n).toBe(2)
    await sql`update invoice_counters set last_value = last_value + 1 where hub_tenant_id = ${r.hub.id} and year = ${year}`.execute(t.database.owner)
    expect(await settle(r.hub, s)).toEqual({ settled: 2 })
    expect(await assertSeries(r.hub.id, r.hub.code)).toHaveLength(4)
    await assertChargesInvoicedOnce(r.hub.id)
  })

  it('two lanes (the worker’s batches on two connections) with duplicate jobs of two months leave no gap; a crash in one lane resumes', async () => {
    const r = await billedRegion(5)
    for (const m of r.all) {
      await charged(m, 2, dayIn(twoMonthsAgo))
      await charged(m, 1, dayIn(lastMonth))
    }
    const a = expectOk<Settlement>(await start(r.hub.key, { period: twoMonthsAgo }), 202)
    const b = expectOk<Settlement>(await start(r.hub.key, { period: lastMonth }), 202)
    const crash = new Error('lane died')
    // The first run of the earlier month dies after its first committed batch; the other runs go on.
    const lanes = (s: Settlement, afterBatch?: () => void) => runSettlement(t.database.db, { tenantId: r.hub.id, settlementId: s.id }, { batchSize: 2, lanes: 2, ...(afterBatch ? { afterBatch } : {}) })
    const outcomes = await Promise.allSettled([lanes(a, () => { throw crash }), lanes(b), lanes(b)])
    expect(outcomes[0]).toEqual({ status: 'rejected', reason: crash })
    expect((await lanes(a)).settled).toBeGreaterThan(0)
    const numbers = await assertSeries(r.hub.id, r.hub.code)
    expect(numbers).toHaveLength(2 * r.all.length)
    await assertChargesInvoicedOnce(r.hub.id)
    for (const s of [a, b]) expect(expectOk<Settlement>(await send(t.app, 'GET', `/v1/settlements/${s.id}`, r.hub.key))).toMatchObject({ status: 'done', progress: { done: 7, total: 7 } })
    const { rows } = await sql<{ n: number; lines: number }>`
      select count(*)::int as n, sum(line_count)::int as lines from invoices where hub_tenant_id = ${r.hub.id}`.execute(t.database.owner)
    expect(rows[0]).toEqual({ n: 14, lines: 3 * 7 })
  })

  it('an invoiced charge stays on its invoice: its line is not moved, reopened nor deleted, not even by the owner', async () => {
    const r = await billedRegion()
    await charged(r.members[0], 1, dayIn(lastMonth))
    const s = expectOk<Settlement>(await start(r.hub.key, { period: lastMonth }), 202)
    await settle(r.hub, s)
    const { rows } = await sql<{ charge_id: string; invoice_id: string; amount: string }>`
      select charge_id, invoice_id, amount_cents::text as amount from invoice_lines where hub_tenant_id = ${r.hub.id}`.execute(t.database.owner)
    expect(rows).toHaveLength(1)
    const line = rows[0]!
    await expect(sql`update charge_lines set invoice_id = gen_random_uuid() where charge_id = ${line.charge_id}`.execute(t.database.owner)).rejects.toThrow(/stays on its invoice/)
    await expect(sql`update charge_lines set invoice_id = null where charge_id = ${line.charge_id}`.execute(t.database.owner)).rejects.toThrow(/stays on its invoice/)
    await expect(sql`delete from charge_lines where charge_id = ${line.charge_id}`.execute(t.database.owner)).rejects.toThrow(/stays on its invoice/)
    // A second line for the same charge (another invoice) is refused: one row per charge.
    await expect(
      sql`insert into invoice_lines (charge_id, invoice_id, hub_tenant_id, member_tenant_id, amount_cents)
        values (${line.charge_id}, gen_random_uuid(), ${r.hub.id}, ${r.members[0].id}, ${line.amount}::bigint)`.execute(t.database.owner),
    ).rejects.toThrow(/duplicate key/)
    // The application role may not touch the invoice id of another tenant's charge, nor other columns.
    await expect(sql`update charge_lines set amount_cents = 1 where charge_id = ${line.charge_id}`.execute(t.database.db)).rejects.toThrow(/permission denied/)
    const { rows: after } = await sql<{ invoice_id: string }>`select invoice_id from invoice_lines where charge_id = ${line.charge_id}`.execute(t.database.owner)
    expect(after).toEqual([{ invoice_id: line.invoice_id }])
  })

  it('a transaction killed after taking a number gives the number back (no gap)', async () => {
    const r = await billedRegion()
    await charged(r.members[0], 1, dayIn(lastMonth))
    await charged(r.members[1], 1, dayIn(lastMonth))
    // A worker dies inside the issuing transaction, after it took the counter: the rollback returns it.
    const victim = new pg.Client({ connectionString: t.database.ownerUrl })
    victim.on('error', () => undefined)
    await victim.connect()
    await victim.query('begin')
    await victim.query(`insert into invoice_counters (hub_tenant_id, year, last_value) values ($1, $2, 1)
      on conflict (hub_tenant_id, year) do update set last_value = invoice_counters.last_value + 1`, [r.hub.id, Number(today.slice(0, 4))])
    const pid = (await victim.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid
    await sql`select pg_terminate_backend(${pid})`.execute(t.database.owner)
    await victim.end().catch(() => undefined)
    const s = expectOk<Settlement>(await start(r.hub.key, { period: lastMonth }), 202)
    await settle(r.hub, s)
    expect(await assertSeries(r.hub.id, r.hub.code)).toHaveLength(2)
  })
})

describe('charge ranges (migration 0023): invoicing writes no charge, and the ranges hold', () => {
  /** Every service charge of the hub is on exactly one invoice line, none open. */
  async function assertEachChargeOnOneInvoice(hubId: string): Promise<void> {
    const { rows } = await sql<{ lines: number; open: number }>`
      select (select count(*) from service_charges c where c.hub_tenant_id = ${hubId}
                and (select count(*) from invoice_lines l where l.charge_id = c.id) <> 1)::int as lines,
             (select count(*) from open_charges where hub_tenant_id = ${hubId})::int as open`.execute(t.database.owner)
    expect(rows[0]).toEqual({ lines: 0, open: 0 })
  }

  it('a charge still being posted when a settlement starts: the start waits for it, and it is on that settlement’s invoice', async () => {
    const r = await billedRegion()
    await charged(r.members[0], 1, dayIn(lastMonth))
    const c = await caseInIntake(t.app, t.database.db, r.members[1].key)
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    let posted!: () => void
    const postedNow = new Promise<void>((resolve) => (posted = resolve))
    const posting = withTenantOf(t.database.db, r.hub.id, async (trx) => {
      const row = await trx.selectFrom('cases').select(['id', 'hub_tenant_id', 'member_tenant_id', 'case_type', 'reference']).where('id', '=', c.id).executeTakeFirstOrThrow()
      await chargeOnEnteringReview(trx, row, dayIn(lastMonth, 12))
      posted()
      await gate
    })
    await postedNow
    let started = false
    const starting = start(r.hub.key, { period: lastMonth }).then((res) => {
      started = true
      return res
    })
    await new Promise((resolve) => setTimeout(resolve, 400))
    expect(started).toBe(false)
    release()
    await posting
    const s = expectOk<Settlement>(await starting, 202)
    await settle(r.hub, s)
    const invoices = expectOk<{ items: Invoice[] }>(await send(t.app, 'GET', `/v1/invoices?period=${lastMonth}`, r.members[1].key)).items
    expect(invoices).toHaveLength(1)
    expect(invoices[0]).toMatchObject({ lineCount: 1 })
    expect((await send(t.app, 'GET', `/v1/invoices/${invoices[0]!.id}/csv`, r.members[1].key)).body).toContain(c.reference)
    await assertEachChargeOnOneInvoice(r.hub.id)
  })

  it('a charge that a settlement covers stays before its invoice is issued; the cutoff never changes; the application cannot touch a charge', async () => {
    const r = await billedRegion()
    await charged(r.members[0], 1, dayIn(lastMonth))
    const { rows } = await sql<{ charge_id: string; amount: string }>`
      select charge_id, amount_cents::text as amount from open_charges where hub_tenant_id = ${r.hub.id}`.execute(t.database.owner)
    const charge = rows[0]!
    // Not covered yet: the owner may still take it out of the queue (and put it back).
    await t.database.owner.transaction().execute(async (trx) => {
      await sql`delete from charge_lines where charge_id = ${charge.charge_id}`.execute(trx)
      throw new Error('rolled back')
    }).catch((err: unknown) => expect(String(err)).toContain('rolled back'))
    // What a range reads never changes, covered or not.
    await expect(sql`update charge_lines set seq = seq + 1000000 where charge_id = ${charge.charge_id}`.execute(t.database.owner)).rejects.toThrow(/never change/)
    await expect(sql`update charge_lines set period = ${twoMonthsAgo} where charge_id = ${charge.charge_id}`.execute(t.database.owner)).rejects.toThrow(/never change/)
    const s = expectOk<Settlement>(await start(r.hub.key, { period: lastMonth }), 202)
    // Covered (not invoiced yet): still open, but fixed.
    expect((await sql<{ n: number }>`select count(*)::int as n from open_charges where hub_tenant_id = ${r.hub.id}`.execute(t.database.owner)).rows[0]!.n).toBe(1)
    await expect(sql`delete from charge_lines where charge_id = ${charge.charge_id}`.execute(t.database.owner)).rejects.toThrow(/stays on its invoice/)
    await expect(sql`update charge_lines set invoice_id = gen_random_uuid() where charge_id = ${charge.charge_id}`.execute(t.database.owner)).rejects.toThrow(/stays on its invoice/)
    await expect(
      sql`insert into invoice_lines (charge_id, invoice_id, hub_tenant_id, member_tenant_id, amount_cents)
        values (${charge.charge_id}, gen_random_uuid(), ${r.hub.id}, ${r.members[0].id}, ${charge.amount}::bigint)`.execute(t.database.owner),
    ).rejects.toThrow(/duplicate key/)
    await expect(sql`update settlements set charges_below = charges_below + 1 where id = ${s.id}`.execute(t.database.owner)).rejects.toThrow(/never change/)
    await expect(sql`update settlements set period = ${twoMonthsAgo} where id = ${s.id}`.execute(t.database.owner)).rejects.toThrow(/never change/)
    // The application role has no UPDATE nor DELETE on the charges any more.
    await expect(
      withTenantOf(t.database.db, r.hub.id, (trx) => sql`update charge_lines set invoice_id = gen_random_uuid() where charge_id = ${charge.charge_id}`.execute(trx)),
    ).rejects.toThrow(/permission denied/)
    await expect(withTenantOf(t.database.db, r.hub.id, (trx) => sql`delete from open_charges where charge_id = ${charge.charge_id}`.execute(trx))).rejects.toThrow(/permission denied/)
    await settle(r.hub, s)
    await assertEachChargeOnOneInvoice(r.hub.id)
    const { rows: inv } = await sql<{ charges_below: string; step_upto: string[] }>`
      select charges_below::text, step_upto from invoices where settlement_id = ${s.id}`.execute(t.database.owner)
    expect(inv).toHaveLength(1)
    expect(inv[0]!.step_upto.at(-1)).toBe(lastMonth)
  })

  it('an invoice’s lines stream out in batches from one cursor: in order, each once, for the hub and the member', async () => {
    const r = await billedRegion()
    const cases = await charged(r.members[0], 5, dayIn(lastMonth))
    const s = expectOk<Settlement>(await start(r.hub.key, { period: lastMonth }), 202)
    await settle(r.hub, s)
    const { rows } = await sql<{ id: string }>`select id from invoices where settlement_id = ${s.id}`.execute(t.database.owner)
    const inv = { id: rows[0]!.id, document_type: 'invoice' as const }
    for (const tenant of [r.hub.id, r.members[0].id]) {
      const batches = await withTenantOf(t.database.db, tenant, async (trx) => {
        const out: string[][] = []
        for await (const b of streamLines(trx, inv, 2)) out.push(b.map((l) => l.case_reference))
        return out
      })
      expect(batches.map((b) => b.length)).toEqual([2, 2, 1])
      expect(batches.flat().sort()).toEqual(cases.map((c) => c.reference).sort())
    }
    // Another member reads none of them (row-level security under the cursor too).
    const other = await withTenantOf(t.database.db, r.members[1].id, async (trx) => {
      let n = 0
      for await (const b of streamLines(trx, inv, 2)) n += b.length
      return n
    })
    expect(other).toBe(0)
  })

  it('a month settled after a later one takes only what the later one left; each charge stays on one invoice', async () => {
    const r = await billedRegion()
    await charged(r.members[0], 2, dayIn(twoMonthsAgo))
    await charged(r.members[0], 1, dayIn(lastMonth))
    const later = expectOk<Settlement>(await start(r.hub.key, { period: lastMonth }), 202)
    await settle(r.hub, later)
    // A late charge of the earlier month, then the earlier month's own settlement: it takes that one.
    const late = await charged(r.members[0], 1, dayIn(twoMonthsAgo, 20))
    const earlier = expectOk<Settlement>(await start(r.hub.key, { period: twoMonthsAgo }), 202)
    await settle(r.hub, earlier)
    const { rows } = await sql<{ settlement_id: string; line_count: number }>`
      select settlement_id, line_count from invoices where hub_tenant_id = ${r.hub.id} order by sequence`.execute(t.database.owner)
    expect(rows).toEqual([{ settlement_id: later.id, line_count: 3 }, { settlement_id: earlier.id, line_count: 1 }])
    const { rows: lines } = await sql<{ reference: string }>`
      select c.case_reference as reference from invoices i join invoice_lines l on l.invoice_id = i.id join service_charges c on c.id = l.charge_id
      where i.settlement_id = ${earlier.id}`.execute(t.database.owner)
    expect(lines).toEqual([{ reference: late[0]!.reference }])
    await assertEachChargeOnOneInvoice(r.hub.id)
    await assertSeries(r.hub.id, r.hub.code)
  })
})

describe('a member whose agreement left the hub', () => {
  it('still gets the invoice for the charges it has with the hub', async () => {
    const r = await billedRegion()
    await charged(r.members[0], 2, dayIn(lastMonth))
    await charged(r.members[1], 1, dayIn(lastMonth))
    await sql`delete from agreements where member_tenant_id = ${r.members[1].id}`.execute(t.database.owner)
    const s = expectOk<Settlement>(await start(r.hub.key, { period: lastMonth }), 202)
    expect(s.progress.total).toBe(2)
    await settle(r.hub, s)
    const { rows } = await sql<{ member_tenant_id: string; line_count: number }>`
      select member_tenant_id, line_count from invoices where settlement_id = ${s.id} order by line_count`.execute(t.database.owner)
    expect(rows).toEqual([{ member_tenant_id: r.members[1].id, line_count: 1 }, { member_tenant_id: r.members[0].id, line_count: 2 }])
    const { rows: open } = await sql<{ n: number }>`select count(*)::int as n from open_charges where hub_tenant_id = ${r.hub.id}`.execute(t.database.owner)
    expect(open[0]!.n).toBe(0)
  })
})
