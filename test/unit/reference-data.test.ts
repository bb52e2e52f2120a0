import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isValidIsoDate } from '../../api/domain/calendar.js'
import { COUNTRIES, findCountry, isCountryCode, isEuMemberOn } from '../../api/domain/countries.js'
import { parseCsv } from '../../api/domain/data/csv.js'
import {
  MUNICIPALITIES,
  findMunicipality,
  isMunicipalityCodeFormat,
  municipalityOn,
} from '../../api/domain/municipalities.js'

// The project's own copies the data modules read (api/domain/data/*.csv, '#' lines citing the
// source). That a copy is the current shared/data file is checked by scripts/check-reference-data.mjs
// in `npm run lint`, where shared/ sits next to the project; the tests never read ../shared.
const projectCsv = (name: string): string =>
  readFileSync(fileURLToPath(new URL(`../../api/domain/data/${name}`, import.meta.url)), 'utf8')
    .split('\n')
    .filter((line) => !line.startsWith('#'))
    .join('\n')

const camel = (s: string): string => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())

function expectSameAsCsv(file: string, records: readonly object[]): void {
  const [header, ...body] = parseCsv(projectCsv(file))
  expect(header).toBeDefined()
  expect(records).toHaveLength(body.length)
  body.forEach((cells, i) => {
    const expected = Object.fromEntries((header ?? []).map((col, j) => [camel(col), cells[j] === '' ? null : cells[j]]))
    expect(records[i]).toStrictEqual(expected)
  })
}

describe('countries table', () => {
  it('has the 250 rows of countries.csv', () => {
    expect(COUNTRIES).toHaveLength(250)
  })

  it('matches the copy api/domain/data/countries.csv cell by cell', () => {
    expectSameAsCsv('countries.csv', COUNTRIES)
  })

  it('has well-formed, unique codes', () => {
    const alpha2 = COUNTRIES.map((c) => c.alpha2)
    const alpha3 = COUNTRIES.map((c) => c.alpha3)
    expect(alpha2.every((code) => /^[A-Z]{2}$/.test(code))).toBe(true)
    expect(alpha3.every((code) => /^[A-Z]{3}$/.test(code))).toBe(true)
    expect(new Set(alpha2).size).toBe(COUNTRIES.length)
    expect(new Set(alpha3).size).toBe(COUNTRIES.length)
  })

  it('has well-formed dates and enumerations', () => {
    for (const c of COUNTRIES) {
      for (const date of [c.euMemberSince, c.euMemberUntil, c.apostilleInForceSince]) {
        if (date !== null) expect(isValidIsoDate(date), `${c.alpha2} ${date}`).toBe(true)
      }
      expect(['yes', 'no']).toContain(c.apostilleConfirmed)
      expect([null, 'yes', 'no', 'unknown']).toContain(c.apostilleObjectionByNl)
      expect([null, 'yes', 'unknown']).toContain(c.ciecLegalisationExempt)
    }
  })

  it('finds countries and checks codes', () => {
    expect(findCountry('TR')?.nameNl).toBe('Turkije')
    expect(findCountry('CA')?.apostilleInForceSince).toBe('2024-01-11')
    expect(findCountry('ZZ')).toBeUndefined()
    expect(isCountryCode('DE')).toBe(true)
    expect(isCountryCode('XK')).toBe(true) // user-assigned, carried by the table
    expect(isCountryCode('de')).toBe(false)
    expect(isCountryCode('DEU')).toBe(false)
    expect(isCountryCode('ZZ')).toBe(false)
    expect(isCountryCode(42)).toBe(false)
  })

  it('knows EU membership on a date', () => {
    expect(isEuMemberOn('DE', '2025-01-01')).toBe(true)
    expect(isEuMemberOn('HR', '2013-06-30')).toBe(false)
    expect(isEuMemberOn('HR', '2013-07-01')).toBe(true)
    expect(isEuMemberOn('GB', '2020-01-31')).toBe(true) // last day of membership
    expect(isEuMemberOn('GB', '2020-02-01')).toBe(false)
    expect(isEuMemberOn('CH', '2025-01-01')).toBe(false)
    expect(isEuMemberOn('RE', '2025-01-01')).toBe(false) // territory without own dates
    expect(isEuMemberOn('ZZ', '2025-01-01')).toBe(false)
    expect(() => isEuMemberOn('DE', '2025-02-30')).toThrow()
  })

  it('has the 27 EU members on 2026-01-01', () => {
    expect(COUNTRIES.filter((c) => isEuMemberOn(c.alpha2, '2026-01-01'))).toHaveLength(27)
  })
})

describe('municipalities table', () => {
  it('has the 394 rows of municipalities.csv: 342 active, 52 ceased', () => {
    expect(MUNICIPALITIES).toHaveLength(394)
    expect(MUNICIPALITIES.filter((m) => m.status === 'active')).toHaveLength(342)
    expect(MUNICIPALITIES.filter((m) => m.status === 'ceased')).toHaveLength(52)
  })

  it('matches the copy api/domain/data/municipalities.csv cell by cell', () => {
    expectSameAsCsv('municipalities.csv', MUNICIPALITIES)
  })

  it('has well-formed, unique codes, and successors that exist', () => {
    const codes = MUNICIPALITIES.map((m) => m.code)
    expect(codes.every(isMunicipalityCodeFormat)).toBe(true)
    expect(new Set(codes).size).toBe(MUNICIPALITIES.length)
    for (const m of MUNICIPALITIES) {
      expect(m.status === 'ceased').toBe(m.validUntil !== null)
      for (const successor of m.mergedInto?.split(';') ?? []) {
        expect(findMunicipality(successor)?.status, `${m.code} -> ${successor}`).toBe('active')
      }
    }
  })

  it('checks the code format', () => {
    expect(isMunicipalityCodeFormat('GM0363')).toBe(true)
    expect(isMunicipalityCodeFormat('GM9999')).toBe(true)
    for (const bad of ['gm0363', 'GM363', 'GM03630', '0363', ' GM0363', 363]) {
      expect(isMunicipalityCodeFormat(bad)).toBe(false)
    }
  })

  it('uses the CBS spelling as the name', () => {
    expect(findMunicipality('GM0518')?.name).toBe("'s-Gravenhage")
    expect(findMunicipality('GM0363')?.name).toBe('Amsterdam')
  })

  it('reports an unknown code as unknown', () => {
    expect(municipalityOn('GM9999', '2025-01-01')).toStrictEqual({ status: 'unknown' })
    expect(findMunicipality('GM9999')).toBeUndefined()
    expect(municipalityOn('bogus', '2025-01-01')).toStrictEqual({ status: 'unknown' })
  })

  it('reports a ceased municipality as existing on its valid_until and ceased the day after', () => {
    expect(municipalityOn('GM0457', '2022-03-23').status).toBe('exists') // Weesp, last day
    expect(municipalityOn('GM0457', '2022-03-24')).toMatchObject({ status: 'ceased', mergedInto: ['GM0363'] })
    expect(municipalityOn('GM0017', '2018-12-31').status).toBe('exists') // Haren
    expect(municipalityOn('GM0017', '2019-01-01')).toMatchObject({ status: 'ceased', mergedInto: ['GM0014'] })
  })

  it('lists every successor of a split municipality', () => {
    expect(municipalityOn('GM0788', '2021-01-01')).toMatchObject({
      status: 'ceased',
      mergedInto: ['GM0757', 'GM0824', 'GM0855', 'GM0865'],
    })
  })

  it('reports a municipality before its valid_from as not yet existing', () => {
    expect(municipalityOn('GM1992', '2022-12-31').status).toBe('not-yet') // Voorne aan Zee
    expect(municipalityOn('GM1992', '2023-01-01').status).toBe('exists')
    expect(municipalityOn('GM0363', '1900-01-01').status).toBe('exists') // empty valid_from: since long ago
  })

  it('refuses a date that is not YYYY-MM-DD', () => {
    expect(() => municipalityOn('GM0363', '2025-1-1')).toThrow()
  })

  it('has existing successors on every date after a municipality ceased', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...MUNICIPALITIES),
        fc.date({ min: new Date('2015-01-01'), max: new Date('2030-12-31'), noInvalidDate: true }),
        (m, d) => {
          const date = d.toISOString().slice(0, 10)
          const result = municipalityOn(m.code, date)
          if (result.status === 'ceased') {
            expect(result.mergedInto.length).toBeGreaterThan(0)
            for (const successor of result.mergedInto) expect(municipalityOn(successor, date).status).toBe('exists')
          }
        },
      ),
    )
  })
})
