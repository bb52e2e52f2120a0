// Country look-ups over the reference table (api/domain/data/countries.data.ts, from shared/data/countries.csv;
// how sure each column is: shared/data/SOURCES.md §2).

import { isValidIsoDate } from './calendar.js'
import { invalidFields } from './errors.js'
import { COUNTRIES, type CountryRecord } from './data/countries.data.js'

export { COUNTRIES, type CountryRecord, type YesNo, type YesNoUnknown } from './data/countries.data.js'

const BY_ALPHA2: ReadonlyMap<string, CountryRecord> = new Map(COUNTRIES.map((c) => [c.alpha2, c]))

/**
 * Two upper-case letters present in the table. That is ISO 3166-1 alpha-2 plus XK (Kosovo, a
 * user-assigned code the table carries because Kosovo is an Apostille party).
 */
export const isCountryCode = (value: unknown): value is string =>
  typeof value === 'string' && /^[A-Z]{2}$/.test(value) && BY_ALPHA2.has(value)

export const findCountry = (alpha2: string): CountryRecord | undefined => BY_ALPHA2.get(alpha2)

/**
 * Whether the state was an EU member on `date` (YYYY-MM-DD): eu_member_since <= date <= eu_member_until
 * (the last day of membership, e.g. 2020-01-31 for the United Kingdom). Only the years of the accession
 * dates are confirmed; the day and month are general knowledge (SOURCES.md §2). Territories without
 * their own membership dates (e.g. Réunion) answer false here.
 */
export const isEuMemberOn = (alpha2: string, date: string): boolean => {
  if (!isValidIsoDate(date)) {
    throw invalidFields([{ name: 'date', code: 'invalid-date', reason: 'must be a calendar date YYYY-MM-DD' }])
  }
  const country = BY_ALPHA2.get(alpha2)
  if (country?.euMemberSince == null) return false
  return country.euMemberSince <= date && (country.euMemberUntil === null || date <= country.euMemberUntil)
}
