// Response shapes of fees and settlement. Cents are bigints inside; JSON has no bigint, so they
// leave as JSON integers — checked to be exact (a safe integer), never rounded.
// Each view returns the contract's component type, so a view that drifts from openapi.yaml fails
// to compile.
import type { components } from '../../openapi/types.gen.js'
import type { TariffTable } from '../domain/money.js'
import type { BillingRow, EntryRow, FeeInsert } from './fees.repository.js'
import type { InvoiceRow, RemittanceLineRow, RemittanceRow, SettlementRow } from './settlement.repository.js'

type Schemas = components['schemas']

export function money(cents: bigint | string): number {
  const value = typeof cents === 'string' ? BigInt(cents) : cents
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < -BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError('amount beyond the exact range of JSON integers')
  return Number(value)
}

export const tariffView = (t: TariffTable): Schemas['TariffTable'] => ({
  year: t.year,
  source: t.source,
  items: t.items.map((i) => ({ code: i.code, feeCents: money(i.feeCents), compensationCents: money(i.compensationCents) })),
})

export const billingView = (b: BillingRow): Schemas['Billing'] => ({
  oin: b.oin,
  kvk: b.kvk,
  address: { street: b.street, houseNumber: b.house_number, postalCode: b.postal_code, city: b.city },
  iban: b.iban,
  email: b.email,
  vatCategory: b.vat_category,
})

export const feeView = (f: FeeInsert): Schemas['Fee'] => ({
  caseId: f.caseId,
  tariffCode: f.tariffCode,
  tariffYear: f.tariffYear,
  minors: f.minors,
  paidOn: f.paidOn,
  exemption: f.exemptionReason === null ? null : { reason: f.exemptionReason },
  feeCents: money(f.feeCents),
  compensationCents: money(f.compensationCents),
  remitCents: money(f.remitCents),
})

export const entryView = (e: EntryRow): Schemas['LedgerEntry'] => ({
  id: e.id,
  postedAt: e.created_at.toISOString(),
  period: e.period,
  caseId: e.case_id,
  kind: e.kind,
  lines: e.lines.map((l) => ({ tenantId: l.tenantId, account: l.account, debitCents: money(l.debitCents), creditCents: money(l.creditCents) })),
})

export const settlementView = (s: SettlementRow, extra: Pick<Schemas['Settlement'], 'invoices' | 'remittances'> = {}): Schemas['Settlement'] => ({
  id: s.id,
  hubTenantId: s.hub_tenant_id,
  period: s.period,
  status: s.status,
  closeEarly: s.close_early,
  issueDate: s.issue_date,
  progress: { done: s.done, total: s.total },
  createdAt: s.created_at.toISOString(),
  ...extra,
})

export const invoiceView = (i: InvoiceRow): Schemas['Invoice'] => ({
  id: i.id,
  documentType: i.document_type,
  number: i.number,
  hubTenantId: i.hub_tenant_id,
  memberTenantId: i.member_tenant_id,
  settlementId: i.settlement_id,
  creditedInvoiceId: i.credited_invoice_id,
  creditedInvoiceNumber: i.credited_number,
  period: i.period,
  issueDate: i.issue_date,
  dueDate: i.due_date,
  reason: i.reason,
  lineCount: i.line_count,
  totalCents: money(i.total_cents),
  currency: 'EUR',
  createdAt: i.created_at.toISOString(),
})

export const remittanceView = (r: RemittanceRow, lines?: RemittanceLineRow[]): Schemas['Remittance'] => ({
  id: r.id,
  hubTenantId: r.hub_tenant_id,
  memberTenantId: r.member_tenant_id,
  settlementId: r.settlement_id,
  period: r.period,
  dueOn: r.due_on,
  status: r.status,
  remittedOn: r.remitted_on,
  bankReference: r.bank_reference,
  totals: { lines: r.line_count, feeCents: money(r.fee_cents), compensationCents: money(r.compensation_cents), remitCents: money(r.remit_cents) },
  ...(lines
    ? {
        lines: lines.map((l) => ({
          caseId: l.case_id,
          caseReference: l.reference,
          tariffCode: l.tariff_code,
          minors: l.minors,
          feeCents: money(l.fee_cents),
          compensationCents: money(l.compensation_cents),
          remitCents: money(l.remit_cents),
        })),
      }
    : {}),
  createdAt: r.created_at.toISOString(),
})
