// The automatic intake checks of a submitted case. Routing already chose the hub by the member's
// agreement at submission; here the system confirms the agreement still holds for the submission
// date and the member is still active, then moves the case to intake — or rejects it at intake.
// Safe to run twice: a case that is no longer `submitted` is left alone.
// Round trips (issue 13): the jobs of one hub that arrive together are checked in one transaction
// (workers/batcher.ts): the tenant, all their cases locked with the facts the checks and clocks
// need, all transitions with their webhook fan-out, their deliveries' outbox rows — besides begin
// and commit. Should the batch fail, each case is checked again on its own, so one case's fault
// fails only its own job.
import { applyTransitions, type TransitionInput } from '../api/cases/lifecycle.js'
import { CLOCK_EVENT_ACTIONS } from '../api/cases/clocks.js'
import * as repo from '../api/cases/cases.repository.js'
import { withTenantOf, type Db, type Trx } from '../api/db/database.js'
import type { JobPayload } from '../api/jobs/registry.js'
import { KeyedBatcher, type Outcome } from './batcher.js'

const SYSTEM = { kind: 'system' as const, id: 'intake-checks' }

type IntakePayload = JobPayload<'case-intake', 'intake-checks'>
export type IntakeResult = 'routed' | 'rejected' | 'skipped'

export async function runIntakeChecks(db: Db, payload: IntakePayload): Promise<IntakeResult> {
  const [result] = await withTenantOf(db, payload.tenantId, (trx) => checkCases(trx, [payload.caseId]))
  return result!
}

/** The checks of several cases of one tenant, in the caller's transaction; one result per id. */
async function checkCases(trx: Trx, caseIds: readonly string[]): Promise<IntakeResult[]> {
  const locked = new Map((await repo.lockCasesForIntake(trx, caseIds, CLOCK_EVENT_ACTIONS)).map((l) => [l.c.id, l]))
  const decided = new Map<string, { result: IntakeResult; input: TransitionInput }>()
  for (const id of caseIds) {
    const found = locked.get(id)
    // Not the tenant's, no longer submitted, or the same case twice in one batch (a job
    // re-dispatched while its first run waits): left alone.
    if (!found || found.c.status !== 'submitted' || decided.has(id)) continue
    decided.set(id, intakeDecision(found.facts, found.c))
  }
  await applyTransitions(
    trx,
    [...decided].map(([id, { input }]) => {
      const { c, facts } = locked.get(id)!
      return { current: c, input, known: { clockEvents: facts.clockEvents } }
    }),
  )
  const reported = new Set<string>()
  return caseIds.map((id) => {
    const d = decided.get(id)
    if (!d || reported.has(id)) return 'skipped'
    reported.add(id)
    return d.result
  })
}

/** The intake checks' verdict on one submitted case. */
function intakeDecision(facts: repo.IntakeFacts, c: repo.CaseRow): { result: IntakeResult; input: TransitionInput } {
  if (facts.agreementHubTenantId !== c.hub_tenant_id) {
    return { result: 'rejected', input: { action: 'reject_at_intake', actor: SYSTEM, reason: 'no agreement delegates this case type to this hub on the submission date' } }
  }
  if (facts.memberStatus === 'suspended') {
    return { result: 'rejected', input: { action: 'reject_at_intake', actor: SYSTEM, reason: 'the submitting municipality is suspended' } }
  }
  return { result: 'routed', input: { action: 'route', actor: SYSTEM, reason: 'intake checks passed' } }
}

export type IntakeBatcher = KeyedBatcher<IntakePayload, IntakeResult>

export function intakeBatcher(db: Db, options = { maxBatch: 64, maxInFlightPerKey: 2 }): IntakeBatcher {
  return new KeyedBatcher<IntakePayload, IntakeResult>(async (tenantId, payloads): Promise<Outcome<IntakeResult>[]> => {
    if (payloads.length > 1) {
      try {
        const results = await withTenantOf(db, tenantId, (trx) => checkCases(trx, payloads.map((p) => p.caseId)))
        return results.map((value) => ({ ok: true, value }))
      } catch {
        // One case's fault rolled the batch back: every case on its own, so only its job fails.
      }
    }
    return Promise.all(
      payloads.map((p) =>
        runIntakeChecks(db, p).then(
          (value): Outcome<IntakeResult> => ({ ok: true, value }),
          (error: unknown): Outcome<IntakeResult> => ({ ok: false, error }),
        ),
      ),
    )
  }, options)
}
