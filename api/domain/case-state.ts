// The one state machine for cases (ARCHITECTURE.md "Case lifecycle"). Services ask it for the next
// status and never set `status` themselves, so a transition the table does not hold cannot happen.
//
//   submitted → intake → in_review ⇄ awaiting_information
//                            ├→ scheduled → decided → closed
//                            └→ decided → closed
//   (any open state) → withdrawn (by the member);  submitted | intake → rejected_at_intake
//   withdrawn | rejected_at_intake → closed
//
// `closed` is the one archival end state: retention counts from it. Withdrawn and rejected cases are
// finished too, but the hub closes them like decided ones so that every case ends the same way and
// nothing is archived before the hub has looked at it.

import { DomainError } from './errors.js'

export const CASE_STATUSES = [
  'submitted',
  'intake',
  'in_review',
  'awaiting_information',
  'scheduled',
  'decided',
  'closed',
  'withdrawn',
  'rejected_at_intake',
] as const
export type CaseStatus = (typeof CASE_STATUSES)[number]

export const CASE_ACTIONS = [
  'route',
  'reject_at_intake',
  'assign',
  'request_information',
  'information_received',
  'schedule',
  'decide',
  'close',
  'withdraw',
] as const
export type CaseAction = (typeof CASE_ACTIONS)[number]

export const ACTOR_KINDS = ['member', 'hub', 'system'] as const
/** member: the municipality that submitted the case; hub: the hub's staff; system: workers and the API itself. */
export type ActorKind = (typeof ACTOR_KINDS)[number]

const NOT_OPEN: ReadonlySet<CaseStatus> = new Set(['decided', 'closed', 'withdrawn', 'rejected_at_intake'])

/** Open = still being worked on; only open cases take new documents, assignments or a withdrawal. */
export function isOpen(status: CaseStatus): boolean {
  return !NOT_OPEN.has(status)
}

export const OPEN_STATUSES: readonly CaseStatus[] = CASE_STATUSES.filter(isOpen)

interface ActionRule {
  actors: readonly ActorKind[]
  /** from-status → to-status */
  transitions: Partial<Record<CaseStatus, CaseStatus>>
}

const openToWithdrawn = Object.fromEntries(OPEN_STATUSES.map((s) => [s, 'withdrawn'])) as Partial<
  Record<CaseStatus, CaseStatus>
>

const RULES: Readonly<Record<CaseAction, ActionRule>> = {
  route: { actors: ['system'], transitions: { submitted: 'intake' } },
  // The system rejects on automatic intake checks; hub staff on their own judgement.
  reject_at_intake: {
    actors: ['system', 'hub'],
    transitions: { submitted: 'rejected_at_intake', intake: 'rejected_at_intake' },
  },
  // The first assignment starts the review; a later one only changes the specialist. A scheduled
  // case keeps its specialist: the appointment is booked in that person's calendar.
  assign: {
    actors: ['hub'],
    transitions: { intake: 'in_review', in_review: 'in_review', awaiting_information: 'awaiting_information' },
  },
  request_information: { actors: ['hub'], transitions: { in_review: 'awaiting_information' } },
  // Raised by the upload/review pipeline when the requested documents arrive.
  information_received: { actors: ['system'], transitions: { awaiting_information: 'in_review' } },
  // The scheduling worker books the slot; staff may schedule by hand.
  schedule: { actors: ['system', 'hub'], transitions: { in_review: 'scheduled' } },
  decide: { actors: ['hub'], transitions: { in_review: 'decided', scheduled: 'decided' } },
  close: {
    actors: ['hub'],
    transitions: { decided: 'closed', withdrawn: 'closed', rejected_at_intake: 'closed' },
  },
  // Only the member whose case it is may withdraw it (API.md: POST …/withdraw, "the member").
  withdraw: { actors: ['member'], transitions: openToWithdrawn },
}

/** `close` is the only action that works on a case that is no longer open. */
const needsOpenCase = (action: CaseAction): boolean => action !== 'close'

/** The actions `actor` may take on a case in `status`, in CASE_ACTIONS order. */
export function allowedActions(status: CaseStatus, actor: ActorKind): CaseAction[] {
  return CASE_ACTIONS.filter((action) => {
    const rule = RULES[action]
    return rule.actors.includes(actor) && rule.transitions[status] !== undefined
  })
}

/**
 * The status after `actor` takes `action` on a case in `status`.
 *
 * Refusals, checked in this order:
 * - 403 `forbidden-action` when this kind of actor may never take the action — decided first,
 *   because it does not depend on the case and the answer must not reveal the case's state;
 * - 409 `case-closed` when the case is closed, or no longer open and the action needs an open case;
 * - 409 `invalid-transition` for any other action the current status does not allow.
 */
export function nextStatus(status: CaseStatus, action: CaseAction, actor: ActorKind): CaseStatus {
  const rule = RULES[action]
  if (!rule.actors.includes(actor)) {
    throw new DomainError('forbidden', 'forbidden-action', `a ${actor} may not take the action '${action}'`)
  }
  const to = rule.transitions[status]
  if (to !== undefined) return to
  if (status === 'closed' || (!isOpen(status) && needsOpenCase(action))) {
    throw new DomainError('conflict', 'case-closed', `the case is ${describe(status)}; '${action}' is no longer possible`)
  }
  throw new DomainError('conflict', 'invalid-transition', `'${action}' is not possible while the case is ${describe(status)}`)
}

const describe = (status: CaseStatus): string => status.replaceAll('_', ' ')
