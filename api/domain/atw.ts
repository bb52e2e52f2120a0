// The Algemene termijnenwet (Atw, BWBR0002448, read from statengeneraal/laws-markdown
// `wet/algemene/termijnenwet/BWBR0002448/README.md`), as far as the statutory clocks need it:
//
// - art. 1(1): a term set in a wet that ends on a Saturday, Sunday or generally recognised holiday
//   is extended to the next day that is none of those;
// - art. 3(1): the holidays are Nieuwjaarsdag, Tweede Paas- and Pinksterdag, both Kerstdagen,
//   Hemelvaartsdag, the day the King's birthday is celebrated and 5 May (every year); art. 3(2)
//   adds Goede Vrijdag; art. 3(3) lets the government equate further days (Besluit gelijkstelling,
//   Staatscourant);
// - art. 4(a): the Atw does not apply to terms of more than 12 weeks, more than 90 days, more than
//   three months, or of one or more years;
// - art. 5: it applies likewise to terms set in an algemene maatregel van bestuur.
//
// This is a different calendar from the municipal working days of calendar.ts (Cao Gemeenten):
// Goede Vrijdag and the equated days count here, and 5 May counts in every year.
//
// Art. 2 (a term of at least three days must contain two days that are none of these) cannot bite
// on the terms of this platform, which are four weeks or longer, so it is not modelled.

import { addDays, dutchPublicHolidays, easterSunday, isValidIsoDate } from './calendar.js'

/**
 * Days equated with a holiday under Atw art. 3(3), as published: "Besluit gelijkstelling van
 * 28 april 2023, 19 mei 2023, 10 mei 2024, 27 december 2024 en 30 mei 2025 …" and "Besluit
 * gelijkstelling van 2 januari 2026, 15 mei 2026, 7 mei 2027, 28 april 2028 en 26 mei 2028 met een
 * algemeen erkende feestdag" (shared/data/dutch_holidays.md). Later years have no decree yet: add
 * their days when it is published.
 */
export const ATW_EQUATED_DAYS: readonly string[] = Object.freeze([
  '2023-04-28',
  '2023-05-19',
  '2024-05-10',
  '2024-12-27',
  '2025-05-30',
  '2026-01-02',
  '2026-05-15',
  '2027-05-07',
  '2028-04-28',
  '2028-05-26',
])

const ATW_HOLIDAY_NAMES = new Set([
  'Nieuwjaarsdag',
  'Tweede Paasdag',
  'Tweede Pinksterdag',
  'Eerste Kerstdag',
  'Tweede Kerstdag',
  'Hemelvaartsdag',
  'Koningsdag',
  'Koninginnedag',
])

const cache = new Map<number, ReadonlySet<string>>()

function atwDaysOf(year: number): ReadonlySet<string> {
  const cached = cache.get(year)
  if (cached) return cached
  const days = new Set(dutchPublicHolidays(year).filter((h) => ATW_HOLIDAY_NAMES.has(h.name)).map((h) => h.date))
  days.add(`${String(year).padStart(4, '0')}-05-05`) // "de vijfde mei", every year (art. 3(1))
  days.add(addDays(easterSunday(year), -2)) // Goede Vrijdag (art. 3(2))
  for (const d of ATW_EQUATED_DAYS) if (d.startsWith(`${String(year).padStart(4, '0')}-`)) days.add(d)
  cache.set(year, days)
  return days
}

/** True for a Saturday, Sunday, Atw holiday (art. 3(1)–(2)) or equated day (art. 3(3)). */
export function isAtwDayOff(date: string): boolean {
  if (!isValidIsoDate(date)) throw new RangeError('date must be a real calendar date in YYYY-MM-DD form')
  const weekday = new Date(`${date}T00:00:00Z`).getUTCDay()
  if (weekday === 0 || weekday === 6) return true
  return atwDaysOf(Number(date.slice(0, 4))).has(date)
}

/** Atw art. 1(1): a last day that is a day off moves to the next day that is not; others stay. */
export function atwExtend(lastDay: string): string {
  let day = lastDay
  while (isAtwDayOff(day)) day = addDays(day, 1)
  return day
}
