// All SQL of appointments and scheduling. Every function runs inside a transaction that has the
// tenant set (withTenant / withTenantOf); RLS is the backstop.
import { sql, type Insertable, type Selectable } from 'kysely'
import type { Trx } from '../db/database.js'
import type {
  AppointmentsTable,
  AppointmentStatus,
  CeremonySessionsTable,
  LocationAddressJson,
  LocationsTable,
  StaffAbsencesTable,
  StaffAvailabilityTable,
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

/** The calendar of staff member `s.id` as three JSON columns (pattern, absences, held time), when `l.loaded`. */
const calendarColumns = (from: Date, to: Date) => sql`
  case when l.loaded then
    (select coalesce(json_agg(json_build_object('weekday', w.weekday, 'startMinute', w.start_minute, 'endMinute', w.end_minute,
                                                'locationCode', w.location_code) order by w.weekday, w.start_minute), '[]')
       from staff_availability w where w.staff_id = s.id) end as weekly,
  case when l.loaded then
    (select coalesce(json_agg(json_build_object('from', x.from_date, 'until', x.until_date) order by x.from_date), '[]')
       from staff_absences x where x.staff_id = s.id) end as absences,
  case when l.loaded then
    (select coalesce(json_agg(json_build_object('start', b.starts_at, 'end', b.ends_at) order by b.starts_at), '[]')
       from appointments b
      where b.staff_id = s.id and b.status in ('booked', 'attended', 'no_show')
        and b.ends_at > ${from} and b.starts_at < ${to}) end as busy`

/**
 * The active staff of a hub with a skill, in a stable order, in one statement, with the calendars
 * of the group the search starts with: the preferred (assigned) staff member alone when he has the
 * skill, otherwise all of them. The others' calendars stay unread (null) until they are needed.
 */
export async function skilledStaffCalendars(
  trx: Trx,
  hubTenantId: string,
  skill: string,
  preferred: string | null,
  from: Date,
  to: Date,
): Promise<CalendarRow[]> {
  const { rows } = await sql<CalendarRow>`
    with skilled as (
      select id, created_at from staff
       where hub_tenant_id = ${hubTenantId} and status = 'active' and ${skill} = any(skills)
    ), preferred as (
      select exists (select 1 from skilled where id = ${preferred}::uuid) as skilled
    )
    select s.id, ${calendarColumns(from, to)}
      from skilled s
     cross join preferred p
     cross join lateral (select not p.skilled or s.id = ${preferred}::uuid as loaded) l
     order by s.created_at, s.id`.execute(trx)
  return rows
}

/** The calendars of these staff members, in the order given, in one statement. */
export async function calendarsOf(trx: Trx, staffIds: string[], from: Date, to: Date): Promise<CalendarRow[]> {
  if (staffIds.length === 0) return []
  const { rows } = await sql<CalendarRow>`
    select s.id, ${calendarColumns(from, to)}
      from unnest(${staffIds}::uuid[]) with ordinality as s (id, n)
     cross join lateral (select true as loaded) l
     order by s.n`.execute(trx)
  return rows
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
 * transaction), without it it is let go at once.
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

/**
 * Takes a seat in the earliest session of a window that still has one and books the appointment
 * into it, in one statement; undefined when no session in the window has a free seat. The session
 * row is locked (FOR UPDATE) and the free-seat condition re-checked after any concurrent writer
 * committed — a session filled meanwhile is passed over for the next — so seats never exceed
 * capacity; the check constraint is the backstop.
 */
export const bookEarliestSeat = async (
  trx: Trx,
  appointmentId: string,
  hubTenantId: string,
  q: { notBefore: Date; notAfter: Date; lastDate: string; locationCode: string | null },
): Promise<{ ceremony_id: string; starts_at: Date } | undefined> => {
  const { rows } = await sql<{ ceremony_id: string; starts_at: Date }>`
    with session as (
      select id from ceremony_sessions
       where hub_tenant_id = ${hubTenantId} and starts_at >= ${q.notBefore} and starts_at <= ${q.notAfter}
         and session_date <= ${q.lastDate} and seats_taken < capacity
         and (${q.locationCode}::text is null or location_code = ${q.locationCode})
       order by starts_at, id
       limit 1
       for update
    ), seat as (
      update ceremony_sessions c set seats_taken = c.seats_taken + 1
        from session where c.id = session.id and c.seats_taken < c.capacity
      returning c.id, c.starts_at, c.ends_at, c.location_code
    )
    update appointments a
       set status = 'booked', starts_at = seat.starts_at, ends_at = seat.ends_at, ceremony_id = seat.id,
           location_code = seat.location_code, booked_at = clock_timestamp(), reason = null,
           version = a.version + 1, updated_at = now()
      from seat
     where a.id = ${appointmentId}
    returning a.ceremony_id, a.starts_at`.execute(trx)
  return rows[0]
}

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

export const insertAppointment = (trx: Trx, row: Insertable<AppointmentsTable>): Promise<AppointmentRow> =>
  trx.insertInto('appointments').values(row).returningAll().executeTakeFirstOrThrow()

export const findAppointment = (trx: Trx, id: string): Promise<AppointmentRow | undefined> =>
  trx.selectFrom('appointments').selectAll().where('id', '=', id).executeTakeFirst()

/** The case an appointment belongs to, locked (the first lock of every appointment write). */
export const lockCaseOfAppointment = (trx: Trx, appointmentId: string) =>
  trx
    .selectFrom('cases')
    .selectAll()
    .where('id', '=', (eb) => eb.selectFrom('appointments').select('case_id').where('id', '=', appointmentId))
    .forUpdate()
    .executeTakeFirst()

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
