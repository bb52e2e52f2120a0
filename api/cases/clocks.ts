// The statutory clocks of stored cases: gathers the facts (api/domain/clocks.ts) from the case row
// and its events, and keeps `cases.clock_due_on` — the earliest last day of a running clock, the
// column `GET /v1/cases?clock=` searches through an index — in step with them.
//
// For other features (one call each, inside their own transaction, on a locked case):
// - settlement: `recordFeePaid(trx, caseId, paidOn)` when the fee is paid or an exemption decided —
//   stops `fee_payment` and starts `ind_decision` (RWN art. 9(4));
// - appointments: `recordCeremonyInvitation(trx, caseId, invitedOn)` when the ceremony invitation
//   goes out (stops `ceremony_invitation`, starts `ceremony_handover`); the attended ceremony is the
//   state-machine action `ceremony_attended` (applyTransition), which stops the remaining clocks.
import type { Trx } from '../db/database.js'
import { findCaseType } from '../domain/case-types.js'
import { computeClocks, earliestRunningDue, emptyFacts, type CaseClock, type ClockFacts } from '../domain/clocks.js'
import { isValidIsoDate } from '../domain/calendar.js'
import { ROYAL_DECREE_DECISIONS } from '../domain/outcomes.js'
import { DomainError, invalidFields, notFound } from '../domain/errors.js'
import { dutchDate } from '../time.js'
import * as repo from './cases.repository.js'

/** The actions whose dates the clocks need (api/domain/clocks.ts). */
export const CLOCK_EVENT_ACTIONS = ['ceremony_attended', 'decree_lapsed', 'withdraw', 'reject_at_intake', 'close'] as const

type ClockEvent = Pick<repo.EventRow, 'action' | 'created_at'>

const firstDateOf = (events: readonly ClockEvent[], actions: readonly string[]): string | null =>
  events
    .filter((e) => actions.includes(e.action))
    .map((e) => dutchDate(e.created_at))
    .sort()[0] ?? null

/** The facts the clocks count from: the row's dates and the dates of its terminal events. */
export function clockFactsOf(c: repo.CaseRow, events: readonly ClockEvent[]): ClockFacts {
  return {
    ...emptyFacts(dutchDate(c.created_at)),
    feePaidOn: c.fee_paid_on,
    decidedOn: c.decided_at ? dutchDate(c.decided_at) : null,
    outcome: c.decision_outcome,
    royalDecree: c.royal_decree_decision && c.royal_decree_date ? { decision: c.royal_decree_decision, date: c.royal_decree_date } : null,
    ceremonyInvitedOn: c.ceremony_invited_on,
    handedOverOn: firstDateOf(events, ['ceremony_attended']),
    lapsedOn: firstDateOf(events, ['decree_lapsed']),
    endedOn: firstDateOf(events, ['withdraw', 'reject_at_intake', 'close']),
  }
}

/** The case's clocks as of `today` (a Dutch date). */
export function clocksOf(c: repo.CaseRow, events: readonly ClockEvent[], today: string = dutchDate()): CaseClock[] {
  const def = findCaseType(c.case_type, c.case_type_version)
  return def ? computeClocks(def, clockFactsOf(c, events), today) : []
}

/** The clock facts list_cases_json writes for a list row (migration 0025), in this order, `|`-separated, '' for null. */
const LISTED_FACTS = [
  'caseType', 'caseTypeVersion', 'submittedOn', 'feePaidOn', 'decidedOn', 'outcome',
  'royalDecreeDecision', 'royalDecreeDate', 'ceremonyInvitedOn', 'handedOverOn', 'lapsedOn', 'endedOn',
] as const

/**
 * The clocks of a row of the case list as of `today`, from its clock facts as the list's statement
 * writes them: the same facts as clockFactsOf, whose Dutch dates (submission, decision, first
 * events) the statement took in SQL already.
 */
export function listedClocksOf(facts: string, today: string): CaseClock[] {
  const values = facts.split('|')
  if (values.length !== LISTED_FACTS.length) throw new Error(`clock facts with ${values.length} fields, not ${LISTED_FACTS.length}`)
  const fact = (name: (typeof LISTED_FACTS)[number]): string | null => values[LISTED_FACTS.indexOf(name)] || null
  const def = findCaseType(fact('caseType') ?? '', fact('caseTypeVersion') ?? '')
  if (!def) return []
  const decreeDecision = ROYAL_DECREE_DECISIONS.find((d) => d === fact('royalDecreeDecision'))
  const decreeDate = fact('royalDecreeDate')
  return computeClocks(def, {
    ...emptyFacts(fact('submittedOn') ?? ''),
    feePaidOn: fact('feePaidOn'),
    decidedOn: fact('decidedOn'),
    outcome: fact('outcome'),
    royalDecree: decreeDecision && decreeDate ? { decision: decreeDecision, date: decreeDate } : null,
    ceremonyInvitedOn: fact('ceremonyInvitedOn'),
    handedOverOn: fact('handedOverOn'),
    lapsedOn: fact('lapsedOn'),
    endedOn: fact('endedOn'),
  }, today)
}

/** Recomputes `clock_due_on` after a change of the case's facts; returns the row as stored. */
export async function refreshClockDue(trx: Trx, c: repo.CaseRow): Promise<repo.CaseRow> {
  const events = await repo.clockEventsOf(trx, [c.id])
  const due = earliestRunningDue(clocksOf(c, events))
  if (due === c.clock_due_on) return c
  return repo.setClockFacts(trx, c.id, { clock_due_on: due })
}

/**
 * `clock_due_on` of a case as it is submitted at `createdAt`: no facts yet but the submission day
 * (what refreshClockDue computes for the fresh row), so the submission writes it in one go.
 */
export function clockDueAtSubmission(caseType: repo.CaseRow['case_type'], caseTypeVersion: string, createdAt: Date): string | null {
  const def = findCaseType(caseType, caseTypeVersion)
  return def ? earliestRunningDue(computeClocks(def, emptyFacts(dutchDate(createdAt)), dutchDate())) : null
}

const requireDate = (value: string, field: string): void => {
  if (!isValidIsoDate(value)) throw invalidFields([{ name: field, code: 'invalid-date', reason: 'is not a calendar date' }])
}

/**
 * Records the day the fee was paid (or an exemption decided) on a case, in the caller's transaction,
 * and moves the clocks: `fee_payment` is met, `ind_decision` (naturalisation) starts from `paidOn`.
 * Recording the same day again is a no-op; another day once one is recorded → 409 `fee-already-recorded`.
 * The caller decides who may do this and locks nothing else: the case row is locked here.
 */
export async function recordFeePaid(trx: Trx, caseId: string, paidOn: string): Promise<repo.CaseRow> {
  requireDate(paidOn, 'paidOn')
  const c = await repo.lockCase(trx, caseId)
  if (!c) throw notFound('case')
  if (c.fee_paid_on === paidOn) return c
  if (c.fee_paid_on !== null) throw new DomainError('conflict', 'fee-already-recorded', `a fee payment on ${c.fee_paid_on} is recorded already`)
  return refreshClockDue(trx, await repo.setClockFacts(trx, c.id, { fee_paid_on: paidOn }))
}

/**
 * Records the day the ceremony invitation was sent (BVVN art. 60b(2)): `ceremony_invitation` is met
 * and `ceremony_handover` starts. The first invitation counts; a later one (after a no-show) is a no-op.
 */
export async function recordCeremonyInvitation(trx: Trx, caseId: string, invitedOn: string): Promise<repo.CaseRow> {
  requireDate(invitedOn, 'invitedOn')
  const c = await repo.lockCase(trx, caseId)
  if (!c) throw notFound('case')
  if (c.ceremony_invited_on !== null) return c
  return refreshClockDue(trx, await repo.setClockFacts(trx, c.id, { ceremony_invited_on: invitedOn }))
}
