// Settlement runs per hub and month, invoices and credit notes, IND remittances (API.md "Fees and
// settlement"). A run works a batch of members per transaction, set-based: claim them, count and sum
// their charges in the settlement's ranges in one statement (the invoice records the ranges; no
// charge is written — migration 0023), number their invoices from the counter row (in the same
// transaction), remittances, progress — so a crash loses at most the batch in flight, which the
// resumed run does again, and numbers never skip.
import { Readable } from 'node:stream'
import { recordRead } from '../access-log/access-log.service.js'
import { isLeadOf, tenantScope, type Principal, type TenantPrincipal } from '../auth/principal.js'
import { withTenant, withTenantOf, type Db, type Trx } from '../db/database.js'
import { addDays } from '../domain/calendar.js'
import { DomainError, invalidFields, notFound } from '../domain/errors.js'
import { invoiceNumber, periodEnded, periodOf, remittanceDueOn, remittancePosting, serviceChargeReversal } from '../domain/money.js'
import { enqueueInTransaction } from '../jobs/outbox.js'
import { encodeCursor, parsePage } from '../pagination.js'
import { dutchDate } from '../time.js'
import { emitEvent } from '../webhooks/events.js'
import { chargeRanges, type ChargeRanges } from './charge-ranges.js'
import * as fees from './fees.repository.js'
import * as repo from './settlement.repository.js'
import { invoiceView, remittanceView, settlementView } from './settlement.view.js'
import { writeInvoiceCsv, writeUbl, type UblLine, type UblParty } from './ubl.js'

const requireHub = (p: Principal, what: string): TenantPrincipal => {
  if (p.kind === 'admin' || p.tenantRole !== 'hub') throw new DomainError('forbidden', 'forbidden', `only the hub ${what}`)
  return p
}
const requireHubWriter = (p: Principal, what: string): TenantPrincipal => {
  const hub = requireHub(p, what)
  if (hub.kind === 'staff' && !isLeadOf(hub, hub.tenantId)) throw new DomainError('forbidden', 'forbidden', `only a lead of the hub ${what}`)
  return hub
}
const requireTenant = (p: Principal): TenantPrincipal => {
  if (p.kind === 'admin') throw new DomainError('forbidden', 'forbidden', 'invoices and remittances belong to hubs and members')
  return p
}
const sideOf = (p: TenantPrincipal): 'hub' | 'member' => (p.tenantRole === 'hub' ? 'hub' : 'member')

// ---- runs ------------------------------------------------------------------------------------

export async function startSettlement(db: Db, principal: Principal, input: { period: string; closeEarly?: boolean }, today: string = dutchDate()) {
  const hub = requireHubWriter(principal, 'settles its members')
  const current = periodOf(today)
  if (input.period > current || (!periodEnded(input.period, today) && !input.closeEarly)) {
    throw new DomainError('refused', 'period-not-ended', `${input.period} has not ended yet; closeEarly: true settles the running month now`)
  }
  const row = await withTenant(db, tenantScope(hub), async (trx) => {
    const existing = await repo.findSettlementOfPeriod(trx, hub.tenantId, input.period)
    if (existing) {
      if (existing.status === 'failed') {
        await repo.restartSettlement(trx, existing.id)
        await enqueueInTransaction(trx, 'settlement', 'settle', { tenantId: hub.tenantId, settlementId: existing.id })
      }
      return existing
    }
    const missing = await fees.tenantsWithoutBilling(trx, hub.tenantId)
    if (missing.length > 0) throw new DomainError('refused', 'billing-details-missing', `billing details missing for: ${missing.join(', ')}`)
    const members = await repo.membersOfHub(trx, hub.tenantId)
    const inserted = await repo.insertSettlement(trx, { hubTenantId: hub.tenantId, period: input.period, closeEarly: input.closeEarly ?? false, issueDate: today, total: members.length })
    if (!inserted) return (await repo.findSettlementOfPeriod(trx, hub.tenantId, input.period))!
    await enqueueInTransaction(trx, 'settlement', 'settle', { tenantId: hub.tenantId, settlementId: inserted.id })
    return inserted
  })
  return settlementView(row)
}

export async function getSettlement(db: Db, principal: Principal, id: string) {
  const hub = requireHub(principal, 'follows its settlements')
  return withTenant(db, tenantScope(hub), async (trx) => {
    const s = await repo.findSettlement(trx, id)
    if (!s || s.hub_tenant_id !== hub.tenantId) throw notFound('settlement')
    const invoices = await repo.listInvoices(trx, { side: 'hub', tenantId: hub.tenantId, settlementId: id, after: null, limit: 99 })
    const remittances = await repo.listRemittances(trx, { side: 'hub', tenantId: hub.tenantId, settlementId: id, after: null, limit: 99 })
    return settlementView(s, {
      invoices: invoices.slice(0, 100).map((i) => ({ id: i.id, number: i.number, memberTenantId: i.member_tenant_id, totalCents: invoiceView(i).totalCents })),
      remittances: remittances.slice(0, 100).map((r) => ({ id: r.id, memberTenantId: r.member_tenant_id, remitCents: remittanceView(r).totals.remitCents })),
    })
  })
}

export interface RunOptions {
  /** Members settled per transaction (default SETTLE_BATCH). */
  batchSize?: number
  /**
   * Batches in flight at once, each its own transaction on its own connection (default 1; the
   * settlement worker runs SETTLE_LANES). With more than one, batches may commit out of member order.
   */
  lanes?: number
  /** Called after each batch's transaction committed, with the members done so far (tests use it to crash a run midway). */
  afterBatch?: (done: number) => void | Promise<void>
}

/**
 * Members settled per transaction. A batch is a handful of set-based statements however many
 * charges its members have (the charges are counted inside the database, and not written); a crash
 * loses at most the batches in flight, which the resumed run does again; progress moves per batch.
 * The batch's biggest statement reads its members' charges (at the benchmark's 5,000 a member:
 * 40,000 index entries, a few tens of milliseconds).
 */
export const SETTLE_BATCH = 8

/**
 * Batches the settlement worker runs at once. The statements of a batch are one backend's work on
 * one core; two batches at once use both cores of the machine. They meet only at the short end
 * of their transactions, where the invoice counter and the progress row are taken (for the
 * numbers: sequential, no gaps, in commit order).
 */
export const SETTLE_LANES = 2

/** The settlement job: every member of the hub, a batch of members per transaction; safe to run twice or resume. */
export async function runSettlement(db: Db, job: { tenantId: string; settlementId: string }, options: RunOptions = {}): Promise<{ settled: number }> {
  const batchSize = Math.max(1, options.batchSize ?? SETTLE_BATCH)
  const s = await withTenantOf(db, job.tenantId, (trx) => repo.findSettlement(trx, job.settlementId))
  if (!s || s.hub_tenant_id !== job.tenantId) return { settled: 0 }
  if (s.status === 'done') return { settled: 0 }
  // Only a settlement done before migration 0023 lacks a cutoff number, and a done run never resumes.
  if (s.charges_below === null) throw new Error(`settlement ${s.id} has no charge cutoff`)
  const below = s.charges_below
  const { members, finished, ranges } = await withTenantOf(db, job.tenantId, async (trx) => ({
    members: await repo.membersOfHub(trx, job.tenantId),
    finished: await repo.settledMembers(trx, s.id),
    // The earlier settlements are fixed (lower cutoffs, taken before this one's), so are the ranges.
    ranges: chargeRanges(s.period, below, await repo.earlierCutoffs(trx, s, below)),
  }))
  const open = members.filter((m) => !finished.has(m))
  const batches: string[][] = []
  for (let i = 0; i < open.length; i += batchSize) batches.push(open.slice(i, i + batchSize))
  let settled = 0
  let next = 0
  let stopped = false
  // Each lane takes the next batch until none is left; a failure stops every lane after the batch
  // it has in flight, and the run fails once all lanes stopped (no transaction outlives the job).
  const lane = async (): Promise<void> => {
    while (!stopped && next < batches.length) {
      const batch = batches[next++]!
      try {
        const claimed = await withTenantOf(db, job.tenantId, (trx) => settleBatch(trx, s, ranges, batch))
        settled += claimed
        await options.afterBatch?.(finished.size + settled)
      } catch (err) {
        stopped = true
        throw err
      }
    }
  }
  const lanes = Math.max(1, Math.min(options.lanes ?? 1, batches.length))
  const outcomes = await Promise.allSettled(Array.from({ length: lanes }, lane))
  const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected')
  if (failure) throw failure.reason
  await withTenantOf(db, job.tenantId, (trx) => repo.finishSettlement(trx, s.id, 'done'))
  return { settled }
}

/**
 * One transaction: claims the members (those another run finished meanwhile drop out), counts and
 * sums their charges in the settlement's ranges (one invoice each) and moves their fees onto one
 * remittance each, then — the short end that holds the counter row and the settlement's row until
 * commit — numbers the invoices from the counter in member order, inserts them with their ranges
 * and the remittances, announces them and counts the members done. Returns the members claimed.
 */
async function settleBatch(trx: Trx, s: repo.SettlementRow, ranges: ChargeRanges, batch: readonly string[]): Promise<number> {
  await repo.withoutJit(trx)
  const claimed = await repo.claimMembers(trx, s, batch)
  if (claimed.length === 0) return 0
  const drafts = (await repo.chargesInRanges(trx, s, ranges, claimed)).map((d) => ({ ...d, id: repo.newId() }))
  const remitted = await repo.attachFees(trx, s, claimed, claimed.map(() => repo.newId()))
  if (drafts.length > 0) {
    const year = Number(s.issue_date.slice(0, 4))
    const code = (await repo.tenantCodes(trx, [s.hub_tenant_id])).get(s.hub_tenant_id)!.code
    const first = await repo.takeInvoiceSequences(trx, s.hub_tenant_id, year, drafts.length)
    const dueDate = addDays(s.issue_date, 30)
    const invoices = drafts.map((d, i): repo.InvoiceInsert => ({
      id: d.id,
      hubTenantId: s.hub_tenant_id,
      memberTenantId: d.memberTenantId,
      documentType: 'invoice',
      settlementId: s.id,
      creditedInvoiceId: null,
      number: invoiceNumber(code, year, first + i),
      year,
      sequence: first + i,
      period: s.period,
      issueDate: s.issue_date,
      dueDate,
      reason: null,
      lineCount: d.count,
      totalCents: d.total,
      ranges,
    }))
    await repo.insertInvoices(trx, invoices)
    for (const inv of invoices) {
      await emitEvent(trx, { type: 'invoice.issued', hubTenantId: s.hub_tenant_id, memberTenantId: inv.memberTenantId, objectPath: `/v1/invoices/${inv.id}`, data: { invoiceId: inv.id, number: inv.number, period: s.period } })
    }
  }
  if (remitted.length > 0) {
    const dueOn = remittanceDueOn(s.period)
    await repo.insertRemittances(trx, remitted.map((r) => ({ ...r, hubTenantId: s.hub_tenant_id, settlementId: s.id, period: s.period, dueOn })))
    for (const r of remitted) {
      await emitEvent(trx, { type: 'remittance.due', hubTenantId: s.hub_tenant_id, memberTenantId: r.memberTenantId, objectPath: `/v1/remittances/${r.id}`, data: { remittanceId: r.id, period: s.period, dueOn } })
    }
  }
  await repo.countDone(trx, s.id, claimed.length)
  return claimed.length
}

// ---- invoices --------------------------------------------------------------------------------

async function visibleInvoice(trx: Trx, p: TenantPrincipal, id: string): Promise<repo.InvoiceRow> {
  const inv = await repo.findInvoice(trx, id)
  if (!inv || (p.tenantId !== inv.hub_tenant_id && p.tenantId !== inv.member_tenant_id)) throw notFound('invoice')
  return inv
}

export async function listInvoices(db: Db, principal: Principal, query: { period?: string; memberTenantId?: string; limit?: number; cursor?: string }) {
  const p = requireTenant(principal)
  const page = parsePage(query)
  const rows = await withTenant(db, tenantScope(p), (trx) =>
    repo.listInvoices(trx, { side: sideOf(p), tenantId: p.tenantId, ...(query.period ? { period: query.period } : {}), ...(query.memberTenantId ? { memberTenantId: query.memberTenantId } : {}), after: page.after, limit: page.limit }),
  )
  const visible = rows.slice(0, page.limit)
  const last = visible[visible.length - 1]
  return { items: visible.map(invoiceView), nextCursor: rows.length > page.limit && last ? encodeCursor(last.created_at, last.id) : null }
}

export async function getInvoice(db: Db, principal: Principal, id: string) {
  const p = requireTenant(principal)
  return invoiceView(await withTenant(db, tenantScope(p), (trx) => visibleInvoice(trx, p, id)))
}

const partyOf = (b: fees.BillingRow, name: string): UblParty => ({
  name,
  oin: b.oin,
  kvk: b.kvk,
  street: b.street,
  houseNumber: b.house_number,
  postalCode: b.postal_code,
  city: b.city,
  email: b.email,
})

async function* linesOf(trx: Trx, inv: repo.InvoiceRow): AsyncGenerator<UblLine[]> {
  for await (const batch of repo.streamLines(trx, inv)) {
    yield batch.map((l) => ({ caseReference: l.case_reference, caseType: l.case_type, enteredReviewOn: l.entered_review_on, amountCents: BigInt(l.amount_cents) }))
  }
}

/**
 * An export of an invoice as a stream (UBL or CSV). The transaction stays open while the stream is
 * read — its lines come in batches — and ends with it.
 */
export async function exportInvoice(db: Db, principal: Principal, id: string, format: 'ubl' | 'csv'): Promise<Readable> {
  const p = requireTenant(principal)
  let opened!: (value: { header: Parameters<typeof writeUbl>[0]; inv: repo.InvoiceRow }) => void
  let failed!: (err: unknown) => void
  const ready = new Promise<{ header: Parameters<typeof writeUbl>[0]; inv: repo.InvoiceRow }>((resolve, reject) => {
    opened = resolve
    failed = reject
  })
  let release!: () => void
  const released = new Promise<void>((resolve) => (release = resolve))
  const chunks: AsyncGenerator<string>[] = []
  const tx = withTenant(db, tenantScope(p), async (trx) => {
    const inv = await visibleInvoice(trx, p, id)
    const seller = await fees.findBilling(trx, inv.hub_tenant_id)
    const buyer = await fees.findBilling(trx, inv.member_tenant_id)
    const names = await repo.tenantCodes(trx, [inv.hub_tenant_id, inv.member_tenant_id])
    if (!seller || !buyer) throw new DomainError('refused', 'billing-details-missing', 'the hub or the member has no billing details')
    const credited = inv.credited_invoice_id ? await repo.findInvoice(trx, inv.credited_invoice_id) : null
    const header = {
      documentType: inv.document_type,
      number: inv.number,
      issueDate: inv.issue_date,
      dueDate: inv.due_date,
      period: inv.period,
      buyerReference: names.get(inv.member_tenant_id)!.code,
      seller: partyOf(seller, `Gemeente ${names.get(inv.hub_tenant_id)!.name}`),
      buyer: partyOf(buyer, `Gemeente ${names.get(inv.member_tenant_id)!.name}`),
      sellerIban: seller.iban,
      totalCents: BigInt(inv.total_cents),
      lineCount: inv.line_count,
      note: inv.reason,
      credited: credited ? { number: credited.number, issueDate: credited.issue_date } : null,
    }
    chunks.push(format === 'ubl' ? writeUbl(header, linesOf(trx, inv)) : writeInvoiceCsv(header, linesOf(trx, inv)))
    opened({ header, inv })
    await released
  })
  tx.catch((err: unknown) => failed(err))
  await ready
  const source = chunks[0]!
  const stream = Readable.from(
    (async function* () {
      try {
        yield* source
      } finally {
        release()
        await tx
      }
    })(),
  )
  return stream
}

export async function createCreditNote(db: Db, principal: Principal, invoiceId: string, input: { reason: string; caseReferences?: string[] }, today: string = dutchDate()) {
  const hub = requireHub(principal, 'credits its invoices')
  if (!isLeadOf(hub, hub.tenantId)) {
    throw new DomainError('forbidden', 'forbidden', 'only a lead of the hub issues credit notes')
  }
  const row = await withTenant(db, tenantScope(hub), async (trx) => {
    const inv = await repo.findInvoice(trx, invoiceId)
    if (!inv || inv.hub_tenant_id !== hub.tenantId || inv.document_type !== 'invoice') throw notFound('invoice')
    await repo.lockKey(trx, `credit:${inv.id}`)
    const refs = input.caseReferences ?? null
    if (refs) {
      const known = await repo.chargeReferencesOf(trx, inv.id, refs)
      const unknown = refs.filter((r) => !known.has(r))
      if (unknown.length > 0) throw invalidFields([{ name: 'caseReferences', code: 'not-on-invoice', reason: `not lines of ${inv.number}: ${unknown.join(', ')}` }])
    }
    const charges = await repo.uncreditedCharges(trx, inv.id, refs)
    if (charges.length === 0) throw new DomainError('conflict', 'invoice-fully-credited', `${inv.number} is credited already`)
    const year = Number(today.slice(0, 4))
    const sequence = await repo.takeInvoiceSequences(trx, hub.tenantId, year, 1)
    const codes = await repo.tenantCodes(trx, [hub.tenantId])
    const id = repo.newId()
    const total = charges.reduce((s, c) => s + c.amountCents, 0n)
    await repo.insertInvoice(trx, {
      id,
      hubTenantId: hub.tenantId,
      memberTenantId: inv.member_tenant_id,
      documentType: 'credit_note',
      settlementId: null,
      creditedInvoiceId: inv.id,
      number: invoiceNumber(codes.get(hub.tenantId)!.code, year, sequence),
      year,
      sequence,
      period: inv.period,
      issueDate: today,
      dueDate: today,
      reason: input.reason,
      lineCount: charges.length,
      totalCents: total,
      ranges: null,
    })
    for (const c of charges) {
      await repo.insertCreditNoteLine(trx, { creditNoteId: id, chargeId: c.id, hubTenantId: hub.tenantId, memberTenantId: inv.member_tenant_id, amountCents: c.amountCents })
      await fees.postEntry(trx, {
        hubTenantId: hub.tenantId,
        memberTenantId: inv.member_tenant_id,
        caseId: c.case_id,
        period: periodOf(today),
        idempotencyKey: `service_charge_reversal:${c.case_id}`,
        reversesEntryId: c.ledger_entry_id,
        posting: serviceChargeReversal(hub.tenantId, inv.member_tenant_id, c.amountCents),
      })
    }
    await emitEvent(trx, { type: 'invoice.issued', hubTenantId: hub.tenantId, memberTenantId: inv.member_tenant_id, objectPath: `/v1/invoices/${id}`, data: { invoiceId: id, creditNote: true } })
    return (await repo.findInvoice(trx, id))!
  })
  return invoiceView(row)
}

/** The names and municipality codes of tenants the principal may see (its region's hub and members), for the workbench's tables. */
export async function tenantNames(db: Db, principal: Principal, ids: readonly string[]): Promise<Map<string, { code: string; name: string }>> {
  const p = requireTenant(principal)
  return withTenant(db, tenantScope(p), (trx) => repo.tenantCodes(trx, [...new Set(ids)]))
}

// ---- remittances -----------------------------------------------------------------------------

async function visibleRemittance(trx: Trx, p: TenantPrincipal, id: string): Promise<repo.RemittanceRow> {
  const r = await repo.findRemittance(trx, id)
  if (!r || (p.tenantId !== r.hub_tenant_id && p.tenantId !== r.member_tenant_id)) throw notFound('remittance')
  return r
}

export async function listRemittances(db: Db, principal: Principal, query: { period?: string; memberTenantId?: string; limit?: number; cursor?: string }) {
  const p = requireTenant(principal)
  const page = parsePage(query)
  const rows = await withTenant(db, tenantScope(p), (trx) =>
    repo.listRemittances(trx, { side: sideOf(p), tenantId: p.tenantId, ...(query.period ? { period: query.period } : {}), ...(query.memberTenantId ? { memberTenantId: query.memberTenantId } : {}), after: page.after, limit: page.limit }),
  )
  const visible = rows.slice(0, page.limit)
  const last = visible[visible.length - 1]
  return { items: visible.map((r) => remittanceView(r)), nextCursor: rows.length > page.limit && last ? encodeCursor(last.created_at, last.id) : null }
}

export async function getRemittance(db: Db, principal: Principal, id: string) {
  const p = requireTenant(principal)
  return withTenant(db, tenantScope(p), async (trx) => {
    const r = await visibleRemittance(trx, p, id)
    return remittanceView(r, await repo.remittanceLines(trx, r.id))
  })
}

/** The applicants' names for the IND (BOEN art. 8(4)); every case read is in the access log. */
export async function remittanceNameList(db: Db, principal: Principal, id: string): Promise<string> {
  const p = requireTenant(principal)
  if (p.tenantRole === 'hub' && !isLeadOf(p, p.tenantId)) throw new DomainError('forbidden', 'forbidden', 'the member or a lead of the hub reads the name list')
  return withTenant(db, tenantScope(p), async (trx) => {
    const r = await visibleRemittance(trx, p, id)
    const rows = await repo.remittanceCases(trx, r.id)
    const cell = (v: string) => (/[",\n;]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v)
    let csv = 'caseReference,tariffCode,minors,surname,givenNames,dateOfBirth\n'
    for (const c of rows) {
      await recordRead(trx, p, c, 'remittance.name-list', null, 'ind-remittance')
      csv += [c.reference, c.tariff_code ?? '', String(c.minors), c.subject.surname, c.subject.givenNames, c.subject.dateOfBirth].map(cell).join(',') + '\n'
    }
    return csv
  })
}

export async function markRemitted(db: Db, principal: Principal, id: string, input: { remittedOn: string; bankReference: string }, today: string = dutchDate()) {
  const p = requireTenant(principal)
  if (p.tenantRole !== 'member') throw new DomainError('forbidden', 'forbidden', 'the member transfers its remittance')
  if (input.remittedOn > today) throw invalidFields([{ name: 'remittedOn', code: 'in-the-future', reason: 'record a transfer once it is made' }])
  return withTenant(db, tenantScope(p), async (trx) => {
    const r = await visibleRemittance(trx, p, id)
    if (!(await repo.markRemitted(trx, r.id, input.remittedOn, input.bankReference))) {
      throw new DomainError('conflict', 'already-remitted', 'this remittance is recorded as transferred already')
    }
    await fees.postEntry(trx, {
      hubTenantId: r.hub_tenant_id,
      memberTenantId: r.member_tenant_id,
      caseId: null,
      period: periodOf(input.remittedOn),
      idempotencyKey: `ind_remittance:${r.id}`,
      posting: remittancePosting(r.member_tenant_id, BigInt(r.remit_cents)),
    })
    return remittanceView((await repo.findRemittance(trx, r.id))!, await repo.remittanceLines(trx, r.id))
  })
}
