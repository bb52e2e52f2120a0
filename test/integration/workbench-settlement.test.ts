// The workbench's settlement pages over app.inject: the hub lead settles last month, follows the run
// and downloads the UBL and CSV; the member's desk sees its invoice and its IND remittance, reads the
// name list (access-logged like the API's) and records the transfer; other members and roles get 404.
import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { nextPeriod } from '../../api/domain/money.js'
import { runSettlement } from '../../api/settlement/settlement.service.js'
import { CUSTOMIZATION_ID } from '../../api/settlement/ubl.js'
import { dutchDate } from '../../api/time.js'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { newAdminKey, newRegion, type RegionFixture } from '../helpers/builders.js'
import { send, type CaseJson } from '../helpers/case-builders.js'
import { caseInIntake, chargeOn, setBilling } from '../helpers/settlement-builders.js'
import { expectOk } from '../helpers/tenancy-builders.js'
import { signedIn as signInAs, WebClient } from '../helpers/web.js'

let t: TestApp
let region: RegionFixture
let feeCase: CaseJson
const today = dutchDate()
const thisMonth = today.slice(0, 7)
const lastMonth = nextPeriod(thisMonth, -1)

beforeAll(async () => {
  t = await startTestApp({ QUEUE_PREFIX: `{rbwebsettle-${randomUUID()}}` })
  const adminKey = await newAdminKey(t.database.db)
  region = await newRegion(t.database.db)
  for (const tenant of [region.hub, ...region.members]) await setBilling(t.app, adminKey, tenant.id)
  feeCase = await caseInIntake(t.app, t.database.db, region.members[0].key)
  await chargeOn(t.database.db, feeCase, `${lastMonth}-10`)
  expectOk(await send(t.app, 'POST', `/v1/cases/${feeCase.id}/fees`, region.members[0].key, { tariffCode: 'D', minors: 1, paidOn: '2022-06-01' }), 201)
})
afterAll(async () => t.close())

const signedIn = (key: string): Promise<WebClient> => signInAs(t.app, key)

const ids = (body: string, pattern: RegExp): string[] => [...body.matchAll(pattern)].map((m) => m[1]!)
let invoiceId = ''
let remittanceId = ''

describe('the hub lead settles a month', () => {
  it('refuses the running month without closeEarly, next to the field, then starts last month and shows its progress', async () => {
    const lead = await signedIn(region.lead.key)
    const page = await lead.get('/app/afrekening')
    expect(page.statusCode).toBe(200)
    expect(page.body).toContain(`value="${lastMonth}"`)
    expect(page.body).toContain('Er is nog geen maand afgerekend.')

    const early = await lead.post('/app/afrekening', { _csrf: WebClient.csrf(page), period: thisMonth })
    expect(early.statusCode).toBe(422)
    expect(early.body).toContain('Deze maand is nog niet voorbij')
    expect(early.body).toContain('data-error-summary')

    const bad = await lead.post('/app/afrekening', { _csrf: WebClient.csrf(page), period: 'november' })
    expect(bad.statusCode).toBe(400)
    expect(bad.body).toContain('href="#veld-period"')
    expect(bad.body).toContain('aria-invalid="true"')

    const started = await lead.post('/app/afrekening', { _csrf: WebClient.csrf(page), period: lastMonth })
    expect(started.statusCode).toBe(303)
    const runUrl = started.headers.location as string
    expect(runUrl).toMatch(/^\/app\/afrekening\/[0-9a-f-]{36}$/)
    const running = await lead.get(runUrl)
    expect(running.statusCode).toBe(200)
    expect(running.body).toContain(`De afrekening van ${lastMonth} is gestart.`)
    expect(running.body).toContain('Bezig')
    expect(running.body).toContain('hx-trigger="every 2s"')

    // The settlement worker's own function (this test runs no workers).
    await runSettlement(t.database.db, { tenantId: region.hub.id, settlementId: runUrl.split('/').pop()! })
    const done = await lead.get(runUrl)
    expect(done.body).toContain('Klaar')
    expect(done.body).toContain('2 van 2 gemeenten')
    expect(done.body).not.toContain('hx-trigger')
    invoiceId = ids(done.body, /\/app\/facturen\/([0-9a-f-]{36})\/ubl\.xml/g)[0] ?? ''
    remittanceId = ids(done.body, /\/app\/afdrachten\/([0-9a-f-]{36})"/g)[0] ?? ''
    expect(invoiceId).toBeTruthy()
    expect(remittanceId).toBeTruthy()
    expect(done.body).toMatch(new RegExp(`${region.hub.code}-\\d{4}-000001`))

    const overview = await lead.get('/app/afrekening')
    expect(overview.body).toContain(`Afrekening ${lastMonth}`)
    expect(overview.body).toContain('€ 450,00')
  })

  it('downloads the UBL and the CSV of an invoice', async () => {
    const lead = await signedIn(region.lead.key)
    const ubl = await lead.get(`/app/facturen/${invoiceId}/ubl.xml`)
    expect(ubl.statusCode).toBe(200)
    expect(ubl.headers['content-type']).toMatch(/^application\/xml/)
    expect(ubl.headers['content-disposition']).toMatch(/^attachment; filename="[A-Z0-9]+-\d{4}-000001\.xml"$/)
    expect(ubl.body).toContain(CUSTOMIZATION_ID)
    const csv = await lead.get(`/app/facturen/${invoiceId}/regels.csv`)
    expect(csv.statusCode).toBe(200)
    expect(csv.headers['content-type']).toMatch(/^text\/csv/)
    expect(csv.body).toContain(feeCase.reference)
    expect((await lead.get(`/app/facturen/${invoiceId}/anders.pdf`)).statusCode).toBe(404)
  })

  it('is the lead’s: a specialist gets the 404 page', async () => {
    const specialist = await signedIn(region.specialist.key)
    expect((await specialist.get('/app/afrekening')).statusCode).toBe(404)
    expect((await specialist.get(`/app/afdrachten/${remittanceId}/namenlijst.csv`)).statusCode).toBe(404)
  })
})

describe('the member’s desk', () => {
  it('sees its invoice and its remittance with the case lines', async () => {
    const desk = await signedIn(region.members[0].key)
    const list = await desk.get('/app/facturen')
    expect(list.statusCode).toBe(200)
    expect(list.body).toContain(`/app/facturen/${invoiceId}/ubl.xml`)
    expect(list.body).toContain(`/app/afdrachten/${remittanceId}`)
    const rem = await desk.get(`/app/afdrachten/${remittanceId}`)
    expect(rem.statusCode).toBe(200)
    expect(rem.body).toContain(feeCase.reference)
    expect(rem.body).toContain('Nog over te maken')
    // The page shows case references and amounts, never the applicants' names.
    expect(rem.body).not.toContain(feeCase.subject.surname)
    expect((await desk.get(`/app/facturen/${invoiceId}/regels.csv`)).statusCode).toBe(200)
  })

  it('reads the name list, and every case on it is in the access log with purpose ind-remittance', async () => {
    const desk = await signedIn(region.members[0].key)
    const csv = await desk.get(`/app/afdrachten/${remittanceId}/namenlijst.csv`)
    expect(csv.statusCode).toBe(200)
    expect(csv.headers['content-type']).toMatch(/^text\/csv/)
    expect(csv.headers['content-disposition']).toBe(`attachment; filename="namenlijst-ind-${lastMonth}.csv"`)
    expect(csv.headers['cache-control']).toBe('private, no-store')
    expect(csv.body).toContain(feeCase.subject.surname)
    const { rows } = await sql<{ purpose: string; action: string; actor_kind: string }>`
      select purpose, action, actor_kind from access_log where case_id = ${feeCase.id} and purpose = 'ind-remittance'`.execute(t.database.owner)
    expect(rows).toEqual([{ purpose: 'ind-remittance', action: 'remittance.name-list', actor_kind: 'client' }])
  })

  it('records the transfer: a date in the future is refused next to its field, then it is remitted', async () => {
    const desk = await signedIn(region.members[0].key)
    const page = await desk.get(`/app/afdrachten/${remittanceId}`)
    const future = await desk.post(`/app/afdrachten/${remittanceId}/overgemaakt`, { _csrf: WebClient.csrf(page), remittedOn: '2999-01-01', bankReference: 'IND-1' })
    expect(future.statusCode).toBe(400)
    expect(future.body).toContain('Deze datum ligt in de toekomst.')
    expect(future.body).toContain('href="#veld-remittedOn"')
    const ok = await desk.post(`/app/afdrachten/${remittanceId}/overgemaakt`, { _csrf: WebClient.csrf(page), remittedOn: today, bankReference: 'IND-2026-1' })
    expect(ok.statusCode).toBe(303)
    const after = await desk.get(ok.headers.location as string)
    expect(after.body).toContain('Overgemaakt')
    expect(after.body).not.toContain('action="/app/afdrachten/')
  })

  it('refuses a form without its CSRF token', async () => {
    const desk = await signedIn(region.members[0].key)
    const res = await desk.post(`/app/afdrachten/${remittanceId}/overgemaakt`, { remittedOn: today, bankReference: 'X' })
    expect(res.statusCode).toBe(403)
  })

  it('another member gets the 404 page for this member’s remittance, name list and invoice', async () => {
    const other = await signedIn(region.members[1].key)
    for (const url of [`/app/afdrachten/${remittanceId}`, `/app/afdrachten/${remittanceId}/namenlijst.csv`, `/app/facturen/${invoiceId}/ubl.xml`]) {
      const res = await other.get(url)
      expect(res.statusCode, url).toBe(404)
      expect(res.body).not.toContain(feeCase.reference)
    }
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from access_log where case_id = ${feeCase.id} and purpose = 'ind-remittance'`.execute(t.database.owner)
    expect(rows[0]!.n).toBe(1)
  })
})
