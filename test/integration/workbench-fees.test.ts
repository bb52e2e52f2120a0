// The member's desk records the fee on the case page (as POST /v1/cases/{id}/fees): the form shows
// while the fee_payment clock runs, refuses what the contract and the fee rules refuse next to the
// fields, records once, and is the member's own — hub staff may not, another member sees no case.
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { newRegion, type RegionFixture } from '../helpers/builders.js'
import { caseInIntake } from '../helpers/settlement-builders.js'
import { signedIn as signInAs, WebClient } from '../helpers/web.js'

let t: TestApp
let region: RegionFixture

beforeAll(async () => {
  t = await startTestApp({ QUEUE_PREFIX: `{rbwebfee-${randomUUID()}}` })
  region = await newRegion(t.database.db)
}, 180_000)
afterAll(async () => t.close())

const signedIn = (key: string): Promise<WebClient> => signInAs(t.app, key)

describe('the fee form on the case page', () => {
  it('shows while the fee clock runs, puts refusals next to the fields, records once', async () => {
    const c = await caseInIntake(t.app, t.database.db, region.members[0].key, 'naturalisation')
    const desk = await signedIn(region.members[0].key)
    const page = await desk.get(`/app/zaken/${c.id}`)
    expect(page.statusCode).toBe(200)
    expect(page.body).toContain('Leges vastleggen')
    const csrf = WebClient.csrf(page)
    const url = `/app/zaken/${c.id}/leges`

    // Neither a tariff nor an exemption: the contract's own validator, shown per field.
    const empty = await desk.post(url, { _csrf: csrf, tariffCode: '', minors: '0', paidOn: '', exemptionReason: '' })
    expect(empty.statusCode).toBe(400)
    expect(empty.body).toContain('href="#veld-tariffCode"')
    expect(empty.body).toMatch(/id="veld-paidOn"[^>]*aria-invalid="true"/)
    expect(empty.body).not.toContain('href="#veld-exemptionReason"')

    // A year without a loaded national table: the fee rules refuse rather than guess.
    const unloaded = await desk.post(url, { _csrf: csrf, tariffCode: 'D', minors: '1', paidOn: '2026-01-05', exemptionReason: '' })
    expect(unloaded.statusCode).toBe(422)
    expect(unloaded.body).toContain('nog geen landelijke legestabel')
    expect(unloaded.body).toContain('value="2026-01-05"')

    const ok = await desk.post(url, { _csrf: csrf, tariffCode: 'D', minors: '1', paidOn: '2022-03-14', exemptionReason: '' })
    expect(ok.statusCode).toBe(303)
    const after = await desk.get(`/app/zaken/${c.id}`)
    expect(after.body).toContain('De betaalde leges zijn vastgelegd.')
    expect(after.body).not.toContain('id="leges-kop"')

    const again = await desk.post(url, { _csrf: WebClient.csrf(after), tariffCode: 'D', minors: '1', paidOn: '2022-03-14', exemptionReason: '' })
    expect(again.statusCode).toBe(409)
    expect(again.body).toContain('al vastgelegd')
  })

  it('records an exemption with its reason alone', async () => {
    const c = await caseInIntake(t.app, t.database.db, region.members[0].key, 'naturalisation')
    const desk = await signedIn(region.members[0].key)
    const page = await desk.get(`/app/zaken/${c.id}`)
    const res = await desk.post(`/app/zaken/${c.id}/leges`, { _csrf: WebClient.csrf(page), tariffCode: '', minors: '0', paidOn: '', exemptionReason: 'Staatloos, vrijgesteld' })
    expect(res.statusCode).toBe(303)
    expect((await desk.get(`/app/zaken/${c.id}`)).body).toContain('De vrijstelling van leges is vastgelegd.')
  })

  it('is the member’s own: hub staff have no such form (a page their role lacks is a 404), another member finds no case', async () => {
    const c = await caseInIntake(t.app, t.database.db, region.members[0].key, 'naturalisation')
    const lead = await signedIn(region.lead.key)
    const leadPage = await lead.get(`/app/zaken/${c.id}`)
    expect(leadPage.statusCode).toBe(200)
    expect(leadPage.body).not.toContain('id="leges-kop"')
    const byHub = await lead.post(`/app/zaken/${c.id}/leges`, { _csrf: WebClient.csrf(leadPage), tariffCode: 'D', minors: '0', paidOn: '2022-03-14' })
    expect(byHub.statusCode).toBe(404)
    expect(byHub.body).toContain('Pagina niet gevonden')

    const other = await signedIn(region.members[1].key)
    const home = await other.get('/app/zaken')
    const res = await other.post(`/app/zaken/${c.id}/leges`, { _csrf: WebClient.csrf(home), tariffCode: 'D', minors: '0', paidOn: '2022-03-14' })
    expect(res.statusCode).toBe(404)
  })
})
