// Issue 10, calendar files: written by ical-generator and read back with ical.js, as a calendar
// application would — a stable UID, SEQUENCE rising on every change, METHOD:CANCEL once cancelled,
// DTSTART in TZID=Europe/Amsterdam (right in winter and in summer), and a summary with the kind and
// the case reference but never the citizen's name or BSN.
import ICAL from 'ical.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestApp, type TestApp } from '../helpers/app.js'
import {
  caseInReview,
  getAppointment,
  putHubLocation,
  putOfficeHours,
  requestAppointment,
  runSchedulingJobs,
} from '../helpers/appointment-builders.js'
import { newRegion, type RegionFixture } from '../helpers/builders.js'
import { getCase, send } from '../helpers/case-builders.js'
import { expectOk, expectProblem, newStaff } from '../helpers/tenancy-builders.js'

let t: TestApp
let region: RegionFixture
let other: RegionFixture

beforeAll(async () => {
  t = await startTestApp()
  region = await newRegion(t.database.db)
  other = await newRegion(t.database.db)
  await putHubLocation(t.app, region)
  await putOfficeHours(t.app, region, region.specialist.id)
})
afterAll(async () => t.close())

interface Parsed {
  method: string
  uid: string
  sequence: number
  status: string
  summary: string
  tzid: string
  start: Date
  end: Date
}

/** Parses a calendar file the way a calendar application does, zone definitions included. */
function parse(text: string): Parsed[] {
  const calendar = ICAL.Component.fromString(text)
  for (const zone of calendar.getAllSubcomponents('vtimezone')) ICAL.TimezoneService.register(zone)
  return calendar.getAllSubcomponents('vevent').map((vevent) => {
    const event = new ICAL.Event(vevent)
    return {
      method: String(calendar.getFirstPropertyValue('method')),
      uid: event.uid,
      sequence: event.sequence,
      status: String(vevent.getFirstPropertyValue('status')),
      summary: event.summary,
      tzid: String(vevent.getFirstProperty('dtstart')?.getParameter('tzid')),
      start: event.startDate.toJSDate(),
      end: event.endDate.toJSDate(),
    }
  })
}

async function booked(body: Record<string, unknown> = {}) {
  const c = await caseInReview(t.app, t.database.db, region)
  const a = await requestAppointment(t.app, region.lead.key, c.id, { kind: 'intake_interview', ...body })
  await runSchedulingJobs(t.database.db, t.database.owner)
  return { c: await getCase(t.app, region.members[0].key, c.id), a: await getAppointment(t.app, region.lead.key, a.id) }
}

const ics = async (url: string, key: string) => {
  const res = await send(t.app, 'GET', url, key)
  expect(res.statusCode, res.body).toBe(200)
  expect(res.headers['content-type']).toMatch(/^text\/calendar/)
  return res.body
}

describe('GET /v1/appointments/{id}/calendar.ics', () => {
  it('round-trips: stable UID, rising SEQUENCE, METHOD:CANCEL, TZID=Europe/Amsterdam, nothing personal', async () => {
    const { c, a } = await booked()
    const text = await ics(`/v1/appointments/${a.id}/calendar.ics`, region.members[0].key)
    const [event] = parse(text)
    expect(event).toMatchObject({ method: 'PUBLISH', uid: `${a.id}@regiobalie`, status: 'CONFIRMED', tzid: 'Europe/Amsterdam', summary: `Intake interview ${c.reference}` })
    expect(event!.start.toISOString()).toBe(a.start)
    expect(event!.end.toISOString()).toBe(a.end)
    expect(text).toMatch(/DTSTART;TZID=Europe\/Amsterdam:\d{8}T090000\r\n/)
    expect(text).toContain('BEGIN:VTIMEZONE')
    for (const personal of [c.subject.surname, c.subject.givenNames, c.subject.bsn!]) expect(text).not.toContain(personal)

    expectOk(await send(t.app, 'POST', `/v1/appointments/${a.id}/cancel`, region.lead.key, { reason: 'the applicant asked' }))
    const [cancelled] = parse(await ics(`/v1/appointments/${a.id}/calendar.ics`, region.lead.key))
    expect(cancelled).toMatchObject({ method: 'CANCEL', uid: event!.uid, status: 'CANCELLED' })
    expect(cancelled!.sequence).toBeGreaterThan(event!.sequence)
  })

  it('writes summer time correctly: 09:00 in July is 07:00Z, in January 08:00Z', async () => {
    const summer = (await booked({ earliest: '2027-07-05T00:00:00Z' })).a
    expect(summer.start).toBe('2027-07-05T07:00:00.000Z')
    const [s] = parse(await ics(`/v1/appointments/${summer.id}/calendar.ics`, region.lead.key))
    expect(s!.start.toISOString()).toBe('2027-07-05T07:00:00.000Z')
    const winter = (await booked({ earliest: '2027-01-11T00:00:00Z' })).a
    expect(winter.start).toBe('2027-01-11T08:00:00.000Z')
    const text = await ics(`/v1/appointments/${winter.id}/calendar.ics`, region.lead.key)
    expect(text).toContain('DTSTART;TZID=Europe/Amsterdam:20270111T090000')
    expect(parse(text)[0]!.start.toISOString()).toBe('2027-01-11T08:00:00.000Z')
  })

  it('409 appointment-not-booked while it has no time; 404 for another tenant', async () => {
    const c = await caseInReview(t.app, t.database.db, region)
    const a = await requestAppointment(t.app, region.lead.key, c.id, { kind: 'intake_interview' })
    expectProblem(await send(t.app, 'GET', `/v1/appointments/${a.id}/calendar.ics`, region.lead.key), 409, 'appointment-not-booked')
    expectProblem(await send(t.app, 'GET', `/v1/appointments/${a.id}/calendar.ics`, other.members[0].key), 404, 'not-found')
    await runSchedulingJobs(t.database.db, t.database.owner)
  })
})

describe('GET /v1/staff/{id}/calendar.ics', () => {
  it('the staff member and the lead get the feed of booked appointments; others are refused', async () => {
    const { a } = await booked()
    const feed = parse(await ics(`/v1/staff/${region.specialist.id}/calendar.ics`, region.specialist.key))
    const mine = feed.find((e) => e.uid === `${a.id}@regiobalie`)
    expect(mine?.start.toISOString()).toBe(a.start)
    expect(feed.every((e) => e.method === 'PUBLISH' && e.tzid === 'Europe/Amsterdam')).toBe(true)
    expect(parse(await ics(`/v1/staff/${region.specialist.id}/calendar.ics`, region.lead.key)).map((e) => e.uid)).toEqual(feed.map((e) => e.uid))
    const colleague = await newStaff(t.database.db, region.hub.id)
    expectProblem(await send(t.app, 'GET', `/v1/staff/${region.specialist.id}/calendar.ics`, colleague.key), 403, 'forbidden')
    expectProblem(await send(t.app, 'GET', `/v1/staff/${region.specialist.id}/calendar.ics`, other.lead.key), 404, 'not-found')
    expectProblem(await send(t.app, 'GET', `/v1/staff/${region.specialist.id}/calendar.ics`, region.members[0].key), 404, 'not-found')
    const empty = parse(await ics(`/v1/staff/${colleague.id}/calendar.ics`, colleague.key))
    expect(empty).toEqual([])
  })
})
