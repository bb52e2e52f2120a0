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
  type Interval,
  type Slot,
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

/** The slot was taken by a booking that committed after the calendar was read (or none is free). */
class SlotTaken extends Error {}

type Booked = { kind: 'booked'; row: repo.AppointmentRow }
type Unschedulable = { kind: 'unschedulable'; reason: UnschedulableReason }

/** The instants a slot must start between: the next working day on, inside earliest/latest. */
function searchBounds(a: repo.AppointmentRow, now: Date, lastDate: string | null): { notBefore: Date; notAfter: Date } {
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

async function bookSlot(trx: Trx, c: casesRepo.CaseRow, a: repo.AppointmentRow, now: Date): Promise<Booked | Unschedulable> {
  const staff = await repo.skilledStaff(trx, c.hub_tenant_id, c.case_type)
  if (staff.length === 0) return { kind: 'unschedulable', reason: 'no-staff-with-skill' }
  const ids = staff.map((s) => s.id)
  // The assigned specialist first; the other skilled specialists when he has no fitting slot. Each
  // group's calendars are read only when it is searched: most bookings end in the first.
  const assigned = c.assigned_staff_id && ids.includes(c.assigned_staff_id) ? c.assigned_staff_id : null
  const groups = assigned ? [[assigned], ids.filter((id) => id !== assigned)] : [ids]
  for (const group of groups) {
    const row = group.length > 0 ? await bookInGroup(trx, a, group, searchBounds(a, now, null)) : null
    if (row) return { kind: 'booked', row }
  }
  return { kind: 'unschedulable', reason: 'no-availability' }
}

/** The earliest free slot among these staff members, booked; null when none of them has one. */
async function bookInGroup(trx: Trx, a: repo.AppointmentRow, ids: string[], bounds: { notBefore: Date; notAfter: Date }): Promise<repo.AppointmentRow | null> {
  const { notBefore, notAfter } = bounds
  const [weekly, absences] = [await repo.availabilityOf(trx, ids), await repo.absencesOf(trx, ids)]
  const available = ids.filter((id) => weekly.some((w) => w.staff_id === id))
  if (available.length === 0) return null
  const busyTo = new Date(notAfter.getTime() + MS_PER_DAY)
  const busy = new Map<string, Interval[]>(available.map((id) => [id, []]))
  const loadBusy = async (staffIds: string[]) => {
    for (const id of staffIds) busy.set(id, [])
    for (const b of await repo.busyOf(trx, staffIds, notBefore, busyTo)) {
      if (b.staff_id && b.starts_at && b.ends_at) busy.get(b.staff_id)?.push({ start: b.starts_at, end: b.ends_at })
    }
  }
  const calendarOf = (id: string): StaffCalendar => ({
    staffId: id,
    weekly: weekly.filter((w) => w.staff_id === id).map((w) => ({ weekday: w.weekday, startMinute: w.start_minute, endMinute: w.end_minute, locationCode: w.location_code })),
    absences: absences.filter((x) => x.staff_id === id).map((x) => ({ from: x.from_date, until: x.until_date })),
    busy: busy.get(id) ?? [],
  })
  const duration = DURATION_MINUTES[a.kind as keyof typeof DURATION_MINUTES]
  const query = { durationMinutes: duration, notBefore, notAfter, locationCode: a.requested_location_code }
  const book = (slot: Slot) =>
    repo.updateAppointment(trx, a.id, {
      status: 'booked',
      starts_at: slot.start,
      ends_at: slot.end,
      staff_id: slot.staffId,
      location_code: slot.locationCode,
      booked_at: new Date(),
      reason: null,
    })
  if (available.length === 1) {
    // One calendar (the assigned specialist): take its lock first, then read it once.
    const only = available[0]!
    return repo
      .inSavepoint(trx, async () => {
        await repo.lockStaffCalendar(trx, only)
        await loadBusy([only])
        const slot = findEarliestSlot([[calendarOf(only)]], query)
        if (!slot) throw new SlotTaken()
        return book(slot)
      })
      .catch((err: unknown) => {
        if (err instanceof SlotTaken) return null
        throw err
      })
  }
  await loadBusy(available)
  for (let race = 0; race < MAX_SLOT_RACES; race += 1) {
    const slot = findEarliestSlot([available.map(calendarOf)], query)
    if (!slot) return null
    const row = await repo
      .inSavepoint(trx, async () => {
        // Under the staff member's lock, the time read now is all the time anyone holds: a slot
        // free in it cannot be taken before this transaction commits.
        await repo.lockStaffCalendar(trx, slot.staffId)
        await loadBusy([slot.staffId])
        if (busy.get(slot.staffId)?.some((b) => b.start < slot.end && slot.start < b.end)) throw new SlotTaken()
        return book(slot)
      })
      .catch(async (err: unknown) => {
        if (!(err instanceof SlotTaken) && !repo.isExclusionViolation(err)) throw err
        // Rolled back to the savepoint, which let the lock go; read that calendar again and go on.
        await loadBusy([slot.staffId])
        busy.get(slot.staffId)?.push({ start: slot.start, end: slot.end })
        return null
      })
    if (row) return row
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
  const candidates = await repo.candidateSessions(trx, c.hub_tenant_id, {
    notBefore,
    notAfter,
    lastDate: window.lastDate,
    locationCode: a.requested_location_code,
  })
  for (const candidate of candidates) {
    const session = await repo.takeSeat(trx, candidate.id)
    if (!session) continue // filled up while we looked
    const row = await repo.updateAppointment(trx, a.id, {
      status: 'booked',
      starts_at: session.starts_at,
      ends_at: session.ends_at,
      ceremony_id: session.id,
      location_code: session.location_code,
      booked_at: new Date(),
      reason: null,
    })
    return { kind: 'booked', row }
  }
  return { kind: 'unschedulable', reason: 'no-session-within-statutory-term' }
}

export async function bookAppointment(db: Db, payload: JobPayload<'scheduling', 'book'>, now: Date = new Date()): Promise<BookingResult> {
  return withTenantOf(db, payload.tenantId, async (trx) => {
    // The case first, then the appointment: the order every appointment write takes.
    const c = await repo.lockCaseOfAppointment(trx, payload.appointmentId)
    if (!c) return 'skipped'
    const a = await repo.lockAppointment(trx, payload.appointmentId)
    if (!a || a.status !== 'requested') return 'skipped'
    const result = SESSION_KINDS.has(a.kind) ? await bookSeat(trx, c, a, now) : await bookSlot(trx, c, a, now)
    const objectPath = `/v1/appointments/${a.id}`
    if (result.kind === 'booked') {
      // The booking is the invitation (BVVN art. 60b(2)): the invitation clock is met and the
      // hand-over clock starts (the first invitation counts; a re-invitation changes nothing).
      const invited = a.kind === 'ceremony' ? await recordCeremonyInvitation(trx, c.id, utcToAmsterdam(now).date) : c
      await recordCaseEvent(trx, invited, { action: 'appointment_booked', actor: SCHEDULER, reason: `${a.kind} booked for ${result.row.starts_at?.toISOString()}` })
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
