import { describe, it, expect } from 'vitest'
import {
  CASE_TYPE_CODES,
  CASE_TYPE_VERSIONS,
  IPR_MATTERS,
  type CaseTypeDefinition,
  caseTypeCatalogue,
  clockDeadline,
  findCaseType,
  isCaseTypeCode,
  isExpectedDocument,
  isIprMatter,
  requiredDocumentsFor,
  retentionYearsFor,
  satisfiesRequirement,
} from '../../api/domain/case-types.js'
import { DOCUMENT_KINDS, isDocumentKind } from '../../api/domain/document-kinds.js'
import { ALL_OUTCOME_CODES, OUTCOMES, findOutcome } from '../../api/domain/outcomes.js'
import { addDays, addWeeks, isValidIsoDate, workingDaysAfter } from '../../api/domain/calendar.js'

const TODAY = '2026-11-28'

const get = (code: string, on = TODAY): CaseTypeDefinition => {
  const def = findCaseType(code, on)
  if (!def) throw new Error(`no ${code} on ${on}`)
  return def
}

describe('codes and matters', () => {
  it('has the four case types and seven IPR matters of API.md', () => {
    expect(CASE_TYPE_CODES).toEqual(['naturalisation', 'option', 'first_registration', 'ipr_assessment'])
    expect(IPR_MATTERS).toEqual(['birth', 'marriage', 'divorce', 'registered_partnership', 'name', 'parentage', 'nationality'])
  })

  it.each([
    ['naturalisation', true],
    ['ipr_assessment', true],
    ['Naturalisation', false],
    ['naturalisatie', false],
    ['', false],
    ['toString', false],
    ['__proto__', false],
  ])('isCaseTypeCode(%j) = %s', (value, expected) => {
    expect(isCaseTypeCode(value)).toBe(expected)
  })

  it.each([
    ['birth', true],
    ['registered_partnership', true],
    ['adoption', false],
    ['Birth', false],
    ['', false],
  ])('isIprMatter(%j) = %s', (value, expected) => {
    expect(isIprMatter(value)).toBe(expected)
  })
})

describe('the shipped catalogue', () => {
  it('has a version of every type, each with a real validFrom and no duplicate (code, validFrom)', () => {
    for (const code of CASE_TYPE_CODES) expect(CASE_TYPE_VERSIONS.some((v) => v.code === code)).toBe(true)
    for (const v of CASE_TYPE_VERSIONS) expect(isValidIsoDate(v.validFrom)).toBe(true)
    const keys = CASE_TYPE_VERSIONS.map((v) => `${v.code}@${v.validFrom}`)
    expect(new Set(keys).size).toBe(keys.length)
  })

  it('lists every type today, in code order', () => {
    expect(caseTypeCatalogue(TODAY).map((d) => d.code)).toEqual([...CASE_TYPE_CODES])
  })

  it('has nothing before the first version', () => {
    expect(caseTypeCatalogue('2023-12-31')).toEqual([])
    expect(findCaseType('option', '2023-12-31')).toBeUndefined()
    expect(findCaseType('option', '2024-01-01')?.code).toBe('option')
  })

  it('returns undefined for an unknown code and refuses an invalid date', () => {
    expect(findCaseType('adoption', TODAY)).toBeUndefined()
    expect(() => findCaseType('option', '2026-02-30')).toThrow(RangeError)
    expect(() => caseTypeCatalogue('28-11-2026')).toThrow(RangeError)
  })

  it('is frozen, so no caller can change the shared data', () => {
    const def = get('option')
    expect(Object.isFrozen(def)).toBe(true)
    expect(Object.isFrozen(def.requiredDocuments)).toBe(true)
    expect(Object.isFrozen(def.statutoryClocks[0]!.term)).toBe(true)
    expect(() => {
      def.requiredDocuments.push('other')
    }).toThrow(TypeError)
  })

  it('uses only known document kinds, and every required kind is also expected', () => {
    for (const def of CASE_TYPE_VERSIONS) {
      for (const kind of [...def.requiredDocuments, ...def.expectedDocuments]) expect(isDocumentKind(kind)).toBe(true)
      for (const matter of [undefined, ...IPR_MATTERS]) {
        for (const kind of requiredDocumentsFor(def, matter)) {
          expect(isDocumentKind(kind)).toBe(true)
          expect(isExpectedDocument(def, kind)).toBe(true)
        }
      }
    }
  })

  it('always accepts `other`, and flags kinds that do not belong', () => {
    for (const def of CASE_TYPE_VERSIONS) expect(isExpectedDocument(def, 'other')).toBe(true)
    expect(isExpectedDocument(get('option'), 'civic_integration_diploma')).toBe(false) // no inburgering for option
    expect(isExpectedDocument(get('naturalisation'), 'proof_of_address')).toBe(false)
    expect(isExpectedDocument(get('first_registration'), 'cohabitation_evidence')).toBe(false)
    expect(DOCUMENT_KINDS.filter((k) => isExpectedDocument(get('naturalisation'), k)).length).toBeLessThan(DOCUMENT_KINDS.length)
  })

  it('requires the documents of DOMAIN.md §1.5 and §2.1', () => {
    expect(requiredDocumentsFor(get('naturalisation'))).toEqual([
      'passport',
      'residence_permit',
      'birth_certificate',
      'civic_integration_diploma',
    ])
    expect(requiredDocumentsFor(get('option'))).not.toContain('civic_integration_diploma')
    expect(requiredDocumentsFor(get('first_registration'))).toEqual(['passport', 'proof_of_address', 'birth_certificate'])
  })

  it('adds the matter document for an IPR assessment, and ignores a matter elsewhere', () => {
    const ipr = get('ipr_assessment')
    expect(requiredDocumentsFor(ipr)).toEqual([])
    const byMatter = Object.fromEntries(IPR_MATTERS.map((m) => [m, requiredDocumentsFor(ipr, m)]))
    expect(byMatter).toEqual({
      birth: ['birth_certificate'],
      marriage: ['marriage_certificate'],
      divorce: ['divorce_decree'],
      registered_partnership: ['registered_partnership_certificate'],
      name: ['name_change_decision'],
      parentage: ['parentage_document'],
      nationality: ['nationality_certificate'],
    })
    expect(requiredDocumentsFor(get('naturalisation'), 'marriage')).toEqual(requiredDocumentsFor(get('naturalisation')))
  })

  it('lets an identity card stand in for a passport, and nothing else', () => {
    expect(satisfiesRequirement('passport', 'passport')).toBe(true)
    expect(satisfiesRequirement('passport', 'id_card')).toBe(true)
    expect(satisfiesRequirement('passport', 'residence_permit')).toBe(false)
    expect(satisfiesRequirement('id_card', 'passport')).toBe(false)
    expect(satisfiesRequirement('birth_certificate', 'other')).toBe(false)
  })

  it('names the appointment kinds each type needs', () => {
    expect(get('naturalisation').appointmentKinds).toEqual(['intake_interview', 'ceremony'])
    expect(get('option').appointmentKinds).toEqual(['intake_interview', 'option_confirmation'])
    expect(get('first_registration').appointmentKinds).toEqual(['registration_appearance'])
    expect(get('ipr_assessment').appointmentKinds).toEqual([])
  })

  it('carries the retention periods of DOMAIN.md §6 and §2.4', () => {
    expect(retentionYearsFor(get('option'))).toBe(12)
    expect(retentionYearsFor(get('naturalisation'))).toBeNull()
    expect(retentionYearsFor(get('first_registration'))).toBe(110)
    expect(retentionYearsFor(get('ipr_assessment'))).toBeNull()
    expect(retentionYearsFor(get('ipr_assessment'), 'marriage')).toBe(110)
    expect(retentionYearsFor(get('ipr_assessment'), 'nationality')).toBe(10)
  })
})

describe('statutory clocks', () => {
  const clock = (code: string, clockCode: string) => {
    const c = get(code).statutoryClocks.find((x) => x.code === clockCode)
    if (!c) throw new Error(`no clock ${clockCode} on ${code}`)
    return c
  }

  it.each([
    ['option', 'option_decision', { weeks: 13 }, 'declaration_received', /RWN art\. 6\(5\)/],
    ['option', 'option_confirmation_handover', { weeks: 9 }, 'requirements_found_met', /BVVN art\. 60a/],
    ['option', 'fee_payment', { weeks: 6 }, 'request_received', /BOEN/],
    ['naturalisation', 'ceremony_invitation', { weeks: 6 }, 'royal_decree_date', /BVVN art\. 60b/],
    ['naturalisation', 'ceremony_handover', { weeks: 6 }, 'invitation_sent', /BVVN art\. 60b/],
    ['naturalisation', 'royal_decree_lapse', { years: 1 }, 'royal_decree_date', /BVVN art\. 60b/],
    ['first_registration', 'aangifte', { days: 5 }, 'arrival_in_nl', /Wet BRP art\. 2\.38/],
    ['first_registration', 'brp_overview', { weeks: 4 }, 'registration_recorded', /Wet BRP art\. 2\.54/],
  ])('%s has %s', (code, clockCode, term, startsAt, source) => {
    const c = clock(code, clockCode)
    expect(c.term).toEqual(term)
    expect(c.startsAt).toBe(startsAt)
    expect(c.source).toMatch(source)
    expect(c.descriptionNl.length).toBeGreaterThan(0)
    expect(c.descriptionEn.length).toBeGreaterThan(0)
  })

  it('has unique clock codes per type and positive whole-number terms with a cited source', () => {
    for (const def of CASE_TYPE_VERSIONS) {
      const codes = def.statutoryClocks.map((c) => c.code)
      expect(new Set(codes).size).toBe(codes.length)
      for (const c of def.statutoryClocks) {
        const values = Object.values(c.term)
        expect(values.length).toBeGreaterThan(0)
        for (const v of values) expect(Number.isInteger(v) && v > 0).toBe(true)
        expect(c.source).toMatch(/\[S\d+\]/)
      }
    }
  })

  it('computes deadlines from a start date', () => {
    expect(clockDeadline('2026-03-02', { days: 5 })).toBe('2026-03-07')
    expect(clockDeadline('2026-01-29', { weeks: 13 })).toBe('2026-04-30')
    expect(clockDeadline('2024-02-29', { years: 1 })).toBe('2025-02-28')
    expect(clockDeadline('2026-12-24', { workingDays: 1 })).toBe('2026-12-28')
  })
})

describe('handling terms', () => {
  const everyDay = (from: string, to: string): string[] => {
    const days: string[] = []
    for (let d = from; d <= to; d = addDays(d, 1)) days.push(d)
    return days
  }
  const starts = everyDay('2024-01-01', '2040-12-31')

  it('are positive whole numbers of working days', () => {
    for (const def of CASE_TYPE_VERSIONS) {
      expect(Number.isInteger(def.handlingTermWorkingDays) && def.handlingTermWorkingDays > 0).toBe(true)
    }
  })

  it('never put an option due date after the 13-week statutory decision deadline', () => {
    const term = get('option').handlingTermWorkingDays
    for (const start of starts) expect(workingDaysAfter(start, term) <= addWeeks(start, 13)).toBe(true)
  })

  it('never put a first-registration due date after the 4-week overview deadline', () => {
    const term = get('first_registration').handlingTermWorkingDays
    for (const start of starts) expect(workingDaysAfter(start, term) <= addWeeks(start, 4)).toBe(true)
  })
})

describe('versions by date', () => {
  // Synthetic versions: the shipped catalogue has one version per type so far.
  const base = get('option')
  const v2: CaseTypeDefinition = { ...base, validFrom: '2027-01-01', handlingTermWorkingDays: 50 }
  const v3: CaseTypeDefinition = { ...base, validFrom: '2028-07-01', handlingTermWorkingDays: 45 }
  const later: CaseTypeDefinition = { ...get('ipr_assessment'), validFrom: '2027-06-01', nameEn: 'IPR v2' }
  // deliberately out of order: selection must not depend on the order of the list
  const versions = [v3, ...CASE_TYPE_VERSIONS, later, v2]

  it.each([
    ['2026-12-31', 60],
    ['2027-01-01', 50],
    ['2028-06-30', 50],
    ['2028-07-01', 45],
    ['2099-01-01', 45],
  ])('on %s the option term is %i', (on, term) => {
    expect(findCaseType('option', on, versions)?.handlingTermWorkingDays).toBe(term)
  })

  it('picks each type independently', () => {
    const catalogue = caseTypeCatalogue('2027-06-01', versions)
    expect(catalogue.map((d) => d.code)).toEqual([...CASE_TYPE_CODES])
    expect(catalogue.find((d) => d.code === 'option')?.validFrom).toBe('2027-01-01')
    expect(catalogue.find((d) => d.code === 'ipr_assessment')?.nameEn).toBe('IPR v2')
    expect(catalogue.find((d) => d.code === 'naturalisation')?.validFrom).toBe('2024-01-01')
    expect(caseTypeCatalogue('2027-05-31', versions).find((d) => d.code === 'ipr_assessment')?.nameEn).not.toBe('IPR v2')
  })

  it('leaves out a type whose first version is still in the future', () => {
    const onlyFuture = [{ ...base, validFrom: '2030-01-01' }]
    expect(caseTypeCatalogue('2029-12-31', onlyFuture)).toEqual([])
    expect(caseTypeCatalogue('2030-01-01', onlyFuture).map((d) => d.code)).toEqual(['option'])
  })
})

describe('outcomes per case type (API.md "Decisions, decrees and clocks")', () => {
  it.each([
    ['naturalisation', ['advise_grant', 'advise_refuse']],
    ['option', ['grant', 'refuse']],
    ['first_registration', ['registered', 'refused']],
    ['ipr_assessment', ['recognised', 'not_recognised']],
  ])('%s decides %j', (code, outcomes) => {
    expect(get(code).outcomes).toEqual(outcomes)
    for (const outcome of outcomes) {
      const def = findOutcome(code, outcome)
      expect(def?.source).toMatch(/\S/)
      expect(def?.descriptionNl.length).toBeGreaterThan(0)
    }
  })

  it('only the option grant awaits the ceremony directly; only the advice to grant awaits a Royal Decree', () => {
    const all = CASE_TYPE_CODES.flatMap((caseType) => OUTCOMES[caseType].map((o) => ({ caseType, ...o })))
    expect(all.filter((o) => o.next === 'awaiting_ceremony').map((o) => o.code)).toEqual(['grant'])
    expect(all.filter((o) => o.awaitsRoyalDecree).map((o) => o.code)).toEqual(['advise_grant'])
    expect(findOutcome('option', 'advise_grant')).toBeUndefined()
    expect(findOutcome('nope', 'grant')).toBeUndefined()
    expect([...ALL_OUTCOME_CODES].sort()).toEqual(
      ['advise_grant', 'advise_refuse', 'grant', 'refuse', 'registered', 'refused', 'recognised', 'not_recognised'].sort(),
    )
  })
})
