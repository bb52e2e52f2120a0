// Municipality reference table, read from municipalities.csv next to this module (a copy of
// shared/data/municipalities.csv; every column kept, empty cell -> null).
//
// Source and how sure it is: shared/data/SOURCES.md, section 1 "municipalities.csv".
// - Codes and names (CBS spelling, e.g. "'s-Gravenhage", "Bergen (NH.)"): minvws/nl-covid19-data-dashboard
//   gm.ts (state on 2022-01-01) plus news and Tweede Kamer sources for the 2019-2023 mergers; confirmed as of
//   2023-01-01. No merger dated 2024-2026 was found, but none was ruled out (2026 not verified).
// - province is derived from the veiligheidsregio code; valid_from is filled only for municipalities formed
//   2017-2023 (empty = since long ago); valid_until is the LAST day the municipality existed (inclusive);
//   merged_into is ';'-separated when a municipality was split.

import { oneOf, readRecords, required } from './csv.js'

export interface MunicipalityRecord {
  /** CBS gemeentecode, GM + 4 digits. */
  code: string
  /** The name as CBS writes it; this is the display name. */
  name: string
  /** name without the province suffix (except the two Bergens). */
  namePlain: string
  province: string
  status: 'active' | 'ceased'
  /** YYYY-MM-DD first day; null = since before 2017 (not researched). */
  validFrom: string | null
  /** YYYY-MM-DD last day it existed, inclusive; null = still exists. */
  validUntil: string | null
  /** ';'-separated successor codes, as in the CSV. */
  mergedInto: string | null
  confirmed: 'yes' | 'no'
  confirmedAsOf: string | null
  note: string | null
}

const where = (row: number, column: string): string => `municipalities.csv row ${row + 2}, ${column}`

export const MUNICIPALITIES: readonly MunicipalityRecord[] = Object.freeze(
  readRecords(new URL('./municipalities.csv', import.meta.url)).map((r, i) => ({
    code: required(r.code ?? null, where(i, 'code')),
    name: required(r.name ?? null, where(i, 'name')),
    namePlain: required(r.namePlain ?? null, where(i, 'name_plain')),
    province: required(r.province ?? null, where(i, 'province')),
    status: oneOf<'active' | 'ceased'>(r.status ?? null, ['active', 'ceased'], where(i, 'status')),
    validFrom: r.validFrom ?? null,
    validUntil: r.validUntil ?? null,
    mergedInto: r.mergedInto ?? null,
    confirmed: oneOf<'yes' | 'no'>(r.confirmed ?? null, ['yes', 'no'], where(i, 'confirmed')),
    confirmedAsOf: r.confirmedAsOf ?? null,
    note: r.note ?? null,
  })),
)
