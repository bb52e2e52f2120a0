// The one state machine for cases (ARCHITECTURE.md "Case lifecycle"; API.md "Decisions, decrees and
// clocks"). Services ask it for the next status and never set `status` themselves, so a transition
// the table does not hold cannot happen.
//
//   submitted → intake → in_review ⇄ awaiting_information
//       │ (assigned early)    ├→ scheduled → decided → closed
//       └──────────→ in_review └→ decided → closed
//   decided ─(naturalisation advise_grant: royal decree granted)→ awaiting_ceremony
//   in_review | scheduled ─(option: decide grant)→ awaiting_ceremony
//   awaiting_ceremony ─(ceremony attended | decree or confirmation lapsed)→ closed
//   (any open state) → withdrawn (by the member);  submitted | intake → rejected_at_intake
//   withdrawn | rejected_at_intake → closed
//
// `closed` is the one archival end state: retention counts from it. Withdrawn and rejected cases are
// finished too, but the hub closes them like decided ones so that every case ends the same way and
// nothing is archived before the hub has looked at it. A case awaiting its ceremony is not open (no
// new documents, no withdrawal): only the ceremony or the lapse ends it.
//
// Some targets depend on facts of the case, passed as a TransitionContext: `decide` goes where the
// outcome says (outcomes.ts), `route` goes straight to review when a specialist was assigned during
// intake, and the Royal Decree needs a naturalisation advised to grant without a decree yet.

import { DomainError, invalidFields } from './errors.js'
import { findOutcome, outcomeCodesFor } from './outcomes.js'
import { isCaseTypeCode } from './case-types.js'

export const CASE_STATUSES = [
  'submitted',
  'intake',
  'in_review',
  'awaiting_information',
  'scheduled',
  'decided',
  'awaiting_ceremony',
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
  'royal_decree_granted',
  'royal_decree_refused',
  'ceremony_attended',
  'decree_lapsed',
  'close',
  'withdraw',
] as const
export type CaseAction = (typeof CASE_ACTIONS)[number]

export const ACTOR_KINDS = ['member', 'hub', 'system'] as const
/** member: the municipality that submitted the case; hub: the hub's staff; system: workers and the API itself. */
export type ActorKind = (typeof ACTOR_KINDS)[number]

/** Facts of the case some transitions depend on. Services pass what they know; see each action. */
export interface TransitionContext {
  /** The case's type code. Needed by `decide` and the Royal Decree actions. */
  caseType?: string
  /**
   * `decide`: the outcome being decided (refused with 400 naming `outcome` when
   * the case type does not know it). Royal Decree actions: the outcome on record.
   */
  outcome?: string | null
  /** `route`: a specialist is already assigned, so the case goes straight to review. */
  assigned?: boolean
  /** Royal Decree actions: a decree was recorded already (a second one is refused). */
  royalDecreeRecorded?: boolean
}

const NOT_OPEN: ReadonlySet<CaseStatus> = new Set(['decided', 'awaiting_ceremony', 'closed', 'withdrawn', 'rejected_at_intake'])

/** Open = still being worked on; only open cases take new documents, assignments or a withdrawal. */
export function isOpen(status: CaseStatus): boolean {
  return !NOT_OPEN.has(status)
}

export const OPEN_STATUSES: readonly CaseStatus[] = CASE_STATUSES.filter(isOpen)

type Target = CaseStatus | ((ctx: TransitionContext) => CaseStatus)

interface ActionRule {
  actors: readonly ActorKind[]
  /** from-status → to-status (or a function of the context) */
  transitions: Partial<Record<CaseStatus, Target>>
  /** Extra precondition on the context: the reason it fails (→ 409 `invalid-transition`), or null. */
  guard?: (ctx: TransitionContext) => string | null
  /** The action also works on a case that is no longer open (decided, awaiting the ceremony, …). */
  onFinishedCase?: boolean
}

const openToWithdrawn = Object.fromEntries(OPEN_STATUSES.map((s) => [s, 'withdrawn'])) as Partial<
  Record<CaseStatus, CaseStatus>
>

/** The target of `decide`: where the outcome sends the case. Throws 400 naming `outcome` for an unknown one. */
function decisionTarget(ctx: TransitionContext): CaseStatus {
  const caseType = ctx.caseType ?? ''
  const outcome = findOutcome(caseType, ctx.outcome ?? '')
  if (!outcome) {
    const allowed = isCaseTypeCode(caseType) ? outcomeCodesFor(caseType).join(', ') : 'none'
    throw invalidFields([{ name: 'outcome', code: 'invalid-outcome', reason: `is not an outcome of ${caseType || 'this case type'} (one of: ${allowed})` }])
  }
  return outcome.next
}

/** A Royal Decree is recorded on a naturalisation advised to grant, once. */
function royalDecreeGuard(ctx: TransitionContext): string | null {
  if (ctx.caseType !== 'naturalisation') return 'a Royal Decree is recorded on a naturalisation case only'
  if (!findOutcome('naturalisation', ctx.outcome ?? '')?.awaitsRoyalDecree) return 'a Royal Decree follows an advice to grant only'
  if (ctx.royalDecreeRecorded) return 'the Royal Decree on this case is recorded already'
  return null
}

const RULES: Readonly<Record<CaseAction, ActionRule>> = {
  // The intake checks passed: to intake, or straight to review when staff assigned it meanwhile.
  route: { actors: ['system'], transitions: { submitted: (ctx) => (ctx.assigned ? 'in_review' : 'intake') } },
  // The system rejects on automatic intake checks; hub staff on their own judgement.
  reject_at_intake: {
    actors: ['system', 'hub'],
    transitions: { submitted: 'rejected_at_intake', intake: 'rejected_at_intake' },
  },
  // Assigning during the intake checks keeps the case `submitted` (the checks still run, and
  // `route` then starts the review); from intake the first assignment starts the review; a later
  // one only changes the specialist. A scheduled case keeps its specialist: the appointment is
  // booked in that person's calendar.
  assign: {
    actors: ['hub'],
    transitions: { submitted: 'submitted', intake: 'in_review', in_review: 'in_review', awaiting_information: 'awaiting_information' },
  },
  request_information: { actors: ['hub'], transitions: { in_review: 'awaiting_information' } },
  // Raised by the upload/review pipeline when the requested documents arrive.
  information_received: { actors: ['system'], transitions: { awaiting_information: 'in_review' } },
  // The scheduling worker books the slot; staff may schedule by hand.
  schedule: { actors: ['system', 'hub'], transitions: { in_review: 'scheduled' } },
  // The outcome decides the target (outcomes.ts): an option grant awaits the hand-over directly.
  decide: { actors: ['hub'], transitions: { in_review: decisionTarget, scheduled: decisionTarget } },
  // POST /cases/{id}/royal-decree: granted starts the ceremony; refused leaves it decided to close.
  royal_decree_granted: {
    actors: ['hub'],
    transitions: { decided: 'awaiting_ceremony' },
    guard: royalDecreeGuard,
    onFinishedCase: true,
  },
  royal_decree_refused: {
    actors: ['hub'],
    transitions: { decided: 'decided' },
    guard: royalDecreeGuard,
    onFinishedCase: true,
  },
  // The appointments feature records the attended ceremony (or confirmation hand-over).
  ceremony_attended: { actors: ['system', 'hub'], transitions: { awaiting_ceremony: 'closed' }, onFinishedCase: true },
  // The daily lapse job: not handed over within the year (BVVN art. 60a, 60b(11)).
  decree_lapsed: { actors: ['system'], transitions: { awaiting_ceremony: 'closed' }, onFinishedCase: true },
  close: {
    actors: ['hub'],
    transitions: { decided: 'closed', withdrawn: 'closed', rejected_at_intake: 'closed' },
    onFinishedCase: true,
  },
  // Only the member whose case it is may withdraw it (API.md: POST …/withdraw, "the member").
  withdraw: { actors: ['member'], transitions: openToWithdrawn },
}

/**
 * The actions `actor` may take on a case in `status`, in CASE_ACTIONS order. Without `ctx` an
 * action whose guard depends on the case is listed when its status allows it; with `ctx` the guard
 * is applied too.
 */
export function allowedActions(status: CaseStatus, actor: ActorKind, ctx?: TransitionContext): CaseAction[] {
  return CASE_ACTIONS.filter((action) => {
    const rule = RULES[action]
    if (!rule.actors.includes(actor) || rule.transitions[status] === undefined) return false
    return ctx === undefined || !rule.guard || rule.guard(ctx) === null
  })
}

/**
 * The status after `actor` takes `action` on a case in `status`, given the case's facts `ctx`.
 *
 * Refusals, checked in this order:
 * - 403 `forbidden-action` when this kind of actor may never take the action — decided first,
 *   because it does not depend on the case and the answer must not reveal the case's state;
 * - 409 `case-closed` when the case is closed, or no longer open and the action needs an open case;
 * - 409 `invalid-transition` for any other action the current status (or the guard) does not allow;
 * - 400 `invalid-request` with invalidParams `outcome` (code `invalid-outcome`) for a `decide` whose outcome the case type does not know.
 */
export function nextStatus(status: CaseStatus, action: CaseAction, actor: ActorKind, ctx: TransitionContext = {}): CaseStatus {
  const rule = RULES[action]
  if (!rule.actors.includes(actor)) {
    throw new DomainError('forbidden', 'forbidden-action', `a ${actor} may not take the action '${action}'`)
  }
  const target = rule.transitions[status]
  if (target !== undefined) {
    const refusal = rule.guard?.(ctx) ?? null
    if (refusal !== null) throw new DomainError('conflict', 'invalid-transition', `'${action}' is not possible: ${refusal}`)
    return typeof target === 'function' ? target(ctx) : target
  }
  if (status === 'closed' || (!isOpen(status) && !rule.onFinishedCase)) {
    throw new DomainError('conflict', 'case-closed', `the case is ${describe(status)}; '${action}' is no longer possible`)
  }
  throw new DomainError('conflict', 'invalid-transition', `'${action}' is not possible while the case is ${describe(status)}`)
}

const describe = (status: CaseStatus): string => status.replaceAll('_', ' ')
