// Issue 13: the clocks of a just-submitted case are remembered per case type, version, submission
// day and today — they are exactly clocksOf's, and a row with any fact beyond its submission day is
// computed on its own.
import { describe, expect, it } from 'vitest'
import type { CaseRow } from '../../api/cases/cases.repository.js'
import { clockDueAtSubmission, clocksOf } from '../../api/cases/clocks.js'
import { clockDueOnSubmission, clocksOfSubmitted } from '../../api/cases/submission-clocks.js'
import { CASE_TYPE_CODES, findCaseType } from '../../api/domain/case-types.js'
import { addDays } from '../../api/domain/calendar.js'
import { dutchDate } from '../../api/time.js'

const fresh = (caseType: CaseRow['case_type'], createdAt: Date): CaseRow =>
  ({
    case_type: caseType,
    case_type_version: findCaseType(caseType, dutchDate(createdAt))!.validFrom,
    created_at: createdAt,
    fee_paid_on: null,
    decided_at: null,
    decision_outcome: null,
    royal_decree_decision: null,
    royal_decree_date: null,
    ceremony_invited_on: null,
  }) as CaseRow

describe('the clocks of a submitted case', () => {
  it('are clocksOf’s for every case type, and the same again on the next submission of the day', () => {
    const now = new Date()
    for (const caseType of CASE_TYPE_CODES) {
      for (const today of [dutchDate(now), addDays(dutchDate(now), 100)]) {
        const c = fresh(caseType, now)
        expect(clocksOfSubmitted(c, today)).toEqual(clocksOf(c, [], today))
        expect(clocksOfSubmitted(fresh(caseType, now), today)).toEqual(clocksOf(c, [], today))
      }
      const version = findCaseType(caseType, dutchDate(now))!.validFrom
      expect(clockDueOnSubmission(caseType, version, now)).toBe(clockDueAtSubmission(caseType, version, now))
    }
  })

  it('are computed on their own once the row has a fact beyond its submission day', () => {
    const now = new Date()
    const today = dutchDate(now)
    const remembered = clocksOfSubmitted(fresh('naturalisation', now), today)
    const paid = { ...fresh('naturalisation', now), fee_paid_on: today }
    expect(clocksOfSubmitted(paid, today)).toEqual(clocksOf(paid, [], today))
    expect(clocksOfSubmitted(paid, today)).not.toEqual(remembered)
  })
})
