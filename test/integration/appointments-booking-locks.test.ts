// The booking mechanisms behind bench:scheduling (issue 10): book_staff_slot books only a free slot
// under the staff member's lock and, on a lost race, answers with the calendar read under it —
// keeping the lock (`hold`) or letting it go at once; the tie-break that spreads concurrent
// bookings across staff still gives a single request the earliest slot; and a booking that loses
// the assigned specialist's last slot while waiting for his lock falls back to another specialist.
import { sql } from 'kysely'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { bookAppointment, tieBreakOffset } from '../../api/appointments/booking.js'
import { bookStaffSlot } from '../../api/appointments/appointments.repository.js'
import { withTenantOf } from '../../api/db/database.js'
import { startOfNextWorkingDay, utcToAmsterdam } from '../../api/domain/scheduling.js'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { caseInReview, dayClock, putHubLocation, putOfficeHours, requestAppointment, LOCATION } from '../helpers/appointment-builders.js'
import { newRegion, type RegionFixture } from '../helpers/builders.js'
import { createTestDatabase } from '../helpers/db.js'
import { newStaff } from '../helpers/tenancy-builders.js'

let t: TestApp
let region: RegionFixture
let day: string

beforeAll(async () => {
  t = await startTestApp({}, { database: await createTestDatabase(10) })
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
/** The scheduler's advisory locks a backend holds. */
const staffLocksOf = async (pid: number) =>
  Number(
    (await sql<{ n: number }>`select count(*)::int as n from pg_locks where locktype = 'advisory' and classid = 10010 and pid = ${pid} and granted`.execute(t.database.owner))
      .rows[0]!.n,
  )
const taken = async (appointmentId: string) =>
  (await sql<{ staff_id: string | null; starts_at: Date | null; status: string }>`select staff_id, starts_at, status from appointments where id = ${appointmentId}`.execute(t.database.owner)).rows[0]!

describe('book_staff_slot', () => {
  it('books a free slot; on a taken one answers with the held time, keeping the lock with hold and letting it go without', async () => {
    const staff = await newStaff(t.database.db, region.hub.id)
    await putOfficeHours(t.app, region, staff.id, '09:00', '12:00')
    const ids: string[] = []
    for (let i = 0; i < 3; i += 1) {
      const c = await caseInReview(t.app, t.database.db, region, 'naturalisation', staff.id)
      ids.push((await requestAppointment(t.app, region.lead.key, c.id, { kind: 'intake_interview', ...onDay() })).id)
    }
    const slot = { staffId: staff.id, start: at('09:00'), end: at('09:30'), locationCode: LOCATION, busyFrom: at('00:00'), busyTo: at('23:00') }
    const first = await withTenantOf(t.database.db, region.hub.id, (trx) => bookStaffSlot(trx, { ...slot, appointmentId: ids[0]!, hold: true }))
    expect(first).toEqual({ booked: true, busy: null })
    for (const hold of [true, false]) {
      const { outcome, locks } = await withTenantOf(t.database.db, region.hub.id, async (trx) => {
        const pid = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx)).rows[0]!.pid
        // 09:15–09:45 overlaps the 09:00 booking.
        const outcome = await bookStaffSlot(trx, { ...slot, start: at('09:15'), end: at('09:45'), appointmentId: ids[hold ? 1 : 2]!, hold })
        return { outcome, locks: await staffLocksOf(pid) }
      })
      expect(outcome.booked).toBe(false)
      expect(outcome.busy?.map((b) => [b.start.toISOString(), b.end.toISOString()])).toEqual([[at('09:00').toISOString(), at('09:30').toISOString()]])
      expect(locks).toBe(hold ? 1 : 0)
    }
    expect((await taken(ids[1]!)).status).toBe('requested')
    expect((await taken(ids[2]!)).status).toBe('requested')
  })
})

describe('spreading ties across staff', () => {
  it('only picks among equally early slots: a single request still gets the earliest slot, whatever its offset', async () => {
    expect(tieBreakOffset('00000000-0000-4000-8000-000000000000', 1)).toBe(0)
    expect(tieBreakOffset('00000000-0000-4000-8000-000000000000', 3)).toBeLessThan(3)
    // The assigned specialist has no office hours, so the search runs over the three others:
    // only `early` has 09:00; the others start at 10:00.
    const assigned = await newStaff(t.database.db, region.hub.id)
    const early = await newStaff(t.database.db, region.hub.id)
    const late = [await newStaff(t.database.db, region.hub.id), await newStaff(t.database.db, region.hub.id)]
    await putOfficeHours(t.app, region, early.id, '09:00', '10:00')
    for (const s of late) await putOfficeHours(t.app, region, s.id, '10:00', '11:00')
    const starts: string[] = []
    for (let i = 0; i < 4; i += 1) {
      const c = await caseInReview(t.app, t.database.db, region, 'naturalisation', assigned.id)
      const a = await requestAppointment(t.app, region.lead.key, c.id, { kind: 'intake_interview', ...onDay() })
      expect(await bookAppointment(t.database.db, { tenantId: region.hub.id, appointmentId: a.id })).toBe('booked')
      const row = await taken(a.id)
      starts.push(`${row.starts_at!.toISOString()} ${row.staff_id === early.id ? 'early' : late.map((s) => s.id).includes(row.staff_id!) ? 'late' : 'other'}`)
    }
    // 09:00 and 09:30 with the only specialist free then; then the two at 10:00 (a tie, spread).
    expect(starts.slice(0, 3)).toEqual([`${at('09:00').toISOString()} early`, `${at('09:30').toISOString()} early`, `${at('10:00').toISOString()} late`])
    expect(starts[3]).toBe(`${at('10:00').toISOString()} late`)
  })
})

describe('losing the assigned specialist’s last slot while waiting for his lock', () => {
  it('falls back to another specialist, without a deadlock or an overlap', async () => {
    const assigned = await newStaff(t.database.db, region.hub.id)
    const other = await newStaff(t.database.db, region.hub.id)
    await putOfficeHours(t.app, region, assigned.id, '09:00', '09:30')
    await putOfficeHours(t.app, region, other.id, '14:00', '15:00')
    const rival = await requestAppointment(t.app, region.lead.key, (await caseInReview(t.app, t.database.db, region, 'naturalisation', assigned.id)).id, { kind: 'intake_interview', ...onDay() })
    const mine = await requestAppointment(t.app, region.lead.key, (await caseInReview(t.app, t.database.db, region, 'naturalisation', assigned.id)).id, { kind: 'intake_interview', ...onDay() })
    // The rival takes the assigned specialist's only slot and keeps its transaction open.
    const rivalTrx = await t.database.db.connection().execute(async (conn) => {
      await sql`begin`.execute(conn)
      await sql`select app_enter_tenant(${region.hub.id}::uuid)`.execute(conn)
      const r = await sql<{ booked: boolean }>`
        select booked from book_staff_slot(${rival.id}::uuid, ${assigned.id}::uuid, ${at('09:00')}, ${at('09:30')}, ${LOCATION}, ${at('00:00')}, ${at('23:00')}, true)`.execute(conn)
      expect(r.rows[0]!.booked).toBe(true)
      // Mine reads the calendar (the slot still looks free), then waits for the lock.
      const booking = bookAppointment(t.database.db, { tenantId: region.hub.id, appointmentId: mine.id })
      for (let i = 0; i < 200; i += 1) {
        const waiting = await sql<{ n: number }>`select count(*)::int as n from pg_locks where locktype = 'advisory' and classid = 10010 and not granted`.execute(t.database.owner)
        if (waiting.rows[0]!.n > 0) break
        await new Promise((r) => setTimeout(r, 25))
      }
      await sql`commit`.execute(conn)
      return booking
    })
    expect(rivalTrx).toBe('booked')
    expect(await taken(rival.id)).toMatchObject({ status: 'booked', staff_id: assigned.id })
    const row = await taken(mine.id)
    expect(row).toMatchObject({ status: 'booked', staff_id: other.id })
    expect(row.starts_at!.toISOString()).toBe(at('14:00').toISOString())
  })
})
