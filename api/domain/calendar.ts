// The municipal working-day calendar (API.md "Cases": `dueDate` skips weekends and Dutch public
// holidays) and the date arithmetic the statutory clocks need.
//
// Dates are `YYYY-MM-DD` strings everywhere. All arithmetic is done on whole UTC days, so the host
// time zone and daylight-saving changes can never shift a date. Years are limited to 0001–9999 so
// a date always has exactly four year digits; the calendar is the proleptic Gregorian one.
//
// Which days are holidays follows shared/data/dutch_holidays.md, column "Day off under the Cao
// Gemeenten", because the hub is a municipal organisation and its staff are off on exactly those
// days. Two consequences worth knowing:
// - Goede Vrijdag is NOT a holiday here: the Algemene termijnenwet only treats it as one for legal
//   deadlines, and it is not on the cao list (note 1 of that file). The same goes for the
//   "gelijkgestelde dagen" (e.g. the Friday after Hemelvaartsdag): ordinary working days.
// - Bevrijdingsdag (5 May) is a day off every year from 2024 (Cao Gemeenten 2023 art. 6.6, note 2).
//   Before 2024 the cao left it to each employer; we follow the Stichting van de Arbeid advice of a
//   day off in lustrum years only (…, 2015, 2020), the reading most municipalities applied.

const MS_PER_DAY = 86_400_000
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/
const MIN_YEAR = 1
const MAX_YEAR = 9999

/** From this year Bevrijdingsdag is a municipal day off every year (dutch_holidays.md, note 2). */
const LIBERATION_DAY_EVERY_YEAR_FROM = 2024
/** Koningsdag replaced Koninginnedag (KB 30 Jan 2013, Stcrt. 2013, 4075; first held in 2014). */
const KINGS_DAY_FROM = 2014

interface Ymd {
  year: number
  month: number // 1-12
  day: number
}

function parseIsoDate(value: string): Ymd | null {
  if (typeof value !== 'string') return null
  const match = ISO_DATE.exec(value)
  if (!match) return null
  const year = Number(match[1])
  const month = Number(match[2])
  const day = Number(match[3])
  if (year < MIN_YEAR || month < 1 || month > 12 || day < 1) return null
  if (day > daysInMonth(year, month)) return null
  return { year, month, day }
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28
  return [4, 6, 9, 11].includes(month) ? 30 : 31
}

function requireDate(value: string, name = 'date'): Ymd {
  const ymd = parseIsoDate(value)
  if (!ymd) throw new RangeError(`${name} must be a real calendar date in YYYY-MM-DD form`)
  return ymd
}

// Days since 1970-01-01. setUTCFullYear is used (not Date.UTC) because Date.UTC maps years 0–99
// to 1900–1999.
function toEpochDay({ year, month, day }: Ymd): number {
  const d = new Date(0)
  d.setUTCFullYear(year, month - 1, day)
  return Math.round(d.getTime() / MS_PER_DAY)
}

function fromEpochDay(epochDay: number): string {
  const d = new Date(epochDay * MS_PER_DAY)
  const year = d.getUTCFullYear()
  if (year < MIN_YEAR || year > MAX_YEAR) {
    throw new RangeError(`date arithmetic left the supported range ${MIN_YEAR}-${MAX_YEAR}`)
  }
  return format({ year, month: d.getUTCMonth() + 1, day: d.getUTCDate() })
}

function format({ year, month, day }: Ymd): string {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`
}

/** 0 = Sunday … 6 = Saturday. */
function weekday(date: string): number {
  // 1970-01-01 was a Thursday (4); the double modulo keeps negative epoch days positive.
  return (((toEpochDay(requireDate(date)) + 4) % 7) + 7) % 7
}

/** True for a real calendar date written as `YYYY-MM-DD` (so `2026-02-30` and `2026-2-3` are false). */
export function isValidIsoDate(value: string): boolean {
  return parseIsoDate(value) !== null
}

/** `date` plus `n` calendar days (`n` may be negative). */
export function addDays(date: string, n: number): string {
  if (!Number.isInteger(n)) throw new RangeError('n must be an integer')
  return fromEpochDay(toEpochDay(requireDate(date)) + n)
}

/** `date` plus `weeks` × 7 calendar days (`weeks` may be negative). */
export function addWeeks(date: string, weeks: number): string {
  if (!Number.isInteger(weeks)) throw new RangeError('weeks must be an integer')
  return addDays(date, weeks * 7)
}

/**
 * The same month and day `years` later. 29 February maps to 28 February in a common year: a term
 * "within one year" must not spill into March.
 */
export function addYears(date: string, years: number): string {
  if (!Number.isInteger(years)) throw new RangeError('years must be an integer')
  const { year, month, day } = requireDate(date)
  const target = year + years
  if (target < MIN_YEAR || target > MAX_YEAR) {
    throw new RangeError(`date arithmetic left the supported range ${MIN_YEAR}-${MAX_YEAR}`)
  }
  return format({ year: target, month, day: Math.min(day, daysInMonth(target, month)) })
}

/**
 * Easter Sunday of a Gregorian year, computed with the anonymous Gregorian algorithm
 * (Meeus/Jones/Butcher) — dutch_holidays.md cross-checks its results for 2024–2028.
 */
export function easterSunday(year: number): string {
  if (!Number.isInteger(year) || year < MIN_YEAR || year > MAX_YEAR) {
    throw new RangeError(`year must be an integer from ${MIN_YEAR} to ${MAX_YEAR}`)
  }
  const a = year % 19
  const b = Math.floor(year / 100)
  const c = year % 100
  const d = Math.floor(b / 4)
  const e = b % 4
  const f = Math.floor((b + 8) / 25)
  const g = Math.floor((b - f + 1) / 3)
  const h = (19 * a + b - d - g + 15) % 30
  const i = Math.floor(c / 4)
  const k = c % 4
  const l = (32 + 2 * e + 2 * i - h - k) % 7
  const m = Math.floor((a + 11 * h + 22 * l) / 451)
  const month = Math.floor((h + l - 7 * m + 114) / 31)
  const day = ((h + l - 7 * m + 114) % 31) + 1
  return format({ year, month, day })
}

function kingsDay(year: number): { date: string; name: string } {
  if (year >= KINGS_DAY_FROM) {
    // "behoudens uitzonderingen in verband met zondagen": a Sunday 27 April moves to Saturday 26 April.
    const date = format({ year, month: 4, day: 27 })
    return { date: weekday(date) === 0 ? addDays(date, -1) : date, name: 'Koningsdag' }
  }
  // Koninginnedag is outside dutch_holidays.md; it is here so that old dates do not pretend 27 April
  // was a holiday. The Sunday rule shown (Saturday 29 April, as in 2006) is the one of 1980–2013.
  const date = format({ year, month: 4, day: 30 })
  return { date: weekday(date) === 0 ? addDays(date, -1) : date, name: 'Koninginnedag' }
}

function liberationDayIsDayOff(year: number): boolean {
  return year >= LIBERATION_DAY_EVERY_YEAR_FROM || year % 5 === 0
}

interface HolidayYear {
  list: ReadonlyArray<Readonly<{ date: string; name: string }>>
  dates: ReadonlySet<string>
}

// isWorkingDay is called once per day stepped over, so each year's holidays are computed once.
const holidayCache = new Map<number, HolidayYear>()

function holidaysOf(year: number): HolidayYear {
  const cached = holidayCache.get(year)
  if (cached) return cached
  const easter = easterSunday(year)
  const list = [
    { date: format({ year, month: 1, day: 1 }), name: 'Nieuwjaarsdag' },
    { date: easter, name: 'Eerste Paasdag' },
    { date: addDays(easter, 1), name: 'Tweede Paasdag' },
    kingsDay(year),
    ...(liberationDayIsDayOff(year) ? [{ date: format({ year, month: 5, day: 5 }), name: 'Bevrijdingsdag' }] : []),
    { date: addDays(easter, 39), name: 'Hemelvaartsdag' },
    { date: addDays(easter, 49), name: 'Eerste Pinksterdag' },
    { date: addDays(easter, 50), name: 'Tweede Pinksterdag' },
    { date: format({ year, month: 12, day: 25 }), name: 'Eerste Kerstdag' },
    { date: format({ year, month: 12, day: 26 }), name: 'Tweede Kerstdag' },
  ]
  // Array.prototype.sort is stable, so coinciding days keep the order above.
  list.sort((x, y) => (x.date < y.date ? -1 : x.date > y.date ? 1 : 0))
  const entry = { list: Object.freeze(list.map((h) => Object.freeze(h))), dates: new Set(list.map((h) => h.date)) }
  holidayCache.set(year, entry)
  return entry
}

/**
 * The public holidays municipal staff have off in `year`, sorted by date, including those that fall
 * on a weekend (Eerste Paas- and Pinksterdag are always Sundays). Hemelvaartsdag and Bevrijdingsdag
 * can fall on the same day (5 May 2005); both entries are then kept because both names are true.
 */
export function dutchPublicHolidays(year: number): Array<{ date: string; name: string }> {
  return holidaysOf(year).list.map((h) => ({ ...h }))
}

/** A working day is a Monday–Friday that is not a municipal public holiday. */
export function isWorkingDay(date: string): boolean {
  const { year } = requireDate(date)
  const day = weekday(date)
  if (day === 0 || day === 6) return false
  return !holidaysOf(year).dates.has(date)
}

const WORKING_DAYS_AFTER = new Map<string, string>()

/**
 * The date that is `days` working days after `start`; `start` itself is never counted, so
 * `workingDaysAfter(friday, 1)` is the next Monday (when that is not a holiday).
 *
 * `days = 0` returns `start` when it is a working day, otherwise the first working day after it:
 * a term of zero days that is due "today" cannot be due on a day the office is closed, and this
 * keeps every result a working day.
 */
export function workingDaysAfter(start: string, days: number): string {
  // Pure, and asked the same few questions all day long (every submission counts its term from today).
  const key = `${start}+${days}`
  const known = WORKING_DAYS_AFTER.get(key)
  if (known !== undefined) return known
  const result = countWorkingDaysAfter(start, days)
  if (WORKING_DAYS_AFTER.size >= 1_000) WORKING_DAYS_AFTER.clear()
  WORKING_DAYS_AFTER.set(key, result)
  return result
}

function countWorkingDaysAfter(start: string, days: number): string {
  requireDate(start, 'start')
  if (!Number.isInteger(days) || days < 0) throw new RangeError('days must be a non-negative integer')
  let current = start
  if (days === 0) {
    while (!isWorkingDay(current)) current = addDays(current, 1)
    return current
  }
  let remaining = days
  while (remaining > 0) {
    current = addDays(current, 1)
    if (isWorkingDay(current)) remaining--
  }
  return current
}
