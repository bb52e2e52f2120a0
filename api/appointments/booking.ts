// The scheduling worker's use case: book requested appointments — each the earliest fitting slot
// of a skilled specialist, or a seat in the earliest ceremony session inside the statutory window —
// or mark them unschedulable with a reason. The requests of one hub that arrive together are booked
// as a batch (group commit, issue 10): one statement reads all their contexts (appointment, case,
// calendars) without a lock, the slot searches run here one after another — each seeing the slots
// the earlier ones of the batch chose — and one statement writes them all (book_appointments,
// migration 0024: per item book_appointment of migration 0016, which locks the case and the
// appointment, books only if the slot is still free under the staff member's lock and the case
// unchanged, and records the event). A slot booked meanwhile by someone else comes back with that
// calendar's held time, and the search goes on from there in the next write; a case that changed
// is read again. One booking alone is a batch of one: two statements in the common case. Safe to
// run twice: an appointment that is no longer `requested` is left alone, and the database refuses
// an overlapping slot or a seat too many.
import { recordCeremonyInvitation } from '../cases/clocks.js'
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
import { storedEvent } from '../webhooks/events.js'
import * as repo from './appointments.repository.js'
import { SCHEDULER } from './access.js'
import { SlotLedger, type LedgerBatch } from './slot-ledger.js'

export type UnschedulableReason = 'no-staff-with-skill' | 'no-availability' | 'no-session-within-statutory-term'
export type BookingResult = 'booked' | 'unschedulable' | 'skipped'
/** One booking's end in a batch: its result, or the error that fails just this booking's job. */
export type BookingOutcome = { ok: true; value: BookingResult } | { ok: false; error: unknown }

const MS_PER_DAY = 86_400_000
/** Attempts at the next free slot of a group of staff after losing one to a concurrent booking, before the next group. */
const MAX_SLOT_RACES = 200
/** Readings of the context when the case keeps changing under the booking, before its job fails (and is retried). */
const MAX_READS = 20
const SESSION_KIND_LIST = [...SESSION_KINDS]

type Bounds = { notBefore: Date; notAfter: Date }
/** The booking's context, with the job's tenant (the hub) whose rights every statement runs with. */
type Context = repo.BookingContext & { tenantId: string }

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

/** The statutory window of a ceremony kind for an invitation sent today, or null when it cannot be known. */
export function sessionWindowOf(
  c: Pick<Context['case'], 'decided_at' | 'royal_decree_decision' | 'royal_decree_date'>,
  kind: AppointmentKind,
  invitationDate: string,
): CeremonyWindow | null {
  if (kind === 'option_confirmation') return c.decided_at ? optionConfirmationWindow(dutchDate(c.decided_at)) : null
  return c.royal_decree_decision === 'granted' && c.royal_decree_date ? naturalisationCeremonyWindow(c.royal_decree_date, invitationDate) : null
}

const intervalKey = (b: Interval) => `${b.start.getTime()}/${b.end.getTime()}`

/**
 * The calendars of one batch, one per staff member, shared by its bookings: the held time as read
 * (the union of every reading, from the contexts and from lost races, each under its own bounds),
 * and through the ledger the slots this batch's and other batches' bookings chose, so that a later
 * booking does not pick the slot an earlier one is about to book.
 */
class BatchCalendars {
  private readonly calendars = new Map<string, { weekly: StaffCalendar['weekly']; absences: StaffCalendar['absences']; busy: Interval[]; keys: Set<string> }>()

  constructor(readonly ledger: LedgerBatch) {}

  has(staffId: string): boolean {
    return this.calendars.has(staffId)
  }

  /** A calendar as read: the pattern and absences replace the ones known, the held time adds up. */
  read(row: repo.CalendarRow): void {
    const known = this.calendars.get(row.id)
    const cal = { weekly: row.weekly ?? [], absences: row.absences ?? [], busy: known?.busy ?? [], keys: known?.keys ?? new Set<string>() }
    this.calendars.set(row.id, cal)
    this.hold(row.id, (row.busy ?? []).map((b) => ({ start: new Date(b.start), end: new Date(b.end) })))
  }

  /** Held time of a staff member whose calendar is known. */
  hold(staffId: string, busy: readonly Interval[]): void {
    const cal = this.calendars.get(staffId)
    if (!cal) return
    for (const b of busy) {
      const key = intervalKey(b)
      if (cal.keys.has(key)) continue
      cal.keys.add(key)
      cal.busy.push(b)
    }
  }

  /** The calendar the search sees: held time, and what other bookings chose or booked meanwhile. */
  view(staffId: string, appointmentId: string): StaffCalendar {
    const cal = this.calendars.get(staffId)
    if (!cal) throw new Error('a calendar searched before it was read')
    const others = this.ledger.visible(staffId, appointmentId)
    return { staffId, weekly: cal.weekly, absences: cal.absences, busy: others.length === 0 ? cal.busy : [...cal.busy, ...others] }
  }

  choose(slot: Slot, appointmentId: string): void {
    this.ledger.choose(slot, appointmentId)
  }

  /** The booking's chosen slot is no longer its own: held (booked, or taken by another), or free again. */
  release(slot: Slot, appointmentId: string, held: boolean): void {
    this.ledger.release(slot, appointmentId, held)
    if (held) this.hold(slot.staffId, [{ start: slot.start, end: slot.end }])
  }
}

/** Where a slot kind's search stands: its groups of staff (the assigned specialist first), the group searched, the races lost in it. */
interface SlotSearch {
  bounds: Bounds
  groups: string[][]
  group: number
  races: number
}

/** One booking of the batch. */
interface Booking {
  appointmentId: string
  reads: number
  ctx: Context | null
  search: SlotSearch | null
  /** What the next write is to do, with the slot it books (a slot kind), or null before it is planned. */
  next: { write: repo.BookingWrite; slot: Slot | null; reason: UnschedulableReason | undefined } | null
  /** The calendars of these staff members are to be read before the search can go on. */
  needs: string[] | null
  outcome: BookingOutcome | null
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

/** The item of one write: the outcome, the case event's actor and the webhook event for the outcome. */
const itemOf = (ctx: Context, w: repo.BookingWrite, reason?: UnschedulableReason): repo.BookingItem => ({
  appointmentId: ctx.appointment.id,
  caseVersion: ctx.case.version,
  write: w,
  actor: SCHEDULER,
  bookedEvent: w.outcome === 'unschedulable' ? null : eventOf(ctx, 'booked'),
  unschedulableEvent: w.outcome === 'slot' ? null : eventOf(ctx, 'unschedulable', reason),
})

const finish = (b: Booking, value: BookingResult) => {
  b.outcome = { ok: true, value }
  b.next = null
  b.needs = null
}
const unschedulable = (reason: UnschedulableReason): Booking['next'] => ({ write: { outcome: 'unschedulable', reason }, slot: null, reason })

/** What a booking read anew is to do: a seat in its window, a slot search, or unschedulable at once. */
function startBooking(b: Booking, ctx: Context, now: Date, calendars: BatchCalendars): void {
  b.ctx = ctx
  b.search = null
  b.next = null
  b.needs = null
  const a = ctx.appointment
  if (SESSION_KINDS.has(a.kind)) {
    const window = sessionWindowOf(ctx.case, a.kind, utcToAmsterdam(now).date)
    if (!window) {
      b.next = unschedulable('no-session-within-statutory-term')
      return
    }
    const { notBefore, notAfter } = searchBounds(a, now, window.lastDate)
    const seat: repo.BookingWrite = {
      outcome: 'seat',
      notBefore,
      notAfter,
      lastDate: window.lastDate,
      locationCode: a.requested_location_code,
      reasonIfNone: 'no-session-within-statutory-term',
    }
    b.next = { write: seat, slot: null, reason: 'no-session-within-statutory-term' }
    return
  }
  // Read with the context: the skilled staff, with the calendars of the group searched first —
  // the assigned specialist alone when he has the skill, every skilled staff member otherwise.
  const staff = ctx.staff ?? []
  if (staff.length === 0) {
    b.next = unschedulable('no-staff-with-skill')
    return
  }
  for (const s of staff) if (s.weekly !== null) calendars.read(s)
  const first = staff.filter((s) => s.weekly !== null).map((s) => s.id)
  const rest = staff.filter((s) => s.weekly === null).map((s) => s.id)
  b.search = { bounds: searchBounds(a, now, null), groups: rest.length > 0 ? [first, rest] : [first], group: 0, races: 0 }
}

/**
 * The next slot of a slot kind's search: the earliest free one in its group, seen with the batch's
 * calendars; the next group when this one has none (its calendars read first, `needs`), and
 * unschedulable no-availability when no group has one.
 */
function planSlot(b: Booking, calendars: BatchCalendars): void {
  const search = b.search!
  const a = b.ctx!.appointment
  const duration = DURATION_MINUTES[a.kind as keyof typeof DURATION_MINUTES]
  const query = { durationMinutes: duration, notBefore: search.bounds.notBefore, notAfter: search.bounds.notAfter, locationCode: a.requested_location_code }
  for (; search.group < search.groups.length; search.group += 1, search.races = 0) {
    const ids = search.groups[search.group]!
    const unread = ids.filter((id) => !calendars.has(id))
    if (unread.length > 0) {
      b.needs = unread
      return
    }
    if (search.races >= MAX_SLOT_RACES) continue
    const available = ids.map((id) => calendars.view(id, a.id)).filter((cal) => cal.weekly.length > 0)
    if (available.length === 0) continue
    const offset = tieBreakOffset(a.id, available.length)
    const slot = findEarliestSlot([[...available.slice(offset), ...available.slice(0, offset)]], query)
    if (!slot) continue
    calendars.choose(slot, a.id)
    b.next = {
      write: { outcome: 'slot', staffId: slot.staffId, start: slot.start, end: slot.end, locationCode: slot.locationCode, busyFrom: search.bounds.notBefore, busyTo: busyUntil(search.bounds) },
      slot,
      reason: undefined,
    }
    return
  }
  b.next = unschedulable('no-availability')
}

/**
 * The order of one write: slots by staff member — every batch takes the staff locks in the same
 * order, so two never wait for each other in a circle — then seats in arrival order (the earliest
 * session to the earliest request), then the unschedulable.
 */
const writeRank = (b: Booking): number => (b.next!.write.outcome === 'slot' ? 0 : b.next!.write.outcome === 'seat' ? 1 : 2)
const byWriteOrder = (x: Booking, y: Booking): number => {
  const rank = writeRank(x) - writeRank(y)
  if (rank !== 0) return rank
  const sx = x.next!.slot?.staffId ?? ''
  const sy = y.next!.slot?.staffId ?? ''
  return sx < sy ? -1 : sx > sy ? 1 : 0
}

/**
 * One write of the batch in one statement; with a ceremony among them in a transaction, as its
 * booking is its invitation (BVVN art. 60b(2)): the invitation clock is met and the hand-over clock
 * starts (the first invitation counts; a re-invitation changes nothing) — worked out from the
 * case's events, in the booking's transaction.
 */
async function writeRound(db: Db, tenantId: string, round: Booking[], today: string): Promise<repo.BookingAnswer[]> {
  const items = round.map((b) => itemOf(b.ctx!, b.next!.write, b.next!.reason))
  const ceremonies = round.some((b) => b.ctx!.appointment.kind === 'ceremony')
  if (!ceremonies) return repo.bookAppointmentRows(db, tenantId, items)
  return withTenantOf(db, tenantId, async (trx: Trx) => {
    const answers = await repo.bookAppointmentRows(trx, tenantId, items)
    for (const [i, b] of round.entries()) {
      if (b.ctx!.appointment.kind === 'ceremony' && answers[i]!.result === 'booked') await recordCeremonyInvitation(trx, b.ctx!.case.id, today)
    }
    return answers
  })
}

/** What an answer means for its booking: its end, a read anew (stale), or the search going on (taken). */
function settle(b: Booking, answer: repo.BookingAnswer, calendars: BatchCalendars): void {
  const slot = b.next!.slot
  if (slot) calendars.release(slot, b.appointmentId, answer.result === 'booked' || answer.result === 'taken')
  switch (answer.result) {
    case 'booked':
    case 'unschedulable':
    case 'skipped':
      finish(b, answer.result)
      return
    case 'stale':
      b.ctx = null
      b.next = null
      return
    case 'taken':
      if (!slot || !b.search) throw new Error('book_appointment answered taken for a write without a slot')
      // The staff member's held time as read under his lock; the taken slot itself stays out,
      // should it not show it yet.
      calendars.hold(slot.staffId, answer.busy ?? [])
      b.search.races += 1
      b.next = null
  }
}

export interface BatchOptions {
  now?: Date
  /** The process's ledger of the slots its batches chose and booked (workers/scheduling.ts); a batch of its own otherwise. */
  ledger?: SlotLedger
}

/**
 * Books these requested appointments of one tenant (the hub): one outcome per id, in order. The
 * same id twice books once (the later ones are skipped). A booking whose case keeps changing fails
 * on its own; a failing statement fails the bookings it had not finished (their jobs are retried,
 * or booked one by one by the worker), the ones finished before stay.
 */
export async function bookAppointments(db: Db, tenantId: string, appointmentIds: readonly string[], options: BatchOptions = {}): Promise<BookingOutcome[]> {
  const ledger = (options.ledger ?? new SlotLedger()).begin()
  try {
    return await bookBatch(db, tenantId, appointmentIds, options.now ?? new Date(), new BatchCalendars(ledger))
  } finally {
    ledger.end()
  }
}

async function bookBatch(db: Db, tenantId: string, appointmentIds: readonly string[], now: Date, calendars: BatchCalendars): Promise<BookingOutcome[]> {
  const read = { sessionKinds: SESSION_KIND_LIST, nextWorkingDay: startOfNextWorkingDay(now), horizonMs: DEFAULT_HORIZON_DAYS * MS_PER_DAY, tailMs: MS_PER_DAY }
  const today = utcToAmsterdam(now).date
  const seen = new Set<string>()
  const bookings: Booking[] = appointmentIds.map((appointmentId) => {
    const b: Booking = { appointmentId, reads: 0, ctx: null, search: null, next: null, needs: null, outcome: null }
    if (seen.has(appointmentId)) b.outcome = { ok: true, value: 'skipped' }
    seen.add(appointmentId)
    return b
  })
  const open = () => bookings.filter((b) => b.outcome === null)
  try {
    for (let active = open(); active.length > 0; active = open()) {
      // The contexts of the bookings new or stale, in one statement.
      const unread = active.filter((b) => b.ctx === null)
      for (const b of unread) {
        if (b.reads >= MAX_READS) b.outcome = { ok: false, error: new Error('the case changed on every reading while its appointment was booked; the job is retried') }
        b.reads += 1
      }
      const toRead = unread.filter((b) => b.outcome === null)
      if (toRead.length > 0) {
        const contexts = await repo.bookingContexts(db, tenantId, toRead.map((b) => b.appointmentId), read)
        toRead.forEach((b, i) => {
          const found = contexts[i]
          if (!found || found.appointment.status !== 'requested') finish(b, 'skipped')
          else startBooking(b, { ...found, tenantId }, now, calendars)
        })
      }
      // The searches, in arrival order; the calendars of a next group read for all that need them at once.
      const searching = open().filter((b) => b.next === null && b.search !== null)
      for (const b of searching) planSlot(b, calendars)
      const needing = searching.filter((b) => b.needs !== null)
      if (needing.length > 0) {
        const ids = [...new Set(needing.flatMap((b) => b.needs!))]
        const from = new Date(Math.min(...needing.map((b) => b.search!.bounds.notBefore.getTime())))
        const to = new Date(Math.max(...needing.map((b) => busyUntil(b.search!.bounds).getTime())))
        for (const row of await repo.staffCalendars(db, tenantId, ids, from, to)) calendars.read(row)
        for (const b of needing) {
          b.needs = null
          planSlot(b, calendars)
          if (b.needs !== null) b.outcome = { ok: false, error: new Error('a staff calendar could not be read for the booking') }
        }
      }
      const round = open().filter((b) => b.next !== null).sort(byWriteOrder)
      if (round.length === 0) continue
      const answers = await writeRound(db, tenantId, round, today)
      round.forEach((b, i) => settle(b, answers[i]!, calendars))
    }
  } catch (error) {
    for (const b of open()) {
      if (b.next?.slot) calendars.release(b.next.slot, b.appointmentId, false)
      b.outcome = { ok: false, error }
    }
  }
  return bookings.map((b) => b.outcome!)
}

/** Books one requested appointment (a batch of one). */
export async function bookAppointment(db: Db, payload: JobPayload<'scheduling', 'book'>, now: Date = new Date()): Promise<BookingResult> {
  const [outcome] = await bookAppointments(db, payload.tenantId, [payload.appointmentId], { now })
  if (!outcome!.ok) throw outcome!.error
  return outcome!.value
}
