// Issue 10 over HTTP: locations, availability, ceremony sessions, requesting and booking
// appointments through the outbox and the scheduling worker, cancel, outcome and the no-show
// chain — each refusal of API.md with its status and code, and the cross-tenant 404s.
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bookAppointment } from '../../api/appointments/booking.js'
import { addDays } from '../../api/domain/calendar.js'
import { amsterdamToUtc, startOfNextWorkingDay, utcToAmsterdam } from '../../api/domain/scheduling.js'
import * as tenancy from '../../api/tenancy/tenancy.service.js'
import { startTestApp, type TestApp } from '../helpers/app.js'
import {
  LOCATION,
  address,
  caseInReview,
  getAppointment,
  moveIntoPast,
  putHubLocation,
  putOfficeHours,
  requestAppointment,
  runSchedulingJobs,
  type AppointmentJson,
} from '../helpers/appointment-builders.js'
import { ADMIN, newAdminKey, newRegion, type RegionFixture } from '../helpers/builders.js'
import { act, send, submitCase, toIntake, type CaseEventJson } from '../helpers/case-builders.js'
import { expectOk, expectProblem, newStaff } from '../helpers/tenancy-builders.js'

let t: TestApp
let adminKey: string
let region: RegionFixture
let other: RegionFixture

beforeAll(async () => {
  t = await startTestApp()
  adminKey = await newAdminKey(t.database.db)
  region = await newRegion(t.database.db)
  other = await newRegion(t.database.db)
  await putHubLocation(t.app, region)
  await putOfficeHours(t.app, region, region.specialist.id)
})
afterAll(async () => t.close())

/** 09:00 Amsterdam time on the next working day after today, as an instant. */
const nextWorkingDayAt = (minuteOfDay: number, days = 0): Date => {
  const date = addDays(utcToAmsterdam(startOfNextWorkingDay(new Date())).date, days)
  return amsterdamToUtc(date, minuteOfDay)
}
const events = async (caseId: string): Promise<CaseEventJson[]> =>
  expectOk<{ items: CaseEventJson[] }>(await send(t.app, 'GET', `/v1/cases/${caseId}/events`, region.lead.key)).items

describe('locations', () => {
  it('a lead puts a location at the hub and a desk in a member’s town hall; the region’s members read them', async () => {
    const desk = expectOk(await send(t.app, 'PUT', `/v1/tenants/${region.hub.id}/locations/desk-member`, region.lead.key, {
      name: 'Gemeentehuis, spreekuur',
      municipalityCode: region.members[1].code,
      address: { ...address, postalCode: '9401jw' },
    }))
    expect(desk).toMatchObject({ code: 'desk-member', municipalityCode: region.members[1].code, address: { postalCode: '9401 JW' } })
    const list = expectOk<{ items: { code: string }[] }>(await send(t.app, 'GET', `/v1/tenants/${region.hub.id}/locations`, region.members[0].key))
    expect(list.items.map((l) => l.code)).toEqual(['desk-member', LOCATION])
    expectOk(await send(t.app, 'PUT', `/v1/tenants/${region.hub.id}/locations/admin-desk`, adminKey, { name: 'By the admin', municipalityCode: region.hub.code, address }))
  })

  it('422 municipality-not-in-region for a municipality outside the hub’s region', async () => {
    expectProblem(
      await send(t.app, 'PUT', `/v1/tenants/${region.hub.id}/locations/elsewhere`, region.lead.key, { name: 'x', municipalityCode: other.members[0].code, address }),
      422,
      'municipality-not-in-region',
    )
  })

  it('403 for a specialist; 404 for another hub’s lead and another region’s member; 400 for a bad code', async () => {
    const body = { name: 'x', municipalityCode: region.hub.code, address }
    expectProblem(await send(t.app, 'PUT', `/v1/tenants/${region.hub.id}/locations/x`, region.specialist.key, body), 403, 'forbidden')
    expectProblem(await send(t.app, 'PUT', `/v1/tenants/${region.hub.id}/locations/x`, other.lead.key, body), 404, 'not-found')
    expectProblem(await send(t.app, 'GET', `/v1/tenants/${region.hub.id}/locations`, other.members[0].key), 404, 'not-found')
    expectProblem(await send(t.app, 'PUT', `/v1/tenants/${region.hub.id}/locations/Bad_Code`, region.lead.key, body), 400, 'invalid-request')
  })
})

describe('availability', () => {
  const url = (id: string) => `/v1/staff/${id}/availability`
  const window = (weekday: number, start: string, end: string, locationCode = LOCATION) => ({ weekday, start, end, locationCode })

  it('a lead sets it for a specialist, a specialist for himself; answered as stored', async () => {
    const s = await newStaff(t.database.db, region.hub.id)
    const body = { weekly: [window(1, '09:00', '12:30'), window(1, '13:00', '16:00')], absences: [{ from: '2026-12-24', until: '2026-12-31' }] }
    expect(expectOk(await send(t.app, 'PUT', url(s.id), region.lead.key, body))).toEqual({ staffId: s.id, ...body })
    expect(expectOk(await send(t.app, 'PUT', url(s.id), s.key, { weekly: [], absences: [] }))).toEqual({ staffId: s.id, weekly: [], absences: [] })
  })

  it('400 for overlapping or inverted ranges and unknown locations, naming the field', async () => {
    const cases: [object, string, string][] = [
      [{ weekly: [window(2, '09:00', '12:00'), window(2, '11:00', '13:00')], absences: [] }, 'weekly[1]', 'overlapping-range'],
      [{ weekly: [window(2, '12:00', '09:00')], absences: [] }, 'weekly[0]', 'inverted-range'],
      [{ weekly: [], absences: [{ from: '2026-12-10', until: '2026-12-01' }] }, 'absences[0]', 'inverted-range'],
      [{ weekly: [], absences: [{ from: '2026-12-01', until: '2026-12-10' }, { from: '2026-12-05', until: '2026-12-06' }] }, 'absences[1]', 'overlapping-range'],
      [{ weekly: [window(2, '09:00', '12:00', 'nowhere')], absences: [] }, 'weekly[0].locationCode', 'unknown-location'],
    ]
    for (const [body, name, code] of cases) {
      const p = expectProblem(await send(t.app, 'PUT', url(region.specialist.id), region.lead.key, body), 400, 'invalid-request')
      expect(p.invalidParams).toEqual([expect.objectContaining({ name, code })])
    }
    expectProblem(await send(t.app, 'PUT', url(region.specialist.id), region.lead.key, { weekly: [window(2, '9:00', '12:00')], absences: [] }), 400, 'invalid-request')
  })

  it('403 for a specialist setting someone else’s; 404 for another hub’s staff', async () => {
    expectProblem(await send(t.app, 'PUT', url(region.lead.id), region.specialist.key, { weekly: [], absences: [] }), 403, 'forbidden')
    expectProblem(await send(t.app, 'PUT', url(region.specialist.id), other.lead.key, { weekly: [], absences: [] }), 404, 'not-found')
    expectProblem(await send(t.app, 'PUT', url(region.specialist.id), region.members[0].key, { weekly: [], absences: [] }), 404, 'not-found')
  })
})

describe('ceremony sessions', () => {
  const url = (hub: string) => `/v1/tenants/${hub}/ceremonies`
  const session = (date: string) => ({ date, start: '14:00', end: '15:30', locationCode: LOCATION, capacity: 30 })

  it('a lead plans sessions on working days and on 15 December even on a Saturday; hub staff list them with seats', async () => {
    const created = expectOk<{ id: string; startsAt: string; seatsTaken: number }>(await send(t.app, 'POST', url(region.hub.id), region.lead.key, session('2029-12-15')), 201)
    expect(created).toMatchObject({ startsAt: '2029-12-15T13:00:00.000Z', seatsTaken: 0 })
    expectOk(await send(t.app, 'POST', url(region.hub.id), region.lead.key, session('2027-06-15')), 201)
    const list = expectOk<{ items: { id: string; startsAt: string }[] }>(await send(t.app, 'GET', `${url(region.hub.id)}?from=2027-01-01&to=2030-01-01`, region.specialist.key))
    expect(list.items.map((s) => s.startsAt)).toEqual(['2027-06-15T12:00:00.000Z', '2029-12-15T13:00:00.000Z'])
  })

  it('400 for a weekend day or a holiday, an inverted time or an unknown location; 403 specialist; 404 other tenants', async () => {
    for (const date of ['2026-12-19', '2026-12-25']) {
      const p = expectProblem(await send(t.app, 'POST', url(region.hub.id), region.lead.key, session(date)), 400, 'invalid-request')
      expect(p.invalidParams).toEqual([expect.objectContaining({ name: 'date', code: 'not-a-working-day' })])
    }
    expectProblem(await send(t.app, 'POST', url(region.hub.id), region.lead.key, { ...session('2027-06-15'), end: '13:00' }), 400, 'invalid-request')
    expectProblem(await send(t.app, 'POST', url(region.hub.id), region.lead.key, { ...session('2027-06-15'), locationCode: 'nowhere' }), 400, 'invalid-request')
    expectProblem(await send(t.app, 'POST', url(region.hub.id), region.specialist.key, session('2027-06-15')), 403, 'forbidden')
    expectProblem(await send(t.app, 'POST', url(region.hub.id), other.lead.key, session('2027-06-15')), 404, 'not-found')
    expectProblem(await send(t.app, 'GET', url(region.hub.id), other.lead.key), 404, 'not-found')
    expectProblem(await send(t.app, 'GET', url(region.hub.id), region.members[0].key), 404, 'not-found')
  })
})

describe('requesting and booking', () => {
  it('202 requested at once; the worker, fed from the outbox, books the assigned specialist’s earliest slot', async () => {
    const c = await caseInReview(t.app, t.database.db, region)
    const requested = await requestAppointment(t.app, region.lead.key, c.id, { kind: 'intake_interview' })
    expect(requested).toMatchObject({ caseId: c.id, kind: 'intake_interview', start: null, attempt: 1, registeredLetter: false })
    expect(await runSchedulingJobs(t.database.db, t.database.owner)).toEqual(['booked'])
    const booked = await getAppointment(t.app, region.members[0].key, requested.id)
    const expected = nextWorkingDayAt(9 * 60)
    expect(booked).toMatchObject({ status: 'booked', staffId: region.specialist.id, locationCode: LOCATION, start: expected.toISOString() })
    expect(Date.parse(booked.end!) - Date.parse(booked.start!)).toBe(30 * 60_000)
    expect((await events(c.id)).slice(-2).map((e) => [e.action, e.actor.kind, e.from, e.to])).toEqual([
      ['appointment_requested', 'hub', 'in_review', 'in_review'],
      ['appointment_booked', 'system', 'in_review', 'in_review'],
    ])
    // Case events reach webhook subscribers as deliveries (issue 11, test/integration/webhooks-*.test.ts);
    // none subscribed here, so no delivery job was announced for this case.
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from webhook_deliveries where event->'data'->>'caseId' = ${c.id}`.execute(t.database.owner)
    expect(rows[0]!.n).toBe(0)
    // The next request of another case takes the next slot of the grid.
    const c2 = await caseInReview(t.app, t.database.db, region)
    const second = await requestAppointment(t.app, region.specialist.key, c2.id, { kind: 'intake_interview' })
    await runSchedulingJobs(t.database.db, t.database.owner)
    expect((await getAppointment(t.app, region.lead.key, second.id)).start).toBe(new Date(expected.getTime() + 30 * 60_000).toISOString())
    expect((await send(t.app, 'GET', `/v1/cases/${c2.id}/appointments`, region.members[0].key)).json<{ items: AppointmentJson[] }>().items.map((a) => a.id)).toEqual([second.id])
  })

  it('keeps within earliest and latest; unschedulable no-availability when nothing fits', async () => {
    const c = await caseInReview(t.app, t.database.db, region)
    const earliest = nextWorkingDayAt(10 * 60 + 20, 7)
    const a = await requestAppointment(t.app, region.lead.key, c.id, { kind: 'intake_interview', earliest: earliest.toISOString() })
    await runSchedulingJobs(t.database.db, t.database.owner)
    const booked = await getAppointment(t.app, region.lead.key, a.id)
    expect(Date.parse(booked.start!)).toBeGreaterThanOrEqual(earliest.getTime())
    expect(Date.parse(booked.start!) - earliest.getTime()).toBeLessThan(15 * 60_000)

    const c2 = await caseInReview(t.app, t.database.db, region)
    const late = nextWorkingDayAt(12 * 60)
    const none = await requestAppointment(t.app, region.lead.key, c2.id, { kind: 'intake_interview', earliest: late.toISOString(), latest: new Date(late.getTime() + 3_600_000).toISOString() })
    expect(await runSchedulingJobs(t.database.db, t.database.owner)).toEqual(['unschedulable'])
    expect(await getAppointment(t.app, region.lead.key, none.id)).toMatchObject({ status: 'unschedulable', reason: 'no-availability', start: null })
    expect((await events(c2.id)).at(-1)).toMatchObject({ action: 'appointment_unschedulable', reason: 'intake_interview: no-availability' })
  })

  it('falls back to another skilled specialist, never to staff without the skill or without availability', async () => {
    const r = await newRegion(t.database.db)
    await putHubLocation(t.app, r)
    // The lead holds every skill but has no availability; the specialist lacks first_registration.
    const c = await caseInReview(t.app, t.database.db, r, 'first_registration', r.lead.id)
    const a = await requestAppointment(t.app, r.lead.key, c.id, { kind: 'registration_appearance' })
    await runSchedulingJobs(t.database.db, t.database.owner)
    expect(await getAppointment(t.app, r.lead.key, a.id)).toMatchObject({ status: 'unschedulable', reason: 'no-availability' })
    await tenancy.updateStaff(t.database.db, ADMIN, r.lead.id, { skills: ['naturalisation'] })
    const c2 = await submitCase(t.app, r.members[0].key, { caseType: 'first_registration' })
    await toIntake(t.database.db, c2.hubTenantId, c2.id)
    const b = await requestAppointment(t.app, r.lead.key, c2.id, { kind: 'registration_appearance' })
    await runSchedulingJobs(t.database.db, t.database.owner)
    expect(await getAppointment(t.app, r.lead.key, b.id)).toMatchObject({ status: 'unschedulable', reason: 'no-staff-with-skill' })
    // A skilled specialist with office hours, not assigned: booked with him, 20 minutes.
    const s = await tenancy.createStaff(t.database.db, ADMIN, r.hub.id, { name: 'Registrar', email: 'registrar@hub.invalid', role: 'specialist', skills: ['first_registration'] })
    await putOfficeHours(t.app, r, s.id, '13:00', '14:00')
    const c3 = await submitCase(t.app, r.members[0].key, { caseType: 'first_registration' })
    await toIntake(t.database.db, c3.hubTenantId, c3.id)
    const d = await requestAppointment(t.app, r.lead.key, c3.id, { kind: 'registration_appearance' })
    await runSchedulingJobs(t.database.db, t.database.owner)
    const booked = await getAppointment(t.app, r.lead.key, d.id)
    expect(booked).toMatchObject({ status: 'booked', staffId: s.id, start: nextWorkingDayAt(13 * 60).toISOString() })
    expect(Date.parse(booked.end!) - Date.parse(booked.start!)).toBe(20 * 60_000)
  })

  it('re-running a booking job books once, also when both runs race', async () => {
    const c = await caseInReview(t.app, t.database.db, region)
    const a = await requestAppointment(t.app, region.lead.key, c.id, { kind: 'intake_interview' })
    const payload = { tenantId: region.hub.id, appointmentId: a.id }
    const results = await Promise.all([bookAppointment(t.database.db, payload), bookAppointment(t.database.db, payload)])
    expect(results.sort()).toEqual(['booked', 'skipped'])
    expect(await bookAppointment(t.database.db, payload)).toBe('skipped')
    expect((await events(c.id)).filter((e) => e.action === 'appointment_booked')).toHaveLength(1)
    expect((await getAppointment(t.app, region.lead.key, a.id)).version).toBe(2)
  })

  it('the refusals: 422 kind-not-needed-for-case-type, 409 appointment-already-open, case-closed and not-awaiting-ceremony', async () => {
    const c = await caseInReview(t.app, t.database.db, region)
    const url = `/v1/cases/${c.id}/appointments`
    expectProblem(await send(t.app, 'POST', url, region.lead.key, { kind: 'registration_appearance' }), 422, 'kind-not-needed-for-case-type')
    expectProblem(await send(t.app, 'POST', url, region.lead.key, { kind: 'ceremony' }), 409, 'not-awaiting-ceremony')
    expectProblem(await send(t.app, 'POST', url, region.lead.key, { kind: 'option_confirmation' }), 422, 'kind-not-needed-for-case-type')
    await requestAppointment(t.app, region.lead.key, c.id, { kind: 'intake_interview' })
    expectProblem(await send(t.app, 'POST', url, region.lead.key, { kind: 'intake_interview' }), 409, 'appointment-already-open')
    await runSchedulingJobs(t.database.db, t.database.owner)
    expectProblem(await send(t.app, 'POST', url, region.lead.key, { kind: 'intake_interview' }), 409, 'appointment-already-open')
    expectOk(await act(t.app, region.members[0].key, c.id, 'withdraw', { reason: 'moved abroad' }))
    expectProblem(await send(t.app, 'POST', url, region.lead.key, { kind: 'intake_interview' }), 409, 'case-closed')
  })

  it('400 for earliest after latest or an unknown location; 403 for the member; 404 for another tenant', async () => {
    const c = await caseInReview(t.app, t.database.db, region)
    const url = `/v1/cases/${c.id}/appointments`
    const p = expectProblem(await send(t.app, 'POST', url, region.lead.key, { kind: 'intake_interview', earliest: '2027-01-10T09:00:00Z', latest: '2027-01-09T09:00:00Z' }), 400, 'invalid-request')
    expect(p.invalidParams).toEqual([expect.objectContaining({ name: 'latest', code: 'inverted-range' })])
    expectProblem(await send(t.app, 'POST', url, region.lead.key, { kind: 'intake_interview', locationCode: 'nowhere' }), 400, 'invalid-request')
    expectProblem(await send(t.app, 'POST', url, region.lead.key, { kind: 'intake_interview', status: 'booked' }), 400, 'invalid-request')
    expectProblem(await send(t.app, 'POST', url, region.members[0].key, { kind: 'intake_interview' }), 403, 'forbidden')
    expectProblem(await send(t.app, 'POST', url, other.lead.key, { kind: 'intake_interview' }), 404, 'not-found')
    const a = await requestAppointment(t.app, region.lead.key, c.id, { kind: 'intake_interview' })
    for (const key of [other.lead.key, other.members[0].key, region.members[1].key]) {
      expectProblem(await send(t.app, 'GET', `/v1/appointments/${a.id}`, key), 404, 'not-found')
      expectProblem(await send(t.app, 'GET', `/v1/cases/${c.id}/appointments`, key), 404, 'not-found')
      expectProblem(await send(t.app, 'POST', `/v1/appointments/${a.id}/cancel`, key, { reason: 'x' }), 404, 'not-found')
      expectProblem(await send(t.app, 'GET', `/v1/appointments/${a.id}/calendar.ics`, key), 404, 'not-found')
    }
    await runSchedulingJobs(t.database.db, t.database.owner)
  })
})

describe('cancel and outcome', () => {
  it('cancelling frees the slot for the next booking; the member may cancel its own case’s appointment', async () => {
    const r = await newRegion(t.database.db)
    await putHubLocation(t.app, r)
    await putOfficeHours(t.app, r, r.specialist.id, '09:00', '09:30')
    const c1 = await caseInReview(t.app, t.database.db, r)
    const first = await requestAppointment(t.app, r.lead.key, c1.id, { kind: 'intake_interview' })
    await runSchedulingJobs(t.database.db, t.database.owner)
    const slot = (await getAppointment(t.app, r.lead.key, first.id)).start
    const cancelled = expectOk<AppointmentJson>(await send(t.app, 'POST', `/v1/appointments/${first.id}/cancel`, r.members[0].key, { reason: 'ill' }))
    expect(cancelled).toMatchObject({ status: 'cancelled', reason: 'ill', start: slot })
    expectProblem(await send(t.app, 'POST', `/v1/appointments/${first.id}/cancel`, r.lead.key, { reason: 'again' }), 409, 'appointment-not-open')
    const c2 = await caseInReview(t.app, t.database.db, r)
    const second = await requestAppointment(t.app, r.lead.key, c2.id, { kind: 'intake_interview' })
    await runSchedulingJobs(t.database.db, t.database.owner)
    expect((await getAppointment(t.app, r.lead.key, second.id)).start).toBe(slot)
    // The cancelled case may ask again.
    await requestAppointment(t.app, r.lead.key, c1.id, { kind: 'intake_interview' })
  })

  it('409 appointment-not-started before the start; 403 for the member; attended cannot be cancelled', async () => {
    const c = await caseInReview(t.app, t.database.db, region)
    const a = await requestAppointment(t.app, region.lead.key, c.id, { kind: 'intake_interview' })
    expectProblem(await send(t.app, 'POST', `/v1/appointments/${a.id}/outcome`, region.lead.key, { attended: true }), 409, 'appointment-not-booked')
    await runSchedulingJobs(t.database.db, t.database.owner)
    expectProblem(await send(t.app, 'POST', `/v1/appointments/${a.id}/outcome`, region.lead.key, { attended: true }), 409, 'appointment-not-started')
    await moveIntoPast(t.database.owner, a.id)
    expectProblem(await send(t.app, 'POST', `/v1/appointments/${a.id}/outcome`, region.members[0].key, { attended: true }), 403, 'forbidden')
    expectProblem(await send(t.app, 'POST', `/v1/appointments/${a.id}/outcome`, other.lead.key, { attended: true }), 404, 'not-found')
    expect(expectOk<AppointmentJson>(await send(t.app, 'POST', `/v1/appointments/${a.id}/outcome`, region.specialist.key, { attended: true }))).toMatchObject({ status: 'attended' })
    expectProblem(await send(t.app, 'POST', `/v1/appointments/${a.id}/cancel`, region.lead.key, { reason: 'late' }), 409, 'appointment-attended')
    expectProblem(await send(t.app, 'POST', `/v1/appointments/${a.id}/outcome`, region.lead.key, { attended: false }), 409, 'appointment-not-booked')
    expect((await events(c.id)).at(-1)).toMatchObject({ action: 'appointment_attended', actor: { kind: 'hub', id: region.specialist.id } })
  })

  it('no-show chain: attempt 2, attempt 3 by registered letter, then the scheduler stops and flags the case', async () => {
    const c = await caseInReview(t.app, t.database.db, region)
    let current = await requestAppointment(t.app, region.lead.key, c.id, { kind: 'intake_interview' })
    for (const attempt of [1, 2, 3]) {
      expect(await runSchedulingJobs(t.database.db, t.database.owner)).toEqual(['booked'])
      expect(await getAppointment(t.app, region.lead.key, current.id)).toMatchObject({ status: 'booked', attempt, registeredLetter: attempt === 3 })
      await moveIntoPast(t.database.owner, current.id, 10 * attempt)
      expect(expectOk<AppointmentJson>(await send(t.app, 'POST', `/v1/appointments/${current.id}/outcome`, region.lead.key, { attended: false }))).toMatchObject({ status: 'no_show' })
      const list = expectOk<{ items: AppointmentJson[] }>(await send(t.app, 'GET', `/v1/cases/${c.id}/appointments`, region.lead.key)).items
      if (attempt < 3) {
        expect(list).toHaveLength(attempt + 1)
        expect(list[0]).toMatchObject({ kind: 'intake_interview', status: 'requested', attempt: attempt + 1, registeredLetter: attempt + 1 === 3 })
        current = list[0]!
      } else {
        expect(list.map((a) => a.status)).toEqual(['no_show', 'no_show', 'no_show'])
      }
    }
    expect(await runSchedulingJobs(t.database.db, t.database.owner)).toEqual([])
    const timeline = (await events(c.id)).map((e) => e.action)
    expect(timeline.filter((a) => a === 'appointment_no_show')).toHaveLength(3)
    expect(timeline.at(-1)).toBe('appointment_attempts_exhausted')
  })
})
