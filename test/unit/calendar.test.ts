import { describe, it, expect, afterEach } from 'vitest'
import fc from 'fast-check'
import {
  addDays,
  addWeeks,
  addYears,
  dutchPublicHolidays,
  easterSunday,
  isValidIsoDate,
  isWorkingDay,
  workingDaysAfter,
} from '../../api/domain/calendar.js'

// Independent of the module: the weekday straight from the platform Date (0 = Sunday).
const dayOfWeek = (date: string): number => new Date(`${date}T12:00:00Z`).getUTCDay()

const dateIn = (fromYear: number, toYear: number) =>
  fc
    .date({ min: new Date(Date.UTC(fromYear, 0, 1)), max: new Date(Date.UTC(toYear, 11, 31)), noInvalidDate: true })
    .map((d) => d.toISOString().slice(0, 10))

describe('easterSunday', () => {
  it.each([
    [2024, '2024-03-31'],
    [2025, '2025-04-20'],
    [2026, '2026-04-05'],
    [2027, '2027-03-28'],
    [2028, '2028-04-16'],
    [2029, '2029-04-01'],
    [2030, '2030-04-21'],
    // the edges of the range: earliest 22 March, latest 25 April
    [1818, '1818-03-22'],
    [2285, '2285-03-22'],
    [2038, '2038-04-25'],
    [2000, '2000-04-23'],
    [2008, '2008-03-23'],
  ])('Easter %i is %s', (year, date) => {
    expect(easterSunday(year)).toBe(date)
  })

  it('property: always a Sunday between 22 March and 25 April', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1583, max: 9999 }), (year) => {
        const easter = easterSunday(year)
        expect(dayOfWeek(easter)).toBe(0)
        const monthDay = easter.slice(5)
        expect(monthDay >= '03-22' && monthDay <= '04-25').toBe(true)
      }),
    )
  })

  it('refuses years it cannot represent', () => {
    expect(() => easterSunday(0)).toThrow(RangeError)
    expect(() => easterSunday(10_000)).toThrow(RangeError)
    expect(() => easterSunday(2026.5)).toThrow(RangeError)
  })
})

describe('dutchPublicHolidays', () => {
  // dutch_holidays.md, "Concrete dates": every day off under the Cao Gemeenten plus the Sundays.
  // Goede Vrijdag and the gelijkgestelde dagen are not holidays for municipal staff.
  const expected: Record<number, Array<[string, string]>> = {
    2025: [
      ['2025-01-01', 'Nieuwjaarsdag'],
      ['2025-04-20', 'Eerste Paasdag'],
      ['2025-04-21', 'Tweede Paasdag'],
      ['2025-04-26', 'Koningsdag'],
      ['2025-05-05', 'Bevrijdingsdag'],
      ['2025-05-29', 'Hemelvaartsdag'],
      ['2025-06-08', 'Eerste Pinksterdag'],
      ['2025-06-09', 'Tweede Pinksterdag'],
      ['2025-12-25', 'Eerste Kerstdag'],
      ['2025-12-26', 'Tweede Kerstdag'],
    ],
    2026: [
      ['2026-01-01', 'Nieuwjaarsdag'],
      ['2026-04-05', 'Eerste Paasdag'],
      ['2026-04-06', 'Tweede Paasdag'],
      ['2026-04-27', 'Koningsdag'],
      ['2026-05-05', 'Bevrijdingsdag'],
      ['2026-05-14', 'Hemelvaartsdag'],
      ['2026-05-24', 'Eerste Pinksterdag'],
      ['2026-05-25', 'Tweede Pinksterdag'],
      ['2026-12-25', 'Eerste Kerstdag'],
      ['2026-12-26', 'Tweede Kerstdag'],
    ],
    2027: [
      ['2027-01-01', 'Nieuwjaarsdag'],
      ['2027-03-28', 'Eerste Paasdag'],
      ['2027-03-29', 'Tweede Paasdag'],
      ['2027-04-27', 'Koningsdag'],
      ['2027-05-05', 'Bevrijdingsdag'],
      ['2027-05-06', 'Hemelvaartsdag'],
      ['2027-05-16', 'Eerste Pinksterdag'],
      ['2027-05-17', 'Tweede Pinksterdag'],
      ['2027-12-25', 'Eerste Kerstdag'],
      ['2027-12-26', 'Tweede Kerstdag'],
    ],
    2028: [
      ['2028-01-01', 'Nieuwjaarsdag'],
      ['2028-04-16', 'Eerste Paasdag'],
      ['2028-04-17', 'Tweede Paasdag'],
      ['2028-04-27', 'Koningsdag'],
      ['2028-05-05', 'Bevrijdingsdag'],
      ['2028-05-25', 'Hemelvaartsdag'],
      ['2028-06-04', 'Eerste Pinksterdag'],
      ['2028-06-05', 'Tweede Pinksterdag'],
      ['2028-12-25', 'Eerste Kerstdag'],
      ['2028-12-26', 'Tweede Kerstdag'],
    ],
  }

  it.each([2025, 2026, 2027, 2028])('matches dutch_holidays.md for %i', (year) => {
    expect(dutchPublicHolidays(year).map((h) => [h.date, h.name])).toEqual(expected[year])
  })

  it('leaves out Goede Vrijdag and the gelijkgestelde dagen (Atw deadlines only)', () => {
    for (const date of ['2025-04-18', '2025-05-30', '2026-01-02', '2026-04-03', '2026-05-15', '2027-03-26', '2028-04-28']) {
      expect(isWorkingDay(date)).toBe(true)
    }
  })

  it('moves Koningsdag to Saturday 26 April exactly when 27 April is a Sunday', () => {
    const moved: number[] = []
    for (let year = 2014; year <= 2100; year++) {
      const kingsDay = dutchPublicHolidays(year).find((h) => h.name === 'Koningsdag')!.date
      const sunday27 = dayOfWeek(`${year}-04-27`) === 0
      expect(kingsDay).toBe(sunday27 ? `${year}-04-26` : `${year}-04-27`)
      if (sunday27) moved.push(year)
    }
    expect(moved.slice(0, 4)).toEqual([2014, 2025, 2031, 2036])
  })

  it('keeps Koninginnedag on 30 April before 2014', () => {
    expect(dutchPublicHolidays(2013).find((h) => h.date === '2013-04-30')?.name).toBe('Koninginnedag')
    expect(dutchPublicHolidays(2006).find((h) => h.name === 'Koninginnedag')?.date).toBe('2006-04-29')
  })

  it('has Bevrijdingsdag every year from 2024, before that in lustrum years only', () => {
    const has = (year: number) => dutchPublicHolidays(year).some((h) => h.name === 'Bevrijdingsdag')
    expect([2019, 2020, 2021, 2022, 2023].map(has)).toEqual([false, true, false, false, false])
    for (let year = 2024; year <= 2040; year++) expect(has(year)).toBe(true)
  })

  it('keeps both names when Hemelvaartsdag falls on 5 May', () => {
    const on5May = dutchPublicHolidays(2005).filter((h) => h.date === '2005-05-05').map((h) => h.name)
    expect(on5May.sort()).toEqual(['Bevrijdingsdag', 'Hemelvaartsdag'])
  })

  it('returns a sorted list the caller may change without affecting the next call', () => {
    const list = dutchPublicHolidays(2026)
    expect(list.map((h) => h.date)).toEqual([...list.map((h) => h.date)].sort())
    list[0]!.date = '1999-01-01'
    list.pop()
    expect(dutchPublicHolidays(2026)).toHaveLength(10)
    expect(dutchPublicHolidays(2026)[0]!.date).toBe('2026-01-01')
  })
})

describe('isWorkingDay', () => {
  it.each([
    ['2026-01-05', true], // Monday
    ['2026-01-03', false], // Saturday
    ['2026-01-04', false], // Sunday
    ['2026-01-01', false], // Nieuwjaarsdag
    ['2026-04-06', false], // Tweede Paasdag
    ['2026-04-27', false], // Koningsdag
    ['2026-05-05', false], // Bevrijdingsdag
    ['2026-05-14', false], // Hemelvaartsdag
    ['2026-05-25', false], // Tweede Pinksterdag
    ['2026-12-25', false], // Eerste Kerstdag
    ['2026-12-28', true], // Monday after Christmas
    ['2026-12-31', true], // Oudejaarsdag is a working day
    ['2025-04-28', true], // Monday after Koningsdag on Saturday: no substitute day
  ])('%s → %s', (date, expected) => {
    expect(isWorkingDay(date)).toBe(expected)
  })

  it('refuses an invalid date', () => {
    expect(() => isWorkingDay('2026-02-30')).toThrow(RangeError)
  })
})

describe('workingDaysAfter', () => {
  it.each([
    ['2026-01-05', 1, '2026-01-06', 'plain weekday'],
    ['2026-01-09', 1, '2026-01-12', 'Friday to Monday'],
    ['2026-01-10', 1, '2026-01-12', 'from a Saturday'],
    ['2026-04-02', 1, '2026-04-03', 'Goede Vrijdag is worked'],
    ['2026-04-03', 1, '2026-04-07', 'over Easter weekend and Tweede Paasdag'],
    ['2026-04-24', 2, '2026-04-29', 'over Koningsdag on a Monday'],
    ['2026-04-30', 10, '2026-05-18', 'over Bevrijdingsdag and Hemelvaartsdag'],
    ['2026-05-13', 1, '2026-05-15', 'over Hemelvaartsdag'],
    ['2026-05-22', 1, '2026-05-26', 'over Whitsun'],
    ['2026-12-24', 1, '2026-12-28', 'over Christmas'],
    ['2026-12-24', 5, '2027-01-04', 'over Christmas and New Year'],
    ['2025-12-31', 1, '2026-01-02', 'over New Year'],
    ['2027-12-24', 1, '2027-12-27', 'Christmas on a weekend gives no extra day'],
    ['2026-01-05', 5, '2026-01-12', 'a plain week'],
    ['2024-02-28', 2, '2024-03-01', 'over 29 February'],
  ])('%s + %i working days = %s (%s)', (start, days, expected) => {
    expect(workingDaysAfter(start, days)).toBe(expected)
  })

  it.each([
    ['2026-04-07', '2026-04-07', 'a working day is returned itself'],
    ['2026-04-06', '2026-04-07', 'a holiday moves to the next working day'],
    ['2026-04-04', '2026-04-07', 'a Saturday before Easter moves past the long weekend'],
  ])('0 days from %s = %s (%s)', (start, expected) => {
    expect(workingDaysAfter(start, 0)).toBe(expected)
  })

  it('refuses negative, fractional and non-finite day counts and invalid dates', () => {
    expect(() => workingDaysAfter('2026-01-05', -1)).toThrow(RangeError)
    expect(() => workingDaysAfter('2026-01-05', 1.5)).toThrow(RangeError)
    expect(() => workingDaysAfter('2026-01-05', Number.NaN)).toThrow(RangeError)
    expect(() => workingDaysAfter('2026-13-05', 1)).toThrow(RangeError)
  })

  it('property: for days >= 1 the result is a working day strictly after start, with exactly `days` working days in between', () => {
    fc.assert(
      fc.property(dateIn(2000, 2100), fc.integer({ min: 1, max: 120 }), (start, days) => {
        const result = workingDaysAfter(start, days)
        expect(isWorkingDay(result)).toBe(true)
        expect(result > start).toBe(true)
        let counted = 0
        for (let d = addDays(start, 1); d <= result; d = addDays(d, 1)) if (isWorkingDay(d)) counted++
        expect(counted).toBe(days)
      }),
    )
  })

  it('property: days = 0 gives the first working day on or after start', () => {
    fc.assert(
      fc.property(dateIn(2000, 2100), (start) => {
        const result = workingDaysAfter(start, 0)
        expect(isWorkingDay(result)).toBe(true)
        expect(result >= start).toBe(true)
        for (let d = start; d < result; d = addDays(d, 1)) expect(isWorkingDay(d)).toBe(false)
      }),
    )
  })

  it('property: one more day gives a later date, and counting in two steps is the same as one', () => {
    fc.assert(
      fc.property(dateIn(2020, 2040), fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 60 }), (start, a, b) => {
        expect(workingDaysAfter(start, a + 1) > workingDaysAfter(start, a)).toBe(true)
        expect(workingDaysAfter(workingDaysAfter(start, a), b)).toBe(workingDaysAfter(start, a + b))
      }),
    )
  })
})

describe('date arithmetic', () => {
  it.each([
    ['2024-02-28', 1, '2024-02-29'],
    ['2023-02-28', 1, '2023-03-01'],
    ['2000-02-28', 1, '2000-02-29'],
    ['1900-02-28', 1, '1900-03-01'],
    ['2026-12-31', 1, '2027-01-01'],
    ['2026-01-01', -1, '2025-12-31'],
    ['2026-03-28', 2, '2026-03-30'], // over the switch to summer time in Europe
    ['2026-10-24', 2, '2026-10-26'], // and back
    ['2026-01-01', 365, '2027-01-01'],
    ['2024-01-01', 366, '2025-01-01'],
    ['0001-01-01', 0, '0001-01-01'],
    ['0099-12-31', 1, '0100-01-01'],
  ])('addDays(%s, %i) = %s', (date, n, expected) => {
    expect(addDays(date, n)).toBe(expected)
  })

  it.each([
    ['2026-01-29', 13, '2026-04-30'],
    ['2026-05-15', 6, '2026-06-26'],
    ['2026-12-10', 4, '2027-01-07'],
    ['2026-03-01', -1, '2026-02-22'],
  ])('addWeeks(%s, %i) = %s', (date, weeks, expected) => {
    expect(addWeeks(date, weeks)).toBe(expected)
  })

  it('addYears keeps month and day, and maps 29 February to 28 February', () => {
    expect(addYears('2026-05-14', 1)).toBe('2027-05-14')
    expect(addYears('2024-02-29', 1)).toBe('2025-02-28')
    expect(addYears('2024-02-29', 4)).toBe('2028-02-29')
  })

  it('refuses to leave years 0001-9999', () => {
    expect(() => addDays('9999-12-31', 1)).toThrow(RangeError)
    expect(() => addDays('0001-01-01', -1)).toThrow(RangeError)
    expect(() => addYears('9999-01-01', 1)).toThrow(RangeError)
  })

  it('property: addDays there and back is the identity, and a week is 7 days', () => {
    fc.assert(
      fc.property(dateIn(1900, 2200), fc.integer({ min: -5000, max: 5000 }), (date, n) => {
        expect(addDays(addDays(date, n), -n)).toBe(date)
        expect(addWeeks(date, 1)).toBe(addDays(date, 7))
        expect(dayOfWeek(addDays(date, 7 * 3))).toBe(dayOfWeek(date))
      }),
    )
  })
})

describe('time zone independence', () => {
  const original = process.env.TZ
  afterEach(() => {
    if (original === undefined) delete process.env.TZ
    else process.env.TZ = original
  })

  it.each(['Europe/Amsterdam', 'Pacific/Kiritimati', 'America/Los_Angeles'])('gives the same answers in %s', (tz) => {
    process.env.TZ = tz
    expect(addDays('2026-03-28', 1)).toBe('2026-03-29')
    expect(addDays('2026-03-29', 1)).toBe('2026-03-30')
    expect(addDays('2026-10-25', 1)).toBe('2026-10-26')
    expect(isWorkingDay('2026-03-30')).toBe(true)
    expect(isWorkingDay('2026-03-29')).toBe(false)
    expect(workingDaysAfter('2026-12-24', 1)).toBe('2026-12-28')
  })
})

describe('isValidIsoDate', () => {
  it.each(['2026-02-28', '2024-02-29', '2000-02-29', '2026-12-31', '0001-01-01', '9999-12-31'])('accepts %s', (value) => {
    expect(isValidIsoDate(value)).toBe(true)
  })

  it.each([
    '2026-02-29',
    '1900-02-29',
    '2026-02-30',
    '2026-04-31',
    '2026-13-01',
    '2026-00-10',
    '2026-01-00',
    '2026-1-5',
    '26-01-05',
    '02026-01-05',
    '2026-01-05T00:00:00Z',
    '2026/01/05',
    ' 2026-01-05',
    '2026-01-05 ',
    '',
    '0000-01-01',
    '２０２６-01-05',
  ])('rejects %j', (value) => {
    expect(isValidIsoDate(value)).toBe(false)
  })

  it('property: agrees with the platform Date for every day of 1970-2100', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1970, max: 2100 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 31 }), (y, m, d) => {
        const value = `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`
        const real = new Date(Date.UTC(y, m - 1, d)).toISOString().slice(0, 10) === value
        expect(isValidIsoDate(value)).toBe(real)
      }),
    )
  })
})
