// The scheduling worker's use case: book one requested appointment — the earliest fitting slot of
// a skilled specialist, or a seat in the earliest ceremony session inside the statutory window —
// or mark it unschedulable with a reason. Two statements in the common case (migration 0016): the
// context (appointment, case, calendars) read without a lock, the slot search here, then the
// writes in one statement that locks the case and the appointment, books only if the slot is
// still free (under the staff member's lock) and the case unchanged, and records the event. Safe
// to run twice: an appointment that is no longer `requested` is left alone, and the database
// refuses an overlapping slot or a seat too many.
import { recordCeremonyInvitation } from '../cases/clocks.js'
import { withTenantOf, type Db } from '../db/database.js'
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
import { storedEvent } from '../webhooks/events.js'
import * as repo from './appointments.repository.js'
import { SCHEDULER } from './access.js'

export type UnschedulableReason = 'no-staff-with-skill' | 'no-availability' | 'no-session-within-statutory-term'
export type BookingResult = 'booked' | 'unschedulable' | 'skipped'

const MS_PER_DAY = 86_400_000
/** Attempts at the next free slot after losing one to a concurrent booking, before giving up. */
const MAX_SLOT_RACES = 200
/** Readings of the context when the case keeps changing under the booking, before the job fails (and is retried). */
const MAX_READS = 20
const SESSION_KIND_LIST = [...SESSION_KINDS]

type Bounds = { notBefore: Date; notAfter: Date }
/** The booking's context, with the job's tenant (the hub) whose rights every statement runs with. */
type Context = repo.BookingContext & { tenantId: string }
/** A booking's end: written, nothing to do, or the case changed (read the context again). */
type Outcome = BookingResult | 'stale'

/** The instants a slot must start between: the next working day on, inside earliest/latest. */
function searchBounds(a: Context['appointment'], now: Date, lastDate: string | null): Bounds {
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

/** The webhook event of an outcome, as stored with its deliveries: ids, the reference and statuses only. */
function eventOf(ctx: Context, outcome: 'booked' | 'unschedulable', reason?: UnschedulableReason) {
  const { appointment: a, case: c } = ctx
  const data = { appointmentId: a.id, caseId: c.id, caseReference: c.reference, kind: a.kind, status: outcome }
  return storedEvent({
    type: outcome === 'booked' ? 'appointment.booked' : 'appointment.unschedulable',
    hubTenantId: c.hub_tenant_id,
    memberTenantId: c.member_tenant_id,
    objectPath: `/v1/appointments/${a.id}`,
    data: outcome === 'booked' ? { ...data, attempt: a.attempt } : { ...data, reason: reason ?? null },
  })
}

/** The writes of one outcome, with the case event and the webhook event, in one statement. */
const write = (db: Parameters<typeof repo.bookAppointmentRow>[0], ctx: Context, w: repo.BookingWrite, reason?: UnschedulableReason) =>
  repo.bookAppointmentRow(db, {
    tenantId: ctx.tenantId,
    appointmentId: ctx.appointment.id,
    caseVersion: ctx.case.version,
    write: w,
    actor: SCHEDULER,
    bookedEvent: w.outcome === 'unschedulable' ? null : eventOf(ctx, 'booked'),
    unschedulableEvent: w.outcome === 'slot' ? null : eventOf(ctx, 'unschedulable', reason),
  })

/** Marks the appointment unschedulable: nothing fits. */
async function unschedulable(db: Db, ctx: Context, reason: UnschedulableReason): Promise<Outcome> {
  return resultOf(await write(db, ctx, { outcome: 'unschedulable', reason }, reason))
}

const resultOf = (answer: repo.BookingAnswer): Outcome => {
  if (answer.result === 'taken') throw new Error('book_appointment answered taken for a write without a slot')
  return answer.result
}

async function bookSlot(db: Db, ctx: Context, now: Date): Promise<Outcome> {
  const bounds = searchBounds(ctx.appointment, now, null)
  // Read with the context: the skilled staff, with the calendars of the group searched first —
  // the assigned specialist alone when he has the skill, every skilled staff member otherwise.
  const staff = ctx.staff ?? []
  if (staff.length === 0) return unschedulable(db, ctx, 'no-staff-with-skill')
  const first = staff.filter((s) => s.weekly !== null)
  const rest = staff.filter((s) => s.weekly === null).map((s) => s.id)
  let outcome = await bookInGroup(db, ctx, first.map(toCalendar), bounds)
  // The other skilled specialists when the assigned one has no fitting slot; read only now.
  if (outcome === null && rest.length > 0) {
    const calendars = await repo.staffCalendars(db, ctx.tenantId, rest, bounds.notBefore, busyUntil(bounds))
    outcome = await bookInGroup(db, ctx, calendars.map(toCalendar), bounds)
  }
  return outcome ?? unschedulable(db, ctx, 'no-availability')
}

/**
 * The earliest free slot among these staff members, booked; null when none of them has one. The
 * calendars were read without a lock: the slot is booked under its staff member's lock only if
 * still free, and when it was taken meanwhile the answer brings that calendar's held time as it
 * is now, and the search goes on from there (no further query). Each try takes one staff lock and
 * lets it go when its statement ends, so no booking waits for a lock while it holds another.
 */
async function bookInGroup(db: Db, ctx: Context, calendars: StaffCalendar[], bounds: Bounds): Promise<Outcome | null> {
  const a = ctx.appointment
  const available = calendars.filter((cal) => cal.weekly.length > 0)
  if (available.length === 0) return null
  const offset = tieBreakOffset(a.id, available.length)
  const rotated = [...available.slice(offset), ...available.slice(0, offset)]
  const duration = DURATION_MINUTES[a.kind as keyof typeof DURATION_MINUTES]
  const query = { durationMinutes: duration, notBefore: bounds.notBefore, notAfter: bounds.notAfter, locationCode: a.requested_location_code }
  for (let race = 0; race < MAX_SLOT_RACES; race += 1) {
    const slot = findEarliestSlot([rotated], query)
    if (!slot) return null
    const answer = await write(db, ctx, {
      outcome: 'slot',
      staffId: slot.staffId,
      start: slot.start,
      end: slot.end,
      locationCode: slot.locationCode,
      busyFrom: bounds.notBefore,
      busyTo: busyUntil(bounds),
    })
    if (answer.result !== 'taken') return answer.result
    const i = rotated.findIndex((cal) => cal.staffId === slot.staffId)
    // The taken slot itself stays out, should the held time read not show it yet.
    rotated[i] = { ...rotated[i]!, busy: [...(answer.busy ?? []), { start: slot.start, end: slot.end }] }
  }
  return null
}

/** The statutory window of a ceremony kind for an invitation sent today, or null when it cannot be known. */
export function sessionWindowOf(
  c: Pick<Context['case'], 'decided_at' | 'royal_decree_decision' | 'royal_decree_date'>,
  kind: AppointmentKind,
  invitationDate: string,
): CeremonyWindow | null {
  if (kind === 'option_confirmation') return c.decided_at ? optionConfirmationWindow(dutchDate(c.decided_at)) : null
  return c.royal_decree_decision === 'granted' && c.royal_decree_date ? naturalisationCeremonyWindow(c.royal_decree_date, invitationDate) : null
}

async function bookSeat(db: Db, ctx: Context, now: Date): Promise<Outcome> {
  const a = ctx.appointment
  const today = utcToAmsterdam(now).date
  const window = sessionWindowOf(ctx.case, a.kind, today)
  if (!window) return unschedulable(db, ctx, 'no-session-within-statutory-term')
  const { notBefore, notAfter } = searchBounds(a, now, window.lastDate)
  const seat: repo.BookingWrite = {
    outcome: 'seat',
    notBefore,
    notAfter,
    lastDate: window.lastDate,
    locationCode: a.requested_location_code,
    reasonIfNone: 'no-session-within-statutory-term',
  }
  if (a.kind !== 'ceremony') return resultOf(await write(db, ctx, seat, 'no-session-within-statutory-term'))
  // A ceremony's booking is its invitation (BVVN art. 60b(2)): the invitation clock is met and the
  // hand-over clock starts (the first invitation counts; a re-invitation changes nothing) — worked
  // out from the case's events, in the booking's transaction.
  return withTenantOf(db, ctx.tenantId, async (trx) => {
    const outcome = resultOf(await write(trx, ctx, seat, 'no-session-within-statutory-term'))
    if (outcome === 'booked') await recordCeremonyInvitation(trx, ctx.case.id, today)
    return outcome
  })
}

export async function bookAppointment(db: Db, payload: JobPayload<'scheduling', 'book'>, now: Date = new Date()): Promise<BookingResult> {
  const read = { sessionKinds: SESSION_KIND_LIST, nextWorkingDay: startOfNextWorkingDay(now), horizonMs: DEFAULT_HORIZON_DAYS * MS_PER_DAY, tailMs: MS_PER_DAY }
  for (let reads = 0; reads < MAX_READS; reads += 1) {
    const found = await repo.bookingContext(db, payload.tenantId, payload.appointmentId, read)
    if (!found || found.appointment.status !== 'requested') return 'skipped'
    const ctx: Context = { ...found, tenantId: payload.tenantId }
    const outcome = SESSION_KINDS.has(ctx.appointment.kind) ? await bookSeat(db, ctx, now) : await bookSlot(db, ctx, now)
    if (outcome !== 'stale') return outcome
  }
  throw new Error('the case changed on every reading while its appointment was booked; the job is retried')
}
