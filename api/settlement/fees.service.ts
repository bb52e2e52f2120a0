// National tariffs, billing details, the service charge of a case entering review, and the ledger
// views (API.md "Fees and settlement"). Recording a case's fee is api/cases/case-fee.service.ts.
import { inScope, isAdmin, requireAdmin, tenantScope, type Principal, type TenantPrincipal } from '../auth/principal.js'
import { withAdmin, withTenant, type Db, type Trx } from '../db/database.js'
import { DomainError, invalidFields } from '../domain/errors.js'
import {
  SHIPPED_TARIFFS,
  checkTariffItems,
  isTariffCode,
  isValidIban,
  isValidKvk,
  isValidOin,
  normaliseIban,
  periodOf,
  serviceChargePosting,
  type TariffTable,
} from '../domain/money.js'
import { dutchDate } from '../time.js'
import * as repo from './fees.repository.js'
import { encodeCursor, parsePage } from '../pagination.js'
import { billingView, entryView, money, tariffView } from './settlement.view.js'

// ---- tariffs ---------------------------------------------------------------------------------

/** The table of a year: the one the platform admin loaded, else the shipped one; never a guess. */
export async function tariffTableOf(trx: Trx, year: number): Promise<TariffTable> {
  const table = (await repo.findTariffTable(trx, year)) ?? SHIPPED_TARIFFS.get(year)
  if (!table) throw new DomainError('refused', 'tariff-not-loaded', `no national fee table is loaded for ${year}; the platform administrator loads it with PUT /v1/tariffs/${year}`)
  return table
}

export async function getTariffs(db: Db, principal: Principal, year: number) {
  return tariffView(await inScope(db, principal, (trx) => tariffTableOf(trx, year)))
}

export async function putTariffs(
  db: Db,
  principal: Principal,
  year: number,
  input: { items: Array<{ code: string; feeCents: number; compensationCents: number }>; source: string },
) {
  requireAdmin(principal)
  const items = checkTariffItems(
    input.items.map((i) => {
      if (!isTariffCode(i.code)) throw invalidFields([{ name: 'items.code', code: 'unknown-tariff-code', reason: `${i.code} is not an NVVB code A–H` }])
      return { code: i.code, feeCents: BigInt(i.feeCents), compensationCents: BigInt(i.compensationCents) }
    }),
  )
  const table: TariffTable = { year, source: input.source, items }
  await withAdmin(db, (trx) => repo.replaceTariffTable(trx, table))
  return tariffView(table)
}

// ---- billing ---------------------------------------------------------------------------------

export interface BillingBody {
  oin: string
  kvk?: string | null
  address: { street: string; houseNumber: string; postalCode: string; city: string }
  iban: string
  email: string
}

/** Billing details of a hub or member (platform admin, through PATCH /v1/tenants/{id}). */
export async function setBilling(trx: Trx, tenant: { id: string; region_id: string }, b: BillingBody) {
  const problems = []
  if (!isValidOin(b.oin)) problems.push({ name: 'billing.oin', code: 'invalid-oin', reason: 'an OIN has 20 digits' })
  if (b.kvk !== undefined && b.kvk !== null && !isValidKvk(b.kvk)) problems.push({ name: 'billing.kvk', code: 'invalid-kvk', reason: 'a KVK number has 8 digits' })
  if (!isValidIban(b.iban)) problems.push({ name: 'billing.iban', code: 'invalid-iban', reason: 'not an IBAN (shape or mod-97 checksum)' })
  const postalCode = b.address.postalCode.replace(/\s+/g, '').toUpperCase()
  if (!/^[1-9][0-9]{3}[A-Z]{2}$/.test(postalCode)) problems.push({ name: 'billing.address.postalCode', code: 'invalid-postal-code', reason: 'a Dutch postal code: 1234 AB' })
  if (problems.length > 0) throw invalidFields(problems)
  await repo.upsertBilling(trx, tenant.id, tenant.region_id, {
    oin: b.oin,
    kvk: b.kvk ?? null,
    street: b.address.street,
    houseNumber: b.address.houseNumber,
    postalCode: `${postalCode.slice(0, 4)} ${postalCode.slice(4)}`,
    city: b.address.city,
    iban: normaliseIban(b.iban),
    email: b.email,
  })
  const row = await repo.findBilling(trx, tenant.id)
  return row ? billingView(row) : null
}

// ---- service charges -------------------------------------------------------------------------

/**
 * Called by the lifecycle when a case enters review: the member is charged the agreement tariff
 * valid that day, once per case (the ledger's idempotency key); re-entering review charges nothing.
 */
export async function chargeOnEnteringReview(
  trx: Trx,
  c: { id: string; hub_tenant_id: string; member_tenant_id: string; case_type: string; reference: string },
  day: string = dutchDate(),
): Promise<void> {
  const tariff = await repo.agreementTariffOn(trx, c.member_tenant_id, c.case_type, day)
  if (tariff === null || tariff === 0n) return
  const period = periodOf(day)
  const entryId = await repo.postEntry(trx, {
    hubTenantId: c.hub_tenant_id,
    memberTenantId: c.member_tenant_id,
    caseId: c.id,
    period,
    idempotencyKey: `service_charge:${c.id}`,
    posting: serviceChargePosting(c.hub_tenant_id, c.member_tenant_id, tariff),
  })
  if (!entryId) return
  await repo.insertServiceCharge(trx, {
    hubTenantId: c.hub_tenant_id,
    memberTenantId: c.member_tenant_id,
    caseId: c.id,
    reference: c.reference,
    caseType: c.case_type,
    day,
    period,
    amountCents: tariff,
    entryId,
  })
}

const requireTenant = (p: Principal): TenantPrincipal => {
  if (isAdmin(p)) throw new DomainError('forbidden', 'forbidden', 'ledgers belong to hubs and members')
  return p
}

export async function listLedgerEntries(db: Db, principal: Principal, query: { period?: string; memberTenantId?: string; limit?: number; cursor?: string }) {
  const p = requireTenant(principal)
  const page = parsePage(query)
  const rows = await withTenant(db, tenantScope(p), (trx) =>
    repo.listEntries(trx, {
      side: p.tenantRole === 'hub' ? 'hub' : 'member',
      tenantId: p.tenantId,
      ...(query.period ? { period: query.period } : {}),
      ...(query.memberTenantId ? { memberTenantId: query.memberTenantId } : {}),
      after: page.after,
      limit: page.limit,
    }),
  )
  const visible = rows.slice(0, page.limit)
  const last = visible[visible.length - 1]
  return { items: visible.map(entryView), nextCursor: rows.length > page.limit && last ? encodeCursor(last.created_at, last.id) : null }
}

export async function ledgerBalances(db: Db, principal: Principal, query: { period?: string }) {
  const p = requireTenant(principal)
  const b = await withTenant(db, tenantScope(p), (trx) =>
    repo.balances(trx, { side: p.tenantRole === 'hub' ? 'hub' : 'member', tenantId: p.tenantId, ...(query.period ? { period: query.period } : {}) }),
  )
  return {
    period: query.period ?? null,
    accounts: b.accounts.map((a) => ({
      account: a.account,
      debitCents: money(a.debitCents),
      creditCents: money(a.creditCents),
      balanceCents: money(a.debitCents - a.creditCents),
    })),
    totals: { debitCents: money(b.debitCents), creditCents: money(b.creditCents) },
  }
}
