// Issue 14, first half: national tariffs as data, billing details, fee recording, the service charge
// of a case entering review, and the ledger — balanced and immutable in the database itself.
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addDays } from '../../api/domain/calendar.js'
import { dutchDate } from '../../api/time.js'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { newAdminKey, newRegion, type RegionFixture } from '../helpers/builders.js'
import { act, send } from '../helpers/case-builders.js'
import { billingBody, caseInIntake, chargeOn } from '../helpers/settlement-builders.js'
import { call, expectOk, expectProblem } from '../helpers/tenancy-builders.js'

let t: TestApp
let adminKey: string
let region: RegionFixture
let member: string
let other: string

beforeAll(async () => {
  t = await startTestApp()
  adminKey = await newAdminKey(t.database.db)
  region = await newRegion(t.database.db)
  member = region.members[0].key
  other = region.members[1].key
})
afterAll(async () => t.close())

type Fee = { feeCents: number; compensationCents: number; remitCents: number; tariffCode: string | null; exemption: { reason: string } | null }
type Entry = { id: string; kind: string; caseId: string | null; period: string; lines: Array<{ tenantId: string; account: string; debitCents: number; creditCents: number }> }

const item = (code: string, fee: number, comp: number) => ({ code, feeCents: fee, compensationCents: comp })
const table2025 = [item('A', 22_000, 22_000), item('B', 37_500, 37_500), item('C', 2_400, 2_400), item('D', 104_000, 22_000), item('E', 132_700, 37_500), item('F', 77_300, 22_000), item('G', 106_100, 37_500), item('H', 15_400, 2_400)]

describe('national tariffs', () => {
  it('ships the confirmed years and answers them to anyone authenticated', async () => {
    const body = expectOk<{ year: number; items: Array<{ code: string; feeCents: number }> }>(await send(t.app, 'GET', '/v1/tariffs?year=2022', member))
    expect(body.items.find((i) => i.code === 'D')?.feeCents).toBe(94_500)
    expect(body.items).toHaveLength(8)
  })

  it('refuses a year with no table: 422 tariff-not-loaded (never a guessed amount)', async () => {
    expectProblem(await send(t.app, 'GET', '/v1/tariffs?year=2026', member), 422, 'tariff-not-loaded')
  })

  it('the platform admin loads a later year with its source; others get 403; an incomplete table is 400', async () => {
    expectProblem(await call(t.app, 'PUT', '/v1/tariffs/2026', member, { items: table2025, source: 'x' }), 403, 'insufficient-scope')
    expectProblem(await call(t.app, 'PUT', '/v1/tariffs/2025', adminKey, { items: table2025.slice(1), source: 'x' }), 400, 'invalid-request')
    const bad = table2025.map((i) => (i.code === 'D' ? { ...i, compensationCents: 200_000 } : i))
    expectProblem(await call(t.app, 'PUT', '/v1/tariffs/2025', adminKey, { items: bad, source: 'x' }), 400, 'invalid-request')
    const put = expectOk<{ source: string }>(await call(t.app, 'PUT', '/v1/tariffs/2025', adminKey, { items: table2025, source: 'Staatscourant 2024, indexation BOEN art. 9(4)' }))
    expect(put.source).toMatch(/Staatscourant/)
    const got = expectOk<{ items: Array<{ code: string; feeCents: number }> }>(await send(t.app, 'GET', '/v1/tariffs?year=2025', other))
    expect(got.items.find((i) => i.code === 'H')?.feeCents).toBe(15_400)
  })
})

describe('billing details', () => {
  it('are validated: OIN 20 digits, IBAN checksum, postal code (400 with invalidParams)', async () => {
    const res = await call(t.app, 'PATCH', `/v1/tenants/${region.members[0].id}`, adminKey, { billing: { ...billingBody(), oin: '123', iban: 'NL92ABNA0417164300' } })
    const p = expectProblem(res, 400, 'invalid-request')
    expect((p.invalidParams as Array<{ name: string }>).map((i) => i.name).sort()).toEqual(['billing.iban', 'billing.oin'])
  })

  it('are stored by the platform admin and returned; a tenant cannot set them', async () => {
    const body = billingBody()
    const res = expectOk<{ billing: { oin: string; iban: string } }>(await call(t.app, 'PATCH', `/v1/tenants/${region.hub.id}`, adminKey, { billing: { ...body, iban: 'nl91 abna 0417 1643 00' } }))
    expect(res.billing).toMatchObject({ oin: body.oin, iban: 'NL91ABNA0417164300' })
    expectProblem(await call(t.app, 'PATCH', `/v1/tenants/${region.hub.id}`, member, { billing: body }), 403, 'insufficient-scope')
  })
})

describe('fee recording', () => {
  it('computes fee, compensation and remittance from the year of paidOn and posts a balanced entry', async () => {
    const c = await caseInIntake(t.app, t.database.db, member)
    const fee = expectOk<Fee>(await send(t.app, 'POST', `/v1/cases/${c.id}/fees`, member, { tariffCode: 'E', minors: 2, paidOn: '2022-05-02' }), 201)
    // 2022: E 1,206 + 2 × H 139 = 1,484; compensation B 342 + 2 × C 22 = 386; remit 1,098.
    expect(fee).toMatchObject({ feeCents: 148_400, compensationCents: 38_600, remitCents: 109_800, tariffCode: 'E' })
    const entries = expectOk<{ items: Entry[] }>(await send(t.app, 'GET', '/v1/ledger/entries?period=2022-05', member)).items
    const e = entries.find((x) => x.caseId === c.id && x.kind === 'fee')!
    expect(e.lines.reduce((s, l) => s + l.debitCents, 0)).toBe(e.lines.reduce((s, l) => s + l.creditCents, 0))
    expect(e.lines).toEqual(expect.arrayContaining([expect.objectContaining({ account: 'ind-payable', creditCents: 109_800 }), expect.objectContaining({ account: 'leges-income', creditCents: 38_600 })]))
    // The other member sees nothing of it; the hub sees it.
    expect(expectOk<{ items: Entry[] }>(await send(t.app, 'GET', '/v1/ledger/entries?period=2022-05', other)).items).toHaveLength(0)
    expect(expectOk<{ items: Entry[] }>(await send(t.app, 'GET', '/v1/ledger/entries?period=2022-05', region.hub.key)).items.map((x) => x.id)).toContain(e.id)
  })

  it('stops the fee_payment clock and starts ind_decision from paidOn (RWN art. 9(4))', async () => {
    const c = await caseInIntake(t.app, t.database.db, member)
    const paidOn = addDays(dutchDate(), -3)
    const before = expectOk<{ clocks: Array<{ code: string; status: string }> }>(await send(t.app, 'GET', `/v1/cases/${c.id}`, member)).clocks
    expect(before.find((k) => k.code === 'fee_payment')?.status).toBe('running')
    expect(before.find((k) => k.code === 'ind_decision')?.status).toBe('not_started')
    await call(t.app, 'PUT', `/v1/tariffs/${paidOn.slice(0, 4)}`, adminKey, { items: table2025, source: 'test table' })
    expectOk(await send(t.app, 'POST', `/v1/cases/${c.id}/fees`, member, { tariffCode: 'D', paidOn }), 201)
    const after = expectOk<{ clocks: Array<{ code: string; status: string; startedOn: string | null }> }>(await send(t.app, 'GET', `/v1/cases/${c.id}`, member)).clocks
    expect(after.find((k) => k.code === 'fee_payment')?.status).toBe('met')
    expect(after.find((k) => k.code === 'ind_decision')).toMatchObject({ status: 'running', startedOn: paidOn })
  })

  it('an option fee stays with the member (remit 0)', async () => {
    const c = await caseInIntake(t.app, t.database.db, member, 'option')
    const fee = expectOk<Fee>(await send(t.app, 'POST', `/v1/cases/${c.id}/fees`, member, { tariffCode: 'A', minors: 1, paidOn: '2021-02-01' }), 201)
    expect(fee).toMatchObject({ feeCents: 19_600 + 2_200, compensationCents: 21_800, remitCents: 0 })
  })

  it('records an exemption with its reason, all amounts 0', async () => {
    const c = await caseInIntake(t.app, t.database.db, member)
    const fee = expectOk<Fee>(await send(t.app, 'POST', `/v1/cases/${c.id}/fees`, member, { exemption: { reason: 'BOEN art. 4: Moluccan treated as Dutch' } }), 201)
    expect(fee).toMatchObject({ feeCents: 0, compensationCents: 0, remitCents: 0, exemption: { reason: 'BOEN art. 4: Moluccan treated as Dutch' } })
  })

  it('409 fee-already-recorded the second time', async () => {
    const c = await caseInIntake(t.app, t.database.db, member)
    expectOk(await send(t.app, 'POST', `/v1/cases/${c.id}/fees`, member, { tariffCode: 'D', paidOn: '2020-03-01' }), 201)
    expectProblem(await send(t.app, 'POST', `/v1/cases/${c.id}/fees`, member, { tariffCode: 'D', paidOn: '2020-03-01' }), 409, 'fee-already-recorded')
    expectProblem(await send(t.app, 'POST', `/v1/cases/${c.id}/fees`, member, { exemption: { reason: 'x' } }), 409, 'fee-already-recorded')
  })

  it('422 tariff-not-loaded for a year without a table', async () => {
    const c = await caseInIntake(t.app, t.database.db, member)
    expectProblem(await send(t.app, 'POST', `/v1/cases/${c.id}/fees`, member, { tariffCode: 'D', paidOn: '2023-06-01' }), 422, 'tariff-not-loaded')
  })

  it('422 tariff-not-for-case-type: an option code on a naturalisation, or a case type without a fee', async () => {
    const c = await caseInIntake(t.app, t.database.db, member)
    expectProblem(await send(t.app, 'POST', `/v1/cases/${c.id}/fees`, member, { tariffCode: 'A', paidOn: '2022-01-10' }), 422, 'tariff-not-for-case-type')
    expectProblem(await send(t.app, 'POST', `/v1/cases/${c.id}/fees`, member, { tariffCode: 'H', paidOn: '2022-01-10' }), 422, 'tariff-not-for-case-type')
    const reg = await caseInIntake(t.app, t.database.db, member, 'first_registration')
    expectProblem(await send(t.app, 'POST', `/v1/cases/${reg.id}/fees`, member, { tariffCode: 'D', paidOn: '2022-01-10' }), 422, 'tariff-not-for-case-type')
  })

  it('400 for a paidOn in the future, an unknown code or an unknown property', async () => {
    const c = await caseInIntake(t.app, t.database.db, member)
    expectProblem(await send(t.app, 'POST', `/v1/cases/${c.id}/fees`, member, { tariffCode: 'D', paidOn: addDays(dutchDate(), 2) }), 400, 'invalid-request')
    expectProblem(await send(t.app, 'POST', `/v1/cases/${c.id}/fees`, member, { tariffCode: 'Z', paidOn: '2022-01-10' }), 400, 'invalid-request')
    expectProblem(await send(t.app, 'POST', `/v1/cases/${c.id}/fees`, member, { tariffCode: 'D', paidOn: '2022-01-10', feeCents: 1 }), 400, 'invalid-request')
  })

  it('another member’s case is 404; the hub may not record a fee (403)', async () => {
    const c = await caseInIntake(t.app, t.database.db, member)
    expectProblem(await send(t.app, 'POST', `/v1/cases/${c.id}/fees`, other, { tariffCode: 'D', paidOn: '2022-01-10' }), 404, 'not-found')
    expectProblem(await send(t.app, 'POST', `/v1/cases/${c.id}/fees`, region.hub.key, { tariffCode: 'D', paidOn: '2022-01-10' }), 403, 'forbidden')
  })
})

describe('service charge when a case first enters review', () => {
  it('charges the member the agreement tariff once; re-entering review charges nothing more', async () => {
    const c = await caseInIntake(t.app, t.database.db, member)
    expectOk(await act(t.app, region.lead.key, c.id, 'assign', { staffId: region.specialist.id }))
    expectOk(await act(t.app, region.specialist.key, c.id, 'request-information', { message: 'Stuur het uittreksel', documentKinds: ['birth_certificate'] }))
    // The case goes back to review (the system does this when the documents arrive).
    await chargeOn(t.database.db, c, dutchDate())
    const charges = expectOk<{ items: Entry[] }>(await send(t.app, 'GET', `/v1/ledger/entries?period=${dutchDate().slice(0, 7)}`, member)).items.filter((e) => e.caseId === c.id)
    expect(charges.map((e) => e.kind)).toEqual(['service_charge'])
    const lines = charges[0]!.lines
    expect(lines).toEqual(
      expect.arrayContaining([
        { tenantId: region.members[0].id, account: 'payable-to-hub', debitCents: 0, creditCents: 45_000 },
        { tenantId: region.hub.id, account: 'service-revenue', debitCents: 0, creditCents: 45_000 },
      ]),
    )
  })

  it('a case withdrawn before review is not charged', async () => {
    const c = await caseInIntake(t.app, t.database.db, member)
    expectOk(await act(t.app, member, c.id, 'withdraw', { reason: 'verhuisd' }))
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from ledger_entries where case_id = ${c.id}`.execute(t.database.owner)
    expect(rows[0]!.n).toBe(0)
  })
})

describe('the ledger in the database', () => {
  it('balances: debits equal credits for the caller, and over the whole database', async () => {
    for (const key of [member, other, region.hub.key]) {
      const b = expectOk<{ totals: { debitCents: number; creditCents: number } }>(await send(t.app, 'GET', '/v1/ledger/balances', key))
      expect(b.totals.debitCents).toBe(b.totals.creditCents)
    }
    const { rows } = await sql<{ d: string; c: string }>`select sum(debit_cents)::text as d, sum(credit_cents)::text as c from ledger_lines`.execute(t.database.owner)
    expect(rows[0]!.d).toBe(rows[0]!.c)
    expect(BigInt(rows[0]!.d)).toBeGreaterThan(0n)
  })

  it('the application role can neither UPDATE nor DELETE entries or lines', async () => {
    const change = async (q: string) => {
      await expect(
        t.database.db.transaction().execute(async (trx) => {
          await sql`select set_config('app.admin', 'on', true)`.execute(trx)
          await sql.raw(q).execute(trx)
        }),
      ).rejects.toThrow(/permission denied|immutable/)
    }
    await change('update ledger_lines set debit_cents = debit_cents + 1')
    await change('delete from ledger_lines')
    await change('update ledger_entries set period = period')
    await change('delete from ledger_entries')
  })

  it('even the owner cannot change a posted entry (trigger), nor post an unbalanced one', async () => {
    await expect(sql`update ledger_lines set credit_cents = credit_cents + 1 where credit_cents > 0`.execute(t.database.owner)).rejects.toThrow(/immutable/)
    await expect(sql`delete from ledger_entries`.execute(t.database.owner)).rejects.toThrow(/immutable/)
    await expect(
      t.database.owner.transaction().execute(async (trx) => {
        const { rows } = await sql<{ id: string }>`insert into ledger_entries (hub_tenant_id, member_tenant_id, kind, period, idempotency_key)
          values (${region.hub.id}, ${region.members[0].id}, 'fee', '2026-01', 'unbalanced-test') returning id`.execute(trx)
        await sql`insert into ledger_lines (entry_id, line_no, hub_tenant_id, member_tenant_id, tenant_id, account, debit_cents, credit_cents)
          values (${rows[0]!.id}, 1, ${region.hub.id}, ${region.members[0].id}, ${region.members[0].id}, 'leges-cash', 100, 0),
                 (${rows[0]!.id}, 2, ${region.hub.id}, ${region.members[0].id}, ${region.members[0].id}, 'ind-payable', 0, 99)`.execute(trx)
      }),
    ).rejects.toThrow(/does not balance/)
  })
})

describe('service charges and invoice lines in the database', () => {
  const aCharge = async () => {
    const c = await caseInIntake(t.app, t.database.db, member)
    await chargeOn(t.database.db, c, dutchDate())
    const { rows } = await sql<{ id: string; amount: string }>`select id, amount_cents::text as amount from service_charges where case_id = ${c.id}`.execute(t.database.owner)
    return rows[0]!
  }

  it('the open-charge queue carries the charge’s own amount (foreign key on charge and amount)', async () => {
    const charge = await aCharge()
    const { rows } = await sql<{ amount: string }>`select amount_cents::text as amount from open_charges where charge_id = ${charge.id}`.execute(t.database.owner)
    expect(rows[0]!.amount).toBe(charge.amount)
    await expect(
      t.database.owner.transaction().execute(async (trx) => {
        await sql`delete from open_charges where charge_id = ${charge.id}`.execute(trx)
        await sql`insert into open_charges (charge_id, hub_tenant_id, member_tenant_id, period, posted_at, amount_cents)
          values (${charge.id}, ${region.hub.id}, ${region.members[0].id}, '2026-01', now(), ${BigInt(charge.amount) + 1n})`.execute(trx)
      }),
    ).rejects.toThrow(/foreign key/)
  })

  it('an invoice line must be a service charge at its amount (checked per statement, also for the owner)', async () => {
    const charge = await aCharge()
    const line = (chargeId: string, amount: bigint) =>
      sql`insert into invoice_lines (charge_id, invoice_id, hub_tenant_id, member_tenant_id, amount_cents)
        values (${chargeId}, gen_random_uuid(), ${region.hub.id}, ${region.members[0].id}, ${amount})`
    const inRollback = (q: ReturnType<typeof line>) =>
      t.database.owner.transaction().execute(async (trx) => {
        await q.execute(trx)
        throw new Error('accepted')
      })
    await expect(inRollback(line('00000000-0000-4000-8000-000000000001', 45_000n))).rejects.toThrow(/must be a service charge/)
    await expect(inRollback(line(charge.id, BigInt(charge.amount) - 1n))).rejects.toThrow(/must be a service charge/)
    // The real charge at its amount is accepted (the transaction is then rolled back).
    await expect(inRollback(line(charge.id, BigInt(charge.amount)))).rejects.toThrow('accepted')
  })

  it('a service charge is never changed nor deleted, not even by the owner', async () => {
    const charge = await aCharge()
    await expect(sql`update service_charges set amount_cents = amount_cents + 1 where id = ${charge.id}`.execute(t.database.owner)).rejects.toThrow(/immutable/)
    await expect(
      t.database.owner.transaction().execute(async (trx) => {
        await sql`delete from open_charges where charge_id = ${charge.id}`.execute(trx)
        await sql`delete from service_charges where id = ${charge.id}`.execute(trx)
      }),
    ).rejects.toThrow(/immutable/)
    await expect(sql`truncate service_charges cascade`.execute(t.database.owner)).rejects.toThrow(/immutable/)
  })
})
