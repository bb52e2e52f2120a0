// Municipality look-ups over the reference table (api/domain/data/municipalities.data.ts, from
// shared/data/municipalities.csv; how sure it is: shared/data/SOURCES.md §1). A tenant's display name is
// `name` as CBS writes it ("'s-Gravenhage", "Bergen (NH.)"), not `namePlain`.

import { invalidFields } from './errors.js'
import { isValidIsoDate } from './calendar.js'
import { MUNICIPALITIES, type MunicipalityRecord } from './data/municipalities.data.js'

export { MUNICIPALITIES, type MunicipalityRecord } from './data/municipalities.data.js'

export type MunicipalityOn =
  | { status: 'exists'; municipality: MunicipalityRecord }
  | { status: 'unknown' }
  | { status: 'ceased'; municipality: MunicipalityRecord; mergedInto: string[] }
  | { status: 'not-yet'; municipality: MunicipalityRecord }

const BY_CODE: ReadonlyMap<string, MunicipalityRecord> = new Map(MUNICIPALITIES.map((m) => [m.code, m]))

/** CBS gemeentecode format: `GM` + 4 digits (DOMAIN.md §5.1). Says nothing about whether it exists. */
export const isMunicipalityCodeFormat = (value: unknown): value is string =>
  typeof value === 'string' && /^GM\d{4}$/.test(value)

export const findMunicipality = (code: string): MunicipalityRecord | undefined => BY_CODE.get(code)

/** The successor codes of a ceased municipality (several when it was split, e.g. Haaren). */
export const successorsOf = (municipality: MunicipalityRecord): string[] =>
  municipality.mergedInto === null ? [] : municipality.mergedInto.split(';').map((code) => code.trim())

/**
 * What a code meant on `date` (YYYY-MM-DD). valid_from is the first day (null = since long ago) and
 * valid_until the last day the municipality existed, inclusive: Weesp (valid_until 2022-03-23) exists on
 * 2022-03-23 and has ceased, merged into Amsterdam, from 2022-03-24.
 */
export const municipalityOn = (code: string, date: string): MunicipalityOn => {
  if (!isValidIsoDate(date)) {
    throw invalidFields([{ name: 'date', code: 'invalid-date', reason: 'must be a calendar date YYYY-MM-DD' }])
  }
  const municipality = BY_CODE.get(code)
  if (municipality === undefined) return { status: 'unknown' }
  if (municipality.validFrom !== null && date < municipality.validFrom) return { status: 'not-yet', municipality }
  if (municipality.validUntil !== null && date > municipality.validUntil) {
    return { status: 'ceased', municipality, mergedInto: successorsOf(municipality) }
  }
  return { status: 'exists', municipality }
}
