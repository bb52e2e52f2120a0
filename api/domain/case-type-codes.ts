// The codes of the case-type catalogue (API.md "Case types"), on their own so that the catalogue
// (case-types.ts) and the outcomes per case type (outcomes.ts) both build on them without a loop.
export const CASE_TYPE_CODES = ['naturalisation', 'option', 'first_registration', 'ipr_assessment'] as const
export type CaseTypeCode = (typeof CASE_TYPE_CODES)[number]
