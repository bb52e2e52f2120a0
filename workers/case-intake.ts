// The automatic intake checks of a submitted case. Routing already chose the hub by the member's
// agreement at submission; here the system confirms the agreement still holds for the submission
// date and the member is still active, then moves the case to intake — or rejects it at intake.
// Safe to run twice: a case that is no longer `submitted` is left alone.
import { applyTransition } from '../api/cases/lifecycle.js'
import * as repo from '../api/cases/cases.repository.js'
import { withTenantOf, type Db } from '../api/db/database.js'
import type { JobPayload } from '../api/jobs/registry.js'
import { dutchDate } from '../api/time.js'

const SYSTEM = { kind: 'system' as const, id: 'intake-checks' }

export async function runIntakeChecks(db: Db, payload: JobPayload<'case-intake', 'intake-checks'>): Promise<string> {
  return withTenantOf(db, payload.tenantId, async (trx) => {
    const c = await repo.lockCase(trx, payload.caseId)
    if (!c || c.status !== 'submitted') return 'skipped'
    const submittedOn = dutchDate(c.created_at)
    const agreement = await repo.agreementOn(trx, c.member_tenant_id, c.case_type, submittedOn)
    const member = await trx.selectFrom('tenants').select('status').where('id', '=', c.member_tenant_id).executeTakeFirst()
    if (!agreement || agreement.hub_tenant_id !== c.hub_tenant_id) {
      await applyTransition(trx, c, { action: 'reject_at_intake', actor: SYSTEM, reason: 'no agreement delegates this case type to this hub on the submission date' })
      return 'rejected'
    }
    if (member?.status === 'suspended') {
      await applyTransition(trx, c, { action: 'reject_at_intake', actor: SYSTEM, reason: 'the submitting municipality is suspended' })
      return 'rejected'
    }
    await applyTransition(trx, c, { action: 'route', actor: SYSTEM, reason: 'intake checks passed' })
    return 'routed'
  })
}
