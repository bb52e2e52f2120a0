// All SQL of tariffs, billing details, fees, service charges and the ledger (the settlement runs,
// invoices and remittances are in settlement.repository.ts). Money columns are int8; they are read
// as text and become bigints here, and written as decimal strings — never through a float.
import { sql, type Selectable } from 'kysely'
import type { Trx } from '../db/database.js'
import type { DB } from '../db/schema.js'
import type { Posting, TariffItem, TariffTable } from '../domain/money.js'
import { isTariffCode } from '../domain/money.js'

/** An int8 read as text, as an exact bigint (a missing sum is 0). */
export const big = (v: string | null | undefined): bigint => BigInt(v ?? '0')

// ---- tariffs ---------------------------------------------------------------------------------

export async function findTariffTable(trx: Trx, year: number): Promise<TariffTable | null> {
  const head = await trx.selectFrom('tariff_tables').select(['year', 'source']).where('year', '=', year).executeTakeFirst()
  if (!head) return null
  const { rows } = await sql<{ code: string; fee: string; comp: string }>`
    select code, fee_cents::text as fee, compensation_cents::text as comp from tariff_items where year = ${year} order by code`.execute(trx)
  const items: TariffItem[] = rows.flatMap((r) => (isTariffCode(r.code) ? [{ code: r.code, feeCents: big(r.fee), compensationCents: big(r.comp) }] : []))
  return { year: head.year, source: head.source, items }
}

export async function replaceTariffTable(trx: Trx, table: TariffTable): Promise<void> {
  await sql`insert into tariff_tables (year, source) values (${table.year}, ${table.source})
    on conflict (year) do update set source = excluded.source, loaded_at = now()`.execute(trx)
  await trx.deleteFrom('tariff_items').where('year', '=', table.year).execute()
  for (const i of table.items) {
    await sql`insert into tariff_items (year, code, fee_cents, compensation_cents)
      values (${table.year}, ${i.code}, ${i.feeCents.toString()}::bigint, ${i.compensationCents.toString()}::bigint)`.execute(trx)
  }
}

// ---- billing ---------------------------------------------------------------------------------

export interface BillingInput {
  oin: string
  kvk: string | null
  street: string
  houseNumber: string
  postalCode: string
  city: string
  iban: string
  email: string
}

export async function upsertBilling(trx: Trx, tenantId: string, regionId: string, b: BillingInput): Promise<void> {
  await sql`
    insert into billing_details (tenant_id, region_id, oin, kvk, street, house_number, postal_code, city, iban, email)
    values (${tenantId}, ${regionId}, ${b.oin}, ${b.kvk}, ${b.street}, ${b.houseNumber}, ${b.postalCode}, ${b.city}, ${b.iban}, ${b.email})
    on conflict (tenant_id) do update set oin = excluded.oin, kvk = excluded.kvk, street = excluded.street,
      house_number = excluded.house_number, postal_code = excluded.postal_code, city = excluded.city,
      iban = excluded.iban, email = excluded.email, updated_at = now()`.execute(trx)
}

export const findBilling = (trx: Trx, tenantId: string) =>
  trx.selectFrom('billing_details').selectAll().where('tenant_id', '=', tenantId).executeTakeFirst()

export type BillingRow = NonNullable<Awaited<ReturnType<typeof findBilling>>>

/** The hub and its members (by agreement) that have no billing details, by municipality code. */
export async function tenantsWithoutBilling(trx: Trx, hubTenantId: string): Promise<string[]> {
  const { rows } = await sql<{ code: string }>`
    select t.municipality_code as code from tenants t
    where (t.id = ${hubTenantId} or t.id in (select member_tenant_id from agreements where hub_tenant_id = ${hubTenantId}))
      and not exists (select 1 from billing_details b where b.tenant_id = t.id)
    order by t.municipality_code`.execute(trx)
  return rows.map((r) => r.code)
}

// ---- ledger ----------------------------------------------------------------------------------

export interface EntryInput {
  hubTenantId: string
  memberTenantId: string
  caseId: string | null
  period: string
  idempotencyKey: string
  reversesEntryId?: string | null
  posting: Posting
}

/**
 * Posts an entry and its lines (one statement, which the database checks for balance), unless an
 * entry with the same idempotency key exists: then nothing happens and null is returned.
 */
export async function postEntry(trx: Trx, e: EntryInput): Promise<string | null> {
  const { rows } = await sql<{ id: string }>`
    insert into ledger_entries (hub_tenant_id, member_tenant_id, case_id, kind, period, idempotency_key, reverses_entry_id)
    values (${e.hubTenantId}, ${e.memberTenantId}, ${e.caseId}, ${e.posting.kind}, ${e.period}, ${e.idempotencyKey}, ${e.reversesEntryId ?? null})
    on conflict (idempotency_key) do nothing returning id`.execute(trx)
  const id = rows[0]?.id
  if (!id) return null
  const values = e.posting.lines.map(
    (l, i) =>
      sql`(${id}::uuid, ${i + 1}::smallint, ${e.hubTenantId}::uuid, ${e.memberTenantId}::uuid, ${l.tenantId}::uuid, ${l.account}, ${l.debitCents.toString()}::bigint, ${l.creditCents.toString()}::bigint)`,
  )
  await sql`insert into ledger_lines (entry_id, line_no, hub_tenant_id, member_tenant_id, tenant_id, account, debit_cents, credit_cents)
    values ${sql.join(values)}`.execute(trx)
  return id
}

export const findEntryByKey = (trx: Trx, key: string) =>
  trx.selectFrom('ledger_entries').select(['id']).where('idempotency_key', '=', key).executeTakeFirst()

export interface EntryRow {
  id: string
  created_at: Date
  period: string
  case_id: string | null
  kind: Selectable<DB['ledger_entries']>['kind']
  lines: Array<{ tenantId: string; account: string; debitCents: string; creditCents: string }>
}

/** Entries touching the viewer's accounts (a member) or its members' (a hub), newest first, with all their lines. */
export async function listEntries(
  trx: Trx,
  f: { side: 'hub' | 'member'; tenantId: string; period?: string; memberTenantId?: string; after: { createdAt: Date; id: string } | null; limit: number },
): Promise<EntryRow[]> {
  const sideCol = f.side === 'hub' ? sql.ref('e.hub_tenant_id') : sql.ref('e.member_tenant_id')
  const { rows } = await sql<EntryRow>`
    select e.id, e.created_at, e.period, e.case_id, e.kind,
      (select json_agg(json_build_object('tenantId', l.tenant_id, 'account', l.account,
         'debitCents', l.debit_cents::text, 'creditCents', l.credit_cents::text) order by l.line_no)
       from ledger_lines l where l.entry_id = e.id) as lines
    from ledger_entries e
    where ${sideCol} = ${f.tenantId}
      ${f.period ? sql`and e.period = ${f.period}` : sql``}
      ${f.memberTenantId ? sql`and e.member_tenant_id = ${f.memberTenantId}` : sql``}
      ${f.after ? sql`and (e.created_at, e.id) < (${f.after.createdAt}, ${f.after.id}::uuid)` : sql``}
    order by e.created_at desc, e.id desc
    limit ${f.limit + 1}`.execute(trx)
  return rows
}

/** Balances of the viewer's own accounts, and the totals of all lines of the entries it sees. */
export async function balances(trx: Trx, f: { side: 'hub' | 'member'; tenantId: string; period?: string }) {
  const sideCol = f.side === 'hub' ? sql.ref('e.hub_tenant_id') : sql.ref('e.member_tenant_id')
  const period = f.period ? sql`and e.period = ${f.period}` : sql``
  const { rows: accounts } = await sql<{ account: string; debit: string; credit: string }>`
    select l.account, sum(l.debit_cents)::text as debit, sum(l.credit_cents)::text as credit
    from ledger_lines l join ledger_entries e on e.id = l.entry_id
    where l.tenant_id = ${f.tenantId} and ${sideCol} = ${f.tenantId} ${period}
    group by l.account order by l.account`.execute(trx)
  const { rows: totals } = await sql<{ debit: string | null; credit: string | null }>`
    select sum(l.debit_cents)::text as debit, sum(l.credit_cents)::text as credit
    from ledger_lines l join ledger_entries e on e.id = l.entry_id
    where ${sideCol} = ${f.tenantId} ${period}`.execute(trx)
  return {
    accounts: accounts.map((a) => ({ account: a.account, debitCents: big(a.debit), creditCents: big(a.credit) })),
    debitCents: big(totals[0]?.debit),
    creditCents: big(totals[0]?.credit),
  }
}

// ---- cases, agreements, fees, charges --------------------------------------------------------

export const findCase = (trx: Trx, caseId: string) =>
  trx
    .selectFrom('cases')
    .select(['id', 'hub_tenant_id', 'member_tenant_id', 'case_type', 'reference', 'status', 'subject', 'bsn_hash'])
    .where('id', '=', caseId)
    .executeTakeFirst()

export async function agreementTariffOn(trx: Trx, memberTenantId: string, caseType: string, day: string): Promise<bigint | null> {
  const { rows } = await sql<{ tariff: string }>`
    select tariff_cents::text as tariff from agreements
    where member_tenant_id = ${memberTenantId} and case_type = ${caseType}
      and valid_from <= ${day}::date and (valid_until is null or valid_until >= ${day}::date)`.execute(trx)
  return rows[0] ? big(rows[0].tariff) : null
}

export interface FeeInsert {
  caseId: string
  hubTenantId: string
  memberTenantId: string
  caseType: string
  tariffCode: string | null
  tariffYear: number | null
  minors: number
  paidOn: string | null
  exemptionReason: string | null
  feeCents: bigint
  compensationCents: bigint
  remitCents: bigint
  period: string
  recordedBy: string
}

/** Inserts the fee of a case; false when the case has one already. */
export async function insertFee(trx: Trx, f: FeeInsert): Promise<boolean> {
  const { rows } = await sql<{ case_id: string }>`
    insert into fees (case_id, hub_tenant_id, member_tenant_id, case_type, tariff_code, tariff_year, minors, paid_on, exemption_reason,
      fee_cents, compensation_cents, remit_cents, period, recorded_by)
    values (${f.caseId}, ${f.hubTenantId}, ${f.memberTenantId}, ${f.caseType}, ${f.tariffCode}, ${f.tariffYear}, ${f.minors}, ${f.paidOn},
      ${f.exemptionReason}, ${f.feeCents.toString()}::bigint, ${f.compensationCents.toString()}::bigint, ${f.remitCents.toString()}::bigint,
      ${f.period}, ${f.recordedBy})
    on conflict (case_id) do nothing returning case_id`.execute(trx)
  return rows.length === 1
}

export async function insertServiceCharge(
  trx: Trx,
  c: { hubTenantId: string; memberTenantId: string; caseId: string; reference: string; caseType: string; day: string; period: string; amountCents: bigint; entryId: string },
): Promise<void> {
  await sql`
    with charge as (
      insert into service_charges (hub_tenant_id, member_tenant_id, case_id, case_reference, case_type, entered_review_on, period, amount_cents, ledger_entry_id)
      values (${c.hubTenantId}, ${c.memberTenantId}, ${c.caseId}, ${c.reference}, ${c.caseType}, ${c.day}, ${c.period}, ${c.amountCents.toString()}::bigint, ${c.entryId})
      on conflict (case_id, kind) do nothing
      returning id, hub_tenant_id, member_tenant_id, period, posted_at, amount_cents)
    insert into charge_lines (charge_id, hub_tenant_id, member_tenant_id, period, posted_at, amount_cents)
    select id, hub_tenant_id, member_tenant_id, period, posted_at, amount_cents from charge`.execute(trx)
}
