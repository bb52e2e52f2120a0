import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { ATW_EQUATED_DAYS, atwExtend, isAtwDayOff } from '../../api/domain/atw.js'
import { addDays, addWeeks, addYears, easterSunday, isWorkingDay, workingDaysAfter } from '../../api/domain/calendar.js'
import { CASE_TYPE_CODES, CASE_TYPE_VERSIONS, clockDeadline, findCaseType, type CaseTypeDefinition } from '../../api/domain/case-types.js'
import {
  clockDueOn,
  clockFilterRange,
  computeClocks,
  earliestRunningDue,
  emptyFacts,
  isCeremonyDay,
  latestCeremonyDay,
  type CaseClock,
  type ClockFacts,
} from '../../api/domain/clocks.js'

const def = (code: string): CaseTypeDefinition => {
  const d = findCaseType(code, '2026-12-01')
  if (!d) throw new Error(code)
  return d
}
const clockOf = (code: string, clockCode: string) => {
  const c = def(code).statutoryClocks.find((x) => x.code === clockCode)
  if (!c) throw new Error(clockCode)
  return c
}
const byCode = (clocks: CaseClock[]): Record<string, CaseClock> => Object.fromEntries(clocks.map((c) => [c.code, c]))
const facts = (submittedOn: string, extra: Partial<ClockFacts> = {}): ClockFacts => ({ ...emptyFacts(submittedOn), ...extra })

// Every day from 2026-01-01 to 2030-12-31, the range the property tests run over.
const DAY_COUNT = 5 * 365 + 1
const aDay = fc.integer({ min: 0, max: DAY_COUNT - 1 }).map((n) => addDays('2026-01-01', n))

describe('Algemene termijnenwet calendar', () => {
  it.each([
    ['2026-01-01', true, 'Nieuwjaarsdag'],
    ['2026-01-02', true, 'equated day (Besluit gelijkstelling)'],
    ['2026-04-03', true, 'Goede Vrijdag (art. 3(2)) — a working day for municipal staff'],
    ['2026-04-06', true, 'Tweede Paasdag'],
    ['2026-04-27', true, 'Koningsdag'],
    ['2026-05-05', true, 'Bevrijdingsdag, every year'],
    ['2026-05-14', true, 'Hemelvaartsdag'],
    ['2026-05-15', true, 'equated Friday after Hemelvaartsdag'],
    ['2026-05-25', true, 'Tweede Pinksterdag'],
    ['2026-12-25', true, 'Eerste Kerstdag'],
    ['2026-12-05', true, 'a Saturday'],
    ['2026-12-06', true, 'a Sunday'],
    ['2026-12-15', false, 'an ordinary Tuesday'],
    ['2029-05-05', true, 'a Saturday and 5 May'],
    ['2029-12-24', false, 'Christmas Eve is no holiday'],
  ])('%s is a day off: %s (%s)', (date, off) => {
    expect(isAtwDayOff(date)).toBe(off)
  })

  it('counts Goede Vrijdag for every year, where the municipal calendar does not', () => {
    for (let year = 2026; year <= 2030; year++) {
      const goodFriday = addDays(easterSunday(year), -2)
      expect(isAtwDayOff(goodFriday)).toBe(true)
      expect(isWorkingDay(goodFriday)).toBe(true)
    }
  })

  it('lists only published equated days, each a weekday', () => {
    for (const d of ATW_EQUATED_DAYS) expect(isWorkingDay(d)).toBe(true)
  })

  it('property: atwExtend lands on the first day on or after the last day that is not a day off', () => {
    fc.assert(
      fc.property(aDay, (d) => {
        const e = atwExtend(d)
        expect(e >= d).toBe(true)
        expect(isAtwDayOff(e)).toBe(false)
        for (let x = d; x < e; x = addDays(x, 1)) expect(isAtwDayOff(x)).toBe(true)
        if (!isAtwDayOff(d)) expect(e).toBe(d)
        // No run of days off is longer than Goede Vrijdag to Tweede Paasdag, or Hemelvaartsdag to Sunday.
        expect(e <= addDays(d, 5)).toBe(true)
      }),
      { numRuns: 2000 },
    )
  })
})

describe('the Atw choice per clock', () => {
  it.each([
    ['naturalisation', 'fee_payment', true],
    ['option', 'fee_payment', true],
    ['naturalisation', 'ind_decision', false],
    ['naturalisation', 'ceremony_invitation', false],
    ['naturalisation', 'ceremony_handover', false],
    ['naturalisation', 'royal_decree_lapse', false],
    ['option', 'option_decision', false],
    ['option', 'option_confirmation_handover', false],
    ['option', 'option_confirmation_lapse', false],
    ['first_registration', 'brp_overview', true],
  ])('%s %s: extends %s, and the source says why', (type, code, extendsTerm) => {
    const c = clockOf(type, code)
    expect(c.atw.extends).toBe(extendsTerm)
    expect(c.atw.basis).toMatch(/Atw (applies|applied by analogy|not applied)/)
    expect(c.atw.basis).toMatch(/Atw art\. \d/)
  })

  it('never extends a term of more than 12 weeks or in years (Atw art. 4(a))', () => {
    for (const d of CASE_TYPE_VERSIONS) {
      for (const c of d.statutoryClocks) {
        const long = (c.term.years ?? 0) > 0 || (c.term.weeks ?? 0) > 12 || (c.term.days ?? 0) > 90
        if (long) expect(c.atw.extends, `${d.code} ${c.code}`).toBe(false)
      }
    }
  })

  it('property over 2026–2030: an extended clock ends on the Atw-extended day, the others exactly on the term', () => {
    const clocks = CASE_TYPE_CODES.flatMap((code) => def(code).statutoryClocks)
    fc.assert(
      fc.property(aDay, fc.constantFrom(...clocks), (start, clock) => {
        const raw = clockDeadline(start, clock.term)
        const due = clockDueOn(clock, start)
        if (clock.atw.extends) {
          expect(due).toBe(atwExtend(raw))
          expect(isAtwDayOff(due)).toBe(false)
        } else {
          expect(due).toBe(raw)
        }
      }),
      { numRuns: 3000 },
    )
  })

  it.each([
    // 2026-02-20 + 6 weeks = Goede Vrijdag 3 April; Sat, Easter Sunday, Easter Monday follow.
    ['naturalisation', 'fee_payment', '2026-02-20', '2026-04-07'],
    // + 6 weeks = Friday 15 May 2026, equated with a holiday.
    ['option', 'fee_payment', '2026-04-03', '2026-05-18'],
    // + 4 weeks = Christmas Day 2026 (Friday), then the weekend.
    ['first_registration', 'brp_overview', '2026-11-27', '2026-12-28'],
    // + 4 weeks = Saturday 5 May 2029.
    ['first_registration', 'brp_overview', '2029-04-07', '2029-05-07'],
    // A hub term is not extended: + 6 weeks = Saturday 15 December 2029 stays.
    ['naturalisation', 'ceremony_invitation', '2029-11-03', '2029-12-15'],
    ['naturalisation', 'ceremony_handover', '2030-11-03', '2030-12-15'],
    ['option', 'option_confirmation_handover', '2026-10-31', '2027-01-02'],
    ['option', 'option_decision', '2026-12-01', '2027-03-02'],
    // one year, 29 February → 28 February, even on a weekend
    ['naturalisation', 'royal_decree_lapse', '2028-02-29', '2029-02-28'],
    ['naturalisation', 'ind_decision', '2027-01-02', '2028-01-02'],
  ])('%s %s from %s is due %s', (type, code, start, due) => {
    expect(clockDueOn(clockOf(type, code), start)).toBe(due)
  })
})

describe('the 15 December ceremony day', () => {
  it('a ceremony may be held on 15 December even on a Saturday or Sunday, otherwise on working days only', () => {
    expect(isCeremonyDay('2029-12-15')).toBe(true) // Saturday
    expect(isCeremonyDay('2030-12-15')).toBe(true) // Sunday
    expect(isCeremonyDay('2029-12-16')).toBe(false) // Sunday
    expect(isCeremonyDay('2026-12-25')).toBe(false)
    expect(latestCeremonyDay('2029-12-16', '2029-11-01')).toBe('2029-12-15')
    expect(latestCeremonyDay('2029-12-23', '2029-11-01')).toBe('2029-12-21')
    expect(latestCeremonyDay('2026-12-27', '2026-12-25')).toBeNull()
  })

  it('property over 2026–2030: the latest ceremony day meets the clock and no later day would', () => {
    fc.assert(
      fc.property(aDay, fc.integer({ min: 0, max: 60 }), (due, window) => {
        const notBefore = addDays(due, -window)
        const day = latestCeremonyDay(due, notBefore)
        if (day === null) {
          for (let x = notBefore; x <= due; x = addDays(x, 1)) expect(isCeremonyDay(x)).toBe(false)
          return
        }
        expect(day <= due && day >= notBefore).toBe(true)
        expect(isCeremonyDay(day)).toBe(true)
        for (let x = addDays(day, 1); x <= due; x = addDays(x, 1)) expect(isCeremonyDay(x)).toBe(false)
        if (due.endsWith('-12-15')) expect(day).toBe(due)
      }),
      { numRuns: 2000 },
    )
  })

  it('property: a ceremony_handover window always holds a ceremony day (6 weeks contain working days)', () => {
    const handover = clockOf('naturalisation', 'ceremony_handover')
    fc.assert(
      fc.property(aDay, (invitedOn) => {
        const due = clockDueOn(handover, invitedOn)
        const day = latestCeremonyDay(due, addDays(invitedOn, 1))
        expect(day).not.toBeNull()
        expect(day! > invitedOn && day! <= due).toBe(true)
      }),
      { numRuns: 1000 },
    )
  })
})

describe('a naturalisation from submission to the ceremony', () => {
  const nat = def('naturalisation')
  const submitted = '2026-03-02'

  it('carries fee_payment, ind_decision and the three decree clocks, in catalogue order', () => {
    expect(computeClocks(nat, facts(submitted), submitted).map((c) => c.code)).toEqual([
      'fee_payment',
      'ind_decision',
      'ceremony_invitation',
      'ceremony_handover',
      'royal_decree_lapse',
    ])
  })

  it('on submission only fee_payment runs; ind_decision waits for the fee', () => {
    const c = byCode(computeClocks(nat, facts(submitted), submitted))
    expect(c.fee_payment).toMatchObject({ startedOn: submitted, dueOn: '2026-04-13', status: 'running', stoppedOn: null })
    expect(c.ind_decision).toMatchObject({ startedOn: null, dueOn: null, status: 'not_started' })
    expect(c.ceremony_invitation!.status).toBe('not_started')
    expect(c.fee_payment!.source).toMatch(/BOEN 2002.*Atw applied by analogy/)
  })

  it('fee_payment is overdue from the day after its last day, running on it', () => {
    expect(byCode(computeClocks(nat, facts(submitted), '2026-04-13')).fee_payment!.status).toBe('running')
    expect(byCode(computeClocks(nat, facts(submitted), '2026-04-14')).fee_payment!.status).toBe('overdue')
  })

  it('the fee stops fee_payment and starts ind_decision for a year (RWN art. 9(4))', () => {
    const c = byCode(computeClocks(nat, facts(submitted, { feePaidOn: '2026-03-10' }), '2026-03-11'))
    expect(c.fee_payment).toMatchObject({ status: 'met', stoppedOn: '2026-03-10' })
    expect(c.ind_decision).toMatchObject({ startedOn: '2026-03-10', dueOn: '2027-03-10', status: 'running' })
    expect(c.ind_decision!.source).toMatch(/RWN art\. 9\(4\).*Atw art\. 4\(a\)/)
  })

  it('a late payment still stops the clock (met) and shows when', () => {
    const c = byCode(computeClocks(nat, facts(submitted, { feePaidOn: '2026-05-01' }), '2026-05-02'))
    expect(c.fee_payment).toMatchObject({ status: 'met', stoppedOn: '2026-05-01', dueOn: '2026-04-13' })
  })

  const decreed = facts(submitted, {
    feePaidOn: '2026-03-10',
    decidedOn: '2026-04-20',
    outcome: 'advise_grant',
    royalDecree: { decision: 'granted', date: '2026-09-15' },
  })

  it('the granted decree stops ind_decision and starts the invitation and lapse clocks from its date', () => {
    const c = byCode(computeClocks(nat, decreed, '2026-09-20'))
    expect(c.ind_decision).toMatchObject({ status: 'met', stoppedOn: '2026-09-15' })
    expect(c.ceremony_invitation).toMatchObject({ startedOn: '2026-09-15', dueOn: '2026-10-27', status: 'running' })
    expect(c.ceremony_handover).toMatchObject({ status: 'not_started' })
    expect(c.royal_decree_lapse).toMatchObject({ startedOn: '2026-09-15', dueOn: '2027-09-15', status: 'running' })
    expect(earliestRunningDue(Object.values(c))).toBe('2026-10-27')
  })

  it('the invitation starts ceremony_handover; the ceremony stops it and the lapse', () => {
    const invited = { ...decreed, ceremonyInvitedOn: '2026-10-01' }
    const c = byCode(computeClocks(nat, invited, '2026-10-02'))
    expect(c.ceremony_invitation).toMatchObject({ status: 'met', stoppedOn: '2026-10-01' })
    expect(c.ceremony_handover).toMatchObject({ startedOn: '2026-10-01', dueOn: '2026-11-12', status: 'running' })
    const done = byCode(computeClocks(nat, { ...invited, handedOverOn: '2026-11-10' }, '2026-11-11'))
    expect(done.ceremony_handover).toMatchObject({ status: 'met', stoppedOn: '2026-11-10' })
    expect(done.royal_decree_lapse).toMatchObject({ status: 'met', stoppedOn: '2026-11-10' })
    expect(earliestRunningDue(Object.values(done))).toBeNull()
  })

  it('a lapse marks royal_decree_lapse overdue', () => {
    const c = byCode(computeClocks(nat, { ...decreed, lapsedOn: '2027-09-16' }, '2027-09-16'))
    expect(c.royal_decree_lapse).toMatchObject({ status: 'overdue', stoppedOn: '2027-09-16' })
    expect(c.ceremony_invitation).toMatchObject({ status: 'overdue', stoppedOn: '2027-09-16' })
  })

  it('a refused decree stops ind_decision and starts no ceremony clock', () => {
    const c = byCode(computeClocks(nat, { ...decreed, royalDecree: { decision: 'refused', date: '2026-09-15' } }, '2026-09-20'))
    expect(c.ind_decision).toMatchObject({ status: 'met', stoppedOn: '2026-09-15' })
    expect(c.ceremony_invitation!.status).toBe('not_started')
    expect(c.royal_decree_lapse!.status).toBe('not_started')
  })

  it('a withdrawn case stops its running clocks: met when in time, overdue when late', () => {
    const early = byCode(computeClocks(nat, facts(submitted, { endedOn: '2026-03-20' }), '2026-06-01'))
    expect(early.fee_payment).toMatchObject({ status: 'met', stoppedOn: '2026-03-20' })
    const late = byCode(computeClocks(nat, facts(submitted, { endedOn: '2026-05-20' }), '2026-06-01'))
    expect(late.fee_payment).toMatchObject({ status: 'overdue', stoppedOn: '2026-05-20' })
    expect(late.ind_decision!.status).toBe('not_started')
  })
})

describe('an option', () => {
  const option = def('option')
  const submitted = '2026-06-01'

  it('carries fee_payment, option_decision and the confirmation clocks — extensions fold into option_decision', () => {
    expect(computeClocks(option, facts(submitted), submitted).map((c) => c.code)).toEqual([
      'fee_payment',
      'option_decision',
      'option_confirmation_handover',
      'option_confirmation_lapse',
    ])
  })

  it('option_decision runs 13 weeks from receipt, plus its extensions when applied', () => {
    expect(byCode(computeClocks(option, facts(submitted), submitted)).option_decision).toMatchObject({ dueOn: '2026-08-31', status: 'running' })
    const extended = facts(submitted, {
      optionExtensions: [
        { code: 'option_decision_extension', weeks: 13 },
        { code: 'option_renunciation_advice', weeks: 4 },
      ],
    })
    expect(byCode(computeClocks(option, extended, submitted)).option_decision!.dueOn).toBe(addWeeks(submitted, 30))
  })

  it('the grant stops option_decision and starts the 9-week hand-over and the 1-year lapse', () => {
    const c = byCode(computeClocks(option, facts(submitted, { decidedOn: '2026-07-01', outcome: 'grant' }), '2026-07-02'))
    expect(c.option_decision).toMatchObject({ status: 'met', stoppedOn: '2026-07-01' })
    expect(c.option_confirmation_handover).toMatchObject({ startedOn: '2026-07-01', dueOn: '2026-09-02', status: 'running' })
    expect(c.option_confirmation_lapse).toMatchObject({ startedOn: '2026-07-01', dueOn: '2027-07-01', status: 'running' })
  })

  it('a refusal starts no confirmation clock', () => {
    const c = byCode(computeClocks(option, facts(submitted, { decidedOn: '2026-07-01', outcome: 'refuse' }), '2026-07-02'))
    expect(c.option_confirmation_handover!.status).toBe('not_started')
    expect(c.option_decision!.status).toBe('met')
  })
})

describe('a first registration and an IPR assessment', () => {
  it('brp_overview starts at the registration and stops when the hub closes the case', () => {
    const fr = def('first_registration')
    expect(computeClocks(fr, facts('2026-11-02'), '2026-11-02').map((c) => [c.code, c.status])).toEqual([['brp_overview', 'not_started']])
    const registered = facts('2026-11-02', { decidedOn: '2026-11-27', outcome: 'registered' })
    expect(computeClocks(fr, registered, '2026-12-28')[0]).toMatchObject({ startedOn: '2026-11-27', dueOn: '2026-12-28', status: 'running' })
    expect(computeClocks(fr, registered, '2026-12-29')[0]!.status).toBe('overdue')
    expect(computeClocks(fr, { ...registered, endedOn: '2026-12-10' }, '2026-12-29')[0]).toMatchObject({ status: 'met', stoppedOn: '2026-12-10' })
    expect(computeClocks(fr, facts('2026-11-02', { decidedOn: '2026-11-27', outcome: 'refused' }), '2026-12-29')[0]!.status).toBe('not_started')
  })

  it('an IPR assessment has no statutory clock', () => {
    expect(computeClocks(def('ipr_assessment'), facts('2026-11-02'), '2026-11-02')).toEqual([])
  })
})

describe('clock filters', () => {
  it('overdue is a last day before today; due within 10 working days runs up to the 10th working day', () => {
    expect(clockFilterRange('overdue', '2026-12-01')).toEqual({ before: '2026-12-01' })
    // 10 working days after Tuesday 1 December 2026: 15 December.
    expect(clockFilterRange('due_within_10_working_days', '2026-12-01')).toEqual({ from: '2026-12-01', until: '2026-12-15' })
    // over Christmas: 25 and 26 December and 1 January are skipped
    expect(clockFilterRange('due_within_10_working_days', '2026-12-21').until).toBe(workingDaysAfter('2026-12-21', 10))
    expect(workingDaysAfter('2026-12-21', 10)).toBe('2027-01-06')
  })

  it('property: the earliest running due date is the minimum over unstopped clocks, independent of today', () => {
    const nat = def('naturalisation')
    fc.assert(
      fc.property(aDay, fc.integer({ min: 0, max: 400 }), fc.boolean(), (submittedOn, later, paid) => {
        const f = facts(submittedOn, paid ? { feePaidOn: addDays(submittedOn, 3) } : {})
        const a = computeClocks(nat, f, submittedOn)
        const b = computeClocks(nat, f, addDays(submittedOn, later))
        expect(earliestRunningDue(a)).toBe(earliestRunningDue(b))
        const expected = paid ? addYears(addDays(submittedOn, 3), 1) : clockDueOn(nat.statutoryClocks[0]!, submittedOn)
        expect(earliestRunningDue(a)).toBe(expected)
        for (const c of b) if (c.status === 'overdue' && c.stoppedOn === null) expect(c.dueOn! < addDays(submittedOn, later)).toBe(true)
      }),
      { numRuns: 500 },
    )
  })
})
