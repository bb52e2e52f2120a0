// All SQL of appointments and scheduling. Every function runs inside a transaction that has the
// tenant set (withTenant / withTenantOf), or calls a database function that sets it first for its
// statement (migrations 0016, 0024); RLS is the backstop.
import { sql, type Insertable, type Selectable } from 'kysely'
import type { Db, Trx } from '../db/database.js'
import type {
  AppointmentsTable,
  AppointmentStatus,
  CeremonySessionsTable,
  LocationAddressJson,
  LocationsTable,
  StaffAbsencesTable,
  StaffAvailabilityTable,
  WebhookEventJson,
} from '../db/schema.js'

export type LocationRow = Selectable<LocationsTable>
export type AvailabilityRow = Selectable<StaffAvailabilityTable>
export type AbsenceRow = Selectable<StaffAbsencesTable>
export type SessionRow = Selectable<CeremonySessionsTable>
export type AppointmentRow = Selectable<AppointmentsTable>

// ——— tenants and staff ———

export const findTenant = (trx: Trx, tenantId: string) =>
  trx.selectFrom('tenants').select(['id', 'region_id', 'role', 'municipality_code']).where('id', '=', tenantId).executeTakeFirst()

/** The tenant onboarded for a municipality code in a region, if any. */
export const tenantInRegion = (trx: Trx, regionId: string, municipalityCode: string) =>
  trx
    .selectFrom('tenants')
    .select(['id', 'role'])
    .where('region_id', '=', regionId)
    .where('municipality_code', '=', municipalityCode)
    .executeTakeFirst()

export const findStaff = (trx: Trx, staffId: string) =>
  trx.selectFrom('staff').select(['id', 'hub_tenant_id', 'role', 'skills', 'status']).where('id', '=', staffId).executeTakeFirst()

// ——— locations ———

export const upsertLocation = (
  trx: Trx,
  row: { hub_tenant_id: string; code: string; name: string; municipality_code: string; address: LocationAddressJson },
): Promise<LocationRow> =>
  trx
    .insertInto('locations')
    .values({ ...row, address: JSON.stringify(row.address) })
    .onConflict((oc) =>
      oc.columns(['hub_tenant_id', 'code']).doUpdateSet((eb) => ({
        name: eb.ref('excluded.name'),
        municipality_code: eb.ref('excluded.municipality_code'),
        address: eb.ref('excluded.address'),
        updated_at: sql<Date>`now()`,
      })),
    )
    .returningAll()
    .executeTakeFirstOrThrow()

export const listLocations = (trx: Trx, hubTenantId: string): Promise<LocationRow[]> =>
  trx.selectFrom('locations').selectAll().where('hub_tenant_id', '=', hubTenantId).orderBy('code').limit(1000).execute()

export const locationCodes = async (trx: Trx, hubTenantId: string): Promise<Set<string>> =>
  new Set((await trx.selectFrom('locations').select('code').where('hub_tenant_id', '=', hubTenantId).execute()).map((r) => r.code))

export const findLocation = (trx: Trx, hubTenantId: string, code: string) =>
  trx.selectFrom('locations').selectAll().where('hub_tenant_id', '=', hubTenantId).where('code', '=', code).executeTakeFirst()

// ——— availability ———

export async function replaceAvailability(
  trx: Trx,
  hubTenantId: string,
  staffId: string,
  weekly: Omit<Insertable<StaffAvailabilityTable>, 'hub_tenant_id' | 'staff_id'>[],
  absences: Omit<Insertable<StaffAbsencesTable>, 'hub_tenant_id' | 'staff_id'>[],
): Promise<void> {
  await trx.deleteFrom('staff_availability').where('staff_id', '=', staffId).execute()
  await trx.deleteFrom('staff_absences').where('staff_id', '=', staffId).execute()
  if (weekly.length > 0) {
    await trx.insertInto('staff_availability').values(weekly.map((w) => ({ ...w, hub_tenant_id: hubTenantId, staff_id: staffId }))).execute()
  }
  if (absences.length > 0) {
    await trx.insertInto('staff_absences').values(absences.map((a) => ({ ...a, hub_tenant_id: hubTenantId, staff_id: staffId }))).execute()
  }
}

export const availabilityOf = (trx: Trx, staffIds: string[]): Promise<AvailabilityRow[]> =>
  staffIds.length === 0
    ? Promise.resolve([])
    : trx.selectFrom('staff_availability').selectAll().where('staff_id', 'in', staffIds).orderBy('weekday').orderBy('start_minute').execute()

export const absencesOf = (trx: Trx, staffIds: string[]): Promise<AbsenceRow[]> =>
  staffIds.length === 0
    ? Promise.resolve([])
    : trx.selectFrom('staff_absences').selectAll().where('staff_id', 'in', staffIds).orderBy('from_date').execute()

/** What the slot search needs of one staff member: the weekly pattern, absences and held time. */
export interface CalendarRow {
  id: string
  /** Null when this staff member's calendar was not read (not in the group searched first). */
  weekly: { weekday: number; startMinute: number; endMinute: number; locationCode: string }[] | null
  absences: { from: string; until: string }[] | null
  busy: { start: string; end: string }[] | null
}

const calendarRow = (o: Partial<CalendarRow> & { id: string }): CalendarRow => ({ id: o.id, weekly: o.weekly ?? null, absences: o.absences ?? null, busy: o.busy ?? null })

/** The appointment and case facts a booking decides on, read without a lock. */
export interface BookingContext {
  appointment: Pick<AppointmentRow, 'id' | 'kind' | 'status' | 'earliest' | 'latest' | 'requested_location_code' | 'attempt'>
  case: {
    id: string
    /** The case's version when read: the booking writes only while it is still this one. */
    version: number
    hub_tenant_id: string
    member_tenant_id: string
    reference: string
    case_type: string
    assigned_staff_id: string | null
    decided_at: Date | null
    royal_decree_decision: string | null
    royal_decree_date: string | null
  }
  /**
   * For a slot kind still requested: the active staff of the hub with the case type's skill, in a
   * stable order, with the calendars of the group searched first — the assigned specialist alone
   * when he has the skill, all of them otherwise (the others' `weekly` is null). Null otherwise.
   */
  staff: CalendarRow[] | null
}

/**
 * The contexts of several appointments of one tenant, one per id in the order given (undefined
 * for an appointment not found), in one statement: appointment_booking_context (migration 0016)
 * for each — the tenant set, then the appointment, its case and, for a slot kind, the skilled staff
 * with the first group's calendars, whose held time is read from the first possible start
 * (`nextWorkingDay` or the appointment's `earliest`) to `tailMs` past the last (its `latest`, or
 * `horizonMs` after the first).
 */
export async function bookingContexts(
  db: Db,
  tenantId: string,
  appointmentIds: readonly string[],
  q: { sessionKinds: readonly string[]; nextWorkingDay: Date; horizonMs: number; tailMs: number },
): Promise<(BookingContext | undefined)[]> {
  // The function's row: the appointment's and the case's fields side by side, their ids renamed.
  type ContextRow = Omit<BookingContext['appointment'], 'id'> &
    Omit<BookingContext['case'], 'id' | 'version'> & {
      ord: number
      appointment_id: string
      case_id: string
      case_version: number
      staff: (Partial<CalendarRow> & { id: string })[] | null
    }
  const { rows } = await sql<ContextRow>`
    select u.n::integer as ord, c.*
      from unnest(${[...appointmentIds]}::uuid[]) with ordinality as u (id, n)
     cross join lateral appointment_booking_context(${tenantId}::uuid, u.id, ${[...q.sessionKinds]}::text[],
                                                    ${q.nextWorkingDay}::timestamptz, ${q.horizonMs}::bigint, ${q.tailMs}::bigint) c`.execute(db)
  const byOrd = new Map(rows.map((r) => [r.ord, r]))
  return appointmentIds.map((_, i): BookingContext | undefined => {
    const r = byOrd.get(i + 1)
    if (!r) return undefined
    return {
      appointment: { id: r.appointment_id, kind: r.kind, status: r.status, earliest: r.earliest, latest: r.latest, requested_location_code: r.requested_location_code, attempt: r.attempt },
      case: {
        id: r.case_id,
        version: r.case_version,
        hub_tenant_id: r.hub_tenant_id,
        member_tenant_id: r.member_tenant_id,
        reference: r.reference,
        case_type: r.case_type,
        assigned_staff_id: r.assigned_staff_id,
        decided_at: r.decided_at,
        royal_decree_decision: r.royal_decree_decision,
        royal_decree_date: r.royal_decree_date,
      },
      staff: r.staff ? r.staff.map(calendarRow) : null,
    }
  })
}

/** The calendars of these staff members, in the order given, in one statement (staff_calendars, migration 0016). */
export async function staffCalendars(db: Db, tenantId: string, staffIds: string[], from: Date, to: Date): Promise<CalendarRow[]> {
  if (staffIds.length === 0) return []
  const { rows } = await sql<{ calendars: (Partial<CalendarRow> & { id: string })[] }>`
    select staff_calendars(${tenantId}::uuid, ${staffIds}::uuid[], ${from}::timestamptz, ${to}::timestamptz) as calendars`.execute(db)
  return (rows[0]?.calendars ?? []).map(calendarRow)
}

/** What book_appointment is to do: book this slot, a seat in this window, or mark it unschedulable. */
export type BookingWrite =
  | { outcome: 'slot'; staffId: string; start: Date; end: Date; locationCode: string; busyFrom: Date; busyTo: Date }
  | { outcome: 'seat'; notBefore: Date; notAfter: Date; lastDate: string; locationCode: string | null; reasonIfNone: string }
  | { outcome: 'unschedulable'; reason: string }

/**
 * How book_appointment answered: `booked` / `unschedulable` (written, with the case event, the
 * webhook fan-out and its outbox row); `skipped` (no longer requested: nothing to do); `stale`
 * (the case changed since its context was read: nothing written); `taken` (the slot was booked
 * meanwhile: nothing written, `busy` is the staff member's held time read under his lock).
 */
export interface BookingAnswer {
  result: 'booked' | 'unschedulable' | 'skipped' | 'stale' | 'taken'
  startsAt: Date | null
  busy: { start: Date; end: Date }[] | null
}

/** One booking to write: the appointment, the case version its context was read at, what to do, the case event's actor and the webhook event of each outcome. */
export interface BookingItem {
  appointmentId: string
  caseVersion: number
  write: BookingWrite
  actor: { kind: string; id: string }
  bookedEvent: WebhookEventJson | null
  unschedulableEvent: WebhookEventJson | null
}

/**
 * The writes of several bookings of one tenant in one statement (book_appointments, migration
 * 0024), one answer per item in the order given: per item book_appointment (migration 0016) — the
 * case, then the appointment locked, the version read checked, then the slot under the staff
 * member's advisory lock (book_staff_slot, only if still free) or the seat under the session's row
 * lock, the case event, the webhook fan-out of the event for the outcome, and its outbox row. The
 * caller orders the items (the staff locks in one order). `db` may be a transaction (the tenant is
 * set for it, as by withTenantOf).
 */
export async function bookAppointmentRows(db: Db | Trx, tenantId: string, items: readonly BookingItem[]): Promise<BookingAnswer[]> {
  const json = items.map((b) => {
    const w = b.write
    const slot = w.outcome === 'slot' ? w : null
    const seat = w.outcome === 'seat' ? w : null
    return {
      appointmentId: b.appointmentId,
      caseVersion: b.caseVersion,
      outcome: w.outcome,
      staffId: slot?.staffId ?? null,
      startsAt: slot?.start ?? null,
      endsAt: slot?.end ?? null,
      locationCode: slot?.locationCode ?? null,
      busyFrom: slot?.busyFrom ?? null,
      busyTo: slot?.busyTo ?? null,
      seatNotBefore: seat?.notBefore ?? null,
      seatNotAfter: seat?.notAfter ?? null,
      seatLastDate: seat?.lastDate ?? null,
      seatLocationCode: seat?.locationCode ?? null,
      reason: w.outcome === 'seat' ? w.reasonIfNone : w.outcome === 'unschedulable' ? w.reason : null,
      actorKind: b.actor.kind,
      actorId: b.actor.id,
      bookedEvent: b.bookedEvent,
      unschedulableEvent: b.unschedulableEvent,
    }
  })
  const { rows } = await sql<{ ord: number; o_result: BookingAnswer['result']; o_starts_at: Date | null; o_busy_starts: Date[] | null; o_busy_ends: Date[] | null }>`
    select ord, o_result, o_starts_at, o_busy_starts, o_busy_ends from book_appointments(${tenantId}::uuid, ${JSON.stringify(json)}::jsonb)`.execute(db)
  const byOrd = new Map(rows.map((r) => [r.ord, r]))
  return items.map((_, i) => {
    const row = byOrd.get(i + 1)
    if (!row) throw new Error('book_appointments answered no row for an item')
    const ends = row.o_busy_ends ?? []
    return {
      result: row.o_result,
      startsAt: row.o_starts_at,
      busy: row.o_busy_starts ? row.o_busy_starts.map((start, j) => ({ start, end: ends[j]! })) : null,
    }
  })
}

/** The answer of book_staff_slot: booked, or the time the staff member holds (null after a constraint violation). */
export interface SlotBooking {
  booked: boolean
  busy: { start: Date; end: Date }[] | null
}

/**
 * Books the requested appointment into one staff member's slot, in one statement (migration
 * 0013's book_staff_slot): under the staff member's advisory lock, only if nothing booked
 * overlaps it. When the slot is taken the answer carries the time the staff member holds between
 * `busyFrom` and `busyTo`, read under the lock; with `hold` the lock is kept (to the end of the
 * transaction), without it it is let go at once. The scheduling worker books through
 * book_appointments (bookAppointmentRows), whose book_appointment calls it; this is the call on its own, in a
 * transaction of the caller's.
 */
export async function bookStaffSlot(
  trx: Trx,
  b: { appointmentId: string; staffId: string; start: Date; end: Date; locationCode: string; busyFrom: Date; busyTo: Date; hold: boolean },
): Promise<SlotBooking> {
  const { rows } = await sql<{ booked: boolean; busy_starts: Date[] | null; busy_ends: Date[] | null }>`
    select booked, busy_starts, busy_ends
      from book_staff_slot(${b.appointmentId}::uuid, ${b.staffId}::uuid, ${b.start}, ${b.end}, ${b.locationCode}, ${b.busyFrom}, ${b.busyTo}, ${b.hold})`.execute(trx)
  const row = rows[0]
  if (!row) throw new Error('book_staff_slot answered no row')
  if (row.booked) return { booked: true, busy: null }
  const ends = row.busy_ends ?? []
  return { booked: false, busy: row.busy_starts ? row.busy_starts.map((start, i) => ({ start, end: ends[i]! })) : null }
}

// ——— ceremony sessions ———

export const insertSession = (trx: Trx, row: Insertable<CeremonySessionsTable>): Promise<SessionRow> =>
  trx.insertInto('ceremony_sessions').values(row).returningAll().executeTakeFirstOrThrow()

export const listSessions = (trx: Trx, hubTenantId: string, fromDate: string | null, toDate: string | null): Promise<SessionRow[]> => {
  let q = trx.selectFrom('ceremony_sessions').selectAll().where('hub_tenant_id', '=', hubTenantId)
  if (fromDate) q = q.where('session_date', '>=', fromDate)
  if (toDate) q = q.where('session_date', '<=', toDate)
  return q.orderBy('starts_at').orderBy('id').limit(500).execute()
}

export const findSession = (trx: Trx, sessionId: string) =>
  trx.selectFrom('ceremony_sessions').selectAll().where('id', '=', sessionId).executeTakeFirst()

export const releaseSeat = (trx: Trx, sessionId: string) =>
  trx
    .updateTable('ceremony_sessions')
    .set({ seats_taken: sql<number>`seats_taken - 1` })
    .where('id', '=', sessionId)
    .where('seats_taken', '>', 0)
    .execute()

/** The appointments holding a seat in a session (or that held one), with their case's reference — no personal data. */
export const appointmentsOfSession = (trx: Trx, sessionId: string) =>
  trx
    .selectFrom('appointments')
    .innerJoin('cases', 'cases.id', 'appointments.case_id')
    .selectAll('appointments')
    .select(['cases.reference as case_reference', 'cases.case_type as case_type'])
    .where('appointments.ceremony_id', '=', sessionId)
    .orderBy('appointments.booked_at')
    .orderBy('appointments.id')
    .limit(1000)
    .execute()

// ——— appointments ———

/** Why request_appointment refused, by the SQLSTATE it raised (migration 0016). */
export type RequestRefusal = 'case-not-found' | 'not-the-hub' | 'unknown-location' | 'kind-not-needed' | 'case-finished' | 'not-awaiting-ceremony'
const REQUEST_REFUSAL_OF_SQLSTATE: Record<string, RequestRefusal> = {
  RBA01: 'case-not-found',
  RBA02: 'not-the-hub',
  RBA03: 'unknown-location',
  RBA04: 'kind-not-needed',
  RBA05: 'case-finished',
  RBA06: 'not-awaiting-ceremony',
}

export interface AppointmentRequest {
  tenantId: string
  regionId: string | null
  /** The requester's tenant when it is a hub (only the case's own hub may request), else null. */
  requesterHub: string | null
  caseId: string
  kind: string
  /** Per case type, its versions' first days with whether the version has the kind. */
  kindVersions: Readonly<Record<string, readonly (readonly [validFrom: string, hasKind: boolean])[]>>
  /** The statuses of a case that is over. */
  finished: readonly string[]
  /** A session kind is requested only once the case awaits its ceremony. */
  sessionKind: boolean
  attempt: number
  registeredLetter: boolean
  earliest: Date | null
  latest: Date | null
  locationCode: string | null
  actor: { kind: string; id: string }
  /** The case event's reason. */
  reason: string
}

/**
 * The whole request in one statement (request_appointment, migration 0016): tenant and region
 * set, the case locked and the refusals checked, then the appointment, the case event and the
 * scheduling job's outbox row written. `db` may be a transaction (the no-show chain's). A second
 * open appointment of the kind fails on appointments_one_open_per_kind (23505), as an insert would.
 */
export async function requestAppointment(
  db: Db | Trx,
  r: AppointmentRequest,
): Promise<{ appointment: AppointmentRow } | { refused: RequestRefusal; detail: string | null }> {
  try {
    const { rows } = await sql<AppointmentRow>`
      select * from request_appointment(${r.tenantId}::uuid, ${r.regionId}::uuid, ${r.requesterHub}::uuid, ${r.caseId}::uuid,
        ${r.kind}::text, ${JSON.stringify(r.kindVersions)}::jsonb, ${[...r.finished]}::text[], ${r.sessionKind}::boolean,
        ${r.attempt}::smallint, ${r.registeredLetter}::boolean, ${r.earliest}::timestamptz, ${r.latest}::timestamptz, ${r.locationCode}::text,
        ${r.actor.kind}::text, ${r.actor.id}::text, ${r.reason}::text)`.execute(db)
    const row = rows[0]
    if (!row) throw new Error('request_appointment returned no row')
    return { appointment: row }
  } catch (err) {
    const e = err as { code?: unknown; detail?: unknown }
    const refused = typeof e.code === 'string' ? REQUEST_REFUSAL_OF_SQLSTATE[e.code] : undefined
    if (refused) return { refused, detail: typeof e.detail === 'string' ? e.detail : null }
    throw err
  }
}

export const findAppointment = (trx: Trx, id: string): Promise<AppointmentRow | undefined> =>
  trx.selectFrom('appointments').selectAll().where('id', '=', id).executeTakeFirst()

export const lockAppointment = (trx: Trx, id: string): Promise<AppointmentRow | undefined> =>
  trx.selectFrom('appointments').selectAll().where('id', '=', id).forUpdate().executeTakeFirst()

export const appointmentsOfCase = (trx: Trx, caseId: string): Promise<AppointmentRow[]> =>
  trx.selectFrom('appointments').selectAll().where('case_id', '=', caseId).orderBy('created_at', 'desc').orderBy('id', 'desc').limit(100).execute()

export const updateAppointment = (
  trx: Trx,
  id: string,
  changes: Partial<
    Pick<
      AppointmentRow,
      'status' | 'starts_at' | 'ends_at' | 'staff_id' | 'location_code' | 'ceremony_id' | 'reason' | 'declaration_made' | 'booked_at'
    >
  > & { status: AppointmentStatus },
): Promise<AppointmentRow> =>
  trx
    .updateTable('appointments')
    .set({ ...changes, version: sql<number>`version + 1`, updated_at: sql<Date>`now()` })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow()

/** The booked appointments of one staff member from an instant on, for the calendar feed. */
export const calendarOfStaff = (trx: Trx, staffId: string, from: Date) =>
  trx
    .selectFrom('appointments')
    .innerJoin('cases', 'cases.id', 'appointments.case_id')
    .selectAll('appointments')
    .select('cases.reference as case_reference')
    .where('appointments.staff_id', '=', staffId)
    .where('appointments.status', 'in', ['booked', 'cancelled', 'attended', 'no_show'])
    .where('appointments.starts_at', '>=', from)
    .orderBy('appointments.starts_at')
    .limit(2000)
    .execute()

export const caseReference = async (trx: Trx, caseId: string): Promise<string> =>
  (await trx.selectFrom('cases').select('reference').where('id', '=', caseId).executeTakeFirstOrThrow()).reference
