import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DomainError } from '../../api/domain/errors.js'
import { COUNTRIES } from '../../api/domain/countries.js'
import { DOCUMENT_KINDS, IDENTITY_DOCUMENT_KINDS, type DocumentKind } from '../../api/domain/document-kinds.js'
import {
  legalisationFindings,
  legalisationRequirement,
  translationFinding,
  translationRequired,
  NARROW_EXEMPTIONS,
  type DocumentForm,
  type LegalisationInput,
  type LegalisationRequirement,
} from '../../api/domain/legalisation.js'

const EU = 'exempt-eu-public-documents'
const TREATY = 'exempt-treaty'
const APOSTILLE = 'apostille-required'
const LEGALISATION = 'legalisation-required'
const DATE = 'apostilleInForceSince'
const OBJECTION = 'apostilleObjectionByNl'

// Expected values read from shared/data/countries.csv and DOMAIN.md §3, not from running the code.
// [kind, issuing country, presented on, requirement, fields not confirmed]
const TABLE: [DocumentKind, string, string, LegalisationRequirement, string[]][] = [
  // EU member, covered kind, presented from 2019-02-16: Reg. 2016/1191
  ['birth_certificate', 'DE', '2025-03-10', EU, []],
  ['marriage_certificate', 'FR', '2019-02-16', EU, []], // first day the regulation applies
  ['divorce_decree', 'PL', '2024-05-01', EU, []], // PL apostille date recalled, but not needed
  ['registered_partnership_certificate', 'BE', '2023-01-10', EU, []],
  ['name_change_decision', 'IT', '2022-06-01', EU, []],
  ['parentage_document', 'ES', '2021-09-09', EU, []],
  ['nationality_certificate', 'HR', '2020-01-02', EU, []],
  ['proof_of_address', 'SE', '2026-01-15', EU, []],
  ['birth_certificate', 'GB', '2019-06-01', EU, []], // member until 2020-01-31
  ['birth_certificate', 'GB', '2020-02-01', EU, []], // left, but EU law applied until 2020-12-31
  ['birth_certificate', 'GB', '2020-12-31', EU, []], // last day of the transition period
  ['birth_certificate', 'GB', '2021-01-01', APOSTILLE, [DATE]], // 1965 date recalled
  ['nationality_certificate', 'GB', '2019-02-15', APOSTILLE, [DATE]], // before the regulation applied
  ['birth_certificate', 'RE', '2024-03-01', EU, []], // territory listed as covered
  // EU member before 2019-02-16: no regulation yet
  ['birth_certificate', 'FI', '2019-02-15', APOSTILLE, []],
  ['marriage_certificate', 'DK', '2018-06-01', APOSTILLE, []],
  ['nationality_certificate', 'DE', '2018-06-01', APOSTILLE, []], // CIEC covers civil-status deeds only
  ['proof_of_address', 'SE', '2018-06-01', APOSTILLE, [DATE]],
  ['birth_certificate', 'DE', '2018-06-01', TREATY, []], // CIEC 1/2/16 before the regulation
  ['birth_certificate', 'GP', '2018-05-01', LEGALISATION, [DATE]], // territory, no apostille data
  // EU member, kind not covered by the regulation
  ['civic_integration_diploma', 'DE', '2025-03-10', APOSTILLE, []],
  ['cohabitation_evidence', 'FR', '2025-03-10', APOSTILLE, []],
  ['other', 'PL', '2025-03-10', APOSTILLE, [DATE, OBJECTION]],
  ['civic_integration_diploma', 'HU', '2025-03-10', APOSTILLE, [OBJECTION]],
  // Treaty exemption (CIEC), Türkiye and others
  // Türkiye: only multilingual extracts, nationality certificates, residence documents (narrow)
  ['birth_certificate', 'TR', '2025-03-10', TREATY, []], // form not stated: conditional (see below)
  ['marriage_certificate', 'TR', '2019-01-01', TREATY, []],
  ['divorce_decree', 'TR', '2025-03-10', APOSTILLE, [DATE]], // other civil-status deeds need an apostille
  ['parentage_document', 'TR', '2025-03-10', APOSTILLE, [DATE]],
  ['nationality_certificate', 'TR', '2025-03-10', TREATY, []],
  ['proof_of_address', 'TR', '2025-03-10', TREATY, []],
  ['birth_certificate', 'CH', '2025-03-10', TREATY, []],
  ['divorce_decree', 'BA', '2025-03-10', APOSTILLE, []], // only CIEC 16 multilingual extracts are exempt
  ['birth_certificate', 'BA', '2025-03-10', TREATY, []], // form not stated: conditional
  ['parentage_document', 'MK', '2025-03-10', APOSTILLE, [DATE, OBJECTION]],
  ['birth_certificate', 'MK', '2025-03-10', TREATY, ['notes']], // scope inferred for North Macedonia
  ['marriage_certificate', 'RS', '2025-03-10', TREATY, []], // CIEC 16 multilingual extract
  ['divorce_decree', 'RS', '2025-03-10', APOSTILLE, [DATE, OBJECTION]], // no CIEC 16 extract for divorce
  ['divorce_decree', 'CV', '2025-03-10', APOSTILLE, []],
  // Apostille Convention: presented before vs on/after entry into force
  ['birth_certificate', 'CA', '2024-01-10', LEGALISATION, []],
  ['birth_certificate', 'CA', '2024-01-11', APOSTILLE, []],
  ['marriage_certificate', 'CN', '2023-11-06', LEGALISATION, []],
  ['marriage_certificate', 'CN', '2023-11-07', APOSTILLE, [OBJECTION]], // A**: NL objection not confirmed
  ['birth_certificate', 'SA', '2022-12-06', LEGALISATION, []],
  ['birth_certificate', 'SA', '2022-12-07', APOSTILLE, []],
  ['birth_certificate', 'BD', '2025-03-29', LEGALISATION, []],
  ['birth_certificate', 'BD', '2025-03-30', APOSTILLE, [OBJECTION]],
  ['birth_certificate', 'RW', '2024-06-04', LEGALISATION, []],
  ['birth_certificate', 'RW', '2024-06-05', APOSTILLE, [OBJECTION]],
  ['birth_certificate', 'US', '2025-03-10', APOSTILLE, []],
  ['birth_certificate', 'MA', '2016-08-13', LEGALISATION, [DATE]], // recalled date
  ['birth_certificate', 'MA', '2025-03-10', APOSTILLE, [DATE, OBJECTION]],
  ['birth_certificate', 'XK', '2025-03-10', APOSTILLE, [DATE, OBJECTION]],
  // Not a party
  ['birth_certificate', 'AF', '2024-05-01', LEGALISATION, []], // confirmed "not listed" (table of 2024-07-29)
  ['birth_certificate', 'AF', '2025-01-15', LEGALISATION, [DATE]], // later than that table
  ['marriage_certificate', 'CM', '2023-01-01', LEGALISATION, []],
  // Algeria: a party from 2026-07-09 (accession 2025-11-05), Viet Nam from 2026-09-11, Senegal since 2023-03-23
  ['marriage_certificate', 'DZ', '2026-07-08', LEGALISATION, []],
  ['marriage_certificate', 'DZ', '2026-07-09', APOSTILLE, []],
  ['birth_certificate', 'VN', '2026-09-10', LEGALISATION, []],
  ['birth_certificate', 'VN', '2026-09-11', APOSTILLE, []],
  ['birth_certificate', 'SN', '2023-03-22', LEGALISATION, []],
  ['birth_certificate', 'SN', '2023-03-23', APOSTILLE, []],
  ['birth_certificate', 'ER', '2025-03-10', LEGALISATION, [DATE]], // no apostille data at all
  ['birth_certificate', 'SY', '2024-01-01', LEGALISATION, [DATE]],
  ['marriage_certificate', 'TH', '2026-01-15', LEGALISATION, [DATE]],
  // Identity documents, the Netherlands and the Kingdom
  ['passport', 'AF', '2025-03-10', 'none', []],
  ['id_card', 'SY', '2025-03-10', 'none', []],
  ['residence_permit', 'ER', '2025-03-10', 'none', []],
  ['passport', 'DE', '2025-03-10', 'none', []],
  ['birth_certificate', 'NL', '2025-03-10', 'none', []],
  ['nationality_certificate', 'NL', '2010-01-01', 'none', []],
  ['other', 'NL', '2025-03-10', 'none', []],
  ['birth_certificate', 'AW', '2025-03-10', 'none', ['notes']],
  ['marriage_certificate', 'CW', '2025-03-10', 'none', ['notes']],
]

const today = (): string => new Date().toISOString().slice(0, 10)

describe('legalisationRequirement', () => {
  it('has a table of at least 40 cases', () => {
    expect(TABLE.length).toBeGreaterThanOrEqual(40)
  })

  it.each(TABLE)('%s from %s presented on %s: %s', (documentKind, issuingCountry, presentedOn, requirement, fields) => {
    const result = legalisationRequirement({ documentKind, issuingCountry, presentedOn })
    expect(result.requirement).toBe(requirement)
    expect(result.unconfirmedFields).toStrictEqual(fields)
    expect(result.unconfirmed).toBe(fields.length > 0)
    expect(result.basis.length).toBeGreaterThan(10)
  })

  it('takes an apostille today for a 2010 deed from a state that joined later', () => {
    const input = { documentKind: 'birth_certificate', issuingCountry: 'SA', presentedOn: today(), issuedOn: '2010-05-04' } as const
    expect(legalisationRequirement(input)).toMatchObject({ requirement: APOSTILLE, unconfirmed: false })
    expect(legalisationRequirement({ ...input, presentedOn: '2010-05-04' }).requirement).toBe(LEGALISATION)
  })

  it('cites the rule in the basis', () => {
    expect(legalisationRequirement({ documentKind: 'birth_certificate', issuingCountry: 'DE', presentedOn: '2025-01-01' }).basis).toContain('2016/1191')
    expect(legalisationRequirement({ documentKind: 'birth_certificate', issuingCountry: 'TR', presentedOn: '2025-01-01' }).basis).toContain('CIEC')
    expect(legalisationRequirement({ documentKind: 'birth_certificate', issuingCountry: 'CA', presentedOn: '2025-01-01' }).basis).toContain('2024-01-11')
  })

  it('refuses bad input with an invalid-request domain error', () => {
    const bad: LegalisationInput[] = [
      { documentKind: 'birth_certificate', issuingCountry: 'ZZ', presentedOn: '2025-01-01' },
      { documentKind: 'birth_certificate', issuingCountry: 'de', presentedOn: '2025-01-01' },
      { documentKind: 'birth_certificate', issuingCountry: 'DE', presentedOn: '2025-02-29' },
      { documentKind: 'diploma' as DocumentKind, issuingCountry: 'DE', presentedOn: '2025-01-01' },
    ]
    for (const input of bad) {
      expect(() => legalisationRequirement(input)).toThrow(DomainError)
      try {
        legalisationRequirement(input)
      } catch (error) {
        expect(error).toMatchObject({ kind: 'invalid', code: 'invalid-request' })
      }
    }
  })

  const anyInput = fc.record({
    documentKind: fc.constantFrom(...DOCUMENT_KINDS),
    issuingCountry: fc.constantFrom(...COUNTRIES.map((c) => c.alpha2)),
    presentedOn: fc
      .date({ min: new Date('2000-01-01'), max: new Date('2035-12-31'), noInvalidDate: true })
      .map((d) => d.toISOString().slice(0, 10)),
  })

  it('holds its invariants for every kind, country and date', () => {
    fc.assert(
      fc.property(anyInput, fc.option(fc.constant('1990-01-01')), (input, issuedOn) => {
        const result = legalisationRequirement(input)
        expect(result.unconfirmed).toBe(result.unconfirmedFields.length > 0)
        expect(legalisationRequirement({ ...input, issuedOn })).toStrictEqual(result) // issue date never matters
        if (IDENTITY_DOCUMENT_KINDS.has(input.documentKind)) expect(result).toMatchObject({ requirement: 'none', unconfirmed: false })
        if (result.requirement === EU) expect(input.presentedOn >= '2019-02-16').toBe(true)
        const codes = legalisationFindings(input, result).map((f) => f.code)
        const main = result.requirement === 'none' ? [] : [result.requirement]
        expect(codes).toStrictEqual(result.unconfirmed ? [...main, 'rule-data-unconfirmed'] : main)
      }),
      { numRuns: 2000 },
    )
  })

  it('never goes back from apostille to legalisation as the presentation date moves on', () => {
    fc.assert(
      fc.property(anyInput, fc.integer({ min: 1, max: 5000 }), (input, days) => {
        const later = new Date(Date.parse(`${input.presentedOn}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10)
        if (legalisationRequirement(input).requirement === APOSTILLE) {
          expect(legalisationRequirement({ ...input, presentedOn: later }).requirement).not.toBe(LEGALISATION)
        }
      }),
      { numRuns: 2000 },
    )
  })
})

describe('legalisationFindings', () => {
  const findingsFor = (documentKind: DocumentKind, issuingCountry: string, presentedOn = '2025-03-10') => {
    const input = { documentKind, issuingCountry, presentedOn }
    return legalisationFindings(input, legalisationRequirement(input))
  }

  it('gives one finding per requirement and none for none', () => {
    expect(findingsFor('birth_certificate', 'DE')).toMatchObject([{ code: EU, severity: 'info' }])
    expect(findingsFor('birth_certificate', 'CH')).toMatchObject([{ code: TREATY, severity: 'info' }])
    expect(findingsFor('birth_certificate', 'US')).toMatchObject([{ code: APOSTILLE, severity: 'warning' }])
    expect(findingsFor('birth_certificate', 'AF', '2024-05-01')).toMatchObject([{ code: LEGALISATION, severity: 'warning' }])
    expect(findingsFor('birth_certificate', 'NL')).toStrictEqual([])
    expect(findingsFor('passport', 'SY')).toStrictEqual([])
  })

  it('adds rule-data-unconfirmed when the decision rests on a row not confirmed', () => {
    expect(findingsFor('birth_certificate', 'MA')).toMatchObject([
      { code: APOSTILLE, severity: 'warning' },
      { code: 'rule-data-unconfirmed', severity: 'info' },
    ])
    expect(findingsFor('birth_certificate', 'ER')).toMatchObject([
      { code: LEGALISATION },
      { code: 'rule-data-unconfirmed', message: { en: expect.stringContaining(DATE) as unknown } },
    ])
    expect(findingsFor('birth_certificate', 'AW')).toMatchObject([{ code: 'rule-data-unconfirmed' }])
  })

  it('words the CIEC 16 exemption as conditional on a multilingual extract', () => {
    expect(findingsFor('birth_certificate', 'RS')[0]?.message.en).toContain('multilingual extract')
  })

  it('writes every message in Dutch and English without the document dates', () => {
    for (const [documentKind, issuingCountry, presentedOn] of TABLE) {
      const input = { documentKind, issuingCountry, presentedOn, issuedOn: '1987-06-05' }
      for (const finding of legalisationFindings(input, legalisationRequirement(input))) {
        for (const text of [finding.message.nl, finding.message.en]) {
          expect(text.length).toBeGreaterThan(20)
          expect(text).not.toContain(presentedOn)
          expect(text).not.toContain('1987-06-05')
        }
        expect(finding.message.nl).not.toBe(finding.message.en)
      }
    }
  })
})

describe('translation', () => {
  it.each(['nl', 'en', 'fr', 'de', 'NL'])('accepts %s without translation', (language) => {
    expect(translationRequired(language)).toBe(false)
    expect(translationFinding(language)).toBeNull()
  })

  it.each(['ar', 'tr', 'pl', 'es', 'zh'])('asks a sworn translation for %s', (language) => {
    expect(translationRequired(language)).toBe(true)
    expect(translationFinding(language)).toMatchObject({ code: 'translation-required', severity: 'warning' })
  })

  it('refuses a value that is not an ISO 639-1 code', () => {
    expect(() => translationRequired('ara')).toThrow(DomainError)
    expect(() => translationRequired('')).toThrow(DomainError)
  })
})

describe('narrow treaty exemptions decided by the document form (documentForm)', () => {
  const decide = (documentKind: DocumentKind, issuingCountry: string, documentForm?: DocumentForm | null, presentedOn = '2026-11-02') => {
    const input = { documentKind, issuingCountry, presentedOn, documentForm: documentForm ?? null }
    const outcome = legalisationRequirement(input)
    return { outcome, findings: legalisationFindings(input, outcome) }
  }

  it.each([
    // [kind, country, form, requirement, main finding severity]
    ['birth_certificate', 'TR', 'multilingual_extract', TREATY, 'info'],
    ['birth_certificate', 'TR', 'standard', APOSTILLE, 'warning'],
    ['birth_certificate', 'TR', null, TREATY, 'warning'],
    ['marriage_certificate', 'TR', 'multilingual_extract', TREATY, 'info'],
    ['divorce_decree', 'TR', 'multilingual_extract', APOSTILLE, 'warning'], // no CIEC 16 extract for a divorce
    ['nationality_certificate', 'TR', 'standard', TREATY, 'info'],
    ['nationality_certificate', 'TR', null, TREATY, 'info'],
    ['birth_certificate', 'BA', 'multilingual_extract', TREATY, 'info'],
    ['birth_certificate', 'BA', 'standard', APOSTILLE, 'warning'],
    ['birth_certificate', 'BA', null, TREATY, 'warning'],
    ['divorce_decree', 'BA', null, APOSTILLE, 'warning'],
    ['marriage_certificate', 'MK', 'multilingual_extract', TREATY, 'info'],
    ['marriage_certificate', 'MK', 'standard', APOSTILLE, 'warning'],
    ['marriage_certificate', 'MK', null, TREATY, 'warning'],
    ['birth_certificate', 'RS', 'multilingual_extract', TREATY, 'info'],
    ['birth_certificate', 'RS', 'standard', APOSTILLE, 'warning'],
    ['birth_certificate', 'RS', null, TREATY, 'warning'],
    // a broad CIEC exemption does not depend on the form
    ['divorce_decree', 'CH', null, TREATY, 'info'],
    ['divorce_decree', 'CH', 'standard', TREATY, 'info'],
  ] as const)('%s from %s in form %s: %s (%s)', (kind, country, form, requirement, severity) => {
    const { outcome, findings } = decide(kind, country, form)
    expect(outcome.requirement).toBe(requirement)
    expect(findings[0]).toMatchObject({ code: requirement, severity })
    expect(outcome.onlyIf).toBe(requirement === TREATY && form === null && severity === 'warning' ? 'multilingual_extract' : null)
  })

  it('without the form the finding says the exemption holds only for a multilingual extract', () => {
    for (const country of ['TR', 'BA', 'MK']) {
      const [main] = decide('birth_certificate', country).findings
      expect(main).toMatchObject({ code: TREATY, severity: 'warning' })
      expect(main!.message.en).toContain('only if it is a multilingual extract')
      expect(main!.message.nl).toContain('meertalig uittreksel')
    }
  })

  it('says so when the narrow scope rests on an unconfirmed row (North Macedonia)', () => {
    expect(decide('birth_certificate', 'MK', 'multilingual_extract').findings.map((f) => f.code)).toEqual([TREATY, 'rule-data-unconfirmed'])
    expect(decide('birth_certificate', 'BA', 'multilingual_extract').findings.map((f) => f.code)).toEqual([TREATY])
  })

  it('the narrow table agrees with the notes of the reference rows', () => {
    for (const alpha2 of Object.keys(NARROW_EXEMPTIONS)) {
      const row = COUNTRIES.find((c) => c.alpha2 === alpha2)!
      expect(row.ciecLegalisationExempt).toBe('yes')
      expect(row.notes ?? '').toMatch(/only/)
      expect(row.notes ?? '').toMatch(/apostille/)
      expect(NARROW_EXEMPTIONS[alpha2]!.confirmed).toBe(!/unconfirmed/.test(row.notes ?? ''))
    }
  })

  it('an EU document is exempt whatever its form; the EU form only changes the translation finding', () => {
    expect(decide('birth_certificate', 'DE', 'eu_multilingual_form').outcome.requirement).toBe(EU)
    expect(decide('birth_certificate', 'DE', 'standard').outcome.requirement).toBe(EU)
    expect(translationFinding('pl', { euMultilingualForm: true })).toMatchObject({ code: 'translation-required', severity: 'info' })
    expect(translationFinding('pl')).toMatchObject({ code: 'translation-required', severity: 'warning' })
  })

  it('refuses an unknown form', () => {
    expect(() => legalisationRequirement({ documentKind: 'birth_certificate', issuingCountry: 'TR', presentedOn: '2026-01-01', documentForm: 'copy' as DocumentForm })).toThrow(
      DomainError,
    )
  })
})

describe('refreshed countries before and after entry into force', () => {
  it.each([
    ['DZ', '2026-07-08', LEGALISATION],
    ['DZ', '2026-07-09', APOSTILLE],
    ['VN', '2026-09-10', LEGALISATION],
    ['VN', '2026-09-11', APOSTILLE],
    ['SN', '2023-03-22', LEGALISATION],
    ['SN', '2023-03-23', APOSTILLE],
    ['GB', '2020-12-31', EU],
    ['GB', '2021-01-01', APOSTILLE],
  ] as const)('%s on %s: %s', (country, presentedOn, requirement) => {
    const input = { documentKind: 'birth_certificate' as const, issuingCountry: country, presentedOn }
    const outcome = legalisationRequirement(input)
    expect(outcome.requirement).toBe(requirement)
    // Algeria, Viet Nam and Senegal: the dates are confirmed and the Netherlands did not object.
    if (country !== 'GB') {
      expect(outcome.unconfirmed).toBe(false)
      expect(outcome.basis).toContain(requirement === APOSTILLE ? presentedOn : 'only from')
      expect(legalisationFindings(input, outcome).map((f) => f.code)).toEqual([requirement])
    }
  })

  it('issue date does not matter: a 2001 Algerian deed presented after 2026-07-09 takes an apostille', () => {
    expect(legalisationRequirement({ documentKind: 'marriage_certificate', issuingCountry: 'DZ', presentedOn: '2026-11-02', issuedOn: '2001-01-01' }).requirement).toBe(APOSTILLE)
  })
})
