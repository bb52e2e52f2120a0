// The workbench's scheduling pages over app.inject: availability (the lead for anyone, a specialist
// for himself — as PUT /v1/staff/{id}/availability), errors next to the row that has them, the
// ceremony seat holders for the lead, and an appointment cancelled or refused an outcome on the case page.
import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { putLocation } from '../../api/appointments/resources.service.js'
import { authenticate } from '../../api/auth/authenticate.js'
import { workingDaysAfter } from '../../api/domain/calendar.js'
import { dutchDate } from '../../api/time.js'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { newRegion, type RegionFixture } from '../helpers/builders.js'
import { caseInIntake } from '../helpers/settlement-builders.js'
import { signedIn as signInAs, WebClient } from '../helpers/web.js'

let t: TestApp
let region: RegionFixture
let other: RegionFixture

beforeAll(async () => {
  t = await startTestApp({ QUEUE_PREFIX: `{rbwebappt-${randomUUID()}}` })
  region = await newRegion(t.database.db)
  other = await newRegion(t.database.db)
  await putLocation({ db: t.database.db }, await authenticate(t.database.db, `Bearer ${region.lead.key}`), region.hub.id, 'stadhuis', {
    name: 'Stadhuis',
    municipalityCode: region.hub.code,
    address: { street: 'Markt', houseNumber: '1', postalCode: '1234 AB', city: 'Ergens' },
  })
}, 180_000)
afterAll(async () => t.close())

const signedIn = (key: string): Promise<WebClient> => signInAs(t.app, key)

const row = (i: number, weekday: string, start: string, end: string, locationCode = 'stadhuis') => ({
  [`weekly[${i}].weekday`]: weekday,
  [`weekly[${i}].start`]: start,
  [`weekly[${i}].end`]: end,
  [`weekly[${i}].locationCode`]: locationCode,
})

describe('availability', () => {
  const url = () => `/app/team/${region.specialist.id}/beschikbaarheid`

  it('the lead sets a specialist’s week; empty rows are left out, an error lands on the row on screen', async () => {
    const lead = await signedIn(region.lead.key)
    const page = await lead.get(url())
    expect(page.statusCode).toBe(200)
    expect(page.body).toContain('Beschikbaarheid van Specialist')
    expect(page.body).toContain('name="weeklyRows" value="3"')
    const csrf = WebClient.csrf(page)
    // Row 1 empty, row 2 inverted: the error is on row 2's end field (index 1), not the compacted index 0.
    const bad = await lead.post(url(), { _csrf: csrf, weeklyRows: '3', absenceRows: '2', ...row(0, '', '', '', ''), ...row(1, '2', '13:00', '12:00'), ...row(2, '', '', '', '') })
    expect(bad.statusCode).toBe(400)
    expect(bad.body).toContain('href="#veld-weekly-1-end"')
    expect(bad.body).toMatch(/id="veld-weekly-1-end"[^>]*aria-invalid="true"/)
    expect(bad.body).toContain('Tijdvak 2, tot: het einde moet na het begin liggen.')
    expect(bad.body).toContain('value="13:00"')

    const unknown = await lead.post(url(), { _csrf: csrf, weeklyRows: '1', absenceRows: '0', ...row(0, '1', '09:00', '12:00', 'nergens') })
    expect(unknown.statusCode).toBe(400)
    expect(unknown.body).toContain('href="#veld-weekly-0-locationCode"')

    const ok = await lead.post(url(), {
      _csrf: csrf,
      weeklyRows: '3',
      absenceRows: '2',
      ...row(0, '1', '09:00', '12:30'),
      ...row(1, '', '', '', ''),
      ...row(2, '3', '13:00', '17:00'),
      'absences[0].from': '',
      'absences[0].until': '',
      'absences[1].from': '2999-07-01',
      'absences[1].until': '2999-07-14',
    })
    expect(ok.statusCode).toBe(303)
    const after = await lead.get(url())
    expect(after.body).toContain('De beschikbaarheid is opgeslagen.')
    expect(after.body).toContain('value="12:30"')
    expect(after.body).toContain('value="17:00"')
    expect(after.body).toContain('value="2999-07-14"')
    // Two windows and one absence now, each with spare rows beside them.
    expect(after.body).toContain('name="weeklyRows" value="5"')
    expect(after.body).toContain('name="absenceRows" value="3"')
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from staff_availability where staff_id = ${region.specialist.id}`.execute(t.database.owner)
    expect(rows[0]!.n).toBe(2)
  })

  it('a specialist reads and sets his own, is refused the lead’s, and another hub’s staff is a 404 page', async () => {
    const specialist = await signedIn(region.specialist.key)
    const mine = await specialist.get('/app/beschikbaarheid')
    expect(mine.statusCode).toBe(303)
    expect(mine.headers.location).toBe(url())
    const page = await specialist.get(url())
    expect(page.statusCode).toBe(200)
    expect(page.body).toContain('<title>Mijn beschikbaarheid – Regiobalie</title>')
    expect((await specialist.get(`/app/team/${region.lead.id}/beschikbaarheid`)).statusCode).toBe(403)
    expect((await specialist.get(`/app/team/${other.specialist.id}/beschikbaarheid`)).statusCode).toBe(404)
    const lead = await signedIn(other.lead.key)
    expect((await lead.get(url())).statusCode).toBe(404)
  })
})

describe('ceremony seat holders', () => {
  it('the lead sees a session and its seats; a specialist and another hub get the 404 page', async () => {
    const lead = await signedIn(region.lead.key)
    const page = await lead.get('/app/ceremonies')
    const date = workingDaysAfter(dutchDate(), 5)
    const made = await lead.post('/app/ceremonies', { _csrf: WebClient.csrf(page), date, start: '10:00', end: '11:00', locationCode: 'stadhuis', capacity: '12' })
    expect(made.statusCode).toBe(303)
    const list = await lead.get('/app/ceremonies')
    const sessionId = /href="\/app\/ceremonies\/([0-9a-f-]{36})"/.exec(list.body)![1]!
    const seats = await lead.get(`/app/ceremonies/${sessionId}`)
    expect(seats.statusCode).toBe(200)
    expect(seats.body).toContain(`Ceremonie op ${date}`)
    expect(seats.body).toContain('0 van 12')
    expect(seats.body).toContain('Er is nog niemand voor deze ceremonie ingepland.')
    expect((await (await signedIn(region.specialist.key)).get(`/app/ceremonies/${sessionId}`)).statusCode).toBe(404)
    expect((await (await signedIn(other.lead.key)).get(`/app/ceremonies/${sessionId}`)).statusCode).toBe(404)
  })
})

describe('appointments on the case page', () => {
  it('refuses an outcome before booking, next to nothing it cannot be; the desk cancels with a reason; other tenants get 404', async () => {
    const c = await caseInIntake(t.app, t.database.db, region.members[0].key)
    const lead = await signedIn(region.lead.key)
    const casePage = await lead.get(`/app/zaken/${c.id}`)
    const requested = await lead.post(`/app/zaken/${c.id}/afspraken`, { _csrf: WebClient.csrf(casePage), kind: 'intake_interview' })
    expect(requested.statusCode).toBe(303)
    const { rows } = await sql<{ id: string }>`select id from appointments where case_id = ${c.id}`.execute(t.database.owner)
    const appointmentId = rows[0]!.id

    const early = await lead.post(`/app/afspraken/${appointmentId}/uitkomst`, { _csrf: WebClient.csrf(casePage), attended: 'true' })
    expect(early.statusCode).toBe(409)
    expect(early.body).toContain('Deze afspraak is (nog) niet ingepland.')
    const none = await lead.post(`/app/afspraken/${appointmentId}/uitkomst`, { _csrf: WebClient.csrf(casePage) })
    expect(none.statusCode).toBe(400)

    const desk = await signedIn(region.members[0].key)
    const deskPage = await desk.get(`/app/zaken/${c.id}`)
    expect(deskPage.body).toContain(`action="/app/afspraken/${appointmentId}/annuleren"`)
    expect(deskPage.body).not.toContain(`action="/app/afspraken/${appointmentId}/uitkomst"`)
    // The outcome is for the hub's staff.
    expect((await desk.post(`/app/afspraken/${appointmentId}/uitkomst`, { _csrf: WebClient.csrf(deskPage), attended: 'true' })).statusCode).toBe(404)
    const empty = await desk.post(`/app/afspraken/${appointmentId}/annuleren`, { _csrf: WebClient.csrf(deskPage), reason: '' })
    expect(empty.statusCode).toBe(400)
    expect(empty.body).toMatch(/id="annuleren-[0-9a-f-]{36}"[^>]*aria-invalid="true"/)
    const stranger = await signedIn(region.members[1].key)
    const strangerPage = await stranger.get('/app/zaken')
    expect((await stranger.post(`/app/afspraken/${appointmentId}/annuleren`, { _csrf: WebClient.csrf(strangerPage), reason: 'x' })).statusCode).toBe(404)

    const cancelled = await desk.post(`/app/afspraken/${appointmentId}/annuleren`, { _csrf: WebClient.csrf(deskPage), reason: 'Aanvrager verhuisd' })
    expect(cancelled.statusCode).toBe(303)
    expect(cancelled.headers.location).toBe(`/app/zaken/${c.id}#afspraken-kop`)
    const after = await desk.get(`/app/zaken/${c.id}`)
    expect(after.body).toContain('Intakegesprek (persoonlijke indiening) is geannuleerd.')
    expect(after.body).toContain('Geannuleerd')
    expect(after.body).not.toContain(`action="/app/afspraken/${appointmentId}/annuleren"`)
  })
})
