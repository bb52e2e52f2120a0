import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isWorkingDay } from '../../api/domain/calendar.js'
import {
  SHIPPED_TARIFFS,
  TARIFF_CODES,
  assertBalanced,
  checkTariffItems,
  feeAmounts,
  feePosting,
  formatCents,
  invoiceNumber,
  invoiceTotals,
  isValidIban,
  isValidOin,
  nextPeriod,
  periodEnded,
  remittanceDueOn,
  remittancePosting,
  serviceChargePosting,
  serviceChargeReversal,
  sumCredits,
  sumDebits,
  type Posting,
  type TariffCode,
  type TariffTable,
} from '../../api/domain/money.js'
import { writeUbl, type UblHeader, type UblLine } from '../../api/settlement/ubl.js'
import { validateUbl } from '../helpers/ubl-validate.js'

const HUB = '11111111-1111-4111-8111-111111111111'
const MEMBER = '22222222-2222-4222-8222-222222222222'
const cents = fc.bigInt({ min: 1n, max: 10n ** 12n })

describe('shipped tariffs', () => {
  it('holds the years whose eight codes the sources confirm, and only those', () => {
    expect([...SHIPPED_TARIFFS.keys()].sort()).toEqual([2017, 2020, 2021, 2022])
    for (const t of SHIPPED_TARIFFS.values()) expect(t.items.map((i) => i.code)).toEqual([...TARIFF_CODES])
  })

  it('has the 2022 amounts of the NVVB table (D 945, H 139 euro; compensation D = option A 200)', () => {
    const t = SHIPPED_TARIFFS.get(2022)!
    expect(feeAmounts('naturalisation', t, 'D', 0)).toEqual({ feeCents: 94_500n, compensationCents: 20_000n, remitCents: 74_500n })
    expect(feeAmounts('naturalisation', t, 'E', 2)).toEqual({ feeCents: 120_600n + 2n * 13_900n, compensationCents: 34_200n + 2n * 2_200n, remitCents: 120_600n + 27_800n - 38_600n })
    expect(feeAmounts('option', t, 'B', 1)).toEqual({ feeCents: 34_200n + 2_200n, compensationCents: 36_400n, remitCents: 0n })
  })

  it('refuses a code that is not a request tariff of the case type', () => {
    const t = SHIPPED_TARIFFS.get(2020)!
    for (const [type, code] of [['option', 'D'], ['naturalisation', 'A'], ['naturalisation', 'H'], ['option', 'C'], ['first_registration', 'D']] as const) {
      expect(() => feeAmounts(type, t, code, 0)).toThrow(expect.objectContaining({ code: 'tariff-not-for-case-type' }))
    }
  })

  it('rejects a table without all eight codes or with compensation above the fee', () => {
    const items = SHIPPED_TARIFFS.get(2020)!.items
    expect(() => checkTariffItems(items.slice(1))).toThrow(/lacks the codes A/)
    expect(() => checkTariffItems(items.map((i) => (i.code === 'D' ? { ...i, compensationCents: i.feeCents + 1n } : i)))).toThrow(/compensation/)
  })
})

describe('property: remittance = fee − compensation for every tariff code', () => {
  const table = fc.record({
    items: fc.tuple(...TARIFF_CODES.map((code) => fc.tuple(cents, fc.bigInt({ min: 0n, max: 100n })).map(([fee, pct]) => ({ code, feeCents: fee, compensationCents: (fee * pct) / 100n })))),
  }).map(({ items }): TariffTable => ({ year: 2030, source: 'property', items }))

  it('holds for naturalisation and option, with any number of minors', () => {
    fc.assert(
      fc.property(table, fc.constantFrom<TariffCode>('A', 'B', 'D', 'E', 'F', 'G'), fc.integer({ min: 0, max: 12 }), (t, code, minors) => {
        const caseType = code <= 'B' ? 'option' : 'naturalisation'
        const a = feeAmounts(caseType, t, code, minors)
        expect(a.remitCents).toBe(a.feeCents - a.compensationCents)
        expect(a.remitCents >= 0n).toBe(true)
        const main = t.items.find((i) => i.code === code)!
        const minor = t.items.find((i) => i.code === (caseType === 'option' ? 'C' : 'H'))!
        expect(a.feeCents).toBe(main.feeCents + BigInt(minors) * minor.feeCents)
        if (caseType === 'option') expect(a.remitCents).toBe(0n)
        else expect(a.compensationCents).toBe(main.compensationCents + BigInt(minors) * minor.compensationCents)
      }),
    )
  })
})

describe('property: every posting balances; the trial balance is zero', () => {
  const posting = fc.oneof(
    cents.map((c) => serviceChargePosting(HUB, MEMBER, c)),
    cents.map((c) => serviceChargeReversal(HUB, MEMBER, c)),
    fc.tuple(cents, fc.bigInt({ min: 0n, max: 100n })).map(([fee, pct]) => {
      const comp = (fee * pct) / 100n
      return feePosting(MEMBER, { feeCents: fee, compensationCents: comp, remitCents: fee - comp })
    }),
    cents.map((c) => remittancePosting(MEMBER, c)),
  )

  it('each posting: debits = credits, each line one-sided', () => {
    fc.assert(
      fc.property(posting, (p) => {
        expect(sumDebits(p.lines)).toBe(sumCredits(p.lines))
        for (const l of p.lines) expect((l.debitCents > 0n) !== (l.creditCents > 0n)).toBe(true)
      }),
    )
  })

  it('any set of postings: the trial balance of all accounts is zero, and per tenant too', () => {
    fc.assert(
      fc.property(fc.array(posting, { maxLength: 60 }), (postings: Posting[]) => {
        const balance = new Map<string, bigint>()
        for (const p of postings) for (const l of p.lines) balance.set(`${l.tenantId}:${l.account}`, (balance.get(`${l.tenantId}:${l.account}`) ?? 0n) + l.debitCents - l.creditCents)
        const total = [...balance.values()].reduce((s, v) => s + v, 0n)
        expect(total).toBe(0n)
        for (const tenant of [HUB, MEMBER]) {
          expect([...balance].filter(([k]) => k.startsWith(tenant)).reduce((s, [, v]) => s + v, 0n)).toBe(0n)
        }
      }),
    )
  })

  it('refuses an unbalanced or two-sided posting', () => {
    expect(() => assertBalanced({ kind: 'fee', lines: [{ tenantId: MEMBER, account: 'leges-cash', debitCents: 5n, creditCents: 0n }] })).toThrow(/differ/)
    expect(() => assertBalanced({ kind: 'fee', lines: [{ tenantId: MEMBER, account: 'leges-cash', debitCents: 5n, creditCents: 5n }] })).toThrow(/never both/)
  })
})

describe('property: invoice totals equal their lines (EN 16931 BR-CO-10 … BR-CO-16)', () => {
  it('line sum, tax exclusive, tax, tax inclusive and payable agree', () => {
    fc.assert(
      fc.property(fc.array(cents, { minLength: 1, maxLength: 200 }), (lines) => {
        const sum = lines.reduce((s, l) => s + l, 0n)
        const t = invoiceTotals(sum)
        expect(t.lineExtensionCents).toBe(sum) // BR-CO-10
        expect(t.taxExclusiveCents).toBe(t.lineExtensionCents - t.allowanceCents + t.chargeCents) // BR-CO-13
        expect(t.taxCents).toBe(0n) // BR-CO-14 (category O: no VAT)
        expect(t.taxInclusiveCents).toBe(t.taxExclusiveCents + t.taxCents) // BR-CO-15
        expect(t.payableCents).toBe(t.taxInclusiveCents - t.prepaidCents + t.roundingCents) // BR-CO-16
      }),
    )
  })

  it('formats cents as a two-decimal amount without floats', () => {
    expect(formatCents(0n)).toBe('0.00')
    expect(formatCents(5n)).toBe('0.05')
    expect(formatCents(123_456_789_012_345_678n)).toBe('1234567890123456.78')
    expect(formatCents(-1050n)).toBe('-10.50')
    expect(invoiceNumber('GM0307', 2026, 42)).toBe('GM0307-2026-000042')
  })
})

describe('remittance due date (Regeling art. 13)', () => {
  it('is the first working day of the second month after collection', () => {
    expect(remittanceDueOn('2026-01')).toBe('2026-03-02') // 1 March 2026 is a Sunday
    expect(remittanceDueOn('2026-11')).toBe('2027-01-04') // 1 Jan holiday, 2–3 Jan weekend
    expect(remittanceDueOn('2026-02')).toBe('2026-04-01')
    fc.assert(
      fc.property(fc.integer({ min: 2025, max: 2027 }), fc.integer({ min: 1, max: 12 }), (y, m) => {
        const period = `${y}-${String(m).padStart(2, '0')}`
        const due = remittanceDueOn(period)
        expect(due.slice(0, 7)).toBe(nextPeriod(period, 2))
        expect(isWorkingDay(due)).toBe(true)
      }),
    )
  })

  it('knows when a period has ended', () => {
    expect(periodEnded('2026-11', '2026-12-01')).toBe(true)
    expect(periodEnded('2026-12', '2026-12-31')).toBe(false)
    expect(nextPeriod('2026-12')).toBe('2027-01')
  })
})

describe('billing identifiers', () => {
  it('IBAN: the mod-97 checksum', () => {
    expect(isValidIban('NL91ABNA0417164300')).toBe(true)
    expect(isValidIban('NL91 ABNA 0417 1643 00')).toBe(true)
    expect(isValidIban('NL92ABNA0417164300')).toBe(false)
    expect(isValidIban('DE89370400440532013000')).toBe(true)
    expect(isValidIban('NL91ABNA041716430')).toBe(false)
  })

  it('OIN: 20 digits', () => {
    expect(isValidOin('00000001001589623000')).toBe(true)
    expect(isValidOin('0000000100158962300')).toBe(false)
    expect(isValidOin('0000000100158962300X')).toBe(false)
  })
})

const party = (name: string, oin: string) => ({ name, oin, kvk: null, street: 'Markt', houseNumber: '1', postalCode: '1234 AB', city: 'Ergens', email: 'f@x.invalid' })
const header = (lines: UblLine[], documentType: 'invoice' | 'credit_note' = 'invoice'): UblHeader => ({
  documentType,
  number: 'GM0307-2026-000001',
  issueDate: '2026-12-01',
  dueDate: '2026-12-31',
  period: '2026-11',
  buyerReference: 'GM0308',
  seller: party('Gemeente A & B', '00000001001589623000'),
  buyer: party('Gemeente <C>', '00000001002564440000'),
  sellerIban: 'NL91ABNA0417164300',
  totalCents: lines.reduce((s, l) => s + l.amountCents, 0n),
  lineCount: lines.length,
  note: null,
  credited: documentType === 'credit_note' ? { number: 'GM0307-2026-000000', issueDate: '2026-11-01' } : null,
})
async function* batches(lines: UblLine[]) {
  yield lines
}
const collect = async (it: AsyncIterable<string>) => {
  let s = ''
  for await (const c of it) s += c
  return s
}

describe('UBL 2.1 against the XSD', () => {
  const lines: UblLine[] = [
    { caseReference: 'RB-2026-000001', caseType: 'naturalisation', enteredReviewOn: '2026-11-03', amountCents: 45_000n },
    { caseReference: 'RB-2026-000002', caseType: 'option', enteredReviewOn: '2026-11-04', amountCents: 12_345n },
  ]

  it('an invoice and a credit note validate', async () => {
    const invoice = await collect(writeUbl(header(lines), batches(lines)))
    expect(await validateUbl(invoice, 'Invoice')).toEqual({ valid: true, errors: [] })
    expect(invoice).toContain('<cbc:PayableAmount currencyID="EUR">573.45</cbc:PayableAmount>')
    const credit = await collect(writeUbl(header(lines, 'credit_note'), batches(lines)))
    expect(await validateUbl(credit, 'CreditNote')).toEqual({ valid: true, errors: [] })
  })

  it('the validator bites: a broken document fails', async () => {
    const invoice = await collect(writeUbl(header(lines), batches(lines)))
    // An element out of its sequence, an unknown element, and a non-decimal amount.
    const swapped = invoice.replace(/<cbc:IssueDate>2026-12-01<\/cbc:IssueDate>(<cbc:DueDate>[^<]+<\/cbc:DueDate>)/, '$1<cbc:IssueDate>2026-12-01</cbc:IssueDate>')
    expect(swapped).not.toBe(invoice)
    expect((await validateUbl(swapped)).valid).toBe(false)
    expect((await validateUbl(invoice.replace('<cbc:BuyerReference>', '<cbc:Buyer>x</cbc:Buyer><cbc:BuyerReference>'))).valid).toBe(false)
    const bad = await validateUbl(invoice.replaceAll('>573.45<', '>five hundred<'))
    expect(bad.valid).toBe(false)
    expect(bad.errors.join('\n')).toMatch(/is not a valid value/)
    expect((await validateUbl(invoice, 'CreditNote')).valid).toBe(false)
  })

  it('refuses to finish a document whose lines do not add up to its total', async () => {
    await expect(collect(writeUbl({ ...header(lines), totalCents: 1n }, batches(lines)))).rejects.toThrow(/do not match/)
  })
})
