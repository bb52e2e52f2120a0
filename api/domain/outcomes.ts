// What the hub actually decides per case type (API.md "Decisions, decrees and clocks"). The values
// are what `decide` accepts; `next` says where the case goes after the decision, and the state
// machine (case-state.ts) takes its target status from here, so the two can never disagree.
//
// Sources (shared/design/DOMAIN.md):
// - naturalisation: the burgemeester advises the Minister (IND) — BVVN art. 36(5) [S15]; the IND
//   decides and the King signs the Royal Decree (art. 38(1)); the ceremony follows (art. 60b).
// - option: the burgemeester decides — RWN art. 6(3),(5) [S16]; the confirmation is handed over
//   within 9 weeks (BVVN art. 60a [S15]).
// - first_registration: registration in the BRP done or refused — Wet BRP art. 2.38 ff. [S25].
// - ipr_assessment: the foreign document or fact is recognised or not (DOMAIN.md §3).

import type { CaseTypeCode } from './case-type-codes.js'

/** Where a decided case goes: it stays `decided` (for the hub to close, or for the Royal Decree) or awaits the ceremony. */
export type OutcomeNext = 'decided' | 'awaiting_ceremony'

/** Every outcome code of any case type; the database's check constraint lists exactly these. */
export const OUTCOME_CODES = ['grant', 'refuse', 'advise_grant', 'advise_refuse', 'registered', 'refused', 'recognised', 'not_recognised'] as const
export type OutcomeCode = (typeof OUTCOME_CODES)[number]

export interface OutcomeDefinition {
  code: OutcomeCode
  descriptionNl: string
  descriptionEn: string
  next: OutcomeNext
  /** True for the naturalisation advice to grant: the case waits for the Royal Decree. */
  awaitsRoyalDecree: boolean
  /** Whether the outcome is favourable to the applicant (a grant, an advice to grant, a registration, a recognition). */
  favourable: boolean
  source: string
}

export const OUTCOMES: Readonly<Record<CaseTypeCode, readonly OutcomeDefinition[]>> = Object.freeze({
  naturalisation: Object.freeze([
    Object.freeze({
      code: 'advise_grant',
      descriptionNl: 'Positief advies van de burgemeester aan de IND',
      descriptionEn: "The burgemeester's advice to the IND to grant",
      next: 'decided',
      awaitsRoyalDecree: true,
      favourable: true,
      source: 'BVVN art. 36(5) [S15]',
    }),
    Object.freeze({
      code: 'advise_refuse',
      descriptionNl: 'Negatief advies van de burgemeester aan de IND',
      descriptionEn: "The burgemeester's advice to the IND to refuse",
      next: 'decided',
      awaitsRoyalDecree: false,
      favourable: false,
      source: 'BVVN art. 36(5) [S15]',
    }),
  ]),
  option: Object.freeze([
    Object.freeze({
      code: 'grant',
      descriptionNl: 'Bevestiging van de optie door de burgemeester; uitreiking volgt',
      descriptionEn: 'The burgemeester confirms the option; the confirmation is handed over',
      next: 'awaiting_ceremony',
      awaitsRoyalDecree: false,
      favourable: true,
      source: 'RWN art. 6(3),(5) [S16]; BVVN art. 60a [S15]',
    }),
    Object.freeze({
      code: 'refuse',
      descriptionNl: 'Weigering van de bevestiging van de optie',
      descriptionEn: 'The burgemeester refuses to confirm the option',
      next: 'decided',
      awaitsRoyalDecree: false,
      favourable: false,
      source: 'RWN art. 6(3),(5) [S16]',
    }),
  ]),
  first_registration: Object.freeze([
    Object.freeze({
      code: 'registered',
      descriptionNl: 'Ingeschreven in de BRP',
      descriptionEn: 'Registered in the BRP',
      next: 'decided',
      awaitsRoyalDecree: false,
      favourable: true,
      source: 'Wet BRP art. 2.38 [S25]',
    }),
    Object.freeze({
      code: 'refused',
      descriptionNl: 'Inschrijving in de BRP geweigerd',
      descriptionEn: 'Registration in the BRP refused',
      next: 'decided',
      awaitsRoyalDecree: false,
      favourable: false,
      source: 'Wet BRP art. 2.38 [S25]',
    }),
  ]),
  ipr_assessment: Object.freeze([
    Object.freeze({
      code: 'recognised',
      descriptionNl: 'Het buitenlandse document of feit wordt erkend',
      descriptionEn: 'The foreign document or fact is recognised',
      next: 'decided',
      awaitsRoyalDecree: false,
      favourable: true,
      source: 'DOMAIN.md §3.1, §3.4',
    }),
    Object.freeze({
      code: 'not_recognised',
      descriptionNl: 'Het buitenlandse document of feit wordt niet erkend',
      descriptionEn: 'The foreign document or fact is not recognised',
      next: 'decided',
      awaitsRoyalDecree: false,
      favourable: false,
      source: 'DOMAIN.md §3.1, §3.4',
    }),
  ]),
})

/** Every outcome code of any case type (the database's check constraint lists exactly these). */
export const ALL_OUTCOME_CODES: readonly string[] = [...new Set(Object.values(OUTCOMES).flatMap((list) => list.map((o) => o.code)))]

/** The outcome codes `decide` accepts for a case type, in catalogue order. */
export const outcomeCodesFor = (caseType: CaseTypeCode): OutcomeCode[] => OUTCOMES[caseType].map((o) => o.code)

/** The definition of `outcome` for `caseType`, or undefined when that case type does not know it. */
export const findOutcome = (caseType: string, outcome: string): OutcomeDefinition | undefined =>
  (OUTCOMES as Record<string, readonly OutcomeDefinition[] | undefined>)[caseType]?.find((o) => o.code === outcome)

/** The Royal Decree (KB) on a naturalisation: the King grants or the IND refuses (BVVN art. 38(1) [S15]). */
export const ROYAL_DECREE_DECISIONS = ['granted', 'refused'] as const
export type RoyalDecreeDecision = (typeof ROYAL_DECREE_DECISIONS)[number]
