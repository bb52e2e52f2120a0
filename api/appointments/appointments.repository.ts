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

/** Active staff of a hub with a skill, in a stable order. */
export const skilledStaff = (trx: Trx, hubTenantId: string, skill: string) =>
  trx
    .selectFrom('staff')
    .select(['id'])
    .where('hub_tenant_id', '=', hubTenantId)
    .where('status', '=', 'active')
    .where(sql<boolean>`${skill} = any(skills)`)
    .orderBy('created_at')
    .orderBy('id')
    .execute()

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

/** The time the staff members already hold between two instants. */
export const busyOf = (trx: Trx, staffIds: string[], from: Date, to: Date) =>
  staffIds.length === 0
    ? Promise.resolve([])
    : trx
        .selectFrom('appointments')
        .select(['staff_id', 'starts_at', 'ends_at'])
        .where('staff_id', 'in', staffIds)
        .where('status', 'in', ['booked', 'attended', 'no_show'])
        .where('ends_at', '>', from)
        .where('starts_at', '<', to)
        .execute()

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

/** Sessions with a free seat in a window, earliest first. */
export const candidateSessions = (
  trx: Trx,
  hubTenantId: string,
  q: { notBefore: Date; notAfter: Date; lastDate: string; locationCode: string | null },
) => {
  let query = trx
    .selectFrom('ceremony_sessions')
    .select(['id'])
    .where('hub_tenant_id', '=', hubTenantId)
    .where('starts_at', '>=', q.notBefore)
    .where('starts_at', '<=', q.notAfter)
    .where('session_date', '<=', q.lastDate)
    .where(sql<boolean>`seats_taken < capacity`)
  if (q.locationCode) query = query.where('location_code', '=', q.locationCode)
  return query.orderBy('starts_at').orderBy('id').limit(50).execute()
}

/**
 * Takes one seat if one is still free. The UPDATE locks the session row and re-checks the
 * condition after any concurrent writer committed, so seats never exceed capacity; the check
 * constraint is the backstop.
 */
export const takeSeat = (trx: Trx, sessionId: string): Promise<SessionRow | undefined> =>
  trx
    .updateTable('ceremony_sessions')
    .set({ seats_taken: sql<number>`seats_taken + 1` })
    .where('id', '=', sessionId)
    .where(sql<boolean>`seats_taken < capacity`)
    .returningAll()
    .executeTakeFirst()

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

/** Runs `fn` inside a savepoint: its writes are undone when it throws, the transaction lives on. */
export async function inSavepoint<T>(trx: Trx, fn: () => Promise<T>): Promise<T> {
  await sql`savepoint booking`.execute(trx)
  try {
    const result = await fn()
    await sql`release savepoint booking`.execute(trx)
    return result
  } catch (err) {
    await sql`rollback to savepoint booking`.execute(trx)
    throw err
  }
}

/** Advisory-lock class of the scheduler: one lock per staff member (pg_advisory_xact_lock(int, int)). */
const STAFF_BOOKING_LOCK = 10_010

/**
 * Waits for the right to book into one staff member's calendar, held to the end of the
 * transaction (or of the savepoint, when that is rolled back). Two bookings that insert
 * overlapping ranges at the same moment would otherwise each wait for the other inside the
 * exclusion check — a deadlock PostgreSQL only breaks after deadlock_timeout; with the lock
 * they take turns, and the constraint stays the guarantee behind it.
 */
export const lockStaffCalendar = (trx: Trx, staffId: string) =>
  sql`select pg_advisory_xact_lock(${STAFF_BOOKING_LOCK}, hashtext(${staffId}))`.execute(trx)

/** True for a PostgreSQL exclusion-constraint violation (23P01): the time is taken. */
export const isExclusionViolation = (err: unknown): boolean =>
  typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23P01'
