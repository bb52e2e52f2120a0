import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isWorkingDay } from '../../api/domain/calendar.js'
import {
  amsterdamToUtc,
  availabilityProblems,
  findEarliestSlot,
  isCeremonyDate,
  naturalisationCeremonyWindow,
  optionConfirmationWindow,
  parseClock,
  startOfNextWorkingDay,
  utcToAmsterdam,
  type StaffCalendar,
  type WeeklyWindow,
} from '../../api/domain/scheduling.js'

// An independent reading of the Amsterdam clock: the host's time zone database through Intl.
const INTL = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Europe/Amsterdam',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
})
function intlAmsterdam(at: Date): { date: string; minuteOfDay: number; weekday: number } {
  const parts = Object.fromEntries(INTL.formatToParts(at).map((p) => [p.type, p.value]))
  const date = `${parts.year}-${parts.month}-${parts.day}`
  const d = new Date(`${date}T00:00:00Z`).getUTCDay()
  return { date, minuteOfDay: Number(parts.hour) * 60 + Number(parts.minute), weekday: d === 0 ? 7 : d }
}

const NINE = 9 * 60
const iso = (d: Date | undefined | null) => d?.toISOString()

describe('wall-clock time in Europe/Amsterdam', () => {
  it.each([
    // winter and summer
    ['2026-01-15', '2026-01-15T08:00:00.000Z'],
    ['2026-07-15', '2026-07-15T07:00:00.000Z'],
    ['2027-01-14', '2027-01-14T08:00:00.000Z'],
    ['2027-07-15', '2027-07-15T07:00:00.000Z'],
    // the spring transition (Sunday 29 March 2026, Sunday 28 March 2027): the Friday before, the Monday after
    ['2026-03-27', '2026-03-27T08:00:00.000Z'],
    ['2026-03-30', '2026-03-30T07:00:00.000Z'],
    ['2027-03-26', '2027-03-26T08:00:00.000Z'],
    ['2027-03-29', '2027-03-29T07:00:00.000Z'],
    // the autumn transition (Sunday 25 October 2026, Sunday 31 October 2027)
    ['2026-10-23', '2026-10-23T07:00:00.000Z'],
    ['2026-10-26', '2026-10-26T08:00:00.000Z'],
    ['2027-10-29', '2027-10-29T07:00:00.000Z'],
    ['2027-11-01', '2027-11-01T08:00:00.000Z'],
  ])('09:00 on %s is %s', (date, expected) => {
    expect(amsterdamToUtc(date, NINE).toISOString()).toBe(expected)
    expect(utcToAmsterdam(new Date(expected))).toEqual({ date, minuteOfDay: NINE })
  })

  it('handles the transition nights themselves: the spring gap moves on, the autumn overlap takes the first', () => {
    expect(amsterdamToUtc('2026-03-29', 60).toISOString()).toBe('2026-03-29T00:00:00.000Z')
    expect(amsterdamToUtc('2026-03-29', 150).toISOString()).toBe('2026-03-29T01:30:00.000Z') // 02:30 does not exist → 03:30
    expect(amsterdamToUtc('2026-03-29', 180).toISOString()).toBe('2026-03-29T01:00:00.000Z')
    expect(amsterdamToUtc('2026-10-25', 150).toISOString()).toBe('2026-10-25T00:30:00.000Z') // the first 02:30
    expect(amsterdamToUtc('2026-10-25', 180).toISOString()).toBe('2026-10-25T02:00:00.000Z')
  })

  it('agrees with the time zone database for every instant of 2026–2027', () => {
    const from = Date.parse('2026-01-01T00:00:00Z')
    const to = Date.parse('2028-01-01T00:00:00Z')
    fc.assert(
      fc.property(fc.integer({ min: from / 60_000, max: to / 60_000 }), (minute) => {
        const at = new Date(minute * 60_000)
        const expected = intlAmsterdam(at)
        expect(utcToAmsterdam(at)).toEqual({ date: expected.date, minuteOfDay: expected.minuteOfDay })
        // Back again: a wall-clock time that exists maps to the instant (or, in the autumn overlap, the first of two).
        const back = amsterdamToUtc(expected.date, expected.minuteOfDay)
        expect(intlAmsterdam(back)).toEqual(expected)
      }),
      { numRuns: 3000 },
    )
  })

  it('parses only real HH:MM times', () => {
    expect(parseClock('09:00')).toBe(540)
    expect(parseClock('24:00')).toBe(1440)
    for (const bad of ['9:00', '24:01', '12:60', '25:00', '12.30', '']) expect(parseClock(bad)).toBeNull()
  })
})

// ——— the slot search ———

const LOC = 'stadhuis'
const weekdays = (start: string, end: string, days = [1, 2, 3, 4, 5]): WeeklyWindow[] =>
  days.map((weekday) => ({ weekday, startMinute: parseClock(start)!, endMinute: parseClock(end)!, locationCode: LOC }))
const staff = (id: string, weekly: WeeklyWindow[], extra: Partial<StaffCalendar> = {}): StaffCalendar => ({ staffId: id, weekly, absences: [], busy: [], ...extra })
const query = (notBefore: string, days = 60, durationMinutes = 30) => ({
  durationMinutes,
  notBefore: new Date(notBefore),
  notAfter: new Date(Date.parse(notBefore) + days * 86_400_000),
})

describe('findEarliestSlot', () => {
  it('skips weekends and Dutch public holidays (Christmas 2026, Koningsdag 2026, Easter Monday 2027 on the DST Monday)', () => {
    const s = [staff('a', weekdays('09:00', '12:00'))]
    expect(iso(findEarliestSlot([s], query('2026-12-24T23:00:00Z'))?.start)).toBe('2026-12-28T08:00:00.000Z')
    expect(iso(findEarliestSlot([s], query('2026-04-26T22:00:00Z'))?.start)).toBe('2026-04-28T07:00:00.000Z')
    expect(iso(findEarliestSlot([s], query('2027-03-27T00:00:00Z'))?.start)).toBe('2027-03-30T07:00:00.000Z')
    // Good Friday is an ordinary working day for municipal staff (dutch_holidays.md, note 1).
    expect(iso(findEarliestSlot([s], query('2026-04-02T22:00:00Z'))?.start)).toBe('2026-04-03T07:00:00.000Z')
  })

  it('puts slots on the 15-minute wall-clock grid and inside the window', () => {
    const s = [staff('a', weekdays('09:10', '09:50'))]
    const slot = findEarliestSlot([s], query('2026-12-06T23:00:00Z', 10, 30))
    expect(iso(slot?.start)).toBe('2026-12-07T08:15:00.000Z') // 09:15, the first grid time in the window
    expect(iso(slot?.end)).toBe('2026-12-07T08:45:00.000Z')
    expect(findEarliestSlot([[staff('b', weekdays('09:10', '09:40'))]], query('2026-12-06T23:00:00Z', 10, 30))).toBeNull()
  })

  it('skips absences (inclusive dates) and busy time; the assigned specialist goes first', () => {
    const absent = staff('a', weekdays('09:00', '10:00'), { absences: [{ from: '2026-12-07', until: '2026-12-08' }] })
    expect(iso(findEarliestSlot([[absent]], query('2026-12-06T23:00:00Z'))?.start)).toBe('2026-12-09T08:00:00.000Z')
    const busy = staff('b', weekdays('09:00', '10:00'), { busy: [{ start: new Date('2026-12-07T08:00:00Z'), end: new Date('2026-12-07T08:20:00Z') }] })
    expect(iso(findEarliestSlot([[busy]], query('2026-12-06T23:00:00Z'))?.start)).toBe('2026-12-07T08:30:00.000Z')
    // The assigned specialist's later slot beats another's earlier one; without one, the others.
    const assigned = staff('assigned', weekdays('14:00', '15:00'))
    const other = staff('other', weekdays('09:00', '10:00'))
    expect(findEarliestSlot([[assigned], [other]], query('2026-12-06T23:00:00Z'))?.staffId).toBe('assigned')
    expect(findEarliestSlot([[staff('assigned', [])], [other]], query('2026-12-06T23:00:00Z'))?.staffId).toBe('other')
    expect(findEarliestSlot([[staff('x', weekdays('09:00', '10:00')), other]], query('2026-12-06T23:00:00Z'))?.staffId).toBe('x')
  })

  it('keeps to the requested location', () => {
    const s = staff('a', [...weekdays('09:00', '10:00', [1]), { weekday: 2, startMinute: NINE, endMinute: 600, locationCode: 'desk-member' }])
    const slot = findEarliestSlot([[s]], { ...query('2026-12-06T23:00:00Z'), locationCode: 'desk-member' })
    expect(slot?.locationCode).toBe('desk-member')
    expect(iso(slot?.start)).toBe('2026-12-08T08:00:00.000Z')
  })

  // Random staff calendars across 2026–2027: every slot found is a valid one, and no valid slot
  // exists before it (checked by brute force on the 15-minute grid with the independent clock).
  const windowArb = fc
    .record({ weekday: fc.integer({ min: 1, max: 7 }), start: fc.integer({ min: 6 * 4, max: 20 * 4 }), length: fc.integer({ min: 1, max: 16 }) })
    .map((w) => ({ weekday: w.weekday, startMinute: w.start * 15 - (w.start % 3) * 5, endMinute: Math.min(w.start * 15 + w.length * 15, 1440), locationCode: LOC }))
  const dayArb = fc.integer({ min: 0, max: 729 }).map((n) => new Date(Date.parse('2026-01-01T00:00:00Z') + n * 86_400_000).toISOString().slice(0, 10))
  const calendarArb = fc.record({
    weekly: fc.array(windowArb, { maxLength: 4 }),
    absences: fc.array(fc.tuple(dayArb, fc.integer({ min: 0, max: 6 })), { maxLength: 3 }),
    busy: fc.array(fc.tuple(fc.integer({ min: 0, max: 40 * 24 * 4 }), fc.integer({ min: 1, max: 8 })), { maxLength: 30 }),
  })

  it('never offers a weekend, a holiday, an absence, time outside the pattern or an overlap; and finds the earliest', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.parse('2026-01-01T00:00:00Z') / 900_000, max: Date.parse('2027-11-30T00:00:00Z') / 900_000 }),
        fc.array(calendarArb, { minLength: 1, maxLength: 3 }),
        fc.constantFrom(20, 30),
        (quarter, raw, duration) => {
          const notBefore = new Date(quarter * 900_000)
          const notAfter = new Date(notBefore.getTime() + 21 * 86_400_000)
          const calendars: StaffCalendar[] = raw.map((r, i) => ({
            staffId: `s${i}`,
            weekly: r.weekly.filter((w) => w.startMinute < w.endMinute),
            absences: r.absences.map(([from, days]) => ({ from, until: new Date(Date.parse(from) + days * 86_400_000).toISOString().slice(0, 10) })),
            busy: r.busy.map(([q, len]) => ({ start: new Date(notBefore.getTime() + q * 900_000), end: new Date(notBefore.getTime() + (q + len) * 900_000) })),
          }))
          const valid = (c: StaffCalendar, start: Date): boolean => {
            const end = new Date(start.getTime() + duration * 60_000)
            const local = intlAmsterdam(start)
            if (!isWorkingDay(local.date) || local.minuteOfDay % 15 !== 0) return false
            if (c.absences.some((a) => a.from <= local.date && local.date <= a.until)) return false
            const fits = c.weekly.some((w) => w.weekday === local.weekday && local.minuteOfDay >= w.startMinute && local.minuteOfDay + duration <= w.endMinute)
            return fits && !c.busy.some((b) => b.start < end && start < b.end)
          }
          const slot = findEarliestSlot([calendars], { durationMinutes: duration, notBefore, notAfter })
          const limit = slot ? slot.start.getTime() : notAfter.getTime()
          for (let t = notBefore.getTime(); t < limit; t += 900_000) {
            for (const c of calendars) expect(valid(c, new Date(t)), `a valid slot at ${new Date(t).toISOString()} for ${c.staffId}`).toBe(false)
          }
          if (slot) {
            const owner = calendars.find((c) => c.staffId === slot.staffId)!
            expect(valid(owner, slot.start)).toBe(true)
            expect(slot.start >= notBefore && slot.start <= notAfter).toBe(true)
            expect(slot.end.getTime() - slot.start.getTime()).toBe(duration * 60_000)
          }
        },
      ),
      { numRuns: 150 },
    )
  })

  // The scheduler rotates the list of staff per appointment (booking.ts tieBreakOffset) so that
  // concurrent bookings spread across staff: the order may decide only between equally early slots.
  it('finds the same earliest start whatever the order of the staff (the spreading rotation)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.parse('2026-01-01T00:00:00Z') / 900_000, max: Date.parse('2027-11-30T00:00:00Z') / 900_000 }),
        fc.array(calendarArb, { minLength: 2, maxLength: 4 }),
        fc.nat(),
        (quarter, raw, shift) => {
          const notBefore = new Date(quarter * 900_000)
          const query = { durationMinutes: 30, notBefore, notAfter: new Date(notBefore.getTime() + 14 * 86_400_000) }
          const calendars: StaffCalendar[] = raw.map((r, i) => ({
            staffId: `s${i}`,
            weekly: r.weekly.filter((w) => w.startMinute < w.endMinute),
            absences: [],
            busy: r.busy.map(([q, len]) => ({ start: new Date(notBefore.getTime() + q * 900_000), end: new Date(notBefore.getTime() + (q + len) * 900_000) })),
          }))
          const k = shift % calendars.length
          const rotated = [...calendars.slice(k), ...calendars.slice(0, k)]
          const plain = findEarliestSlot([calendars], query)
          const spread = findEarliestSlot([rotated], query)
          expect(spread?.start.toISOString()).toBe(plain?.start.toISOString())
          // Ties go to the first staff member in the rotated order that has the slot.
          if (spread) expect(spread.staffId).toBe(rotated.find((c) => findEarliestSlot([[c]], query)?.start.getTime() === spread.start.getTime())!.staffId)
        },
      ),
      { numRuns: 150 },
    )
  })
})

describe('the next working day and the ceremony rules', () => {
  it('starts the search at 00:00 Amsterdam time of the next working day', () => {
    expect(startOfNextWorkingDay(new Date('2026-12-04T15:00:00Z')).toISOString()).toBe('2026-12-06T23:00:00.000Z') // Fri → Mon
    expect(startOfNextWorkingDay(new Date('2026-12-24T10:00:00Z')).toISOString()).toBe('2026-12-27T23:00:00.000Z') // Christmas → Mon 28
    expect(startOfNextWorkingDay(new Date('2026-06-30T22:30:00Z')).toISOString()).toBe('2026-07-01T22:00:00.000Z') // already 1 July in Amsterdam
  })

  it('allows a ceremony on a working day or on 15 December, whatever day that is', () => {
    expect(isCeremonyDate('2026-12-15')).toBe(true) // Tuesday
    expect(isCeremonyDate('2029-12-15')).toBe(true) // Saturday: the national naturalisation day
    expect(isCeremonyDate('2030-12-15')).toBe(true) // Sunday
    expect(isCeremonyDate('2026-12-19')).toBe(false) // Saturday
    expect(isCeremonyDate('2026-12-25')).toBe(false) // Christmas
  })

  it('bounds the ceremony by 6 weeks after the invitation and the decree lapse, and the option confirmation by 9 weeks', () => {
    expect(naturalisationCeremonyWindow('2026-01-10', '2026-02-01').lastDate).toBe('2026-03-15')
    expect(naturalisationCeremonyWindow('2026-01-10', '2026-12-20').lastDate).toBe('2027-01-09')
    expect(optionConfirmationWindow('2026-10-01').lastDate).toBe('2026-12-03')
  })

  it('refuses overlapping and inverted ranges', () => {
    expect(availabilityProblems(weekdays('09:00', '12:00', [1]), [])).toEqual([])
    expect(availabilityProblems([...weekdays('09:00', '12:00', [1]), ...weekdays('11:00', '13:00', [1])], []).map((p) => p.code)).toEqual(['overlapping-range'])
    expect(availabilityProblems([...weekdays('09:00', '12:00', [1]), ...weekdays('12:00', '13:00', [1])], [])).toEqual([])
    expect(availabilityProblems(weekdays('12:00', '09:00', [1]), []).map((p) => p.code)).toEqual(['inverted-range'])
    expect(availabilityProblems([], [{ from: '2026-12-10', until: '2026-12-01' }]).map((p) => p.code)).toEqual(['inverted-range'])
    expect(availabilityProblems([], [{ from: '2026-12-01', until: '2026-12-10' }, { from: '2026-12-10', until: '2026-12-12' }]).map((p) => p.code)).toEqual(['overlapping-range'])
  })
})
