// Issue 10, bench:scheduling in a burst: the booking jobs of one hub that arrive together are booked
// in one statement (book_appointments, migration 0024; workers/scheduling.ts). Each job still gets
// its own answer (booked, unschedulable, skipped), the batch takes the earliest slots one after
// another and writes what a booking alone writes (case event, webhook deliveries, their outbox
// row), two batchers at once — two worker processes — never book an overlap or a seat too many,
// and a fault fails only its own job.
import { sql } from 'kysely'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { bookAppointment } from '../../api/appointments/booking.js'
import { workingDaysAfter } from '../../api/domain/calendar.js'
import { startOfNextWorkingDay, utcToAmsterdam } from '../../api/domain/scheduling.js'
import { dutchDate } from '../../api/time.js'
import { schedulingBatcher } from '../../workers/scheduling.js'
import { startTestApp, type TestApp } from '../helpers/app.js'
import {
  LOCATION,
  caseAwaitingCeremony,
  caseInReview,
  overlappingPairs,
  putHubLocation,
  putOfficeHours,
  requestAppointment,
  dayClock,
  takeSchedulingJobs,
} from '../helpers/appointment-builders.js'
import { newRegion, type RegionFixture } from '../helpers/builders.js'
import { send } from '../helpers/case-builders.js'
import { createTestDatabase } from '../helpers/db.js'
import { expectOk, newStaff } from '../helpers/tenancy-builders.js'
import { subscribe } from '../helpers/webhook-builders.js'

let t: TestApp
let region: RegionFixture
let day: string

beforeAll(async () => {
  t = await startTestApp({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' }, { database: await createTestDatabase(10) })
  day = utcToAmsterdam(startOfNextWorkingDay(new Date())).date
})
// Each test in a region of its own: no other staff member's calendar in its search.
beforeEach(async () => {
  region = await newRegion(t.database.db)
  await putHubLocation(t.app, region)
})
afterAll(async () => {
  await t.close()
  await t.database.drop()
})

const at = (hhmm: string) => dayClock(day).at(hhmm)
const onDay = () => dayClock(day).whole()
const takeOutboxJobs = () => takeSchedulingJobs(t.database.owner)
const book = (batcher: ReturnType<typeof schedulingBatcher>, ids: readonly string[], tenantId = region.hub.id) =>
  Promise.all(ids.map((appointmentId) => batcher.add(tenantId, { tenantId, appointmentId })))

async function interviews(n: number, staffId: string, window = onDay()): Promise<string[]> {
  const ids: string[] = []
  for (let i = 0; i < n; i += 1) {
    const c = await caseInReview(t.app, t.database.db, region, 'naturalisation', staffId)
    ids.push((await requestAppointment(t.app, region.lead.key, c.id, { kind: 'intake_interview', ...window })).id)
  }
  return ids
}

const rowsOf = async (ids: readonly string[]) =>
  (
    await sql<{ id: string; status: string; staff_id: string | null; starts_at: Date | null; reason: string | null }>`
      select id, status, staff_id, starts_at, reason from appointments where id = any(${ids}::uuid[])`.execute(t.database.owner)
  ).rows

interface Written {
  events: number
  action: string
  actor_kind: string
  actor_id: string
  reason: string
  deliveries: number
  jobs: number
  case_version: number
}

/** What a booking wrote besides the appointment, read behind RLS; the slot's time taken out of the event's reason. */
async function writtenFor(appointmentId: string): Promise<Written & { xmin: string }> {
  const { rows } = await sql<Written & { xmin: string }>`
    select (select count(*)::int from case_events e where e.case_id = a.case_id and e.action like 'appointment_%' and e.action <> 'appointment_requested') as events,
           e.action, e.actor_kind, e.actor_id, regexp_replace(e.reason, 'for .*', 'for …') as reason, e.xmin::text as xmin, c.version as case_version,
           (select count(*)::int from webhook_deliveries d where d.event->'data'->>'appointmentId' = a.id::text) as deliveries,
           (select count(*)::int from outbox o where o.job_name = 'deliver-event'
              and o.payload->>'eventId' in (select d.event_id::text from webhook_deliveries d where d.event->'data'->>'appointmentId' = a.id::text)) as jobs
    from appointments a join cases c on c.id = a.case_id
    join case_events e on e.case_id = a.case_id and e.action in ('appointment_booked', 'appointment_unschedulable')
    where a.id = ${appointmentId}`.execute(t.database.owner)
  expect(rows).toHaveLength(1)
  return rows[0]!
}

describe('booking jobs of one hub, together', () => {
  it('one statement books the earliest slots one after another; each job gets its own answer; the same as alone', async () => {
    await subscribe(t.app, region.members[0].key, { url: 'http://127.0.0.1:9/member', events: ['appointment.booked', 'appointment.unschedulable'] })
    const specialist = await newStaff(t.database.db, region.hub.id)
    // 09:00–11:00: four half-hour slots for five requests.
    await putOfficeHours(t.app, region, specialist.id, '09:00', '11:00')
    const alone = (await interviews(1, specialist.id))[0]!
    const batch = await interviews(5, specialist.id)
    const option = await caseAwaitingCeremony(t.app, t.database.db, t.database.owner, region, 'option')
    const noSession = (await requestAppointment(t.app, region.lead.key, option.id, { kind: 'option_confirmation' })).id
    const other = await newRegion(t.database.db)
    await takeOutboxJobs()
    expect(await bookAppointment(t.database.db, { tenantId: region.hub.id, appointmentId: alone })).toBe('booked')

    const batcher = schedulingBatcher(t.database.db)
    // Added in one turn of the event loop: one batch. The one booked already, the same job twice and
    // another hub's appointment (invisible to this hub) are skipped.
    const results = await book(batcher, [...batch, noSession, alone, batch[0]!])
    const foreign = await book(batcher, [batch[1]!], other.hub.id)
    expect(results).toEqual(['booked', 'booked', 'booked', 'unschedulable', 'unschedulable', 'unschedulable', 'skipped', 'skipped'])
    expect(foreign).toEqual(['skipped'])

    // In arrival order, each the earliest slot the earlier ones left: 09:30, 10:00, 10:30 (09:00 was booked alone).
    const rows = new Map((await rowsOf(batch)).map((r) => [r.id, r]))
    expect(batch.map((id) => rows.get(id)!.starts_at?.toISOString() ?? rows.get(id)!.reason)).toEqual([
      at('09:30').toISOString(),
      at('10:00').toISOString(),
      at('10:30').toISOString(),
      'no-availability',
      'no-availability',
    ])
    expect((await rowsOf([noSession]))[0]).toMatchObject({ status: 'unschedulable', reason: 'no-session-within-statutory-term' })
    expect(await overlappingPairs(t.database.owner)).toBe(0)

    // What each booking wrote is what the one booked alone wrote: one case event, the member's and
    // nobody else's delivery, one outbox row announcing it, the case's version once more.
    const { xmin: _xmin, ...single } = await writtenFor(alone)
    expect(single).toMatchObject({ events: 1, action: 'appointment_booked', actor_kind: 'system', actor_id: 'scheduling', reason: 'intake_interview booked for …', deliveries: 1, jobs: 1 })
    const written = await Promise.all(batch.map(writtenFor))
    for (const w of written.slice(0, 3)) expect({ ...w, xmin: undefined }).toEqual({ ...single, xmin: undefined })
    for (const w of written.slice(3)) expect(w).toMatchObject({ events: 1, action: 'appointment_unschedulable', reason: 'intake_interview: no-availability', deliveries: 1, jobs: 1, case_version: single.case_version })
    // One transaction wrote the batch: its case events carry one transaction id.
    expect(new Set(written.map((w) => w.xmin)).size).toBe(1)
  })

  it('two batchers at once (two worker processes): never an overlap, every free slot used, no seat too many', async () => {
    const staff = [region.specialist.id, (await newStaff(t.database.db, region.hub.id)).id]
    // 2 staff × 09:00–12:00 = 12 half-hour slots for 20 requests, all assigned to the first.
    for (const id of staff) await putOfficeHours(t.app, region, id, '09:00', '12:00')
    const slots = await interviews(20, staff[0]!)
    const session = expectOk<{ id: string }>(
      await send(t.app, 'POST', `/v1/tenants/${region.hub.id}/ceremonies`, region.lead.key, { date: workingDaysAfter(dutchDate(), 5), start: '10:00', end: '11:00', locationCode: LOCATION, capacity: 3 }),
      201,
    ).id
    const seats: string[] = []
    for (let i = 0; i < 6; i += 1) {
      const c = await caseAwaitingCeremony(t.app, t.database.db, t.database.owner, region, 'option')
      seats.push((await requestAppointment(t.app, region.lead.key, c.id, { kind: 'option_confirmation' })).id)
    }
    await takeOutboxJobs()
    const [one, two] = [schedulingBatcher(t.database.db), schedulingBatcher(t.database.db)]
    const all = [...slots, ...seats]
    const results = (await Promise.all([book(one, all.filter((_, i) => i % 2 === 0)), book(two, all.filter((_, i) => i % 2 === 1))])).flat()
    expect(results.filter((r) => r === 'booked')).toHaveLength(12 + 3)
    expect(results.filter((r) => r === 'unschedulable')).toHaveLength(8 + 3)
    expect(await overlappingPairs(t.database.owner)).toBe(0)
    const booked = (await rowsOf(slots)).filter((r) => r.status === 'booked')
    expect(new Set(booked.map((r) => `${r.staff_id}/${r.starts_at!.toISOString()}`)).size).toBe(12)
    const { rows } = await sql<{ seats_taken: number; holders: number }>`
      select seats_taken, (select count(*)::int from appointments a where a.ceremony_id = s.id and a.status = 'booked') as holders
      from ceremony_sessions s where s.id = ${session}`.execute(t.database.owner)
    expect(rows[0]).toEqual({ seats_taken: 3, holders: 3 })
    // Every job again: nothing more is booked.
    expect(new Set(await book(one, all))).toEqual(new Set(['skipped']))
  })

  it('fails only the job that cannot be booked, and still books the others', async () => {
    const specialist = await newStaff(t.database.db, region.hub.id)
    await putOfficeHours(t.app, region, specialist.id, '09:00', '10:00')
    const good = await interviews(2, specialist.id)
    await takeOutboxJobs()
    const batcher = schedulingBatcher(t.database.db)
    const answers = await Promise.allSettled([
      batcher.add(region.hub.id, { tenantId: region.hub.id, appointmentId: good[0]! }),
      // Not a uuid: the batch's statement fails, then each job is booked on its own.
      batcher.add(region.hub.id, { tenantId: region.hub.id, appointmentId: 'not-an-appointment-id' }),
      batcher.add(region.hub.id, { tenantId: region.hub.id, appointmentId: good[1]! }),
    ])
    expect(answers.map((a) => a.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    expect(answers[0]).toMatchObject({ value: 'booked' })
    expect(answers[2]).toMatchObject({ value: 'booked' })
    expect((await rowsOf(good)).map((r) => r.starts_at!.toISOString()).sort()).toEqual([at('09:00').toISOString(), at('09:30').toISOString()])
  })
})
