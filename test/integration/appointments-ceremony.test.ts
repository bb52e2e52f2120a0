// Issue 10, the ceremony kinds: a seat in the earliest session inside the statutory window (BVVN
// art. 60b for naturalisation, art. 60a for the option confirmation), seats freed on cancel, and
// the attended ceremony with the declaration made closing the case through the state machine.
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addDays, workingDaysAfter } from '../../api/domain/calendar.js'
import { amsterdamToUtc } from '../../api/domain/scheduling.js'
import { dutchDate } from '../../api/time.js'
import { startTestApp, type TestApp } from '../helpers/app.js'
import {
  LOCATION,
  caseAwaitingCeremony,
  caseInReview,
  getAppointment,
  moveIntoPast,
  putHubLocation,
  requestAppointment,
  runSchedulingJobs,
  type AppointmentJson,
} from '../helpers/appointment-builders.js'
import { newRegion, type RegionFixture } from '../helpers/builders.js'
import { getCase, send, type CaseEventJson } from '../helpers/case-builders.js'
import { expectOk, expectProblem } from '../helpers/tenancy-builders.js'

let t: TestApp
let region: RegionFixture
const today = dutchDate()
// A session two working weeks out (inside every window) and one seven weeks out (outside the
// 6-week hand-over term of a naturalisation invited today, inside the option's 9 weeks).
const soon = workingDaysAfter(today, 10)
const later = workingDaysAfter(today, 35)
let soonId: string
let laterId: string

interface Session {
  id: string
  seatsTaken: number
  capacity: number
}

const sessions = async (): Promise<Session[]> =>
  expectOk<{ items: Session[] }>(await send(t.app, 'GET', `/v1/tenants/${region.hub.id}/ceremonies`, region.lead.key)).items

beforeAll(async () => {
  t = await startTestApp()
  region = await newRegion(t.database.db)
  await putHubLocation(t.app, region)
  const plan = async (date: string, capacity: number) =>
    expectOk<Session>(await send(t.app, 'POST', `/v1/tenants/${region.hub.id}/ceremonies`, region.lead.key, { date, start: '14:00', end: '15:30', locationCode: LOCATION, capacity }), 201).id
  soonId = await plan(soon, 3)
  laterId = await plan(later, 5)
})
afterAll(async () => t.close())

describe('ceremony and option confirmation', () => {
  it('409 not-awaiting-ceremony before the decree or the grant', async () => {
    const c = await caseInReview(t.app, t.database.db, region, 'option')
    expectProblem(await send(t.app, 'POST', `/v1/cases/${c.id}/appointments`, region.lead.key, { kind: 'option_confirmation' }), 409, 'not-awaiting-ceremony')
  })

  it('a naturalisation takes a seat in the earliest session inside 6 weeks; the booking is the invitation; attendance with the declaration closes the case', async () => {
    const c = await caseAwaitingCeremony(t.app, t.database.db, t.database.owner, region, 'naturalisation', addDays(today, -7))
    expect(c.status).toBe('awaiting_ceremony')
    const a = await requestAppointment(t.app, region.lead.key, c.id, { kind: 'ceremony' })
    expect(await runSchedulingJobs(t.database.db, t.database.owner)).toEqual(['booked'])
    const booked = await getAppointment(t.app, region.members[0].key, a.id)
    expect(booked).toMatchObject({ status: 'booked', ceremonyId: soonId, staffId: null, locationCode: LOCATION, start: amsterdamToUtc(soon, 14 * 60).toISOString() })
    expect((await sessions()).find((s) => s.id === soonId)?.seatsTaken).toBe(1)
    const { rows } = await sql<{ ceremony_invited_on: string }>`select ceremony_invited_on::text from cases where id = ${c.id}`.execute(t.database.owner)
    expect(rows[0]?.ceremony_invited_on).toBe(today)
    // The case's clocks follow: the invitation is met, the 6-week hand-over runs from today.
    const clocks = (await getCase(t.app, region.lead.key, c.id)).clocks
    expect(clocks.find((k) => k.code === 'ceremony_invitation')?.status).toBe('met')
    expect(clocks.find((k) => k.code === 'ceremony_handover')).toMatchObject({ status: 'running', startedOn: today, dueOn: addDays(today, 42) })

    await moveIntoPast(t.database.owner, a.id)
    expectOk(await send(t.app, 'POST', `/v1/appointments/${a.id}/outcome`, region.lead.key, { attended: true, declarationMade: true }))
    expect((await getCase(t.app, region.members[0].key, c.id)).status).toBe('closed')
    const timeline = expectOk<{ items: CaseEventJson[] }>(await send(t.app, 'GET', `/v1/cases/${c.id}/events`, region.lead.key)).items
    expect(timeline.slice(-2).map((e) => [e.action, e.from, e.to])).toEqual([
      ['appointment_attended', 'awaiting_ceremony', 'awaiting_ceremony'],
      ['ceremony_attended', 'awaiting_ceremony', 'closed'],
    ])
  })

  it('attended without the declaration leaves the case awaiting the ceremony', async () => {
    const c = await caseAwaitingCeremony(t.app, t.database.db, t.database.owner, region, 'naturalisation', addDays(today, -7))
    const a = await requestAppointment(t.app, region.lead.key, c.id, { kind: 'ceremony' })
    await runSchedulingJobs(t.database.db, t.database.owner)
    await moveIntoPast(t.database.owner, a.id)
    expectOk(await send(t.app, 'POST', `/v1/appointments/${a.id}/outcome`, region.lead.key, { attended: true, declarationMade: false }))
    expect((await getCase(t.app, region.lead.key, c.id)).status).toBe('awaiting_ceremony')
  })

  it('unschedulable no-session-within-statutory-term when the only sessions fall after the decree lapses', async () => {
    const c = await caseAwaitingCeremony(t.app, t.database.db, t.database.owner, region, 'naturalisation', addDays(today, -362))
    const a = await requestAppointment(t.app, region.lead.key, c.id, { kind: 'ceremony' })
    expect(await runSchedulingJobs(t.database.db, t.database.owner)).toEqual(['unschedulable'])
    expect(await getAppointment(t.app, region.lead.key, a.id)).toMatchObject({ status: 'unschedulable', reason: 'no-session-within-statutory-term', ceremonyId: null })
  })

  it('option confirmations fill the earliest session, then the next inside 9 weeks; a cancel gives the seat back', async () => {
    const booked: AppointmentJson[] = []
    for (let i = 0; i < 2; i += 1) {
      const c = await caseAwaitingCeremony(t.app, t.database.db, t.database.owner, region, 'option')
      const a = await requestAppointment(t.app, region.lead.key, c.id, { kind: 'option_confirmation' })
      await runSchedulingJobs(t.database.db, t.database.owner)
      booked.push(await getAppointment(t.app, region.lead.key, a.id))
    }
    // The soon session held two of its three seats already (the two naturalisation ceremonies above).
    expect(booked.map((a) => a.ceremonyId)).toEqual([soonId, laterId])
    const before = await sessions()
    expect(before.find((s) => s.id === soonId)).toMatchObject({ seatsTaken: 3, capacity: 3 })
    expect(before.find((s) => s.id === laterId)?.seatsTaken).toBe(1)
    expectOk(await send(t.app, 'POST', `/v1/appointments/${booked[1]!.id}/cancel`, region.members[0].key, { reason: 'cannot come' }))
    expect((await sessions()).find((s) => s.id === laterId)?.seatsTaken).toBe(0)
  })

  it('with the early session full, a naturalisation is not booked into one past its 6-week hand-over term', async () => {
    expect((await sessions()).find((s) => s.id === soonId)).toMatchObject({ seatsTaken: 3, capacity: 3 })
    const c = await caseAwaitingCeremony(t.app, t.database.db, t.database.owner, region, 'naturalisation', addDays(today, -7))
    const a = await requestAppointment(t.app, region.lead.key, c.id, { kind: 'ceremony' })
    expect(await runSchedulingJobs(t.database.db, t.database.owner)).toEqual(['unschedulable'])
    expect(await getAppointment(t.app, region.lead.key, a.id)).toMatchObject({ reason: 'no-session-within-statutory-term' })
  })
})
