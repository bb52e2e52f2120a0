// Pure scheduling rules (API.md "Appointments and scheduling", ARCHITECTURE.md "Appointments"):
// wall-clock time in Europe/Amsterdam ↔ UTC, the earliest free slot in a weekly pattern, and the
// statutory windows of the ceremony kinds (BVVN art. 60a, 60b).
//
// Availability is entered as wall-clock time ("09:00") because that is what a town hall's office
// hours are; an instant is only made at the moment a slot is chosen, with the offset of that day.
// The Netherlands keeps Central European Time (UTC+1) and EU summer time (UTC+2), which since 1996
// runs from the last Sunday of March, 01:00 UTC, to the last Sunday of October, 01:00 UTC
// (Directive 2000/84/EC art. 2–3). The rule is computed here rather than read from the host's time
// zone database, so the result never depends on the machine's tzdata or TZ setting.

import { addDays, isWorkingDay, addWeeks, addYears } from './calendar.js'

export const SLOT_GRID_MINUTES = 15
const MS_PER_MINUTE = 60_000
const MS_PER_HOUR = 3_600_000

export const APPOINTMENT_KINDS = ['intake_interview', 'registration_appearance', 'ceremony', 'option_confirmation'] as const
export type AppointmentKind = (typeof APPOINTMENT_KINDS)[number]

/** Kinds held as a group session (a seat in a ceremony session) rather than a staff member's slot. */
export const SESSION_KINDS: ReadonlySet<AppointmentKind> = new Set(['ceremony', 'option_confirmation'])

/** The length of a one-to-one appointment (API.md: intake 30 min, registration 20 min). */
export const DURATION_MINUTES: Readonly<Record<'intake_interview' | 'registration_appearance', number>> = {
  intake_interview: 30,
  registration_appearance: 20,
}

export const isAppointmentKind = (value: string): value is AppointmentKind => (APPOINTMENT_KINDS as readonly string[]).includes(value)

/** At most this many invitations per kind; the last one goes by registered letter (BVVN art. 60b(10)). */
export const MAX_ATTEMPTS = 3

// ——— time zone ———

/** The last Sunday of a month, as YYYY-MM-DD. */
function lastSunday(year: number, month: number): string {
  const last = new Date(Date.UTC(year, month, 0)) // day 0 of the next month
  const day = last.getUTCDate() - last.getUTCDay()
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`
}

/** True when Amsterdam keeps summer time (UTC+2) at this instant. */
export function isAmsterdamSummerTime(at: Date): boolean {
  const year = at.getUTCFullYear()
  const begins = Date.parse(`${lastSunday(year, 3)}T01:00:00Z`)
  const ends = Date.parse(`${lastSunday(year, 10)}T01:00:00Z`)
  const t = at.getTime()
  return t >= begins && t < ends
}

/** The offset of Amsterdam from UTC at this instant, in minutes (60 or 120). */
export const amsterdamOffsetMinutes = (at: Date): number => (isAmsterdamSummerTime(at) ? 120 : 60)

/** "HH:MM" → minutes after midnight; null unless a real time of day (00:00–24:00). */
export function parseClock(value: string): number | null {
  const match = /^([01]\d|2[0-4]):([0-5]\d)$/.exec(value)
  if (!match) return null
  const minutes = Number(match[1]) * 60 + Number(match[2])
  return minutes <= 24 * 60 ? minutes : null
}

export const formatClock = (minutes: number): string =>
  `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`

/**
 * The instant of a wall-clock time on a date in Amsterdam. Office hours never fall in the two
 * transition hours, but the function is total: a time in the spring gap (02:00–03:00 on the last
 * Sunday of March, which does not exist) is read with the winter offset, so it lands an hour later
 * on the summer clock, and a time in the autumn overlap (which happens twice) is the first of the two.
 */
export function amsterdamToUtc(date: string, minuteOfDay: number): Date {
  const asIfUtc = Date.parse(`${date}T00:00:00Z`) + minuteOfDay * MS_PER_MINUTE
  const summer = new Date(asIfUtc - 2 * MS_PER_HOUR)
  if (isAmsterdamSummerTime(summer)) return summer
  return new Date(asIfUtc - MS_PER_HOUR)
}

/** The date and minute of day an instant shows on an Amsterdam clock. */
export function utcToAmsterdam(at: Date): { date: string; minuteOfDay: number } {
  const local = new Date(at.getTime() + amsterdamOffsetMinutes(at) * MS_PER_MINUTE)
  return { date: local.toISOString().slice(0, 10), minuteOfDay: local.getUTCHours() * 60 + local.getUTCMinutes() }
}

/** ISO weekday of a date: 1 = Monday … 7 = Sunday. */
export function isoWeekday(date: string): number {
  const d = new Date(`${date}T00:00:00Z`).getUTCDay()
  return d === 0 ? 7 : d
}

/** The national naturalisation day (15 December) may hold a ceremony on any day of the week. */
export const isNaturalisationDay = (date: string): boolean => date.slice(5) === '12-15'

/** A ceremony session may be held on a working day, or on 15 December whatever day that is. */
export const isCeremonyDate = (date: string): boolean => isWorkingDay(date) || isNaturalisationDay(date)

// ——— availability ———

export interface WeeklyWindow {
  /** ISO weekday, 1 = Monday … 7 = Sunday. */
  weekday: number
  startMinute: number
  endMinute: number
  locationCode: string
}

/** Inclusive dates YYYY-MM-DD. */
export interface Absence {
  from: string
  until: string
}

export interface Interval {
  start: Date
  end: Date
}

export interface StaffCalendar {
  staffId: string
  weekly: readonly WeeklyWindow[]
  absences: readonly Absence[]
  /** Appointments this staff member already holds. */
  busy: readonly Interval[]
}

export interface AvailabilityProblem {
  name: string
  code: 'inverted-range' | 'overlapping-range' | 'invalid-time' | 'invalid-date'
  reason: string
}

/** The field problems of a weekly pattern and absences (the 400s of PUT …/availability). */
export function availabilityProblems(weekly: readonly WeeklyWindow[], absences: readonly Absence[]): AvailabilityProblem[] {
  const problems: AvailabilityProblem[] = []
  weekly.forEach((w, i) => {
    if (w.startMinute >= w.endMinute) problems.push({ name: `weekly[${i}]`, code: 'inverted-range', reason: 'start must be before end' })
  })
  weekly.forEach((w, i) => {
    weekly.forEach((other, j) => {
      if (j <= i || other.weekday !== w.weekday) return
      if (w.startMinute < other.endMinute && other.startMinute < w.endMinute) {
        problems.push({ name: `weekly[${j}]`, code: 'overlapping-range', reason: `overlaps weekly[${i}] on weekday ${w.weekday}` })
      }
    })
  })
  absences.forEach((a, i) => {
    if (a.from > a.until) problems.push({ name: `absences[${i}]`, code: 'inverted-range', reason: 'from must be on or before until' })
  })
  absences.forEach((a, i) => {
    absences.forEach((other, j) => {
      if (j <= i) return
      if (a.from <= other.until && other.from <= a.until) {
        problems.push({ name: `absences[${j}]`, code: 'overlapping-range', reason: `overlaps absences[${i}]` })
      }
    })
  })
  return problems
}

const overlaps = (a: Interval, b: Interval): boolean => a.start.getTime() < b.end.getTime() && b.start.getTime() < a.end.getTime()

export interface SlotQuery {
  durationMinutes: number
  /** No slot starts before this instant (the start of the next working day, or `earliest`). */
  notBefore: Date
  /** No slot starts after this instant. */
  notAfter: Date
  /** Only windows at this location, when given. */
  locationCode?: string | null
}

export interface Slot {
  staffId: string
  start: Date
  end: Date
  locationCode: string
}

/** The earliest slot of one staff member, or null. */
export function earliestSlotOf(staff: StaffCalendar, query: SlotQuery): Slot | null {
  if (staff.weekly.length === 0) return null
  const windows = [...staff.weekly]
    .filter((w) => !query.locationCode || w.locationCode === query.locationCode)
    .sort((a, b) => a.startMinute - b.startMinute)
  if (windows.length === 0) return null
  const firstDate = utcToAmsterdam(query.notBefore).date
  const lastDate = utcToAmsterdam(query.notAfter).date
  for (let date = firstDate; date <= lastDate; date = addDays(date, 1)) {
    if (!isWorkingDay(date)) continue
    if (staff.absences.some((a) => a.from <= date && date <= a.until)) continue
    const weekday = isoWeekday(date)
    let best: Slot | null = null
    for (const w of windows) {
      if (w.weekday !== weekday) continue
      const first = Math.ceil(w.startMinute / SLOT_GRID_MINUTES) * SLOT_GRID_MINUTES
      for (let m = first; m + query.durationMinutes <= w.endMinute; m += SLOT_GRID_MINUTES) {
        const start = amsterdamToUtc(date, m)
        if (start < query.notBefore) continue
        if (start > query.notAfter) break
        if (best && start >= best.start) break
        const candidate = { start, end: new Date(start.getTime() + query.durationMinutes * MS_PER_MINUTE) }
        if (staff.busy.some((b) => overlaps(b, candidate))) continue
        best = { staffId: staff.staffId, ...candidate, locationCode: w.locationCode }
        break
      }
    }
    if (best) return best
  }
  return null
}

/**
 * The earliest fitting slot. `groups` are tried in order (the assigned specialist alone, then every
 * other skilled specialist): the first group with any slot wins, and within a group the earliest
 * slot wins, ties going to the staff member listed first.
 */
export function findEarliestSlot(groups: readonly (readonly StaffCalendar[])[], query: SlotQuery): Slot | null {
  for (const group of groups) {
    let best: Slot | null = null
    for (const staff of group) {
      const slot = earliestSlotOf(staff, query)
      if (slot && (!best || slot.start < best.start)) best = slot
    }
    if (best) return best
  }
  return null
}

/** The start of the next working day after the Amsterdam date of `now`, as an instant. */
export function startOfNextWorkingDay(now: Date): Date {
  let date = addDays(utcToAmsterdam(now).date, 1)
  while (!isWorkingDay(date)) date = addDays(date, 1)
  return amsterdamToUtc(date, 0)
}

/** How far ahead the scheduler looks when the request gives no `latest`. */
export const DEFAULT_HORIZON_DAYS = 91

// ——— statutory windows of the ceremony kinds ———

export interface CeremonyWindow {
  /** The last date (inclusive) a session may be held for this invitation. */
  lastDate: string
  source: string
}

/**
 * Naturalisation (BVVN art. 60b): the hand-over takes place within 6 weeks of sending the
 * invitation — the booking — and before the decree lapses, one year after its date (art. 60b(11)).
 * The invitation itself is due within 6 weeks of the decree date; a late one still gets a
 * ceremony, and the `ceremony_invitation` clock shows it was late.
 */
export function naturalisationCeremonyWindow(decreeDate: string, invitationDate: string): CeremonyWindow {
  const handover = addWeeks(invitationDate, 6)
  const lapse = addDays(addYears(decreeDate, 1), -1)
  return { lastDate: handover < lapse ? handover : lapse, source: 'BVVN art. 60b(1),(2),(11)' }
}

/** Option (BVVN art. 60a): the confirmation is handed over within 9 weeks of the grant. */
export function optionConfirmationWindow(grantDate: string): CeremonyWindow {
  return { lastDate: addWeeks(grantDate, 9), source: 'BVVN art. 60a' }
}
