// All SQL of settlement runs, invoices, credit notes and IND remittances (tariffs, billing, fees
// and the ledger are in fees.repository.ts). Money columns are int8; they are read as text and
// become bigints here, and written as decimal strings — never through a float.
import { randomUUID } from 'node:crypto'
import { sql, type RawBuilder } from 'kysely'
import type { Trx } from '../db/database.js'
import type { ChargeRanges } from './charge-ranges.js'
import { big } from './fees.repository.js'

// ---- settlements -----------------------------------------------------------------------------

export interface SettlementRow {
  id: string
  hub_tenant_id: string
  period: string
  status: 'running' | 'done' | 'failed'
  close_early: boolean
  cutoff: Date
  /** The cutoff in charge numbers (migration 0023): the charges it covers are numbered below it. */
  charges_below: number | null
  issue_date: string
  total: number
  done: number
  created_at: Date
}

const settlementCols = ['id', 'hub_tenant_id', 'period', 'status', 'close_early', 'cutoff', 'charges_below', 'issue_date', 'total', 'done', 'created_at'] as const

export const findSettlement = (trx: Trx, id: string): Promise<SettlementRow | undefined> =>
  trx.selectFrom('settlements').select(settlementCols).where('id', '=', id).executeTakeFirst()

export const findSettlementOfPeriod = (trx: Trx, hubTenantId: string, period: string): Promise<SettlementRow | undefined> =>
  trx.selectFrom('settlements').select(settlementCols).where('hub_tenant_id', '=', hubTenantId).where('period', '=', period).executeTakeFirst()

export async function insertSettlement(
  trx: Trx,
  s: { hubTenantId: string; period: string; closeEarly: boolean; issueDate: string; total: number },
): Promise<SettlementRow | undefined> {
  return trx
    .insertInto('settlements')
    .values({ hub_tenant_id: s.hubTenantId, period: s.period, close_early: s.closeEarly, issue_date: s.issueDate, total: s.total })
    .onConflict((oc) => oc.columns(['hub_tenant_id', 'period']).doNothing())
    .returning(settlementCols)
    .executeTakeFirst()
}

/**
 * The members a hub settles, in a stable order: those with an agreement with it, and those with
 * charges of the hub (an agreement may have moved to another hub or been deleted since): a
 * settlement's ranges cover every member's charges, so each such member must get its invoice. The
 * charged members are found by skipping through the index of charges, one look-up per member.
 */
export async function membersOfHub(trx: Trx, hubTenantId: string): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`
    with recursive charged (m) as (
      (select member_tenant_id from charge_lines where hub_tenant_id = ${hubTenantId} and invoice_id is null order by member_tenant_id limit 1)
      union all
      select (select c.member_tenant_id from charge_lines c
              where c.hub_tenant_id = ${hubTenantId} and c.invoice_id is null and c.member_tenant_id > charged.m order by c.member_tenant_id limit 1)
      from charged where charged.m is not null)
    select member_tenant_id as id from agreements where hub_tenant_id = ${hubTenantId}
    union
    select m from charged where m is not null
    order by 1`.execute(trx)
  return rows.map((r) => r.id)
}

/** Members a run has finished (a resumed run skips them). */
export async function settledMembers(trx: Trx, settlementId: string): Promise<Set<string>> {
  const { rows } = await sql<{ m: string }>`select member_tenant_id as m from settlement_members where settlement_id = ${settlementId}`.execute(trx)
  return new Set(rows.map((r) => r.m))
}

/**
 * Claims a batch of members for a run, in one statement; returns those claimed now (in id order),
 * not those a run finished before. Two workers on the same batch meet at the primary key: the
 * second waits for the first to commit, then skips what it claimed (or claims it after a rollback).
 * Members are claimed in ascending id order, so the waits never form a cycle. The claim counts as
 * progress with countDone, at the end of the batch's transaction.
 */
export async function claimMembers(trx: Trx, s: SettlementRow, memberTenantIds: readonly string[]): Promise<string[]> {
  if (memberTenantIds.length === 0) return []
  const { rows } = await sql<{ m: string }>`
    insert into settlement_members (settlement_id, hub_tenant_id, member_tenant_id)
    select ${s.id}::uuid, ${s.hub_tenant_id}::uuid, m from unnest(${[...memberTenantIds].sort()}::uuid[]) m order by m
    on conflict do nothing returning member_tenant_id as m`.execute(trx)
  return rows.map((r) => r.m).sort()
}

/**
 * Counts claimed members as done. The update holds the settlement's row until commit, so a batch
 * does it last (after the invoice counter): batches of one run on several connections then wait
 * for each other only for the short issuing end of their transactions, never for the big statement.
 */
export async function countDone(trx: Trx, settlementId: string, count: number): Promise<void> {
  if (count > 0) await sql`update settlements set done = done + ${count} where id = ${settlementId}`.execute(trx)
}

/**
 * The batch's statements are few and read tens of thousands of rows each: compiling them with JIT
 * costs more than it saves.
 */
export async function withoutJit(trx: Trx): Promise<void> {
  await sql`set local jit = off`.execute(trx)
}

export async function finishSettlement(trx: Trx, id: string, status: 'done' | 'failed'): Promise<void> {
  await sql`update settlements set status = ${status}, finished_at = now() where id = ${id}`.execute(trx)
}

export async function restartSettlement(trx: Trx, id: string): Promise<void> {
  await sql`update settlements set status = 'running', finished_at = null where id = ${id} and status = 'failed'`.execute(trx)
}

/**
 * An earlier month's own settlement that is still running keeps that month's fees (those recorded
 * before its cutoff) for itself, so two runs at once split them by month; a month never settled, or
 * settled already, leaves its late fees to the next run. (Charges are split by their ranges:
 * charge-ranges.ts.)
 */
const reservedBy = (s: SettlementRow, period: RawBuilder<unknown>, postedAt: RawBuilder<unknown>) => sql`
  select 1 from settlements r
  where r.hub_tenant_id = ${s.hub_tenant_id} and r.id <> ${s.id} and r.status <> 'done'
    and r.period = ${period} and ${postedAt} <= r.cutoff`

/** The cutoffs of the hub's settlements before this one (lower cutoffs): they bound its charge ranges. */
export async function earlierCutoffs(trx: Trx, s: SettlementRow, below: number): Promise<Array<{ period: string; below: number }>> {
  const { rows } = await sql<{ period: string; below: string }>`
    select period, charges_below::text as below from settlements
    where hub_tenant_id = ${s.hub_tenant_id} and charges_below < ${below}::bigint order by charges_below`.execute(trx)
  return rows.map((r) => ({ period: r.period, below: Number(r.below) }))
}

/**
 * Counts and sums the charges a batch of members has in the settlement's ranges (migration 0023),
 * in one statement that writes nothing: the invoice records the ranges, and its lines are what
 * they cover. Returns per member with charges the count and the sum (the invoice's total is its
 * lines' sum by construction).
 */
export async function chargesInRanges(
  trx: Trx,
  s: SettlementRow,
  ranges: ChargeRanges,
  memberTenantIds: readonly string[],
): Promise<Array<{ memberTenantId: string; count: number; total: bigint }>> {
  if (memberTenantIds.length === 0) return []
  const { rows } = await sql<{ m: string; n: number; total: string }>`
    select m, count(*)::int as n, sum(r.amount_cents)::text as total
    from unnest(${[...memberTenantIds]}::uuid[]) m
    cross join lateral charges_in_range(${s.hub_tenant_id}::uuid, m, ${ranges.below}::bigint, ${ranges.upto}::text[], ${ranges.from}::bigint[]) r
    group by m order by m`.execute(trx)
  return rows.map((r) => ({ memberTenantId: r.m, count: r.n, total: big(r.total) }))
}

/**
 * Takes the unremitted fees of the period and before (recorded up to the cutoff) of a batch of
 * members onto the member's remittance id, in one statement; returns per member with fees the sums.
 */
export async function attachFees(trx: Trx, s: SettlementRow, memberTenantIds: readonly string[], remittanceIds: readonly string[]) {
  if (memberTenantIds.length === 0) return []
  const { rows } = await sql<{ m: string; id: string; n: number; fee: string; comp: string; remit: string }>`
    with batch (member_tenant_id, remittance_id) as (select * from unnest(${[...memberTenantIds]}::uuid[], ${[...remittanceIds]}::uuid[])),
    attached as (
      update fees f set remittance_id = b.remittance_id from batch b
      where f.hub_tenant_id = ${s.hub_tenant_id} and f.member_tenant_id = b.member_tenant_id and f.remittance_id is null
        and f.remit_cents > 0 and f.period <= ${s.period} and f.created_at <= (select cutoff from settlements where id = ${s.id})
        and not exists (${reservedBy(s, sql.ref('f.period'), sql.ref('f.created_at'))})
      returning f.member_tenant_id, f.remittance_id, f.fee_cents, f.compensation_cents, f.remit_cents)
    select member_tenant_id as m, remittance_id as id, count(*)::int as n, sum(fee_cents)::text as fee,
      sum(compensation_cents)::text as comp, sum(remit_cents)::text as remit
    from attached group by member_tenant_id, remittance_id order by member_tenant_id`.execute(trx)
  return rows.map((r) => ({ memberTenantId: r.m, id: r.id, count: r.n, feeCents: big(r.fee), compensationCents: big(r.comp), remitCents: big(r.remit) }))
}

/**
 * Takes `count` numbers of the hub's series for the year at once (row lock until commit) and
 * returns the first; the caller numbers its documents first … first + count − 1.
 */
export async function takeInvoiceSequences(trx: Trx, hubTenantId: string, year: number, count: number): Promise<number> {
  const { rows } = await sql<{ v: number }>`
    insert into invoice_counters (hub_tenant_id, year, last_value) values (${hubTenantId}, ${year}, ${count})
    on conflict (hub_tenant_id, year) do update set last_value = invoice_counters.last_value + ${count}
    returning last_value as v`.execute(trx)
  return rows[0]!.v - count + 1
}

export interface InvoiceInsert {
  id: string
  hubTenantId: string
  memberTenantId: string
  documentType: 'invoice' | 'credit_note'
  settlementId: string | null
  creditedInvoiceId: string | null
  number: string
  year: number
  sequence: number
  period: string
  issueDate: string
  dueDate: string
  reason: string | null
  lineCount: number
  totalCents: bigint
  /** The charge ranges of a settlement's invoice (its lines); null for a credit note. */
  ranges: ChargeRanges | null
}

/** Inserts invoices (or credit notes), several in one statement. */
export async function insertInvoices(trx: Trx, invoices: readonly InvoiceInsert[]): Promise<void> {
  if (invoices.length === 0) return
  const values = invoices.map(
    (i) => sql`(${i.id}::uuid, ${i.hubTenantId}::uuid, ${i.memberTenantId}::uuid, ${i.documentType}, ${i.settlementId}::uuid, ${i.creditedInvoiceId}::uuid,
      ${i.number}, ${i.year}::int, ${i.sequence}::int, ${i.period}, ${i.issueDate}::date, ${i.dueDate}::date, ${i.reason}, ${i.lineCount}::int,
      ${i.totalCents.toString()}::bigint, ${i.ranges?.below ?? null}::bigint, ${i.ranges?.upto ?? null}::text[], ${i.ranges?.from ?? null}::bigint[])`,
  )
  await sql`
    insert into invoices (id, hub_tenant_id, member_tenant_id, document_type, settlement_id, credited_invoice_id, number, year, sequence,
      period, issue_date, due_date, reason, line_count, total_cents, charges_below, step_upto, step_from)
    values ${sql.join(values)}`.execute(trx)
}

export const insertInvoice = (trx: Trx, i: InvoiceInsert): Promise<void> => insertInvoices(trx, [i])

export interface RemittanceInsert {
  id: string
  hubTenantId: string
  memberTenantId: string
  settlementId: string
  period: string
  dueOn: string
  count: number
  feeCents: bigint
  compensationCents: bigint
  remitCents: bigint
}

/** Inserts remittances, several in one statement. */
export async function insertRemittances(trx: Trx, remittances: readonly RemittanceInsert[]): Promise<void> {
  if (remittances.length === 0) return
  const values = remittances.map(
    (r) => sql`(${r.id}::uuid, ${r.hubTenantId}::uuid, ${r.memberTenantId}::uuid, ${r.settlementId}::uuid, ${r.period}, ${r.dueOn}::date, ${r.count}::int,
      ${r.feeCents.toString()}::bigint, ${r.compensationCents.toString()}::bigint, ${r.remitCents.toString()}::bigint)`,
  )
  await sql`
    insert into remittances (id, hub_tenant_id, member_tenant_id, settlement_id, period, due_on, line_count, fee_cents, compensation_cents, remit_cents)
    values ${sql.join(values)}`.execute(trx)
}

export const newId = (): string => randomUUID()

// ---- invoices --------------------------------------------------------------------------------

export interface InvoiceRow {
  id: string
  hub_tenant_id: string
  member_tenant_id: string
  document_type: 'invoice' | 'credit_note'
  settlement_id: string | null
  credited_invoice_id: string | null
  number: string
  period: string
  issue_date: string
  due_date: string
  reason: string | null
  line_count: number
  total_cents: string
  created_at: Date
  credited_number: string | null
}

const invoiceSelect = sql`
  select i.id, i.hub_tenant_id, i.member_tenant_id, i.document_type, i.settlement_id, i.credited_invoice_id, i.number, i.period,
    i.issue_date, i.due_date, i.reason, i.line_count, i.total_cents::text as total_cents, i.created_at, c.number as credited_number
  from invoices i left join invoices c on c.id = i.credited_invoice_id`

export async function findInvoice(trx: Trx, id: string): Promise<InvoiceRow | undefined> {
  const { rows } = await sql<InvoiceRow>`${invoiceSelect} where i.id = ${id}`.execute(trx)
  return rows[0]
}

export async function listInvoices(
  trx: Trx,
  f: { side: 'hub' | 'member'; tenantId: string; period?: string; memberTenantId?: string; settlementId?: string; after: { createdAt: Date; id: string } | null; limit: number },
): Promise<InvoiceRow[]> {
  const sideCol = f.side === 'hub' ? sql.ref('i.hub_tenant_id') : sql.ref('i.member_tenant_id')
  const { rows } = await sql<InvoiceRow>`${invoiceSelect}
    where ${sideCol} = ${f.tenantId}
      ${f.period ? sql`and i.period = ${f.period}` : sql``}
      ${f.memberTenantId ? sql`and i.member_tenant_id = ${f.memberTenantId}` : sql``}
      ${f.settlementId ? sql`and i.settlement_id = ${f.settlementId}` : sql``}
      ${f.after ? sql`and (i.created_at, i.id) < (${f.after.createdAt}, ${f.after.id}::uuid)` : sql``}
    order by i.created_at desc, i.id desc limit ${f.limit + 1}`.execute(trx)
  return rows
}

export interface LineRow {
  charge_id: string
  case_id: string
  case_reference: string
  case_type: string
  entered_review_on: string
  amount_cents: string
}

/**
 * The lines of an invoice or credit note in order (entered_review_on, id), streamed in batches of
 * `batch` from one cursor of the caller's transaction: the lines are found, joined and sorted once
 * inside PostgreSQL, and only a batch at a time reaches this process. The cursor ends with the
 * transaction (an export has its own).
 */
export async function* streamLines(trx: Trx, inv: { id: string; document_type: 'invoice' | 'credit_note' }, batch = 2_000): AsyncGenerator<LineRow[]> {
  const query: RawBuilder<LineRow> =
    inv.document_type === 'invoice'
      ? sql<LineRow>`
          select c.id as charge_id, c.case_id, c.case_reference, c.case_type, c.entered_review_on, c.amount_cents::text as amount_cents
          from invoice_charges(${inv.id}::uuid) l join service_charges c on c.id = l.charge_id
          order by c.entered_review_on, c.id`
      : sql<LineRow>`
          select c.id as charge_id, c.case_id, c.case_reference, c.case_type, c.entered_review_on, n.amount_cents::text as amount_cents
          from credit_note_lines n join service_charges c on c.id = n.charge_id
          where n.credit_note_id = ${inv.id}
          order by c.entered_review_on, c.id`
  await sql`declare invoice_lines_out no scroll cursor for ${query}`.execute(trx)
  for (;;) {
    const { rows } = await sql<LineRow>`fetch forward ${sql.lit(batch)} from invoice_lines_out`.execute(trx)
    if (rows.length === 0) return
    yield rows
    if (rows.length < batch) return
  }
}

/** The invoice's charges not credited yet (optionally only those cases), as one list (a credit note is small). */
export async function uncreditedCharges(trx: Trx, invoiceId: string, references: readonly string[] | null) {
  const { rows } = await sql<{ id: string; case_id: string; case_reference: string; amount: string; ledger_entry_id: string; period: string }>`
    select c.id, c.case_id, c.case_reference, c.amount_cents::text as amount, c.ledger_entry_id, c.period
    from invoice_charges(${invoiceId}::uuid) l join service_charges c on c.id = l.charge_id
    where not exists (select 1 from credit_note_lines n where n.charge_id = c.id)
      ${references ? sql`and c.case_reference = any(${[...references]}::text[])` : sql``}
    order by c.entered_review_on, c.id`.execute(trx)
  return rows.map((r) => ({ ...r, amountCents: big(r.amount) }))
}

export async function chargeReferencesOf(trx: Trx, invoiceId: string, references: readonly string[]): Promise<Set<string>> {
  const { rows } = await sql<{ r: string }>`
    select c.case_reference as r from invoice_charges(${invoiceId}::uuid) l join service_charges c on c.id = l.charge_id
    where c.case_reference = any(${[...references]}::text[])`.execute(trx)
  return new Set(rows.map((x) => x.r))
}

export async function insertCreditNoteLine(trx: Trx, l: { creditNoteId: string; chargeId: string; hubTenantId: string; memberTenantId: string; amountCents: bigint }) {
  await sql`insert into credit_note_lines (credit_note_id, charge_id, hub_tenant_id, member_tenant_id, amount_cents)
    values (${l.creditNoteId}, ${l.chargeId}, ${l.hubTenantId}, ${l.memberTenantId}, ${l.amountCents.toString()}::bigint)`.execute(trx)
}

export async function lockKey(trx: Trx, key: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtextextended(${key}, 0))`.execute(trx)
}

export async function tenantCodes(trx: Trx, ids: readonly string[]): Promise<Map<string, { code: string; name: string }>> {
  if (ids.length === 0) return new Map()
  const rows = await trx.selectFrom('tenants').select(['id', 'municipality_code', 'name']).where('id', 'in', [...ids]).execute()
  return new Map(rows.map((r) => [r.id, { code: r.municipality_code, name: r.name }]))
}

// ---- remittances -----------------------------------------------------------------------------

export interface RemittanceRow {
  id: string
  hub_tenant_id: string
  member_tenant_id: string
  settlement_id: string
  period: string
  due_on: string
  line_count: number
  fee_cents: string
  compensation_cents: string
  remit_cents: string
  status: 'due' | 'remitted'
  remitted_on: string | null
  bank_reference: string | null
  created_at: Date
}

const remittanceSelect = sql`
  select id, hub_tenant_id, member_tenant_id, settlement_id, period, due_on, line_count, fee_cents::text as fee_cents,
    compensation_cents::text as compensation_cents, remit_cents::text as remit_cents, status, remitted_on, bank_reference, created_at
  from remittances`

export async function findRemittance(trx: Trx, id: string): Promise<RemittanceRow | undefined> {
  const { rows } = await sql<RemittanceRow>`${remittanceSelect} where id = ${id}`.execute(trx)
  return rows[0]
}

export async function listRemittances(
  trx: Trx,
  f: { side: 'hub' | 'member'; tenantId: string; period?: string; memberTenantId?: string; settlementId?: string; after: { createdAt: Date; id: string } | null; limit: number },
): Promise<RemittanceRow[]> {
  const sideCol = f.side === 'hub' ? sql.ref('hub_tenant_id') : sql.ref('member_tenant_id')
  const { rows } = await sql<RemittanceRow>`${remittanceSelect}
    where ${sideCol} = ${f.tenantId}
      ${f.period ? sql`and period = ${f.period}` : sql``}
      ${f.memberTenantId ? sql`and member_tenant_id = ${f.memberTenantId}` : sql``}
      ${f.settlementId ? sql`and settlement_id = ${f.settlementId}` : sql``}
      ${f.after ? sql`and (created_at, id) < (${f.after.createdAt}, ${f.after.id}::uuid)` : sql``}
    order by created_at desc, id desc limit ${f.limit + 1}`.execute(trx)
  return rows
}

export interface RemittanceLineRow {
  case_id: string
  reference: string
  tariff_code: string | null
  minors: number
  fee_cents: string
  compensation_cents: string
  remit_cents: string
}

export async function remittanceLines(trx: Trx, remittanceId: string, limit = 10_000): Promise<RemittanceLineRow[]> {
  const { rows } = await sql<RemittanceLineRow>`
    select f.case_id, c.reference, f.tariff_code, f.minors, f.fee_cents::text as fee_cents,
      f.compensation_cents::text as compensation_cents, f.remit_cents::text as remit_cents
    from fees f join cases c on c.id = f.case_id
    where f.remittance_id = ${remittanceId} order by c.reference limit ${limit}`.execute(trx)
  return rows
}

export async function remittanceCases(trx: Trx, remittanceId: string) {
  return trx
    .selectFrom('fees')
    .innerJoin('cases', 'cases.id', 'fees.case_id')
    .selectAll('cases')
    .select(['fees.tariff_code', 'fees.minors'])
    .where('fees.remittance_id', '=', remittanceId)
    .orderBy('cases.reference')
    .execute()
}

export async function markRemitted(trx: Trx, id: string, remittedOn: string, bankReference: string): Promise<boolean> {
  const r = await trx
    .updateTable('remittances')
    .set({ status: 'remitted', remitted_on: remittedOn, bank_reference: bankReference })
    .where('id', '=', id)
    .where('status', '=', 'due')
    .executeTakeFirst()
  return r.numUpdatedRows === 1n
}
