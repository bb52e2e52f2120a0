// The automatic intake checks of a submitted case. Routing already chose the hub by the member's
// agreement at submission; here the system confirms the agreement still holds for the submission
// date and the member is still active, then moves the case to intake — or rejects it at intake.
// Safe to run twice: a case that is no longer `submitted` is left alone.
// Round trips (issue 13): the tenant, the locked case with all the facts the checks and the clocks
// need, the transition's write, its webhook fan-out — besides begin and commit.
import { applyTransition } from '../api/cases/lifecycle.js'
import { CLOCK_EVENT_ACTIONS } from '../api/cases/clocks.js'
import * as repo from '../api/cases/cases.repository.js'
import { withTenantOf, type Db } from '../api/db/database.js'
import type { JobPayload } from '../api/jobs/registry.js'

const SYSTEM = { kind: 'system' as const, id: 'intake-checks' }

export async function runIntakeChecks(db: Db, payload: JobPayload<'case-intake', 'intake-checks'>): Promise<string> {
  return withTenantOf(db, payload.tenantId, async (trx) => {
    const locked = await repo.lockCaseForIntake(trx, payload.caseId, CLOCK_EVENT_ACTIONS)
    if (!locked || locked.c.status !== 'submitted') return 'skipped'
    const { c, facts } = locked
    const known = { clockEvents: facts.clockEvents }
    if (facts.agreementHubTenantId !== c.hub_tenant_id) {
      await applyTransition(trx, c, { action: 'reject_at_intake', actor: SYSTEM, reason: 'no agreement delegates this case type to this hub on the submission date' }, known)
      return 'rejected'
    }
    if (facts.memberStatus === 'suspended') {
      await applyTransition(trx, c, { action: 'reject_at_intake', actor: SYSTEM, reason: 'the submitting municipality is suspended' }, known)
      return 'rejected'
    }
    await applyTransition(trx, c, { action: 'route', actor: SYSTEM, reason: 'intake checks passed' }, known)
    return 'routed'
  })
}
