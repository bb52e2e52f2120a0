// A member records the national fee its burgemeester received for a case, or an exemption (API.md
// "Fees and settlement"): the fee and its ledger posting (api/settlement) and the statutory clocks
// the payment moves (api/cases/clocks.ts: fee_payment is met, ind_decision starts) in one
// transaction. It lives with the cases because it changes the case's clocks; settlement itself
// imports nothing of the cases.
import { tenantScope, type Principal, type TenantPrincipal } from '../auth/principal.js'
import { withTenant, type Db } from '../db/database.js'
import { DomainError, invalidFields, notFound } from '../domain/errors.js'
import { EXEMPT, feeAmounts, feeApplies, feePosting, isTariffCode, periodOf } from '../domain/money.js'
import { tariffTableOf } from '../settlement/fees.service.js'
import * as repo from '../settlement/fees.repository.js'
import { feeView } from '../settlement/settlement.view.js'
import { dutchDate } from '../time.js'
import { recordFeePaid } from './clocks.js'

export type FeeBody = { tariffCode: string; minors?: number; paidOn: string } | { exemption: { reason: string } }

const requireMember = (p: Principal): TenantPrincipal => {
  if (p.kind === 'admin' || p.tenantRole !== 'member') {
    throw new DomainError('forbidden', 'forbidden', 'the member municipality whose burgemeester received the fee records it')
  }
  return p
}

export async function recordFee(db: Db, principal: Principal, caseId: string, body: FeeBody, today: string = dutchDate()) {
  const p = requireMember(principal)
  return withTenant(db, tenantScope(p), async (trx) => {
    const c = await repo.findCase(trx, caseId)
    if (!c || c.member_tenant_id !== p.tenantId) throw notFound('case')
    if (!feeApplies(c.case_type)) throw new DomainError('refused', 'tariff-not-for-case-type', `a ${c.case_type} case has no national fee`)
    let amounts = EXEMPT
    let fee: repo.FeeInsert
    const base = { caseId: c.id, hubTenantId: c.hub_tenant_id, memberTenantId: c.member_tenant_id, caseType: c.case_type, recordedBy: p.kind === 'staff' ? p.staffId : p.keyId }
    if ('exemption' in body) {
      fee = { ...base, tariffCode: null, tariffYear: null, minors: 0, paidOn: null, exemptionReason: body.exemption.reason, ...EXEMPT, period: periodOf(today) }
    } else {
      if (body.paidOn > today) throw invalidFields([{ name: 'paidOn', code: 'in-the-future', reason: 'a fee is recorded once it was paid' }])
      if (!isTariffCode(body.tariffCode)) throw invalidFields([{ name: 'tariffCode', code: 'unknown-tariff-code', reason: 'an NVVB code A–H' }])
      const year = Number(body.paidOn.slice(0, 4))
      const table = await tariffTableOf(trx, year)
      const minors = body.minors ?? 0
      amounts = feeAmounts(c.case_type, table, body.tariffCode, minors)
      fee = { ...base, tariffCode: body.tariffCode, tariffYear: year, minors, paidOn: body.paidOn, exemptionReason: null, ...amounts, period: periodOf(body.paidOn) }
    }
    if (!(await repo.insertFee(trx, fee))) throw new DomainError('conflict', 'fee-already-recorded', 'this case has its fee recorded already')
    if (amounts.feeCents > 0n) {
      await repo.postEntry(trx, {
        hubTenantId: c.hub_tenant_id,
        memberTenantId: c.member_tenant_id,
        caseId: c.id,
        period: fee.period,
        idempotencyKey: `fee:${c.id}`,
        posting: feePosting(c.member_tenant_id, amounts),
      })
    }
    // The statutory clocks: fee_payment is met, ind_decision starts (RWN art. 9(4)); an exemption
    // counts from the day it is recorded.
    await recordFeePaid(trx, c.id, fee.paidOn ?? today)
    return feeView(fee)
  })
}

// ---- ledger views ----------------------------------------------------------------------------
