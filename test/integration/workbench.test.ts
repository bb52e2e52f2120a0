// The workbench shell over app.inject: sign-in and its refusals, the session cookie's attributes,
// idle timeout, CSRF, security headers, role pages, cross-tenant 404, and the access log.
import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { newAdminKey, newRegion, type RegionFixture } from '../helpers/builders.js'
import { WebClient } from '../helpers/web.js'
import { newStaff } from '../helpers/tenancy-builders.js'
import { fieldParts, filePart, gifBytes, minimalPdf, multipartBody, multipartHeaders } from '../helpers/document-builders.js'

let t: TestApp
let region: RegionFixture
let other: RegionFixture
let adminKey: string

beforeAll(async () => {
  t = await startTestApp({ QUEUE_PREFIX: `{rbweb-${randomUUID()}}`, WEB_SIGNIN_FAILURES_PER_MINUTE: '3', WEB_IDLE_TIMEOUT_SECONDS: '2' })
  region = await newRegion(t.database.db)
  other = await newRegion(t.database.db)
  adminKey = await newAdminKey(t.database.db)
})
afterAll(async () => t.close())

const submitCase = async (web: WebClient, overrides: Record<string, string> = {}) =>
  web.submit('/app/zaken/nieuw', '/app/zaken', {
    caseType: 'naturalisation',
    iprMatter: '',
    'subject.givenNames': 'Amira',
    'subject.surname': 'Haddad',
    'subject.dateOfBirth': '1990-05-17',
    'subject.bsn': '',
    'subject.nationality': 'SY',
    'subject.countryOfBirth': 'SY',
    externalReference: '',
    note: '',
    ...overrides,
  })

describe('sign-in', () => {
  it('signs a desk in with the member key and sets a strict session cookie', async () => {
    const web = new WebClient(t.app)
    const start = await web.get('/app')
    expect(start.statusCode).toBe(303)
    expect(start.headers.location).toBe('/app/inloggen')
    const page = await web.get('/app/inloggen')
    expect(page.statusCode).toBe(200)
    expect(page.body).toContain('<html lang="nl"')
    const res = await web.post('/app/inloggen', { _csrf: WebClient.csrf(page), key: region.members[0].key })
    expect(res.statusCode).toBe(303)
    expect(res.headers.location).toBe('/app/zaken')
    const cookie = [res.headers['set-cookie']].flat().find((c) => c?.startsWith('rb_session='))!
    expect(cookie).toMatch(/HttpOnly/i)
    expect(cookie).toMatch(/SameSite=Strict/i)
    expect(cookie).toMatch(/Path=\/app/)
    expect(cookie).not.toMatch(/Secure/) // plain http here; behind TLS see below
    // The cookie carries neither the key nor its hash in clear.
    expect(decodeURIComponent(cookie)).not.toContain(region.members[0].key)
    const list = await web.get('/app/zaken')
    expect(list.statusCode).toBe(200)
    expect(list.body).toContain('Balie gemeente')
  })

  it('marks the cookie Secure when served over TLS (behind a proxy that says so)', async () => {
    const behindTls = await startTestApp({ TRUST_PROXY: 'true' }, { database: t.database })
    try {
      const web = new WebClient(behindTls.app)
      const page = await behindTls.app.inject({ method: 'GET', url: '/app/inloggen', headers: { 'x-forwarded-proto': 'https' } })
      const cookie = [page.headers['set-cookie']].flat().find((c) => c?.startsWith('rb_session='))!
      expect(cookie).toMatch(/; Secure/i)
      expect(web).toBeTruthy()
    } finally {
      await behindTls.app.close()
      behindTls.redis.disconnect()
    }
  })

  it('spends from the key’s per-minute budget like the API, with a 429 page past it', async () => {
    const limited = await startTestApp({ RATE_LIMIT_PER_MINUTE: '3' }, { database: t.database })
    try {
      const web = new WebClient(limited.app)
      const staff = await newStaff(t.database.db, region.hub.id)
      await web.signIn(staff.key)
      const statuses: number[] = []
      for (let i = 0; i < 4; i += 1) statuses.push((await web.get('/app/werkvoorraad')).statusCode)
      expect(statuses.slice(0, 3)).toEqual([200, 200, 200])
      const refused = await web.get('/app/werkvoorraad')
      expect(refused.statusCode).toBe(429)
      expect(refused.headers['retry-after']).toMatch(/^\d+$/)
      expect(refused.body).toContain('Te veel verzoeken')
    } finally {
      await limited.app.close()
      limited.redis.disconnect()
    }
  })

  it('tells a wrong key clearly, and refuses sign-in from that address after too many', async () => {
    const web = new WebClient(t.app)
    const wrong = await web.signIn('rbk_c_this-is-not-a-real-key-at-all')
    expect(wrong.statusCode).toBe(401)
    expect(wrong.body).toContain('Deze sleutel is onbekend of ingetrokken')
    expect(wrong.body).toContain('aria-invalid="true"')
    await web.signIn('rbk_c_this-is-not-a-real-key-either')
    await web.signIn('rbk_c_and-neither-is-this-one-here')
    const blocked = await web.signIn(region.members[0].key)
    expect(blocked.statusCode).toBe(429)
    expect(blocked.headers['retry-after']).toMatch(/^\d+$/)
    expect(blocked.body).toContain('Te veel mislukte pogingen')
    await t.redis.del(...(await t.redis.keys(`${t.config.queuePrefix}:web-signin:*`)))
  })

  it('refuses a hub system key: the workbench is for people', async () => {
    const res = await new WebClient(t.app).signIn(region.hub.key)
    expect(res.statusCode).toBe(403)
    expect(res.body).toContain('koppeling')
    await t.redis.del(...(await t.redis.keys(`${t.config.queuePrefix}:web-signin:*`)))
  })

  it('ends a session after the idle timeout, and on sign-out', async () => {
    const web = new WebClient(t.app)
    await web.signIn(region.specialist.key)
    expect((await web.get('/app/werkvoorraad')).statusCode).toBe(200)
    await new Promise((r) => setTimeout(r, 3_200))
    const idle = await web.get('/app/werkvoorraad')
    expect(idle.statusCode).toBe(303)
    expect(idle.headers.location).toBe('/app/inloggen?reden=verlopen')

    await web.signIn(region.specialist.key)
    const page = await web.get('/app/werkvoorraad')
    const out = await web.post('/app/uitloggen', { _csrf: WebClient.csrf(page) })
    expect(out.headers.location).toBe('/app/inloggen?reden=afgemeld')
    expect((await web.get('/app/werkvoorraad')).statusCode).toBe(303)
  })

  it('a revoked key ends its session on the next click', async () => {
    const web = new WebClient(t.app)
    // An extra client key of the first member, revoked while its session is open.
    const admin = new WebClient(t.app)
    await admin.signIn(adminKey)
    const created = await admin.submit(`/app/beheer/gemeenten/${region.members[0].id}`, `/app/beheer/gemeenten/${region.members[0].id}/sleutels`, { name: 'balie tijdelijk' })
    expect(created.statusCode).toBe(201)
    const secret = /<code class="utrecht-code rb-secret">([^<]+)<\/code>/.exec(created.body)![1]!
    expect(secret).toMatch(/^rbk_c_/)
    await web.signIn(secret)
    expect((await web.get('/app/zaken')).statusCode).toBe(200)
    const page = await admin.get(`/app/beheer/gemeenten/${region.members[0].id}`)
    // The revoke form in the row of that key.
    const id = /balie tijdelijk<\/td>[^]*?sleutels\/([0-9a-f-]{36})\/intrekken/.exec(page.body)![1]
    await admin.post(`/app/beheer/gemeenten/${region.members[0].id}/sleutels/${id}/intrekken`, { _csrf: WebClient.csrf(page) })
    const after = await web.get('/app/zaken')
    expect(after.statusCode).toBe(303)
    expect(after.headers.location).toBe('/app/inloggen?reden=ingetrokken')
  })
})

describe('headers, CSRF and refusals', () => {
  it('sends a strict CSP without inline script on every page, and no-store', async () => {
    const res = await new WebClient(t.app).get('/app/inloggen')
    const csp = String(res.headers['content-security-policy'])
    expect(csp).toContain("script-src 'self'")
    expect(csp).toContain("default-src 'none'")
    expect(csp).toContain("frame-ancestors 'none'")
    expect(csp).not.toContain('unsafe-inline')
    expect(res.headers['cache-control']).toBe('no-store')
    expect(res.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/)
    expect(res.body).not.toMatch(/\son[a-z]+="/)
  })

  it('leaves the JSON API as it was: no session cookie, no workbench CSP', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/healthz' })
    expect(res.headers['set-cookie']).toBeUndefined()
    // The JSON API keeps its own policy (api/http/app.ts: nothing may load or frame it), not the pages'.
    expect(res.headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none'")
  })

  it('refuses a form without its CSRF token, and one with a token of another session', async () => {
    const web = new WebClient(t.app)
    await web.signIn(region.members[0].key)
    await web.get('/app/zaken/nieuw')
    const without = await web.post('/app/zaken', { caseType: 'naturalisation' })
    expect(without.statusCode).toBe(403)
    expect(without.body).toContain('Het formulier is verlopen of ongeldig')
    const stranger = new WebClient(t.app)
    const theirs = WebClient.csrf(await stranger.get('/app/inloggen'))
    const foreign = await web.post('/app/zaken', { _csrf: theirs, caseType: 'naturalisation' })
    expect(foreign.statusCode).toBe(403)
  })

  it('shows the API’s field errors next to the fields, with a summary', async () => {
    const web = new WebClient(t.app)
    await web.signIn(region.members[0].key)
    const res = await submitCase(web, { 'subject.bsn': '123456789', 'subject.dateOfBirth': '2999-01-01', 'subject.surname': '' })
    expect(res.statusCode).toBe(400)
    expect(res.body).toContain('data-error-summary')
    expect(res.body).toContain('href="#veld-subject-surname"')
    expect(res.body).toContain('id="veld-subject-surname-fout"')
    // the schema's required field first (as in the API: schema before rules)
    expect(res.body).toContain('Achternaam: dit veld is verplicht')
    const rules = await submitCase(web, { 'subject.bsn': '123456789', 'subject.dateOfBirth': '2999-01-01' })
    expect(rules.statusCode).toBe(400)
    expect(rules.body).toContain('href="#veld-subject-bsn"')
    expect(rules.body).toContain('Dit is geen geldig burgerservicenummer')
    expect(rules.body).toContain('Deze datum ligt in de toekomst')
    expect(rules.body).toContain('value="Amira"')
  })

  it('answers another tenant’s case with the 404 page, and pages of another role too', async () => {
    const mine = new WebClient(t.app)
    await mine.signIn(region.members[0].key)
    const created = await submitCase(mine)
    expect(created.statusCode).toBe(303)
    const url = created.headers.location as string
    expect(url).toMatch(/^\/app\/zaken\/[0-9a-f-]{36}$/)
    expect((await mine.get(url)).statusCode).toBe(200)

    const neighbour = new WebClient(t.app)
    await neighbour.signIn(region.members[1].key)
    const theirs = await neighbour.get(url)
    expect(theirs.statusCode).toBe(404)
    expect(theirs.body).toContain('Pagina niet gevonden')
    const otherHub = new WebClient(t.app)
    await otherHub.signIn(other.specialist.key)
    expect((await otherHub.get(url)).statusCode).toBe(404)
    expect((await otherHub.get('/app/beheer/regios')).statusCode).toBe(404)
    expect((await otherHub.get('/app/zaken/niet-een-id')).statusCode).toBe(404)
  })

  it('writes case.read to the access log when hub staff open a case page, and shows who read it', async () => {
    const desk = new WebClient(t.app)
    await desk.signIn(region.members[0].key)
    const created = await submitCase(desk)
    const caseId = (created.headers.location as string).split('/').pop()!
    const lead = new WebClient(t.app)
    await lead.signIn(region.lead.key)
    const page = await lead.get(`/app/zaken/${caseId}`)
    expect(page.statusCode).toBe(200)
    expect(page.body).not.toMatch(/<title>[^<]*(Amira|Haddad)/)
    const { rows } = await sql<{ action: string; actor_id: string; purpose: string }>`
      select action, actor_id, purpose from access_log where case_id = ${caseId} order by id`.execute(t.database.owner)
    expect(rows).toContainEqual({ action: 'case.read', actor_id: region.lead.id, purpose: 'case-handling' })
    const again = await desk.get(`/app/zaken/${caseId}`)
    expect(again.body).toContain('Medewerker regiocentrum')
    expect(again.body).toContain('Dossier ingezien')
  })

  it('uploads through the form: CSRF first, the API’s refusals next to the file field', async () => {
    const desk = new WebClient(t.app)
    await desk.signIn(region.members[0].key)
    const created = await submitCase(desk)
    const url = created.headers.location as string
    const token = WebClient.csrf(await desk.get(url))
    const headers = multipartHeaders()['content-type']
    const noToken = await desk.postMultipart(`${url}/documenten`, multipartBody([...fieldParts(), filePart(minimalPdf(), 'akte.pdf', 'application/pdf')]), headers)
    expect(noToken.statusCode).toBe(403)
    const gif = await desk.postMultipart(`${url}/documenten`, multipartBody([{ name: '_csrf', value: token }, ...fieldParts(), filePart(gifBytes(), 'foto.gif', 'image/gif')]), headers)
    expect(gif.statusCode).toBe(415)
    expect(gif.body).toContain('Alleen PDF-, JPEG- en PNG-bestanden worden geaccepteerd.')
    // Empty optional fields of a browser form are left out, not refused.
    const ok = await desk.postMultipart(
      `${url}/documenten`,
      multipartBody([{ name: '_csrf', value: token }, ...fieldParts({ kind: 'birth_certificate' }), { name: 'issuedOn', value: '' }, filePart(minimalPdf(), 'akte.pdf', 'application/pdf')]),
      headers,
    )
    expect(ok.statusCode).toBe(303)
    const page = await desk.get(url)
    expect(page.body).toContain('(akte.pdf) is ontvangen')
    expect(page.body).toContain('Geboorteakte: <strong>Ontvangen</strong>')
  })

  it('shows the lead each specialist’s load and assigns from the queue; other roles get 404 there', async () => {
    const desk = new WebClient(t.app)
    await desk.signIn(region.members[0].key)
    const caseId = ((await submitCase(desk)).headers.location as string).split('/').pop()!
    const lead = new WebClient(t.app)
    await lead.signIn(region.lead.key)
    const team = await lead.get('/app/team')
    expect(team.statusCode).toBe(200)
    expect(team.body).toContain('Specialist')
    const queue = await lead.get('/app/toewijzen')
    expect(queue.body).toContain(`/app/zaken/${caseId}`)
    const specialist = new WebClient(t.app)
    await specialist.signIn(region.specialist.key)
    expect((await specialist.get('/app/toewijzen')).statusCode).toBe(404)
    expect((await desk.get('/app/team')).statusCode).toBe(404)
  })
})
