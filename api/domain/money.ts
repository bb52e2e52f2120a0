// Money rules (ARCHITECTURE.md "Money"; DOMAIN.md 1.6–1.7, 8.3): national fees (leges) per tariff
// code, the member's compensation and the IND remittance (afdracht), balanced postings, the remittance
// due date, billing identifiers (IBAN, OIN, KVK) and the EN 16931 invoice totals. Amounts are bigint
// euro cents: no float ever touches them.
import { addDays, isWorkingDay } from './calendar.js'
import { DomainError, invalidFields } from './errors.js'
import { SHIPPED_TARIFF_ROWS } from './data/tariffs.data.js'

export const TARIFF_CODES = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'] as const
export type TariffCode = (typeof TARIFF_CODES)[number]
export const isTariffCode = (v: string): v is TariffCode => (TARIFF_CODES as readonly string[]).includes(v)

export interface TariffItem {
  code: TariffCode
  feeCents: bigint
  compensationCents: bigint
}

export interface TariffTable {
  year: number
  source: string
  items: readonly TariffItem[]
}

/** The fee tables the sources confirm (api/domain/data/naturalisation_tariffs.csv), by year. */
export const SHIPPED_TARIFFS: ReadonlyMap<number, TariffTable> = (() => {
  const byYear = new Map<number, { source: string; items: TariffItem[] }>()
  for (const row of SHIPPED_TARIFF_ROWS) {
    if (!isTariffCode(row.code)) throw new Error(`naturalisation_tariffs.csv: unknown tariff code ${row.code}`)
    const table = byYear.get(row.year) ?? { source: `shipped: shared/data/naturalisation_fees.csv (${row.source})`, items: [] }
    table.items.push({ code: row.code, feeCents: row.feeCents, compensationCents: row.compensationCents })
    byYear.set(row.year, table)
  }
  const tables = new Map<number, TariffTable>()
  for (const [year, t] of byYear) tables.set(year, { year, source: t.source, items: checkTariffItems(t.items) })
  return tables
})()

/** A table has each of the eight codes exactly once; compensation never exceeds the fee. */
export function checkTariffItems(items: readonly TariffItem[]): TariffItem[] {
  const seen = new Set<string>()
  for (const item of items) {
    if (seen.has(item.code)) throw invalidFields([{ name: 'items', code: 'duplicate-code', reason: `tariff code ${item.code} appears twice` }])
    seen.add(item.code)
    if (item.feeCents < 0n || item.compensationCents < 0n || item.compensationCents > item.feeCents) {
      throw invalidFields([{ name: 'items', code: 'compensation-above-fee', reason: `tariff code ${item.code}: 0 ≤ compensation ≤ fee` }])
    }
  }
  const missing = TARIFF_CODES.filter((c) => !seen.has(c))
  if (missing.length > 0) throw invalidFields([{ name: 'items', code: 'missing-codes', reason: `the table lacks the codes ${missing.join(', ')}` }])
  return [...items].sort((a, b) => a.code.localeCompare(b.code))
}

/** Which codes a request of a case type may be charged at, and which code each minor adds (BOEN art. 3). */
const REQUEST_CODES: Readonly<Record<string, { codes: readonly TariffCode[]; perMinor: TariffCode }>> = {
  option: { codes: ['A', 'B'], perMinor: 'C' },
  naturalisation: { codes: ['D', 'E', 'F', 'G'], perMinor: 'H' },
}

export const feeApplies = (caseType: string): boolean => caseType in REQUEST_CODES

export interface FeeAmounts {
  feeCents: bigint
  compensationCents: bigint
  remitCents: bigint
}

export const EXEMPT: FeeAmounts = { feeCents: 0n, compensationCents: 0n, remitCents: 0n }

/**
 * The fee of one request (API.md "Fee amounts"): naturalisation — the code's fee plus minors × H, of
 * which the member keeps the compensation (code's + minors × H's) and remits the rest to the IND;
 * option — the code's fee plus minors × C, all kept by the member (BOEN art. 7).
 */
export function feeAmounts(caseType: string, table: TariffTable, code: TariffCode, minors: number): FeeAmounts {
  const rule = REQUEST_CODES[caseType]
  if (!rule || !rule.codes.includes(code)) {
    throw new DomainError('refused', 'tariff-not-for-case-type', `tariff code ${code} is not a request tariff for ${caseType}`)
  }
  if (!Number.isInteger(minors) || minors < 0) throw new RangeError('minors must be a non-negative integer')
  const item = (c: TariffCode): TariffItem => {
    const found = table.items.find((i) => i.code === c)
    if (!found) throw new DomainError('refused', 'tariff-not-loaded', `the ${table.year} table has no code ${c}`)
    return found
  }
  const n = BigInt(minors)
  const main = item(code)
  const minor = item(rule.perMinor)
  const feeCents = main.feeCents + n * minor.feeCents
  if (caseType === 'option') return { feeCents, compensationCents: feeCents, remitCents: 0n }
  const compensationCents = main.compensationCents + n * minor.compensationCents
  return { feeCents, compensationCents, remitCents: feeCents - compensationCents }
}

// ---------------------------------------------------------------------------------------------
// Periods (calendar months in Europe/Amsterdam) and the remittance due date.

export const PERIOD_PATTERN = /^(\d{4})-(0[1-9]|1[0-2])$/

export const periodOf = (date: string): string => date.slice(0, 7)

export function nextPeriod(period: string, months = 1): string {
  const m = PERIOD_PATTERN.exec(period)
  if (!m) throw new RangeError(`not a period: ${period}`)
  const index = Number(m[1]) * 12 + (Number(m[2]) - 1) + months
  return `${String(Math.floor(index / 12)).padStart(4, '0')}-${String((index % 12) + 1).padStart(2, '0')}`
}

/** A period has ended when today (a Dutch date) lies in a later month. */
export const periodEnded = (period: string, today: string): boolean => periodOf(today) > period

/**
 * Remittance due date (Regeling art. 13): the first working day of the second month after the month
 * of collection — fees collected in January are due on the first working day of March.
 */
export function remittanceDueOn(period: string): string {
  let day = `${nextPeriod(period, 2)}-01`
  while (!isWorkingDay(day)) day = addDays(day, 1)
  return day
}

// ---------------------------------------------------------------------------------------------
// Billing identifiers.

/** IBAN: ISO 13616 shape and the mod-97 checksum (ISO 7064); Dutch IBANs have 18 characters. */
export function isValidIban(value: string): boolean {
  const iban = value.replace(/\s+/g, '').toUpperCase()
  if (!/^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$/.test(iban)) return false
  if (iban.startsWith('NL') && !/^NL[0-9]{2}[A-Z]{4}[0-9]{10}$/.test(iban)) return false
  const rearranged = iban.slice(4) + iban.slice(0, 4)
  let remainder = 0
  for (const ch of rearranged) {
    const digits = /[0-9]/.test(ch) ? ch : String(ch.charCodeAt(0) - 55)
    for (const d of digits) remainder = (remainder * 10 + Number(d)) % 97
  }
  return remainder === 1
}

export const normaliseIban = (value: string): string => value.replace(/\s+/g, '').toUpperCase()

/** OIN: 20 digits — an 8-digit prefix, the main number and a 000/0000 suffix (DOMAIN.md 5.3). */
export const isValidOin = (value: string): boolean => /^[0-9]{20}$/.test(value)

/** KVK number: 8 digits. */
export const isValidKvk = (value: string): boolean => /^[0-9]{8}$/.test(value)

// ---------------------------------------------------------------------------------------------
// Double-entry postings.

export const ACCOUNTS = [
  // member accounts
  'service-cost',
  'payable-to-hub',
  'leges-cash',
  'ind-payable',
  'leges-income',
  // hub accounts
  'receivable-from-members',
  'service-revenue',
] as const
export type Account = (typeof ACCOUNTS)[number]

export interface PostingLine {
  tenantId: string
  account: Account
  debitCents: bigint
  creditCents: bigint
}

export type EntryKind = 'service_charge' | 'service_charge_reversal' | 'fee' | 'ind_remittance'

export interface Posting {
  kind: EntryKind
  lines: PostingLine[]
}

export const sumDebits = (lines: readonly PostingLine[]): bigint => lines.reduce((s, l) => s + l.debitCents, 0n)
export const sumCredits = (lines: readonly PostingLine[]): bigint => lines.reduce((s, l) => s + l.creditCents, 0n)

/** Every posting balances; every line is one-sided and non-negative. The database checks it again. */
export function assertBalanced(posting: Posting): Posting {
  for (const l of posting.lines) {
    if (l.debitCents < 0n || l.creditCents < 0n || (l.debitCents > 0n) === (l.creditCents > 0n)) {
      throw new RangeError(`${posting.kind}: a line is debit or credit, positive, never both`)
    }
  }
  if (sumDebits(posting.lines) !== sumCredits(posting.lines)) throw new RangeError(`${posting.kind}: debits and credits differ`)
  return posting
}

const dr = (tenantId: string, account: Account, cents: bigint): PostingLine => ({ tenantId, account, debitCents: cents, creditCents: 0n })
const cr = (tenantId: string, account: Account, cents: bigint): PostingLine => ({ tenantId, account, debitCents: 0n, creditCents: cents })

/** A case enters review: the member owes the hub the agreement tariff; each side's books balance. */
export const serviceChargePosting = (hubId: string, memberId: string, tariffCents: bigint): Posting =>
  assertBalanced({
    kind: 'service_charge',
    lines: [
      dr(memberId, 'service-cost', tariffCents),
      cr(memberId, 'payable-to-hub', tariffCents),
      dr(hubId, 'receivable-from-members', tariffCents),
      cr(hubId, 'service-revenue', tariffCents),
    ],
  })

/** A credit note: the exact mirror of the charge. */
export const serviceChargeReversal = (hubId: string, memberId: string, tariffCents: bigint): Posting =>
  assertBalanced({
    kind: 'service_charge_reversal',
    lines: serviceChargePosting(hubId, memberId, tariffCents).lines.map((l) => ({ ...l, debitCents: l.creditCents, creditCents: l.debitCents })),
  })

/** The citizen paid the member's burgemeester: cash in; the remittance owed to the IND; the member's share. */
export function feePosting(memberId: string, amounts: FeeAmounts): Posting {
  const lines = [dr(memberId, 'leges-cash', amounts.feeCents)]
  if (amounts.remitCents > 0n) lines.push(cr(memberId, 'ind-payable', amounts.remitCents))
  if (amounts.compensationCents > 0n) lines.push(cr(memberId, 'leges-income', amounts.compensationCents))
  return assertBalanced({ kind: 'fee', lines })
}

/** The member transferred a month's remittance to the IND. */
export const remittancePosting = (memberId: string, remitCents: bigint): Posting =>
  assertBalanced({ kind: 'ind_remittance', lines: [dr(memberId, 'ind-payable', remitCents), cr(memberId, 'leges-cash', remitCents)] })

// ---------------------------------------------------------------------------------------------
// Invoices (EN 16931).

export interface InvoiceTotals {
  /** BT-106, BR-CO-10: the sum of the lines' net amounts. */
  lineExtensionCents: bigint
  allowanceCents: bigint
  chargeCents: bigint
  /** BT-109, BR-CO-13: lines − allowances + charges. */
  taxExclusiveCents: bigint
  /** BT-110, BR-CO-14: the sum of the VAT category amounts (category O: none). */
  taxCents: bigint
  /** BT-112, BR-CO-15: tax exclusive + VAT. */
  taxInclusiveCents: bigint
  prepaidCents: bigint
  roundingCents: bigint
  /** BT-115, BR-CO-16: tax inclusive − prepaid + rounding. */
  payableCents: bigint
}

/** Totals of an invoice whose lines are outside the scope of VAT (category O) and carry no allowances. */
export function invoiceTotals(lineExtensionCents: bigint): InvoiceTotals {
  const taxExclusiveCents = lineExtensionCents
  const taxCents = 0n
  const taxInclusiveCents = taxExclusiveCents + taxCents
  return {
    lineExtensionCents,
    allowanceCents: 0n,
    chargeCents: 0n,
    taxExclusiveCents,
    taxCents,
    taxInclusiveCents,
    prepaidCents: 0n,
    roundingCents: 0n,
    payableCents: taxInclusiveCents,
  }
}

/** "1234.05" — UBL amounts are decimals with two places; computed from cents, never a float. */
export function formatCents(cents: bigint): string {
  const sign = cents < 0n ? '-' : ''
  const abs = cents < 0n ? -cents : cents
  return `${sign}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`
}

/** `<hub code>-<year>-<000001>`. */
export const invoiceNumber = (hubCode: string, year: number, sequence: number): string =>
  `${hubCode}-${year}-${String(sequence).padStart(6, '0')}`

/** VAT: category O (outside the scope of VAT) unless the hub's billing says otherwise. */
export const DEFAULT_VAT = { category: 'O', exemptionReasonCode: 'VATEX-EU-O', exemptionReason: 'Not subject to VAT' } as const
