// Helpers for the appointment tests (issue 10): a hub with a location and office hours through the
// API, cases in review, and the scheduling worker run on the outbox rows the API wrote — the way
// the relay hands them to the `scheduling` queue.
import type { FastifyInstance } from 'fastify'
import { sql, type Kysely } from 'kysely'
import { expect } from 'vitest'
import { bookAppointment, type BookingResult } from '../../api/appointments/booking.js'
import * as casesRepo from '../../api/cases/cases.repository.js'
import { applyTransition } from '../../api/cases/lifecycle.js'
import { withTenantOf, type Db } from '../../api/db/database.js'
import { amsterdamToUtc } from '../../api/domain/scheduling.js'
import { dutchDate } from '../../api/time.js'
import type { components } from '../../openapi/types.gen.js'
import type { RegionFixture } from './builders.js'
import { acceptChecklist, act, getCase, send, submitCase, toIntake, type CaseJson } from './case-builders.js'
import { expectOk } from './tenancy-builders.js'

export type AppointmentJson = components['schemas']['Appointment']
export const LOCATION = 'stadhuis'

export const address = { street: 'Markt', houseNumber: '1', postalCode: '9401 JW', city: 'Assen' }

/** A location at the hub's town hall, put by the lead. */
export async function putHubLocation(app: FastifyInstance, region: RegionFixture, code = LOCATION): Promise<void> {
  expectOk(await send(app, 'PUT', `/v1/tenants/${region.hub.id}/locations/${code}`, region.lead.key, { name: 'Stadhuis, balie 3', municipalityCode: region.hub.code, address }))
}

/** Office hours Monday–Friday for one staff member, set by the lead. */
export async function putOfficeHours(app: FastifyInstance, region: RegionFixture, staffId: string, start = '09:00', end = '12:00', absences: { from: string; until: string }[] = []) {
  const weekly = [1, 2, 3, 4, 5].map((weekday) => ({ weekday, start, end, locationCode: LOCATION }))
  return expectOk(await send(app, 'PUT', `/v1/staff/${staffId}/availability`, region.lead.key, { weekly, absences }))
}

/** A case of this type, through intake and assigned by the lead (in review). */
export async function caseInReview(app: FastifyInstance, db: Db, region: RegionFixture, caseType: 'naturalisation' | 'option' | 'first_registration' = 'naturalisation', staffId = region.specialist.id): Promise<CaseJson> {
  const c = await submitCase(app, region.members[0].key, { caseType })
  expect(await toIntake(db, c.hubTenantId, c.id)).toBe('routed')
  return expectOk<CaseJson>(await act(app, region.lead.key, c.id, 'assign', { staffId }))
}

/** POST …/appointments and expect 202 requested. */
export async function requestAppointment(app: FastifyInstance, key: string, caseId: string, body: Record<string, unknown>): Promise<AppointmentJson> {
  const a = expectOk<AppointmentJson>(await send(app, 'POST', `/v1/cases/${caseId}/appointments`, key, body), 202)
  expect(a.status).toBe('requested')
  return a
}

/**
 * Runs the scheduling jobs the outbox holds and marks them dispatched, as the relay and the
 * worker do; returns what each booking did.
 */
export async function runSchedulingJobs(db: Db, owner: Kysely<unknown>, now?: Date): Promise<BookingResult[]> {
  const { rows } = await sql<{ id: number; payload: { tenantId: string; appointmentId: string } }>`
    update outbox set dispatched_at = now() where queue = 'scheduling' and dispatched_at is null returning id, payload`.execute(owner)
  const results: BookingResult[] = []
  for (const row of rows.sort((a, b) => a.id - b.id)) results.push(await bookAppointment(db, row.payload, now))
  return results
}

export async function getAppointment(app: FastifyInstance, key: string, id: string): Promise<AppointmentJson> {
  return expectOk<AppointmentJson>(await send(app, 'GET', `/v1/appointments/${id}`, key))
}

/** Moves a booked appointment back in time by whole weeks (as the owner), so its outcome can be recorded. */
export async function moveIntoPast(owner: Kysely<unknown>, appointmentId: string, weeks = 8): Promise<void> {
  await sql`update appointments set starts_at = starts_at - make_interval(weeks => ${weeks}), ends_at = ends_at - make_interval(weeks => ${weeks})
            where id = ${appointmentId}`.execute(owner)
}

/** The pairs of appointments of one staff member whose times overlap (there must be none). */
export async function overlappingPairs(owner: Kysely<unknown>): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    select count(*)::int as n from appointments a join appointments b
      on a.staff_id = b.staff_id and a.id < b.id
     and tstzrange(a.starts_at, a.ends_at) && tstzrange(b.starts_at, b.ends_at)
    where a.status in ('booked', 'attended', 'no_show') and b.status in ('booked', 'attended', 'no_show')`.execute(owner)
  return rows[0]!.n
}

/**
 * A case awaiting its ceremony: option — decided `grant`; naturalisation — advised to grant, then
 * the Royal Decree recorded through the state machine (the transition its endpoint takes).
 */
export async function caseAwaitingCeremony(
  app: FastifyInstance,
  db: Db,
  owner: Kysely<unknown>,
  region: RegionFixture,
  caseType: 'naturalisation' | 'option',
  decreeDate?: string,
): Promise<CaseJson> {
  const c = await caseInReview(app, db, region, caseType)
  await acceptChecklist(owner, c.id)
  const decided = expectOk<CaseJson>(await act(app, region.specialist.key, c.id, 'decide', { outcome: caseType === 'option' ? 'grant' : 'advise_grant', note: 'conditions met' }))
  if (caseType === 'option') {
    expect(decided.status).toBe('awaiting_ceremony')
    return decided
  }
  await withTenantOf(db, region.hub.id, async (trx) => {
    const row = await casesRepo.lockCase(trx, c.id)
    await applyTransition(trx, row!, {
      action: 'royal_decree_granted',
      actor: { kind: 'hub', id: region.specialist.id },
      changes: { royal_decree_decision: 'granted', royal_decree_date: decreeDate ?? dutchDate(), royal_decree_recorded_at: new Date() },
    })
  })
  return getCase(app, region.lead.key, c.id)
}

/** Takes the requested appointments out of the outbox, so only the test's own runs book them. */
export const takeSchedulingJobs = (owner: Kysely<unknown>) => sql`update outbox set dispatched_at = now() where queue = 'scheduling'`.execute(owner)

/** Wall-clock times of one Dutch day: `at('09:30')` as an instant, `whole()` as a request window. */
export function dayClock(day: string) {
  const at = (hhmm: string) => amsterdamToUtc(day, Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3)))
  return { at, whole: () => ({ earliest: at('00:00').toISOString(), latest: at('23:00').toISOString() }) }
}
