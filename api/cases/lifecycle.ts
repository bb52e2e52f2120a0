// Applies a transition of the one state machine (api/domain/case-state.ts) to a locked case: checks
// the version the client saw, appends the case_events row, bumps the version and announces the
// event through the outbox — all in the caller's transaction.
import type { Trx } from '../db/database.js'
import { nextStatus, type ActorKind, type CaseAction } from '../domain/case-state.js'
import { DomainError } from '../domain/errors.js'
import { enqueueInTransaction } from '../jobs/outbox.js'
import * as repo from './cases.repository.js'

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
  changes?: Partial<Pick<repo.CaseRow, 'assigned_staff_id' | 'decision_outcome' | 'decision_note' | 'decided_at'>>
}

export async function applyTransition(trx: Trx, current: repo.CaseRow, input: TransitionInput): Promise<repo.CaseRow> {
  if (input.expectedVersion !== undefined && input.expectedVersion !== null && input.expectedVersion !== current.version) {
    throw new DomainError('stale', 'version-mismatch', `the case is at version ${current.version}, not ${input.expectedVersion}; read it again`)
  }
  const to = nextStatus(current.status, input.action, input.actor.kind)
  const version = current.version + 1
  const updated = await repo.updateCase(trx, current.id, { ...input.changes, status: to, version })
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
  await announce(trx, updated, event.id)
  return updated
}

/** The outbox row every case event gets. */
export const announce = (trx: Trx, c: repo.CaseRow, eventId: string): Promise<void> =>
  enqueueInTransaction(trx, 'notifications', 'case-event', { tenantId: c.hub_tenant_id, caseId: c.id, eventId })
