// Which authentication a foreign document needs when it is presented in the Netherlands (DOMAIN.md §3.1,
// §3.2, §3.3). Pure: no I/O, no clock. The reference data is api/domain/data/countries.data.ts; a decision
// that rests on a value the sources did not confirm says so (`unconfirmed`), it does not pretend.
//
// The date that counts is the PRESENTATION date (the upload date), never the issue date: an apostille or
// legalisation is added when the document is authenticated for use here, so a 2010 deed from a state that
// joined the Apostille Convention in 2022 takes an apostille today.
//
// Reading of the data, stated once:
// - ciec_legalisation_exempt = "unknown" means "nothing was found" (SOURCES.md §2) and is read as "no
//   exemption" without flagging it; otherwise almost every non-EU decision would be flagged.
// - EU accession day and month are general knowledge, but every member joined before 2019-02-16, so only
//   the years (confirmed) and the UK's 2020-01-31 (eur-lex) can change an outcome.
// - The NL date of entry into force (1965, recalled) is not checked: no upload is presented before it.
// - Narrow treaty exemptions (Türkiye, Bosnia and Herzegovina, North Macedonia, and the CIEC 16-only
//   states) depend on the FORM of the document: a CIEC 16 multilingual extract is exempt, a deed in
//   the ordinary form is not. The upload's optional `documentForm` decides it; without it the
//   exemption is given as conditional (a warning finding), never guessed.
// - Reg. (EU) 2016/1191 kept covering UK documents presented up to the end of the transition period,
//   2020-12-31 (Withdrawal Agreement art. 126-127; the notes of the GB row), although the UK left the
//   EU on 2020-01-31.

import { invalidFields, type InvalidField } from './errors.js'
import { isValidIsoDate } from './calendar.js'
import { findCountry, isCountryCode, isEuMemberOn, type CountryRecord } from './countries.js'
import { CIVIL_STATUS_DEED_KINDS, CIVIL_STATUS_KINDS, IDENTITY_DOCUMENT_KINDS, isDocumentKind, type DocumentKind } from './document-kinds.js'

export type LegalisationRequirement =
  | 'none'
  | 'exempt-eu-public-documents'
  | 'exempt-treaty'
  | 'apostille-required'
  | 'legalisation-required'

/** The form of a civil-status document, as the uploader states it (optional on the upload). */
export const DOCUMENT_FORMS = ['standard', 'multilingual_extract', 'eu_multilingual_form'] as const
export type DocumentForm = (typeof DOCUMENT_FORMS)[number]
export const isDocumentForm = (value: string): value is DocumentForm => (DOCUMENT_FORMS as readonly string[]).includes(value)

export interface LegalisationInput {
  documentKind: DocumentKind
  /**
   * `multilingual_extract`: a CIEC 16 (Vienna 1976) multilingual extract; `eu_multilingual_form`: a
   * public document with the multilingual standard form of Reg. (EU) 2016/1191; `standard`: neither.
   * Absent (null): not stated — a narrow exemption is then only conditional.
   */
  documentForm?: DocumentForm | null
  /** ISO 3166-1 alpha-2, upper case, present in the country table. */
  issuingCountry: string
  /** YYYY-MM-DD, the upload date. */
  presentedOn: string
  /** Accepted so callers can pass a document as stored, and deliberately ignored: see the file header. */
  issuedOn?: string | null
}

export interface LegalisationOutcome {
  requirement: LegalisationRequirement
  /** Short English reason citing the rule. */
  basis: string
  /** True when the decision rests on a row or field the sources mark not confirmed / unknown. */
  unconfirmed: boolean
  /** The CountryRecord fields behind `unconfirmed`. */
  unconfirmedFields: string[]
  /**
   * Set when the exemption holds only if the document has this form and the upload did not say
   * which form it has: the finding is then a warning, not info.
   */
  onlyIf: 'multilingual_extract' | null
}

export interface Finding {
  code: string
  severity: 'info' | 'warning' | 'error'
  message: { nl: string; en: string }
}

/** Reg. (EU) 2016/1191 applies from this day (DOMAIN.md §0). */
export const EU_PUBLIC_DOCUMENTS_FROM = '2019-02-16'

/** "Not listed" rows were read from the HCCH status table of 29-VII-2024; later accessions are unchecked. */
export const APOSTILLE_STATUS_TABLE_AS_OF = '2024-07-29'

/** Languages accepted without translation (DOMAIN.md §3.3). */
const LANGUAGES_WITHOUT_TRANSLATION: ReadonlySet<string> = new Set(['nl', 'en', 'fr', 'de'])

/** Kinds covered by Reg. (EU) 2016/1191 art. 2: birth, marriage, divorce, partnership, name, parentage, nationality, domicile. */
const EU_COVERED_KINDS: ReadonlySet<DocumentKind> = new Set<DocumentKind>([...CIVIL_STATUS_KINDS, 'proof_of_address'])

/** CIEC 16 (Vienna 1976) multilingual extracts exist for birth, marriage and death records only. */
const MULTILINGUAL_EXTRACT_KINDS: ReadonlySet<DocumentKind> = new Set<DocumentKind>([
  'birth_certificate',
  'marriage_certificate',
])

/**
 * The Caribbean parts of the Kingdom (their rows note "part of the Kingdom of the Netherlands"). No
 * legalisation is asked within the Kingdom, but no reference source confirms that, so it is flagged.
 */
const KINGDOM_PARTS: ReadonlySet<string> = new Set(['AW', 'BQ', 'CW', 'SX'])

const EU_REGULATION = 'EU Reg. 2016/1191'

const outcome = (
  requirement: LegalisationRequirement,
  basis: string,
  unconfirmedFields: string[] = [],
  onlyIf: LegalisationOutcome['onlyIf'] = null,
): LegalisationOutcome => ({ requirement, basis, unconfirmed: unconfirmedFields.length > 0, unconfirmedFields, onlyIf })

/**
 * Treaty exemptions narrower than "civil-status deeds", from the notes of their rows in
 * countries.csv (which cite netherlandsworldwide.nl per country). `multilingualExtractKinds` are
 * exempt in the CIEC 16 multilingual-extract form only; `alwaysExemptKinds` whatever their form;
 * every other kind takes the Apostille route. `confirmed` false: the row's note says the scope is
 * inferred, so a decision on it is flagged as unconfirmed (`notes`).
 */
interface NarrowExemption {
  multilingualExtractKinds: ReadonlySet<DocumentKind>
  alwaysExemptKinds: ReadonlySet<DocumentKind>
  confirmed: boolean
  scope: string
}

export const NARROW_EXEMPTIONS: Readonly<Record<string, NarrowExemption>> = {
  // "only CIEC multilingual extracts of civil-status records, nationality certificates, residence
  // documents and consular documents need no apostille; other civil-status deeds need an apostille"
  TR: {
    multilingualExtractKinds: new Set<DocumentKind>(['birth_certificate', 'marriage_certificate']),
    alwaysExemptKinds: new Set<DocumentKind>(['nationality_certificate', 'proof_of_address']),
    confirmed: true,
    scope: 'multilingual extracts of civil-status records, nationality certificates, residence documents and consular documents',
  },
  // "only CIEC 16 multilingual extracts of birth, marriage and death records are exempt"
  BA: {
    multilingualExtractKinds: new Set<DocumentKind>(['birth_certificate', 'marriage_certificate']),
    alwaysExemptKinds: new Set<DocumentKind>(),
    confirmed: true,
    scope: 'CIEC 16 multilingual extracts of birth, marriage and death records',
  },
  // "covers CIEC 16 multilingual extracts only … unconfirmed for North Macedonia"
  MK: {
    multilingualExtractKinds: new Set<DocumentKind>(['birth_certificate', 'marriage_certificate']),
    alwaysExemptKinds: new Set<DocumentKind>(),
    confirmed: false,
    scope: 'CIEC 16 multilingual extracts of birth, marriage and death records',
  },
}

/** The last day Reg. (EU) 2016/1191 covered a former member's documents (Withdrawal Agreement art. 126-127). */
export const EU_LAW_APPLIED_UNTIL: Readonly<Record<string, string>> = { GB: '2020-12-31' }

/** Whether Reg. (EU) 2016/1191 covers a document of this country presented on `date`. */
const euRegulationCovers = (country: CountryRecord, date: string): boolean =>
  isEuMemberOn(country.alpha2, date) || (EU_LAW_APPLIED_UNTIL[country.alpha2] !== undefined && date <= EU_LAW_APPLIED_UNTIL[country.alpha2]!)

/** The CIEC conventions named in exempt_basis, e.g. ['CIEC16', 'CIEC2', 'CIEC1'] for Türkiye. */
const ciecTreaties = (country: CountryRecord): string[] =>
  country.ciecLegalisationExempt !== 'yes' || country.exemptBasis === null
    ? []
    : country.exemptBasis
        .split(';')
        .map((part) => part.trim().split(' ')[0] ?? '')
        .filter((name) => name.startsWith('CIEC'))

/** CIEC 16 alone exempts only its multilingual extracts (Serbia, Moldova, Cabo Verde). */
const onlyMultilingualExtracts = (treaties: string[]): boolean => treaties.length > 0 && treaties.every((t) => t === 'CIEC16')

/** The narrow exemption of a country: from the table above, or CIEC 16 alone (multilingual extracts only). */
function narrowExemptionOf(country: CountryRecord): NarrowExemption | null {
  const listed = NARROW_EXEMPTIONS[country.alpha2]
  if (listed) return listed
  if (!onlyMultilingualExtracts(ciecTreaties(country))) return null
  return {
    multilingualExtractKinds: MULTILINGUAL_EXTRACT_KINDS,
    alwaysExemptKinds: new Set(),
    confirmed: true,
    scope: 'CIEC 16 multilingual extracts of birth and marriage records',
  }
}

/** Territories listed as covered by the regulation without own EU dates (French outermost regions). */
const isEuRegulationTerritory = (country: CountryRecord): boolean =>
  country.euMemberSince === null && (country.exemptBasis?.startsWith(EU_REGULATION) ?? false)

function validate(input: LegalisationInput): CountryRecord {
  const problems: InvalidField[] = []
  if (!isDocumentKind(input.documentKind)) {
    problems.push({ name: 'documentKind', code: 'unknown-document-kind', reason: 'is not a known document kind' })
  }
  if (!isCountryCode(input.issuingCountry)) {
    problems.push({ name: 'issuingCountry', code: 'unknown-country', reason: 'must be an upper-case ISO 3166-1 alpha-2 code' })
  }
  if (!isValidIsoDate(input.presentedOn)) {
    problems.push({ name: 'presentedOn', code: 'invalid-date', reason: 'must be a calendar date YYYY-MM-DD' })
  }
  if (input.documentForm != null && !isDocumentForm(input.documentForm)) {
    problems.push({ name: 'documentForm', code: 'not-allowed', reason: `must be one of ${DOCUMENT_FORMS.join(', ')}` })
  }
  const country = findCountry(input.issuingCountry)
  if (problems.length > 0 || country === undefined) throw invalidFields(problems)
  return country
}

/** Rules 4 and 5: the Apostille Convention if in force on the presentation date and not objected to. */
function apostilleOrLegalisation(country: CountryRecord, presentedOn: string): LegalisationOutcome {
  const name = country.nameEn
  const since = country.apostilleInForceSince
  const dateConfirmed = country.apostilleConfirmed === 'yes'
  const doubleLegalisation = "double legalisation (the issuing state's foreign ministry, then the Dutch embassy or consulate)"

  if (since === null) {
    if (!dateConfirmed) {
      return outcome(
        'legalisation-required',
        `Apostille Convention status of ${name} unknown in the reference data; treated as not a party: ${doubleLegalisation}.`,
        ['apostilleInForceSince'],
      )
    }
    if (presentedOn > APOSTILLE_STATUS_TABLE_AS_OF) {
      return outcome(
        'legalisation-required',
        `${name} was not a party to the Apostille Convention in the HCCH status table of ${APOSTILLE_STATUS_TABLE_AS_OF}; a later accession was not checked: ${doubleLegalisation}.`,
        ['apostilleInForceSince'],
      )
    }
    return outcome('legalisation-required', `${name} is not a party to the Apostille Convention (HCCH status table): ${doubleLegalisation}.`)
  }

  const fields = dateConfirmed ? [] : ['apostilleInForceSince']
  if (presentedOn < since) {
    return outcome(
      'legalisation-required',
      `Apostille Convention in force for ${name} only from ${since}, after the presentation date: ${doubleLegalisation}.`,
      fields,
    )
  }
  if (country.apostilleObjectionByNl === 'yes') {
    return outcome(
      'legalisation-required',
      `The Netherlands objected to the accession of ${name} (Apostille Convention art. 12), so the Convention does not apply between them: ${doubleLegalisation}.`,
      fields,
    )
  }
  const objectionKnown = country.apostilleObjectionByNl === 'no'
  return outcome(
    'apostille-required',
    `Apostille Convention (The Hague, 5 October 1961) in force for ${name} since ${since}, on or before the presentation date; ` +
      (objectionKnown ? 'no Dutch objection.' : 'whether the Netherlands objected to the accession is not confirmed.'),
    objectionKnown ? fields : [...fields, 'apostilleObjectionByNl'],
  )
}

/** The authentication a document needs, by the rules of DOMAIN.md §3.1 in order. */
export function legalisationRequirement(input: LegalisationInput): LegalisationOutcome {
  const country = validate(input)
  const { documentKind: kind, presentedOn } = input

  if (IDENTITY_DOCUMENT_KINDS.has(kind)) {
    return outcome('none', 'Identity document: checked on presentation; no apostille or legalisation.')
  }
  if (country.alpha2 === 'NL') {
    return outcome('none', 'Dutch document: no foreign-document formality.')
  }
  if (KINGDOM_PARTS.has(country.alpha2)) {
    return outcome(
      'none',
      `${country.nameEn} is part of the Kingdom of the Netherlands: no legalisation within the Kingdom (not confirmed by the reference sources).`,
      ['notes'],
    )
  }

  if (EU_COVERED_KINDS.has(kind) && presentedOn >= EU_PUBLIC_DOCUMENTS_FROM) {
    if (isEuMemberOn(country.alpha2, presentedOn)) {
      return outcome(
        'exempt-eu-public-documents',
        `Regulation (EU) 2016/1191: public document from ${country.nameEn}, an EU member state on the presentation date, presented on or after ${EU_PUBLIC_DOCUMENTS_FROM}; no apostille or legalisation may be required.`,
      )
    }
    if (euRegulationCovers(country, presentedOn)) {
      return outcome(
        'exempt-eu-public-documents',
        `Regulation (EU) 2016/1191: ${country.nameEn} left the EU but EU law, including the regulation, applied to it until ${EU_LAW_APPLIED_UNTIL[country.alpha2]} (Withdrawal Agreement art. 126-127); presented on or before that day, no apostille or legalisation may be required.`,
      )
    }
    if (isEuRegulationTerritory(country)) {
      return outcome(
        'exempt-eu-public-documents',
        `Regulation (EU) 2016/1191: ${country.nameEn} is covered as part of an EU member state (nederlandwereldwijd.nl); no apostille or legalisation may be required.`,
      )
    }
  }

  const treaties = ciecTreaties(country)
  const narrow = narrowExemptionOf(country)
  if (narrow) {
    const flagged = narrow.confirmed ? [] : ['notes']
    if (narrow.alwaysExemptKinds.has(kind)) {
      return outcome('exempt-treaty', `Treaty exemption for ${country.nameEn} (${treaties.join(', ')}), limited to ${narrow.scope}: this kind is exempt in any form.`, flagged)
    }
    if (narrow.multilingualExtractKinds.has(kind) && input.documentForm !== 'standard' && input.documentForm !== 'eu_multilingual_form') {
      return input.documentForm === 'multilingual_extract'
        ? outcome('exempt-treaty', `Treaty exemption for ${country.nameEn} (${treaties.join(', ')}), limited to ${narrow.scope}: a multilingual extract needs no apostille or legalisation.`, flagged)
        : outcome(
            'exempt-treaty',
            `Treaty exemption for ${country.nameEn} (${treaties.join(', ')}), limited to ${narrow.scope}: exempt only if the document is a multilingual extract (the upload did not say); a deed in another form needs an apostille or legalisation.`,
            flagged,
            'multilingual_extract',
          )
    }
    // Outside the narrow scope (another kind, or a deed in the ordinary form): the Apostille route.
    const route = apostilleOrLegalisation(country, presentedOn)
    return { ...route, basis: `Outside the narrow treaty exemption of ${country.nameEn} (${narrow.scope}). ${route.basis}` }
  }
  if (treaties.length > 0 && CIVIL_STATUS_DEED_KINDS.has(kind)) {
    return outcome('exempt-treaty', `Treaty exemption for ${country.nameEn} (${treaties.join(', ')}): civil-status deeds and extracts need no apostille or legalisation.`)
  }

  return apostilleOrLegalisation(country, presentedOn)
}

/** Whether a document in this language (ISO 639-1) needs a sworn translation (DOMAIN.md §3.3). */
export function translationRequired(language: string): boolean {
  const code = language.trim().toLowerCase()
  if (!/^[a-z]{2}$/.test(code)) {
    throw invalidFields([{ name: 'language', code: 'invalid-language', reason: 'must be an ISO 639-1 code' }])
  }
  return !LANGUAGES_WITHOUT_TRANSLATION.has(code)
}

function mainFinding(country: CountryRecord, output: LegalisationOutcome): Finding | null {
  const nl = country.nameNl
  const en = country.nameEn
  switch (output.requirement) {
    case 'none':
      return null
    case 'exempt-eu-public-documents':
      return {
        code: 'exempt-eu-public-documents',
        severity: 'info',
        message: {
          nl: `Openbaar document uit ${nl}: geen apostille of legalisatie nodig (Verordening (EU) 2016/1191). Een meertalig modelformulier mag als vertaalhulp dienen.`,
          en: `Public document from ${en}: no apostille or legalisation needed (Regulation (EU) 2016/1191). A multilingual standard form may serve as a translation aid.`,
        },
      }
    case 'exempt-treaty': {
      const treaties = ciecTreaties(country)
      if (output.onlyIf === 'multilingual_extract') {
        // The exemption holds only for a multilingual extract and the upload did not state the form.
        return {
          code: 'exempt-treaty',
          severity: 'warning',
          message: {
            nl: `Document uit ${nl}: alleen vrijgesteld van apostille en legalisatie als het een meertalig uittreksel is (CIEC-verdrag 16, Wenen 1976); een akte in een andere vorm heeft een apostille of legalisatie nodig. Controleer de vorm van het document.`,
            en: `Document from ${en}: exempt from apostille and legalisation only if it is a multilingual extract (CIEC convention 16, Vienna 1976); a deed in another form needs an apostille or legalisation. Check the form of the document.`,
          },
        }
      }
      const narrow = narrowExemptionOf(country)
      return {
        code: 'exempt-treaty',
        severity: 'info',
        message: narrow
          ? {
              nl: `Document uit ${nl}: vrijgesteld van apostille en legalisatie op grond van CIEC-verdragen (${treaties.join(', ')}); de vrijstelling geldt alleen voor deze documentsoort of dit meertalig uittreksel.`,
              en: `Document from ${en}: exempt from apostille and legalisation under CIEC conventions (${treaties.join(', ')}); the exemption covers this kind or this multilingual extract only.`,
            }
          : onlyMultilingualExtracts(treaties)
          ? {
              nl: `Document uit ${nl}: alleen vrijgesteld van apostille en legalisatie als het een meertalig uittreksel is (CIEC-verdrag 16, Wenen 1976); anders is een apostille of legalisatie nodig.`,
              en: `Document from ${en}: exempt from apostille and legalisation only if it is a multilingual extract (CIEC convention 16, Vienna 1976); otherwise an apostille or legalisation is needed.`,
            }
          : {
              nl: `Akte van de burgerlijke stand uit ${nl}: vrijgesteld van apostille en legalisatie op grond van CIEC-verdragen (${treaties.join(', ')}).`,
              en: `Civil-status document from ${en}: exempt from apostille and legalisation under CIEC conventions (${treaties.join(', ')}).`,
            },
      }
    }
    case 'apostille-required':
      return {
        code: 'apostille-required',
        severity: 'warning',
        message: {
          nl: `Document uit ${nl}: een apostille van de bevoegde autoriteit in ${nl} is vereist (Apostilleverdrag). Controleer of de apostille aanwezig en echt is.`,
          en: `Document from ${en}: an apostille from the competent authority in ${en} is required (Apostille Convention). Check that the apostille is present and genuine.`,
        },
      }
    case 'legalisation-required':
      return {
        code: 'legalisation-required',
        severity: 'warning',
        message: {
          nl: `Document uit ${nl}: legalisatie is vereist, eerst door het ministerie van Buitenlandse Zaken van ${nl}, daarna door de Nederlandse ambassade of het consulaat. Controleer beide legalisaties.`,
          en: `Document from ${en}: legalisation is required, first by the foreign ministry of ${en}, then by the Dutch embassy or consulate. Check both legalisations.`,
        },
      }
  }
}

/** The review worker's findings for one outcome: the requirement (none for `none`) and a data caveat. */
export function legalisationFindings(input: LegalisationInput, output: LegalisationOutcome): Finding[] {
  const country = validate(input)
  const findings: Finding[] = []
  const main = mainFinding(country, output)
  if (main !== null) findings.push(main)
  if (output.unconfirmed) {
    const fields = output.unconfirmedFields.join(', ')
    findings.push({
      code: 'rule-data-unconfirmed',
      severity: 'info',
      message: {
        nl: `Deze beoordeling steunt op niet-bevestigde referentiegegevens voor ${country.nameNl} (${fields}). Controleer bij de actuele bron (HCCH-statustabel, nederlandwereldwijd.nl) voordat u beslist.`,
        en: `This assessment rests on unconfirmed reference data for ${country.nameEn} (${fields}). Check the current source (HCCH status table, nederlandwereldwijd.nl) before deciding.`,
      },
    })
  }
  return findings
}

/**
 * `translation-required` when the language is not Dutch, English, French or German; otherwise null.
 * With `euMultilingualForm` (an EU public document carrying the multilingual standard form of Reg.
 * (EU) 2016/1191) the form can serve as the translation, so the finding is information only.
 */
export function translationFinding(language: string, options: { euMultilingualForm?: boolean } = {}): Finding | null {
  if (!translationRequired(language)) return null
  const code = language.trim().toLowerCase()
  if (options.euMultilingualForm) {
    return {
      code: 'translation-required',
      severity: 'info',
      message: {
        nl: `Document in taal '${code}' met een meertalig modelformulier (Verordening (EU) 2016/1191): het formulier kan als vertaling dienen als het voor de behandeling volstaat; anders is een vertaling nodig.`,
        en: `Document in language '${code}' with a multilingual standard form (Regulation (EU) 2016/1191): the form can serve as the translation if it suffices for processing; otherwise a translation is needed.`,
      },
    }
  }
  return {
    code: 'translation-required',
    severity: 'warning',
    message: {
      nl: `Document in taal '${code}': een vertaling door een in Nederland beëdigd vertaler is nodig. Een in het buitenland gemaakte vertaling moet zelf gelegaliseerd of van een apostille voorzien zijn; bij een EU-document volstaat ook een gewaarmerkte vertaling uit een EU-lidstaat.`,
      en: `Document in language '${code}': a translation by a translator sworn in the Netherlands is needed. A translation made abroad must itself be legalised or apostilled; for an EU public document a certified translation made in any EU member state is also accepted.`,
    },
  }
}
