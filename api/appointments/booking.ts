// The scheduling worker's use case: book one requested appointment — the earliest fitting slot of
// a skilled specialist, or a seat in the earliest ceremony session inside the statutory window —
// or mark it unschedulable with a reason. Safe to run twice: an appointment that is no longer
// `requested` is left alone, and the database refuses an overlapping slot or a seat too many.
import type * as casesRepo from '../cases/cases.repository.js'
import { recordCeremonyInvitation } from '../cases/clocks.js'
import { recordCaseEvent } from '../cases/lifecycle.js'
import { withTenantOf, type Db, type Trx } from '../db/database.js'
import {
  DEFAULT_HORIZON_DAYS,
  DURATION_MINUTES,
  SESSION_KINDS,
  amsterdamToUtc,
  findEarliestSlot,
  naturalisationCeremonyWindow,
  optionConfirmationWindow,
  startOfNextWorkingDay,
  utcToAmsterdam,
  type AppointmentKind,
  type CeremonyWindow,
  type StaffCalendar,
} from '../domain/scheduling.js'
import { addDays } from '../domain/calendar.js'
import type { JobPayload } from '../jobs/registry.js'
import { dutchDate } from '../time.js'
import { emitEvent } from '../webhooks/events.js'
import * as repo from './appointments.repository.js'
import { SCHEDULER } from './access.js'

export type UnschedulableReason = 'no-staff-with-skill' | 'no-availability' | 'no-session-within-statutory-term'
export type BookingResult = 'booked' | 'unschedulable' | 'skipped'

const MS_PER_DAY = 86_400_000
/** Attempts at the next free slot after losing one to a concurrent booking, before giving up. */
const MAX_SLOT_RACES = 200

type Booked = { kind: 'booked'; startsAt: Date }
type Unschedulable = { kind: 'unschedulable'; reason: UnschedulableReason }
type Bounds = { notBefore: Date; notAfter: Date }

/** The instants a slot must start between: the next working day on, inside earliest/latest. */
function searchBounds(a: repo.AppointmentRow, now: Date, lastDate: string | null): Bounds {
  const nextWorkingDay = startOfNextWorkingDay(now)
  const notBefore = a.earliest && a.earliest > nextWorkingDay ? a.earliest : nextWorkingDay
  const horizon = new Date(notBefore.getTime() + DEFAULT_HORIZON_DAYS * MS_PER_DAY)
  let notAfter = a.latest ?? horizon
  if (lastDate) {
    const endOfLastDate = amsterdamToUtc(addDays(lastDate, 1), 0)
    if (endOfLastDate < notAfter) notAfter = new Date(endOfLastDate.getTime() - 1)
  }
  return { notBefore, notAfter }
}

/** The held time is read up to a day past the last start: a slot starting then may end later. */
const busyUntil = (bounds: Bounds): Date => new Date(bounds.notAfter.getTime() + MS_PER_DAY)

const toCalendar = (row: repo.CalendarRow): StaffCalendar => ({
  staffId: row.id,
  weekly: row.weekly ?? [],
  absences: row.absences ?? [],
  busy: (row.busy ?? []).map((b) => ({ start: new Date(b.start), end: new Date(b.end) })),
})

/**
 * Where ties between staff members start counting, for this appointment: concurrent bookings
 * that look for the same earliest time then try different staff members instead of all racing
 * for the first one listed. Only the staff member chosen among equally early slots depends on it.
 */
export function tieBreakOffset(appointmentId: string, staffCount: number): number {
  if (staffCount <= 1) return 0
  let h = 0
  for (const ch of appointmentId) h = (h * 31 + ch.charCodeAt(0)) >>> 0
  return h % staffCount
}

/**
 * How a booking transaction takes staff locks. `hold`: a lost race keeps the lock of that
 * calendar, whose held time is then read under it, so the next try there is certain — one extra
 * statement however many bookings queue for the same staff member. That is safe only while the
 * transaction holds no other staff lock: needing a second one it starts over in `release` mode,
 * where every lost race lets its lock go at once, so it never waits for a lock while holding one
 * (two bookings each holding the calendar the other wants would deadlock).
 */
type LockMode = 'hold' | 'release'

/** A `hold` transaction that would need a second staff lock: it is rolled back and run in `release` mode. */
class SecondLockNeeded extends Error {}

interface Locks {
  mode: LockMode
  /** The staff member whose lock a `hold` transaction keeps. */
  held: string | null
}

async function bookSlot(trx: Trx, c: casesRepo.CaseRow, a: repo.AppointmentRow, now: Date, locks: Locks): Promise<Booked | Unschedulable> {
  const bounds = searchBounds(a, now, null)
  // One statement: the skilled staff, with the calendars of the group searched first — the
  // assigned specialist alone when he has the skill, every skilled staff member otherwise.
  const staff = await repo.skilledStaffCalendars(trx, c.hub_tenant_id, c.case_type, c.assigned_staff_id, bounds.notBefore, busyUntil(bounds))
  if (staff.length === 0) return { kind: 'unschedulable', reason: 'no-staff-with-skill' }
  const first = staff.filter((s) => s.weekly !== null)
  const rest = staff.filter((s) => s.weekly === null).map((s) => s.id)
  let startsAt = await bookInGroup(trx, a, first.map(toCalendar), bounds, locks)
  // The other skilled specialists when the assigned one has no fitting slot; read only now.
  if (!startsAt && rest.length > 0) {
    startsAt = await bookInGroup(trx, a, (await repo.calendarsOf(trx, rest, bounds.notBefore, busyUntil(bounds))).map(toCalendar), bounds, locks)
  }
  return startsAt ? { kind: 'booked', startsAt } : { kind: 'unschedulable', reason: 'no-availability' }
}

/**
 * The earliest free slot among these staff members, booked; null when none of them has one. The
 * calendars were read without a lock: the slot is booked under its staff member's lock only if
 * still free, and when it was taken meanwhile the answer brings that calendar's held time as it
 * is now, and the search goes on from there (no further query, no failed insert).
 */
async function bookInGroup(trx: Trx, a: repo.AppointmentRow, calendars: StaffCalendar[], bounds: Bounds, locks: Locks): Promise<Date | null> {
  const available = calendars.filter((cal) => cal.weekly.length > 0)
  if (available.length === 0) return null
  const offset = tieBreakOffset(a.id, available.length)
  const rotated = [...available.slice(offset), ...available.slice(0, offset)]
  const duration = DURATION_MINUTES[a.kind as keyof typeof DURATION_MINUTES]
  const query = { durationMinutes: duration, notBefore: bounds.notBefore, notAfter: bounds.notAfter, locationCode: a.requested_location_code }
  for (let race = 0; race < MAX_SLOT_RACES; race += 1) {
    const slot = findEarliestSlot([rotated], query)
    if (!slot) return null
    if (locks.held && locks.held !== slot.staffId) throw new SecondLockNeeded()
    const outcome = await repo.bookStaffSlot(trx, {
      appointmentId: a.id,
      staffId: slot.staffId,
      start: slot.start,
      end: slot.end,
      locationCode: slot.locationCode,
      busyFrom: bounds.notBefore,
      busyTo: busyUntil(bounds),
      hold: locks.mode === 'hold',
    })
    if (outcome.booked) return slot.start
    if (locks.mode === 'hold') locks.held = slot.staffId
    const i = rotated.findIndex((cal) => cal.staffId === slot.staffId)
    const busy = outcome.busy ?? (await repo.calendarsOf(trx, [slot.staffId], bounds.notBefore, busyUntil(bounds))).map(toCalendar)[0]?.busy ?? []
    // The taken slot itself stays out, should the held time read not show it yet.
    rotated[i] = { ...rotated[i]!, busy: [...busy, { start: slot.start, end: slot.end }] }
  }
  return null
}

/** The statutory window of a ceremony kind for an invitation sent today, or null when it cannot be known. */
export function sessionWindowOf(c: casesRepo.CaseRow, kind: AppointmentKind, invitationDate: string): CeremonyWindow | null {
  if (kind === 'option_confirmation') return c.decided_at ? optionConfirmationWindow(dutchDate(c.decided_at)) : null
  return c.royal_decree_decision === 'granted' && c.royal_decree_date ? naturalisationCeremonyWindow(c.royal_decree_date, invitationDate) : null
}

async function bookSeat(trx: Trx, c: casesRepo.CaseRow, a: repo.AppointmentRow, now: Date): Promise<Booked | Unschedulable> {
  const window = sessionWindowOf(c, a.kind, utcToAmsterdam(now).date)
  if (!window) return { kind: 'unschedulable', reason: 'no-session-within-statutory-term' }
  const { notBefore, notAfter } = searchBounds(a, now, window.lastDate)
  const seat = await repo.bookEarliestSeat(trx, a.id, c.hub_tenant_id, {
    notBefore,
    notAfter,
    lastDate: window.lastDate,
    locationCode: a.requested_location_code,
  })
  return seat ? { kind: 'booked', startsAt: seat.starts_at } : { kind: 'unschedulable', reason: 'no-session-within-statutory-term' }
}

export async function bookAppointment(db: Db, payload: JobPayload<'scheduling', 'book'>, now: Date = new Date()): Promise<BookingResult> {
  try {
    return await bookOnce(db, payload, now, 'hold')
  } catch (err) {
    if (!(err instanceof SecondLockNeeded)) throw err
    return bookOnce(db, payload, now, 'release')
  }
}

function bookOnce(db: Db, payload: JobPayload<'scheduling', 'book'>, now: Date, mode: LockMode): Promise<BookingResult> {
  return withTenantOf(db, payload.tenantId, async (trx) => {
    // The case first, then the appointment: the order every appointment write takes.
    const c = await repo.lockCaseOfAppointment(trx, payload.appointmentId)
    if (!c) return 'skipped'
    const a = await repo.lockAppointment(trx, payload.appointmentId)
    if (!a || a.status !== 'requested') return 'skipped'
    const result = SESSION_KINDS.has(a.kind) ? await bookSeat(trx, c, a, now) : await bookSlot(trx, c, a, now, { mode, held: null })
    const objectPath = `/v1/appointments/${a.id}`
    if (result.kind === 'booked') {
      // The booking is the invitation (BVVN art. 60b(2)): the invitation clock is met and the
      // hand-over clock starts (the first invitation counts; a re-invitation changes nothing).
      const invited = a.kind === 'ceremony' ? await recordCeremonyInvitation(trx, c.id, utcToAmsterdam(now).date) : c
      await recordCaseEvent(trx, invited, { action: 'appointment_booked', actor: SCHEDULER, reason: `${a.kind} booked for ${result.startsAt.toISOString()}` })
      await emitEvent(trx, {
        type: 'appointment.booked',
        hubTenantId: c.hub_tenant_id,
        memberTenantId: c.member_tenant_id,
        objectPath,
        data: { appointmentId: a.id, caseId: c.id, caseReference: c.reference, kind: a.kind, status: 'booked', attempt: a.attempt },
      })
      return 'booked'
    }
    await repo.updateAppointment(trx, a.id, { status: 'unschedulable', reason: result.reason })
    await recordCaseEvent(trx, c, { action: 'appointment_unschedulable', actor: SCHEDULER, reason: `${a.kind}: ${result.reason}` })
    await emitEvent(trx, {
      type: 'appointment.unschedulable',
      hubTenantId: c.hub_tenant_id,
      memberTenantId: c.member_tenant_id,
      objectPath,
      data: { appointmentId: a.id, caseId: c.id, caseReference: c.reference, kind: a.kind, status: 'unschedulable', reason: result.reason },
    })
    return 'unschedulable'
  })
}
