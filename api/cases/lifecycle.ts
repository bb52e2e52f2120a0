// Applies a transition of the one state machine (api/domain/case-state.ts) to a locked case: checks
// the version the client saw, appends the case_events row, bumps the version and announces the
// event through the outbox — all in the caller's transaction.
import type { Trx } from '../db/database.js'
import { nextStatus, type ActorKind, type CaseAction, type TransitionContext } from '../domain/case-state.js'
import { DomainError } from '../domain/errors.js'
import { enqueueInTransaction } from '../jobs/outbox.js'
import { chargeOnEnteringReview } from '../settlement/fees.service.js'
import * as repo from './cases.repository.js'
import { refreshClockDue } from './clocks.js'

export interface Actor {
  kind: ActorKind
  /** Key id, staff id, or the worker's name. */
  id: string
}

export interface TransitionInput {
  action: CaseAction
  actor: Actor
  reason?: string | null
  /** The version from If-Match, when the client sent one. */
  expectedVersion?: number | null
  changes?: Partial<Pick<repo.CaseRow, repo.TransitionColumn>>
}

/** The facts of the case the state machine's context-dependent transitions need (case-state.ts). */
export const transitionContext = (c: repo.CaseRow, changes: TransitionInput['changes'] = {}): TransitionContext => ({
  caseType: c.case_type,
  outcome: changes.decision_outcome ?? c.decision_outcome,
  assigned: (changes.assigned_staff_id ?? c.assigned_staff_id) !== null,
  royalDecreeRecorded: c.royal_decree_decision !== null,
})

export async function applyTransition(trx: Trx, current: repo.CaseRow, input: TransitionInput): Promise<repo.CaseRow> {
  if (input.expectedVersion !== undefined && input.expectedVersion !== null && input.expectedVersion !== current.version) {
    throw new DomainError('stale', 'version-mismatch', `the case is at version ${current.version}, not ${input.expectedVersion}; read it again`)
  }
  const to = nextStatus(current.status, input.action, input.actor.kind, transitionContext(current, input.changes))
  const version = current.version + 1
  const changed = await repo.updateCase(trx, current.id, { ...input.changes, status: to, version })
  const event = await repo.insertEvent(trx, {
    case_id: current.id,
    hub_tenant_id: current.hub_tenant_id,
    member_tenant_id: current.member_tenant_id,
    actor_kind: input.actor.kind,
    actor_id: input.actor.id,
    action: input.action,
    from_status: current.status,
    to_status: to,
    reason: input.reason ?? null,
    version,
  })
  // The transition may start or stop statutory clocks: keep the searchable earliest due date in step.
  const updated = await refreshClockDue(trx, changed)
  await announce(trx, updated, event.id)
  // Settlement: a case entering review is charged to its member, once (idempotent per case).
  if (to === 'in_review' && current.status !== 'in_review') await chargeOnEnteringReview(trx, updated)
  return updated
}

/** The outbox row every case event gets. */
export const announce = (trx: Trx, c: repo.CaseRow, eventId: string): Promise<void> =>
  enqueueInTransaction(trx, 'notifications', 'case-event', { tenantId: c.hub_tenant_id, caseId: c.id, eventId })

export interface CaseEventInput {
  /** What happened, e.g. `appointment_booked`; not a state-machine action, the status stays. */
  action: string
  actor: Actor
  reason?: string | null
}

/**
 * A case event that is not a transition (an appointment booked, cancelled, …): the timeline row
 * with the status unchanged, the version bumped and the outbox row, in the caller's transaction.
 * The case must be locked by the caller.
 */
export async function recordCaseEvent(trx: Trx, current: repo.CaseRow, input: CaseEventInput): Promise<repo.CaseRow> {
  const version = current.version + 1
  const updated = await repo.updateCase(trx, current.id, { version })
  const event = await repo.insertEvent(trx, {
    case_id: current.id,
    hub_tenant_id: current.hub_tenant_id,
    member_tenant_id: current.member_tenant_id,
    actor_kind: input.actor.kind,
    actor_id: input.actor.id,
    action: input.action,
    from_status: current.status,
    to_status: current.status,
    reason: input.reason ?? null,
    version,
  })
  await announce(trx, updated, event.id)
  return updated
}
