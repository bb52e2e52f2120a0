// Issue 10, "no double booking, by construction": 50 bookings at once against the real database
// give distinct slots or unschedulable, never an overlap (the exclusion constraint), and seats
// never exceed a session's capacity (the row lock and the check constraint).
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bookAppointment } from '../../api/appointments/booking.js'
import { workingDaysAfter } from '../../api/domain/calendar.js'
import { amsterdamToUtc, startOfNextWorkingDay, utcToAmsterdam } from '../../api/domain/scheduling.js'
import { dutchDate } from '../../api/time.js'
import { startTestApp, type TestApp } from '../helpers/app.js'
import {
  LOCATION,
  caseAwaitingCeremony,
  caseInReview,
  overlappingPairs,
  putHubLocation,
  putOfficeHours,
  requestAppointment,
  takeSchedulingJobs,
} from '../helpers/appointment-builders.js'
import { newRegion, type RegionFixture } from '../helpers/builders.js'
import { createTestDatabase } from '../helpers/db.js'
import { send } from '../helpers/case-builders.js'
import { expectOk, newStaff } from '../helpers/tenancy-builders.js'

let t: TestApp
let region: RegionFixture

beforeAll(async () => {
  t = await startTestApp({}, { database: await createTestDatabase(25) })
  region = await newRegion(t.database.db)
  await putHubLocation(t.app, region)
})
afterAll(async () => {
  await t.close()
  await t.database.drop()
})

const N = 50

const takeOutboxJobs = () => takeSchedulingJobs(t.database.owner)

describe('50 bookings at once', () => {
  it('slots: distinct or unschedulable, never an overlap; every free slot of the day is used', async () => {
    // Three specialists, 09:00–13:00 on the next working day: 3 × 8 half-hour slots = 24.
    const staff = [region.specialist.id, (await newStaff(t.database.db, region.hub.id)).id, (await newStaff(t.database.db, region.hub.id)).id]
    for (const id of staff) await putOfficeHours(t.app, region, id, '09:00', '13:00')
    const day = utcToAmsterdam(startOfNextWorkingDay(new Date())).date
    const window = { earliest: amsterdamToUtc(day, 0).toISOString(), latest: amsterdamToUtc(day, 23 * 60).toISOString() }
    const ids: string[] = []
    for (let i = 0; i < N; i += 1) {
      const c = await caseInReview(t.app, t.database.db, region, 'naturalisation', staff[i % staff.length])
      ids.push((await requestAppointment(t.app, region.lead.key, c.id, { kind: 'intake_interview', ...window })).id)
    }
    await takeOutboxJobs()
    const results = await Promise.all(ids.map((appointmentId) => bookAppointment(t.database.db, { tenantId: region.hub.id, appointmentId })))
    expect(results.filter((r) => r === 'booked')).toHaveLength(24)
    expect(results.filter((r) => r === 'unschedulable')).toHaveLength(N - 24)
    expect(await overlappingPairs(t.database.owner)).toBe(0)
    const { rows } = await sql<{ staff_id: string; starts_at: Date }>`
      select staff_id, starts_at from appointments where status = 'booked' and id = any(${ids}::uuid[])`.execute(t.database.owner)
    expect(new Set(rows.map((r) => `${r.staff_id}/${r.starts_at.toISOString()}`)).size).toBe(24)
    for (const r of rows) {
      const local = utcToAmsterdam(r.starts_at)
      expect(local.date).toBe(day)
      expect(local.minuteOfDay % 15).toBe(0)
      expect(local.minuteOfDay >= 9 * 60 && local.minuteOfDay + 30 <= 13 * 60).toBe(true)
    }
    // Running every job again books nothing more.
    const again = await Promise.all(ids.map((appointmentId) => bookAppointment(t.database.db, { tenantId: region.hub.id, appointmentId })))
    expect(new Set(again)).toEqual(new Set(['skipped']))
  })

  it('seats: never more than the capacity, whatever the concurrency', async () => {
    const plan = async (date: string, capacity: number) =>
      expectOk<{ id: string }>(await send(t.app, 'POST', `/v1/tenants/${region.hub.id}/ceremonies`, region.lead.key, { date, start: '10:00', end: '11:00', locationCode: LOCATION, capacity }), 201).id
    const today = dutchDate()
    const first = await plan(workingDaysAfter(today, 5), 10)
    const second = await plan(workingDaysAfter(today, 6), 15)
    const ids: string[] = []
    for (let i = 0; i < N; i += 1) {
      const c = await caseAwaitingCeremony(t.app, t.database.db, t.database.owner, region, 'option')
      ids.push((await requestAppointment(t.app, region.lead.key, c.id, { kind: 'option_confirmation' })).id)
    }
    await takeOutboxJobs()
    const results = await Promise.all(ids.map((appointmentId) => bookAppointment(t.database.db, { tenantId: region.hub.id, appointmentId })))
    expect(results.filter((r) => r === 'booked')).toHaveLength(25)
    const { rows } = await sql<{ id: string; capacity: number; seats_taken: number; holders: number }>`
      select s.id, s.capacity, s.seats_taken,
             (select count(*)::int from appointments a where a.ceremony_id = s.id and a.status = 'booked') as holders
      from ceremony_sessions s where s.id in (${first}, ${second}) order by s.starts_at`.execute(t.database.owner)
    expect(rows.map((r) => [r.seats_taken, r.holders, r.capacity])).toEqual([
      [10, 10, 10],
      [15, 15, 15],
    ])
  })

  it('the database itself refuses an overlap and a seat too many, behind any code', async () => {
    const { rows } = await sql<{ id: string; staff_id: string; starts_at: Date; ends_at: Date }>`
      select id, staff_id, starts_at, ends_at from appointments where status = 'booked' and staff_id is not null order by starts_at limit 2`.execute(t.database.owner)
    const [a, b] = rows
    const overlap = sql`update appointments set staff_id = ${a!.staff_id}, starts_at = ${new Date(a!.starts_at.getTime() + 15 * 60_000)},
                        ends_at = ${new Date(a!.ends_at.getTime() + 15 * 60_000)} where id = ${b!.id}`.execute(t.database.owner)
    await expect(overlap).rejects.toMatchObject({ code: '23P01', constraint: 'appointments_no_double_booking' })
    await expect(sql`update ceremony_sessions set seats_taken = capacity + 1`.execute(t.database.owner)).rejects.toMatchObject({ code: '23514' })
  })
})
