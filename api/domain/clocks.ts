// The live statutory clocks of a case (API.md "Decisions, decrees and clocks"): pure arithmetic from
// the facts of the case (ClockFacts, gathered by api/cases/clocks.ts from the row and its events) and
// the clock definitions of the catalogue (case-types.ts).
//
// Per clock: when it starts, when it stops, and its last day:
//
// | clock                        | starts                          | stops (met)                              |
// | ---------------------------- | ------------------------------- | ---------------------------------------- |
// | fee_payment                  | submission                      | fee paid (or exemption decided)          |
// | option_decision              | submission (+ extensions)       | the option decided                       |
// | ind_decision                 | fee paid (RWN art. 9(4))        | the Royal Decree recorded (either way)   |
// | ceremony_invitation          | Royal Decree granted: its date  | invitation sent (or the ceremony held)   |
// | ceremony_handover            | invitation sent                 | ceremony attended                        |
// | royal_decree_lapse           | Royal Decree granted: its date  | ceremony attended; lapsed → overdue      |
// | option_confirmation_handover | option granted                  | ceremony (hand-over) attended            |
// | option_confirmation_lapse    | option granted                  | hand-over attended; lapsed → overdue     |
// | brp_overview                 | registered in the BRP           | the case closed by the hub               |
//
// A clock whose case ends (withdrawn, rejected, closed) before its event stops there: `met` when
// that was on or before its last day, `overdue` after it. A running clock is `overdue` from the day
// after its last day. Extensions of the option decision (RWN art. 6(5), 6a(6)) are folded into
// option_decision's last day; the citizen's own aangifte term (Wet BRP art. 2.38) counts from an
// arrival date the platform does not record, so cases do not carry it.

import { atwExtend } from './atw.js'
import { addDays, isWorkingDay, workingDaysAfter } from './calendar.js'
import { clockDeadline, type CaseTypeDefinition, type StatutoryClock } from './case-types.js'
import { findOutcome, type RoyalDecreeDecision } from './outcomes.js'

export const CLOCK_STATUSES = ['running', 'met', 'overdue', 'not_started'] as const
export type ClockStatus = (typeof CLOCK_STATUSES)[number]

export interface CaseClock {
  code: string
  startedOn: string | null
  /** The last day of the term (after the Atw where it applies); null until the clock starts. */
  dueOn: string | null
  /** The day the clock stopped (its event, or the end of the case); null while it runs. */
  stoppedOn: string | null
  status: ClockStatus
  /** The legal source and the Atw choice for this clock. */
  source: string
}

/** An extension of the option decision term (RWN art. 6(5): at most 13 weeks once; art. 6a(6): 4 weeks). */
export interface OptionExtension {
  code: 'option_decision_extension' | 'option_renunciation_advice'
  weeks: number
}

/** What the clocks count from; every date is a Dutch calendar date (YYYY-MM-DD). */
export interface ClockFacts {
  submittedOn: string
  /** Fee paid, or the exemption decided (BVVN art. 34(2)); recorded by the settlement feature. */
  feePaidOn: string | null
  /** The day of `decide`, with its outcome. */
  decidedOn: string | null
  outcome: string | null
  royalDecree: { decision: RoyalDecreeDecision; date: string } | null
  ceremonyInvitedOn: string | null
  /** The ceremony (or the option confirmation hand-over) attended: `ceremony_attended`. */
  handedOverOn: string | null
  /** The decree or confirmation lapsed: `decree_lapsed`. */
  lapsedOn: string | null
  /** The case ended otherwise: withdrawn, rejected at intake, or closed by the hub (the first of these). */
  endedOn: string | null
  optionExtensions: readonly OptionExtension[]
}

export const emptyFacts = (submittedOn: string): ClockFacts => ({
  submittedOn,
  feePaidOn: null,
  decidedOn: null,
  outcome: null,
  royalDecree: null,
  ceremonyInvitedOn: null,
  handedOverOn: null,
  lapsedOn: null,
  endedOn: null,
  optionExtensions: [],
})

/** Catalogue clocks that are not tracked per case (see the header). */
const NOT_PER_CASE = new Set(['option_decision_extension', 'option_renunciation_advice', 'aangifte'])

interface Course {
  start: string | null
  /** The event that stops the clock. */
  stop: string | null
  /** The lapse itself stopped it: the term passed without its event. */
  lapsed?: boolean
  extraWeeks?: number
}

const first = (...dates: Array<string | null>): string | null =>
  dates.filter((d): d is string => d !== null).sort()[0] ?? null

function courseOf(code: string, f: ClockFacts): Course {
  const granted = f.royalDecree?.decision === 'granted' ? f.royalDecree.date : null
  const optionGranted = f.outcome !== null && findOutcome('option', f.outcome)?.next === 'awaiting_ceremony' ? f.decidedOn : null
  switch (code) {
    case 'fee_payment':
      return { start: f.submittedOn, stop: f.feePaidOn }
    case 'option_decision':
      return { start: f.submittedOn, stop: f.decidedOn, extraWeeks: f.optionExtensions.reduce((sum, e) => sum + e.weeks, 0) }
    case 'ind_decision':
      return { start: f.feePaidOn, stop: f.royalDecree?.date ?? null }
    case 'ceremony_invitation':
      return { start: granted, stop: first(f.ceremonyInvitedOn, f.handedOverOn) }
    case 'ceremony_handover':
      return { start: granted ? (f.ceremonyInvitedOn ?? null) : null, stop: f.handedOverOn }
    case 'royal_decree_lapse':
      return { start: granted, stop: f.handedOverOn ?? f.lapsedOn, lapsed: f.handedOverOn === null && f.lapsedOn !== null }
    case 'option_confirmation_handover':
      return { start: optionGranted, stop: f.handedOverOn }
    case 'option_confirmation_lapse':
      return { start: optionGranted, stop: f.handedOverOn ?? f.lapsedOn, lapsed: f.handedOverOn === null && f.lapsedOn !== null }
    case 'brp_overview': {
      const registered = f.outcome === 'registered' ? f.decidedOn : null
      return { start: registered, stop: null }
    }
    default:
      return { start: null, stop: null }
  }
}

/** The last day of `clock` counted from `start`, with `extraWeeks` of extension, after the Atw where it applies. */
export function clockDueOn(clock: StatutoryClock, start: string, extraWeeks = 0): string {
  const raw = clockDeadline(start, { ...clock.term, weeks: (clock.term.weeks ?? 0) + extraWeeks })
  return clock.atw.extends ? atwExtend(raw) : raw
}

export const clockSource = (clock: StatutoryClock): string => `${clock.source}; ${clock.atw.basis}`

/** One clock per statutory clock of the case type (those tracked per case), as of `today`. */
export function computeClocks(def: CaseTypeDefinition, facts: ClockFacts, today: string): CaseClock[] {
  return def.statutoryClocks
    .filter((c) => !NOT_PER_CASE.has(c.code))
    .map((clock) => {
      const course = courseOf(clock.code, facts)
      const source = clockSource(clock)
      if (course.start === null) return { code: clock.code, startedOn: null, dueOn: null, stoppedOn: null, status: 'not_started', source }
      const dueOn = clockDueOn(clock, course.start, course.extraWeeks)
      // The ceremony and the lapse close the case as well: they stop every clock still running.
      const endedOn = first(facts.endedOn, facts.lapsedOn, facts.handedOverOn)
      if (course.stop !== null) {
        return { code: clock.code, startedOn: course.start, dueOn, stoppedOn: course.stop, status: course.lapsed ? 'overdue' : 'met', source }
      }
      if (endedOn !== null) {
        return { code: clock.code, startedOn: course.start, dueOn, stoppedOn: endedOn, status: endedOn <= dueOn ? 'met' : 'overdue', source }
      }
      return { code: clock.code, startedOn: course.start, dueOn, stoppedOn: null, status: today > dueOn ? 'overdue' : 'running', source }
    })
}

/**
 * The earliest last day among the clocks that still run (overdue ones included), or null: stored
 * on the case as `clock_due_on` so that `?clock=` is an index range. It does not depend on today.
 */
export function earliestRunningDue(clocks: readonly CaseClock[]): string | null {
  return first(...clocks.filter((c) => c.stoppedOn === null && c.dueOn !== null).map((c) => c.dueOn))
}

export const CLOCK_FILTERS = ['overdue', 'due_within_10_working_days'] as const
export type ClockFilter = (typeof CLOCK_FILTERS)[number]

/**
 * The range of `clock_due_on` a filter selects on `today`: `overdue` — a last day before today;
 * `due_within_10_working_days` — a last day from today up to and including the 10th working day after it.
 */
export function clockFilterRange(filter: ClockFilter, today: string): { before?: string; from?: string; until?: string } {
  if (filter === 'overdue') return { before: today }
  return { from: today, until: workingDaysAfter(today, 10) }
}

/** 15 December is the national naturalisation day: ceremonies are held then, even on a Saturday (API.md). */
export const isNaturalisationDay = (date: string): boolean => date.slice(5) === '12-15'

/** A day a ceremony may be held on: a municipal working day, or 15 December whatever the weekday. */
export const isCeremonyDay = (date: string): boolean => isNaturalisationDay(date) || isWorkingDay(date)

/**
 * The last day on or before `dueOn` a ceremony can be held and still meet the clock (the latest
 * booking for ceremony_handover / option_confirmation_handover), or null when none lies on or after
 * `notBefore`.
 */
export function latestCeremonyDay(dueOn: string, notBefore: string): string | null {
  for (let day = dueOn; day >= notBefore; day = addDays(day, -1)) if (isCeremonyDay(day)) return day
  return null
}
