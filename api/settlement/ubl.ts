// UBL 2.1 Invoice and CreditNote per Peppol BIS Billing 3.0 with the Dutch rules (NLCIUS), written as
// a stream of chunks: the lines come in batches from the database and leave at once, so a 5,000-line
// invoice never sits whole in memory. Element order follows the UBL 2.1 schemas (they are sequences).
// Lines name the case reference only — never a citizen's name or BSN.
import { DEFAULT_VAT, formatCents, invoiceTotals } from '../domain/money.js'

export const CUSTOMIZATION_ID = 'urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0'
export const PROFILE_ID = 'urn:fdc:peppol.eu:2017:poacc:billing:01:1.0'
/** Peppol participant identifier scheme of the Dutch OIN; 0106 is the KVK number. */
export const SCHEME_OIN = '0190'
export const SCHEME_KVK = '0106'

export interface UblParty {
  name: string
  oin: string
  kvk: string | null
  street: string
  houseNumber: string
  postalCode: string
  city: string
  email: string
}

export interface UblHeader {
  documentType: 'invoice' | 'credit_note'
  number: string
  issueDate: string
  dueDate: string
  period: string
  /** BT-10: the member's municipality code. */
  buyerReference: string
  seller: UblParty
  buyer: UblParty
  sellerIban: string
  totalCents: bigint
  lineCount: number
  note: string | null
  credited: { number: string; issueDate: string } | null
}

export interface UblLine {
  caseReference: string
  caseType: string
  enteredReviewOn: string
  amountCents: bigint
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
const amount = (tag: string, cents: bigint): string => `<cbc:${tag} currencyID="EUR">${formatCents(cents)}</cbc:${tag}>`

function periodBounds(period: string): { start: string; end: string } {
  const [y, m] = period.split('-').map(Number) as [number, number]
  const last = new Date(Date.UTC(y, m, 0)).getUTCDate()
  return { start: `${period}-01`, end: `${period}-${String(last).padStart(2, '0')}` }
}

function party(p: UblParty): string {
  const legalId = p.kvk ? `<cbc:CompanyID schemeID="${SCHEME_KVK}">${esc(p.kvk)}</cbc:CompanyID>` : `<cbc:CompanyID schemeID="${SCHEME_OIN}">${esc(p.oin)}</cbc:CompanyID>`
  return (
    `<cac:Party><cbc:EndpointID schemeID="${SCHEME_OIN}">${esc(p.oin)}</cbc:EndpointID>` +
    `<cac:PartyIdentification><cbc:ID schemeID="${SCHEME_OIN}">${esc(p.oin)}</cbc:ID></cac:PartyIdentification>` +
    `<cac:PartyName><cbc:Name>${esc(p.name)}</cbc:Name></cac:PartyName>` +
    `<cac:PostalAddress><cbc:StreetName>${esc(p.street)}</cbc:StreetName><cbc:BuildingNumber>${esc(p.houseNumber)}</cbc:BuildingNumber>` +
    `<cbc:CityName>${esc(p.city)}</cbc:CityName><cbc:PostalZone>${esc(p.postalCode)}</cbc:PostalZone>` +
    `<cac:Country><cbc:IdentificationCode>NL</cbc:IdentificationCode></cac:Country></cac:PostalAddress>` +
    `<cac:PartyLegalEntity><cbc:RegistrationName>${esc(p.name)}</cbc:RegistrationName>${legalId}</cac:PartyLegalEntity>` +
    `<cac:Contact><cbc:ElectronicMail>${esc(p.email)}</cbc:ElectronicMail></cac:Contact></cac:Party>`
  )
}

const taxCategory = (tag: 'TaxCategory' | 'ClassifiedTaxCategory', withReason: boolean): string =>
  `<cac:${tag}><cbc:ID>${DEFAULT_VAT.category}</cbc:ID>` +
  (withReason ? `<cbc:TaxExemptionReasonCode>${DEFAULT_VAT.exemptionReasonCode}</cbc:TaxExemptionReasonCode><cbc:TaxExemptionReason>${DEFAULT_VAT.exemptionReason}</cbc:TaxExemptionReason>` : '') +
  `<cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:${tag}>`

/** The document as chunks; `lines` yields batches in line order and must sum to `totalCents`. */
export async function* writeUbl(h: UblHeader, lines: AsyncIterable<UblLine[]>): AsyncGenerator<string> {
  const invoice = h.documentType === 'invoice'
  const root = invoice ? 'Invoice' : 'CreditNote'
  const totals = invoiceTotals(h.totalCents)
  const { start, end } = periodBounds(h.period)
  yield (
    `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="urn:oasis:names:specification:ubl:schema:xsd:${root}-2"` +
    ` xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"` +
    ` xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">` +
    `<cbc:CustomizationID>${CUSTOMIZATION_ID}</cbc:CustomizationID><cbc:ProfileID>${PROFILE_ID}</cbc:ProfileID>` +
    `<cbc:ID>${esc(h.number)}</cbc:ID><cbc:IssueDate>${h.issueDate}</cbc:IssueDate>` +
    (invoice ? `<cbc:DueDate>${h.dueDate}</cbc:DueDate><cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>` : `<cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>`) +
    (h.note ? `<cbc:Note>${esc(h.note)}</cbc:Note>` : '') +
    `<cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode><cbc:BuyerReference>${esc(h.buyerReference)}</cbc:BuyerReference>` +
    `<cac:InvoicePeriod><cbc:StartDate>${start}</cbc:StartDate><cbc:EndDate>${end}</cbc:EndDate></cac:InvoicePeriod>` +
    (h.credited
      ? `<cac:BillingReference><cac:InvoiceDocumentReference><cbc:ID>${esc(h.credited.number)}</cbc:ID><cbc:IssueDate>${h.credited.issueDate}</cbc:IssueDate></cac:InvoiceDocumentReference></cac:BillingReference>`
      : '') +
    `<cac:AccountingSupplierParty>${party(h.seller)}</cac:AccountingSupplierParty>` +
    `<cac:AccountingCustomerParty>${party(h.buyer)}</cac:AccountingCustomerParty>` +
    `<cac:PaymentMeans><cbc:PaymentMeansCode name="Credit transfer">58</cbc:PaymentMeansCode><cbc:PaymentID>${esc(h.number)}</cbc:PaymentID>` +
    `<cac:PayeeFinancialAccount><cbc:ID>${esc(h.sellerIban)}</cbc:ID><cbc:Name>${esc(h.seller.name)}</cbc:Name></cac:PayeeFinancialAccount></cac:PaymentMeans>` +
    (invoice ? `<cac:PaymentTerms><cbc:Note>Betaling binnen 30 dagen, uiterlijk ${h.dueDate}</cbc:Note></cac:PaymentTerms>` : '') +
    `<cac:TaxTotal>${amount('TaxAmount', totals.taxCents)}<cac:TaxSubtotal>${amount('TaxableAmount', totals.taxExclusiveCents)}${amount('TaxAmount', totals.taxCents)}` +
    `${taxCategory('TaxCategory', true)}</cac:TaxSubtotal></cac:TaxTotal>` +
    `<cac:LegalMonetaryTotal>${amount('LineExtensionAmount', totals.lineExtensionCents)}${amount('TaxExclusiveAmount', totals.taxExclusiveCents)}` +
    `${amount('TaxInclusiveAmount', totals.taxInclusiveCents)}${amount('AllowanceTotalAmount', totals.allowanceCents)}${amount('ChargeTotalAmount', totals.chargeCents)}` +
    `${amount('PrepaidAmount', totals.prepaidCents)}${amount('PayableRoundingAmount', totals.roundingCents)}${amount('PayableAmount', totals.payableCents)}</cac:LegalMonetaryTotal>`
  )
  const lineTag = invoice ? 'InvoiceLine' : 'CreditNoteLine'
  const qtyTag = invoice ? 'InvoicedQuantity' : 'CreditedQuantity'
  let n = 0
  let sum = 0n
  for await (const batch of lines) {
    let chunk = ''
    for (const l of batch) {
      n += 1
      sum += l.amountCents
      chunk +=
        `<cac:${lineTag}><cbc:ID>${n}</cbc:ID><cbc:Note>${esc(l.caseReference)}</cbc:Note><cbc:${qtyTag} unitCode="C62">1</cbc:${qtyTag}>` +
        `${amount('LineExtensionAmount', l.amountCents)}` +
        `<cac:InvoicePeriod><cbc:StartDate>${l.enteredReviewOn}</cbc:StartDate><cbc:EndDate>${l.enteredReviewOn}</cbc:EndDate></cac:InvoicePeriod>` +
        `<cac:Item><cbc:Name>Behandeling ${esc(l.caseType)} ${esc(l.caseReference)}</cbc:Name>` +
        `<cac:SellersItemIdentification><cbc:ID>${esc(l.caseReference)}</cbc:ID></cac:SellersItemIdentification>${taxCategory('ClassifiedTaxCategory', false)}</cac:Item>` +
        `<cac:Price>${amount('PriceAmount', l.amountCents)}</cac:Price></cac:${lineTag}>`
    }
    yield chunk
  }
  // BR-CO-10: the sum of the lines is the document's line total; a mismatch is a bug, never sent.
  if (sum !== h.totalCents || n !== h.lineCount) throw new Error(`${h.number}: lines (${n}, ${sum}) do not match the totals (${h.lineCount}, ${h.totalCents})`)
  yield `</${root}>\n`
}

const csvCell = (v: string): string => (/[",\n;]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v)

/** The lines as CSV, one row per line, the header first. */
export async function* writeInvoiceCsv(h: Pick<UblHeader, 'number' | 'issueDate' | 'period' | 'buyerReference'>, lines: AsyncIterable<UblLine[]>): AsyncGenerator<string> {
  yield 'invoiceNumber,issueDate,period,buyerReference,line,caseReference,caseType,enteredReviewOn,amountCents,amountEur\n'
  let n = 0
  for await (const batch of lines) {
    let chunk = ''
    for (const l of batch) {
      n += 1
      chunk += [h.number, h.issueDate, h.period, h.buyerReference, String(n), l.caseReference, l.caseType, l.enteredReviewOn, l.amountCents.toString(), formatCents(l.amountCents)].map(csvCell).join(',') + '\n'
    }
    yield chunk
  }
}
