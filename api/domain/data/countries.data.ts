// Country reference table, read from countries.csv next to this module (a copy of
// shared/data/countries.csv; every column kept, empty cell -> null, yes/no/unknown kept as written).
//
// Source and how sure it is: shared/data/SOURCES.md, section 2 "countries.csv".
// - ISO codes and names: Debian iso-codes 4.15.0 (Dutch names from its nl translation, not the BRP
//   Landentabel 34). XK (Kosovo) is a user-assigned code, not ISO 3166-1.
// - Apostille dates: HCCH status table cid=41 (last update 29-VII-2024), Tractatenblad 2012, 56 and HCCH
//   news items. apostille_confirmed = yes on 75 rows (57 dated parties, 18 "not listed" as of 29-VII-2024);
//   = no on 175 rows: 70 with a date recalled or from weak third-party sources, 105 with no Apostille data
//   at all (status unknown). Check those against the HCCH table before production use.
// - apostille_objection_by_nl: no confirmed "yes" was found; "unknown" on 66 rows, including every A**
//   accession.
// - ciec_legalisation_exempt = yes means an exemption basis exists for at least SOME documents (EU Reg.
//   2016/1191 or CIEC 1/2/16); "unknown" only means nothing was found (bilateral treaties not researched).
// - EU dates: only the years are confirmed; day and month are general knowledge (Croatia's day confirmed).

import { oneOf, readRecords, required } from './csv.js'

export type YesNo = 'yes' | 'no'
export type YesNoUnknown = 'yes' | 'no' | 'unknown'

export interface CountryRecord {
  /** ISO 3166-1 alpha-2 (XK is user-assigned). */
  alpha2: string
  alpha3: string
  nameEn: string
  nameNl: string
  /** YYYY-MM-DD; null = never an EU member. */
  euMemberSince: string | null
  /** YYYY-MM-DD, last day of membership; null = still a member (or never one). */
  euMemberUntil: string | null
  /** YYYY-MM-DD, Apostille Convention entry into force for this state; null = not a party or not known. */
  apostilleInForceSince: string | null
  /** R ratification, A accession, A** accession objected to by some state, Su succession, ext extension. */
  apostilleType: string | null
  apostilleSource: string | null
  apostilleConfirmed: YesNo
  /** null = not a party, or NL itself. */
  apostilleObjectionByNl: YesNoUnknown | null
  /** null for NL only. */
  ciecLegalisationExempt: 'yes' | 'unknown' | null
  exemptBasis: string | null
  notes: string | null
}

const where = (row: number, column: string): string => `countries.csv row ${row + 2}, ${column}`

export const COUNTRIES: readonly CountryRecord[] = Object.freeze(
  readRecords(new URL('./countries.csv', import.meta.url)).map((r, i) => ({
    alpha2: required(r.alpha2 ?? null, where(i, 'alpha2')),
    alpha3: required(r.alpha3 ?? null, where(i, 'alpha3')),
    nameEn: required(r.nameEn ?? null, where(i, 'name_en')),
    nameNl: required(r.nameNl ?? null, where(i, 'name_nl')),
    euMemberSince: r.euMemberSince ?? null,
    euMemberUntil: r.euMemberUntil ?? null,
    apostilleInForceSince: r.apostilleInForceSince ?? null,
    apostilleType: r.apostilleType ?? null,
    apostilleSource: r.apostilleSource ?? null,
    apostilleConfirmed: oneOf<YesNo>(r.apostilleConfirmed ?? null, ['yes', 'no'], where(i, 'apostille_confirmed')),
    apostilleObjectionByNl: oneOf<YesNoUnknown | null>(r.apostilleObjectionByNl ?? null, ['yes', 'no', 'unknown', null], where(i, 'apostille_objection_by_nl')),
    ciecLegalisationExempt: oneOf<'yes' | 'unknown' | null>(r.ciecLegalisationExempt ?? null, ['yes', 'unknown', null], where(i, 'ciec_legalisation_exempt')),
    exemptBasis: r.exemptBasis ?? null,
    notes: r.notes ?? null,
  })),
)
