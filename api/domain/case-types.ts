// The case-type catalogue (zaaktypen), versioned data shipped in code (API.md "Case types").
//
// Where each value comes from — section keys and source keys of shared/design/DOMAIN.md:
// - naturalisation: procedure §1.4 (BVVN [S15]); documents §1.5; fee payment §0/§1.7 (BOEN 2002
//   art. 5–6 [S13]); IND decision term §0 ([S8], municipal page only); ceremony clocks §0/§1.4
//   (BVVN art. 60b [S15]); retention §6.1 (municipal dossier UNCONFIRMED).
// - option: §1.3 (RWN art. 6(5), 6a(6) [S16]); no inburgering diploma §1.5; confirmation hand-over
//   §0 (BVVN art. 60a [S15]); retention 12 years §1.3/§6.1 (BVVN art. 12(2) [S15]).
// - first_registration: §2.1 (Wet BRP art. 2.38 [S25]) and its list of typical documents; the
//   4-week overview §2.2 (art. 2.54(1)); retention §2.4/§6.1 (Regeling BRP Bijlage 6 [S40]).
// - ipr_assessment: §3 (foreign civil-status documents) and §3.4; retention §2.4/§6.1 [S40].
// - the statutory clocks together: §9 item 2.
//
// Handling terms (`handlingTermWorkingDays`) are the hub's own service terms that drive a case's
// `dueDate`; DOMAIN.md gives no municipal handling term except the option decision, so the others
// are platform choices, explained per type below.

import { addDays, addWeeks, addYears, isValidIsoDate, workingDaysAfter } from './calendar.js'
import { CIVIL_STATUS_KINDS, type DocumentKind } from './document-kinds.js'
import { outcomeCodesFor, type OutcomeCode } from './outcomes.js'

import { CASE_TYPE_CODES, type CaseTypeCode } from './case-type-codes.js'

export { CASE_TYPE_CODES, type CaseTypeCode } from './case-type-codes.js'

/** What an IPR assessment is about (API.md "Case types"). */
export const IPR_MATTERS = [
  'birth',
  'marriage',
  'divorce',
  'registered_partnership',
  'name',
  'parentage',
  'nationality',
] as const
export type IprMatter = (typeof IPR_MATTERS)[number]

/** A statutory term. Exactly one unit is normally set; when several are, see `clockDeadline`. */
export interface ClockTerm {
  years?: number
  weeks?: number
  days?: number
  workingDays?: number
}

export interface StatutoryClock {
  code: string
  descriptionNl: string
  descriptionEn: string
  term: ClockTerm
  /** The event the term counts from, e.g. `royal_decree_date`. */
  startsAt: string
  /** Article and DOMAIN.md source key. */
  source: string
  /** Whether the Algemene termijnenwet moves a last day off a weekend or holiday, and why (atw.ts). */
  atw: AtwChoice
}

/** The Atw decision for one clock: `extends` true moves a last day that is a day off to the next day. */
export interface AtwChoice {
  extends: boolean
  basis: string
}

// The Atw per clock (atw.ts has the articles). Terms of more than 12 weeks or in years are outside
// it (art. 4(a)). For the rest the question is the kind of act that sets the term: the Atw covers a
// wet (art. 1) and an AMvB (art. 5), but the BVVN and the BOEN 2002 are algemene maatregelen van
// rijksbestuur, which it does not name. Where that leaves doubt the platform takes the reading that
// never prejudices the applicant: a term the hub must meet is not extended (the hub plans to the
// earlier day), a term the applicant must meet is.
const ATW_LONG_TERM: AtwChoice = { extends: false, basis: 'Atw not applied: a term of more than 12 weeks or in years (Atw art. 4(a))' }
const ATW_WET: AtwChoice = { extends: true, basis: 'Atw applies: a term set in a wet (Atw art. 1(1)); a last day on a Saturday, Sunday or holiday moves to the next working day' }
const ATW_HUB_AMVRB: AtwChoice = {
  extends: false,
  basis:
    'Atw not applied: the term is set in an algemene maatregel van rijksbestuur, which Atw art. 1 and 5 do not name; the hub must meet it, so the unextended last day counts',
}
const ATW_APPLICANT_AMVRB: AtwChoice = {
  extends: true,
  basis:
    'Atw applied by analogy: the term is set in an algemene maatregel van rijksbestuur, which Atw art. 1 and 5 do not name; it binds the applicant, so a last day on a Saturday, Sunday or holiday moves to the next working day',
}

export interface CaseTypeDefinition {
  code: CaseTypeCode
  /** First day (YYYY-MM-DD) this version applies; the newest version with validFrom <= the date wins. */
  validFrom: string
  nameNl: string
  nameEn: string
  /** The kinds a complete dossier needs; for ipr_assessment add the matter's kinds (`requiredDocumentsFor`). */
  requiredDocuments: DocumentKind[]
  /** Per-matter additions for ipr_assessment only. */
  requiredDocumentsByIprMatter?: Record<IprMatter, DocumentKind[]>
  /** Kinds that belong in such a dossier at all; anything else gets `kind-not-expected-for-case-type`. */
  expectedDocuments: DocumentKind[]
  appointmentKinds: string[]
  /** The values `decide` accepts (outcomes.ts says what each means and where the case goes next). */
  outcomes: OutcomeCode[]
  handlingTermWorkingDays: number
  statutoryClocks: StatutoryClock[]
  /** Years the dossier is kept, or null when DOMAIN.md gives no single binding period (see comment). */
  retentionYears: number | null
  retentionYearsByIprMatter?: Record<IprMatter, number>
}

// BOEN 2002 art. 5–6: the fee is due at filing; unpaid after 6 weeks the request is not processed.
const FEE_PAYMENT_CLOCK: StatutoryClock = {
  code: 'fee_payment',
  descriptionNl: 'Leges betaald binnen 6 weken na ontvangst, anders buiten behandeling',
  descriptionEn: 'Fee paid within 6 weeks of receipt, otherwise the request is not processed',
  term: { weeks: 6 },
  startsAt: 'request_received',
  source: 'BOEN 2002 art. 5-6; BVVN art. 4(2) [S13][S15]',
  atw: ATW_APPLICANT_AMVRB,
}

/** Every version of every case type. Append a new version; never edit one that is in use. */
export const CASE_TYPE_VERSIONS: readonly CaseTypeDefinition[] = deepFreeze([
  {
    code: 'naturalisation',
    // The first catalogue version; it only has to precede every case the platform handles.
    validFrom: '2024-01-01',
    nameNl: 'Naturalisatie',
    nameEn: 'Naturalisation',
    // §1.5. Marriage/partnership and cohabitation evidence are "if applicable", so only expected.
    // Not modelled: Syrian applicants need no passport or birth certificate (IND practice, §1.5) —
    // a specialist waives those checklist items.
    requiredDocuments: ['passport', 'residence_permit', 'birth_certificate', 'civic_integration_diploma'],
    expectedDocuments: [
      'passport',
      'id_card',
      'residence_permit',
      'birth_certificate',
      'civic_integration_diploma',
      'marriage_certificate',
      'registered_partnership_certificate',
      'cohabitation_evidence',
      'other',
    ],
    // Filing is in person (BVVN art. 3); the decree takes effect at the ceremony (art. 60b).
    appointmentKinds: ['intake_interview', 'ceremony'],
    outcomes: outcomeCodesFor('naturalisation'),
    // No statutory municipal term from filing to the advice to the IND (§9 item 2); 40 working
    // days (≈ 8 weeks) keeps the advice well inside the IND's one-year decision term.
    handlingTermWorkingDays: 40,
    statutoryClocks: [
      FEE_PAYMENT_CLOCK,
      {
        code: 'ind_decision',
        descriptionNl: 'Beslissing IND binnen 1 jaar na betaling van de leges, tweemaal te verlengen met een half jaar',
        descriptionEn: 'IND decision within 1 year of payment of the fee, extendable twice by half a year',
        term: { years: 1 },
        // RWN art. 9(4): the term runs from the day the fee is paid (issue 15).
        startsAt: 'fee_paid',
        source: 'RWN art. 9(4) [S16]; extensions: municipal information page [S8]',
        atw: ATW_LONG_TERM,
      },
      {
        code: 'ceremony_invitation',
        descriptionNl: 'Uitnodiging voor de ceremonie binnen 6 weken na de datum van het KB',
        descriptionEn: 'Ceremony invitation within 6 weeks of the Royal Decree date',
        term: { weeks: 6 },
        startsAt: 'royal_decree_date',
        source: 'BVVN art. 60b(2) [S15]',
        atw: ATW_HUB_AMVRB,
      },
      {
        code: 'ceremony_handover',
        descriptionNl: 'Uitreiking tijdens de ceremonie binnen 6 weken na verzending van de uitnodiging',
        descriptionEn: 'Hand-over at the ceremony within 6 weeks of sending the invitation',
        term: { weeks: 6 },
        startsAt: 'invitation_sent',
        source: 'BVVN art. 60b(1),(4),(7) [S15]',
        atw: ATW_HUB_AMVRB,
      },
      {
        code: 'royal_decree_lapse',
        descriptionNl: 'Het KB vervalt als het niet binnen 1 jaar na de datum is uitgereikt',
        descriptionEn: 'The Royal Decree lapses if not handed over within 1 year of its date',
        term: { years: 1 },
        startsAt: 'royal_decree_date',
        source: 'BVVN art. 60b(11)-(12) [S15]',
        atw: ATW_LONG_TERM,
      },
    ],
    // §6.1: the decree's retention lies with the State; the municipal dossier's is UNCONFIRMED.
    retentionYears: null,
  },
  {
    code: 'option',
    validFrom: '2024-01-01',
    nameNl: 'Optie',
    nameEn: 'Option',
    // §1.5 applies to option too, except the inburgering diploma (§1.3).
    requiredDocuments: ['passport', 'residence_permit', 'birth_certificate'],
    // Marriage/partnership for the spouse grounds of RWN art. 6(1) (§1.3).
    expectedDocuments: [
      'passport',
      'id_card',
      'residence_permit',
      'birth_certificate',
      'marriage_certificate',
      'registered_partnership_certificate',
      'other',
    ],
    // The declaration is made in person (BVVN art. 3); the confirmation is handed over (art. 60a).
    appointmentKinds: ['intake_interview', 'option_confirmation'],
    outcomes: outcomeCodesFor('option'),
    // The burgemeester decides within 13 weeks (RWN art. 6(5)). 13 weeks hold 65 weekdays and at most
    // 5 weekday holidays, so 60 working days never ends after the statutory deadline.
    handlingTermWorkingDays: 60,
    statutoryClocks: [
      FEE_PAYMENT_CLOCK,
      {
        code: 'option_decision',
        descriptionNl: 'Beslissing op de optieverklaring binnen 13 weken',
        descriptionEn: 'Decision on the option declaration within 13 weeks',
        term: { weeks: 13 },
        startsAt: 'declaration_received',
        source: 'RWN art. 6(5) [S16]',
        atw: ATW_LONG_TERM,
      },
      {
        code: 'option_decision_extension',
        descriptionNl: 'Eenmalige verlenging van de beslistermijn met ten hoogste 13 weken',
        descriptionEn: 'One extension of the decision term by at most 13 weeks',
        term: { weeks: 13 },
        startsAt: 'option_decision_deadline',
        source: 'RWN art. 6(5) [S16]',
        atw: ATW_LONG_TERM,
      },
      {
        code: 'option_renunciation_advice',
        descriptionNl: 'Verlenging met 4 weken als advies van de Minister over afstand is gevraagd',
        descriptionEn: "Extension by 4 weeks when the Minister's advice on renunciation is requested",
        term: { weeks: 4 },
        startsAt: 'option_decision_deadline',
        source: 'RWN art. 6a(6) [S16]',
        atw: ATW_LONG_TERM,
      },
      {
        code: 'option_confirmation_handover',
        descriptionNl: 'Uitreiking van de bevestiging binnen 9 weken nadat aan de vereisten is voldaan',
        descriptionEn: 'Hand-over of the confirmation within 9 weeks after the requirements are found met',
        term: { weeks: 9 },
        startsAt: 'requirements_found_met',
        source: 'BVVN art. 60a [S15]',
        atw: ATW_HUB_AMVRB,
      },
      {
        code: 'option_confirmation_lapse',
        descriptionNl: 'De bevestiging vervalt als zij niet binnen 1 jaar is uitgereikt',
        descriptionEn: 'The confirmation lapses if not handed over within 1 year',
        term: { years: 1 },
        // DERIVED: DOMAIN.md §0 gives the year but not its start; taken as the confirmation date,
        // by analogy with art. 60b (the KB date).
        startsAt: 'option_confirmed',
        source: 'BVVN art. 60a [S15]',
        atw: ATW_LONG_TERM,
      },
    ],
    // "at least 12 years after bekendmaking" (BVVN art. 12(2)).
    retentionYears: 12,
  },
  {
    code: 'first_registration',
    validFrom: '2024-01-01',
    nameNl: 'Eerste inschrijving in de BRP',
    nameEn: 'First registration in the BRP',
    // §2.1 typical documents: ID showing nationality, proof of housing, legalised + translated birth
    // certificate. Hulst's "birth certificate not older than 6 months" is a local rule, not modelled.
    requiredDocuments: ['passport', 'proof_of_address', 'birth_certificate'],
    // Art. 2.38(2)-(3): documents on civil status, nationality and residence.
    expectedDocuments: ['passport', 'id_card', 'residence_permit', 'proof_of_address', ...CIVIL_STATUS_KINDS, 'other'],
    // The aangifte is made in person (Wet BRP art. 2.38(1)).
    appointmentKinds: ['registration_appearance'],
    outcomes: outcomeCodesFor('first_registration'),
    // The overview is due 4 weeks after registration (art. 2.54(1)); 4 weeks hold 20 weekdays and at
    // most 3 weekday holidays, so 15 working days leaves room to send it.
    handlingTermWorkingDays: 15,
    statutoryClocks: [
      {
        code: 'aangifte',
        descriptionNl: 'Persoonlijke aangifte uiterlijk op de 5e dag na aankomst in Nederland',
        descriptionEn: 'Report in person no later than the 5th day after arrival in the Netherlands',
        term: { days: 5 },
        startsAt: 'arrival_in_nl',
        source: 'Wet BRP art. 2.38(1) [S25]',
        atw: ATW_WET,
      },
      {
        code: 'brp_overview',
        descriptionNl: 'Volledig overzicht van de persoonslijst binnen 4 weken na inschrijving',
        descriptionEn: 'Complete overview of the personal record within 4 weeks of registration',
        term: { weeks: 4 },
        startsAt: 'registration_recorded',
        source: 'Wet BRP art. 2.54(1) [S25]',
        atw: ATW_WET,
      },
    ],
    // Foreign documents used for a first registration that cannot be reproduced from a Dutch
    // register: 110 years (§2.4). Other pieces of the dossier (the aangifte itself: 5 years) may be
    // purged earlier per document. RvIG announced changes to these periods (§2.4, [S41]).
    retentionYears: 110,
  },
  {
    code: 'ipr_assessment',
    validFrom: '2024-01-01',
    nameNl: 'IPR-beoordeling buitenlandse documenten',
    nameEn: 'IPR assessment of foreign documents',
    // The person is usually registered already; what is assessed is the foreign document itself.
    requiredDocuments: [],
    requiredDocumentsByIprMatter: {
      birth: ['birth_certificate'],
      marriage: ['marriage_certificate'],
      divorce: ['divorce_decree'],
      registered_partnership: ['registered_partnership_certificate'],
      name: ['name_change_decision'],
      parentage: ['parentage_document'],
      nationality: ['nationality_certificate'],
    },
    expectedDocuments: ['passport', 'id_card', ...CIVIL_STATUS_KINDS, 'other'],
    // Assessed on the papers; no personal appearance is required by the sources.
    appointmentKinds: [],
    outcomes: outcomeCodesFor('ipr_assessment'),
    // No statutory term found (DOMAIN.md §3); 40 working days (≈ 8 weeks) is a platform choice.
    handlingTermWorkingDays: 40,
    statutoryClocks: [],
    // Depends on the matter (§2.4): foreign civil-status documents 110 years, nationality 10 years.
    retentionYears: null,
    retentionYearsByIprMatter: {
      birth: 110,
      marriage: 110,
      divorce: 110,
      registered_partnership: 110,
      name: 110,
      parentage: 110,
      nationality: 10,
    },
  },
])

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const child of Object.values(value)) deepFreeze(child)
  }
  return value
}

export const isCaseTypeCode = (value: string): value is CaseTypeCode =>
  (CASE_TYPE_CODES as readonly string[]).includes(value)

export const isIprMatter = (value: string): value is IprMatter => (IPR_MATTERS as readonly string[]).includes(value)

function versionOn(
  code: CaseTypeCode,
  on: string,
  versions: readonly CaseTypeDefinition[],
): CaseTypeDefinition | undefined {
  let best: CaseTypeDefinition | undefined
  for (const v of versions) {
    // YYYY-MM-DD strings sort like the dates they name.
    if (v.code === code && v.validFrom <= on && (!best || v.validFrom > best.validFrom)) best = v
  }
  return best
}

/**
 * The version of each case type valid on `on` (the newest with validFrom <= on), in
 * CASE_TYPE_CODES order; types with no version yet are left out. The objects are shared and
 * frozen. `versions` exists for tests.
 */
export function caseTypeCatalogue(
  on: string,
  versions: readonly CaseTypeDefinition[] = CASE_TYPE_VERSIONS,
): CaseTypeDefinition[] {
  if (!isValidIsoDate(on)) throw new RangeError('on must be a real calendar date in YYYY-MM-DD form')
  return CASE_TYPE_CODES.map((code) => versionOn(code, on, versions)).filter((v) => v !== undefined)
}

/** The version of `code` valid on `on`, or undefined for an unknown code or a date before any version. */
export function findCaseType(
  code: string,
  on: string,
  versions: readonly CaseTypeDefinition[] = CASE_TYPE_VERSIONS,
): CaseTypeDefinition | undefined {
  if (!isValidIsoDate(on)) throw new RangeError('on must be a real calendar date in YYYY-MM-DD form')
  return isCaseTypeCode(code) ? versionOn(code, on, versions) : undefined
}

/** The kinds a complete dossier needs: the type's own plus, for ipr_assessment, those of the matter. */
export function requiredDocumentsFor(def: CaseTypeDefinition, iprMatter?: IprMatter | null): DocumentKind[] {
  const extra = iprMatter && def.requiredDocumentsByIprMatter ? def.requiredDocumentsByIprMatter[iprMatter] : []
  return [...new Set([...def.requiredDocuments, ...extra])]
}

/** The retention period for a dossier of this type (and matter), or null when none is established. */
export function retentionYearsFor(def: CaseTypeDefinition, iprMatter?: IprMatter | null): number | null {
  if (iprMatter && def.retentionYearsByIprMatter) return def.retentionYearsByIprMatter[iprMatter]
  return def.retentionYears
}

/** False means the review raises `kind-not-expected-for-case-type`; `other` is always acceptable. */
export function isExpectedDocument(def: CaseTypeDefinition, kind: DocumentKind): boolean {
  return kind === 'other' || def.expectedDocuments.includes(kind)
}

/**
 * Whether an uploaded `provided` kind fulfils a `required` checklist item. A passport requirement is
 * met by an identity card as well: the sources ask for "passport / ID" (DOMAIN.md §1.5, §2.1).
 */
export function satisfiesRequirement(required: DocumentKind, provided: DocumentKind): boolean {
  return provided === required || (required === 'passport' && provided === 'id_card')
}

/**
 * The last day of a clock's term counted from `start`: years, then weeks, then calendar days, then
 * working days. A working-day term lands on a working day; calendar terms do not move, because
 * which deadlines shift off a holiday (Algemene termijnenwet) is a legal call made per clock.
 */
export function clockDeadline(start: string, term: ClockTerm): string {
  let date = start
  if (term.years) date = addYears(date, term.years)
  if (term.weeks) date = addWeeks(date, term.weeks)
  if (term.days) date = addDays(date, term.days)
  if (term.workingDays) date = workingDaysAfter(date, term.workingDays)
  return date
}
