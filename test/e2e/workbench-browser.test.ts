// The workbench in a real headless Chromium against the real app (HTTP on a free port, a real
// database, the workers running): every role walks its part of a naturalisation — the desk submits
// (keyboard only) and uploads, the lead assigns, the specialist asks for information, the desk
// answers by upload, the specialist gives the verdicts and decides — with axe-core on every page
// visited, the CSP watched in the browser, and screenshots kept under .artifacts/ (git-ignored).
import { randomBytes, randomUUID } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import { sql } from 'kysely'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../api/config.js'
import { withTenant } from '../../api/db/database.js'
import { buildApp } from '../../api/http/app.js'
import { createLogger } from '../../api/logger.js'
import { dutchDate } from '../../api/time.js'
import { startWorkers, type WorkersHandle } from '../../workers/main.js'
import { putLocation } from '../../api/appointments/resources.service.js'
import { authenticate } from '../../api/auth/authenticate.js'
import { ADMIN, newAdminKey, newRegion, type RegionFixture } from '../helpers/builders.js'
import { billingBody } from '../helpers/settlement-builders.js'
import { updateTenantStatus } from '../../api/tenancy/tenancy.service.js'
import { workingDaysAfter } from '../../api/domain/calendar.js'
import { createTestDatabase, type TestDatabase } from '../helpers/db.js'
import { REDIS_URL, TEST_KEYS } from '../helpers/env.js'
import { buildPdf } from '../helpers/pdf-fixtures.js'
import { minimalPdf } from '../helpers/document-builders.js'
import { COMPILED_INTEGRITY_THREAD, ROOT } from './helpers.js'

const CHROMIUM = '/usr/bin/chromium'
const SHOTS = join(ROOT, '.artifacts', 'e2e-screenshots')
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

let database: TestDatabase
let app: FastifyInstance
let redis: Redis
let workers: WorkersHandle
let browser: Browser
let base: string
let region: RegionFixture
let adminKey: string
const blobDir = mkdtempSync(join(tmpdir(), 'regiobalie-web-e2e-'))
const files = mkdtempSync(join(tmpdir(), 'regiobalie-web-files-'))
const cspViolations: string[] = []
/** A ceremony inside the statutory window of a decree recorded today (a working day, a week ahead). */
const ceremonyDate = workingDaysAfter(dutchDate(), 5)
const visited: string[] = []

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does this)`)
  rmSync(SHOTS, { recursive: true, force: true })
  mkdirSync(SHOTS, { recursive: true })
  database = await createTestDatabase()
  const config = loadConfig({
    ...TEST_KEYS,
    DATABASE_URL: database.ownerUrl,
    APP_DATABASE_URL: database.appUrl,
    REDIS_URL,
    LOG_LEVEL: 'silent',
    RATE_LIMIT_PER_MINUTE: '100000',
    QUEUE_PREFIX: `{rbwebe2e-${randomUUID()}}`,
    BLOB_DIR: blobDir,
  })
  region = await newRegion(database.db, { agreementsFrom: '2024-01-01' })
  adminKey = await newAdminKey(database.db)
  // Billing details, so that the lead can settle the month at the end of the course.
  for (const t of [region.hub, ...region.members]) await updateTenantStatus(database.db, ADMIN, t.id, { billing: billingBody() })
  await putLocation({ db: database.db }, await authenticate(database.db, `Bearer ${region.lead.key}`), region.hub.id, 'stadhuis', {
    name: 'Stadhuis',
    municipalityCode: region.hub.code,
    address: { street: 'Grote Markt', houseNumber: '1', postalCode: '9712 HN', city: 'Groningen' },
  })
  redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1 })
  ;({ app } = await buildApp({ config, db: database.db, redis, logger: createLogger('silent') }))
  base = await app.listen({ port: 0, host: '127.0.0.1' })
  workers = await startWorkers(config, createLogger('silent'), { integrityThread: COMPILED_INTEGRITY_THREAD })
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] })
}, 120_000)

afterAll(async () => {
  await browser?.close()
  await workers?.close()
  await app?.close()
  redis?.disconnect()
  await database?.drop()
  rmSync(blobDir, { recursive: true, force: true })
  rmSync(files, { recursive: true, force: true })
}, 60_000)

async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ locale: 'nl-NL', viewport: { width: 1280, height: 900 } })
  const page = await context.newPage()
  page.setDefaultTimeout(15_000)
  page.on('console', (msg) => {
    if (/Content Security Policy|Refused to (execute|load|apply)/i.test(msg.text())) cspViolations.push(msg.text())
  })
  return { context, page }
}

/** axe-core on the page as it is now: zero violations, and a screenshot for the record. */
async function check(page: Page, name: string): Promise<void> {
  await page.waitForLoadState('load')
  // page.evaluate runs through the DevTools protocol, so the page's CSP does not block axe.
  if (!(await page.evaluate('typeof window.axe !== "undefined"'))) await page.evaluate(axeSource)
  const result = await page.evaluate<unknown[]>('axe.run(document).then(r => r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(" ")).slice(0, 5) })))')
  expect(result, `axe violations on ${name} (${page.url()})`).toEqual([])
  // caret 'initial': hiding the caret would inject a style sheet, which the CSP rightly refuses.
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true, caret: 'initial' })
  visited.push(name)
}

async function signIn(page: Page, key: string): Promise<void> {
  await page.goto(`${base}/app/inloggen`)
  await page.getByLabel('Sleutel').fill(key)
  await page.getByRole('button', { name: 'Inloggen' }).click()
  await page.waitForURL((url) => !url.pathname.startsWith('/app/inloggen'))
}

/** Reloads until the page shows `text` (the workers run in the background). */
async function untilShown(page: Page, text: string | RegExp, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if ((await page.getByText(text).count()) > 0) return
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${String(text)} on ${page.url()}`)
    await new Promise((r) => setTimeout(r, 500))
    await page.reload()
  }
}

/**
 * Polls an expression through the DevTools protocol until it is truthy. (page.waitForFunction
 * evaluates its predicate with the page's own `eval`, which the workbench's CSP rightly blocks.)
 */
async function untilTrue(page: Page, expression: string, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await page.evaluate(expression))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${expression} on ${page.url()}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** Tabs forward (bounded) until the element with that id has the focus. */
async function tabTo(page: Page, id: string): Promise<void> {
  for (let i = 0; i < 60; i += 1) {
    if ((await page.evaluate('document.activeElement && document.activeElement.id')) === id) return
    await page.keyboard.press('Tab')
  }
  throw new Error(`could not reach #${id} with the Tab key`)
}

function pdfFile(name: string, bytes: Buffer = minimalPdf()): string {
  const path = join(files, name)
  writeFileSync(path, bytes)
  return path
}

/** A valid PDF of about `mib` MiB (an incompressible stream object), to watch the upload progress. */
const largePdf = (mib: number): Buffer => {
  const noise = randomBytes(mib * 1024 * 1024)
  return buildPdf([
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [4 0 R] /Count 1 >>',
    Buffer.concat([Buffer.from(`<< /Length ${noise.length} >>\nstream\n`), noise, Buffer.from('\nendstream')]),
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>',
  ])
}

async function upload(page: Page, kind: string, country: string, file: string): Promise<void> {
  await page.getByLabel('Soort document').selectOption(kind)
  await page.getByLabel('Land van afgifte').selectOption(country)
  await page.getByLabel('Bestand').setInputFiles(file)
  await page.getByRole('button', { name: 'Document versturen' }).click()
  try {
    await page.getByText(`(${basename(file)}) is ontvangen en wordt automatisch gecontroleerd`).first().waitFor()
  } catch (err) {
    await page.screenshot({ path: join(SHOTS, `failed-upload-${kind}.png`), fullPage: true, caret: 'initial' })
    throw err
  }
}

describe('the workbench in a browser', () => {
  let caseUrl = ''
  let caseId = ''

  it('walks a naturalisation through every role', async () => {
    // ---- the member's desk: sign in, a refused submission, then a keyboard-only one -------------
    const desk = await newPage()
    await desk.page.goto(`${base}/app/zaken`)
    await desk.page.waitForURL(/\/app\/inloggen/)
    await check(desk.page, '01-inloggen')
    await desk.page.getByLabel('Sleutel').fill('rbk_c_wrong-key-wrong-key-wrong')
    await desk.page.getByRole('button', { name: 'Inloggen' }).click()
    await desk.page.getByText('Deze sleutel is onbekend of ingetrokken', { exact: false }).first().waitFor()
    await check(desk.page, '02-inloggen-fout')
    await signIn(desk.page, region.members[0].key)
    await check(desk.page, '03-balie-zaken')

    await desk.page.goto(`${base}/app/zaken/nieuw`)
    await check(desk.page, '04-nieuwe-zaak')
    const k = desk.page.keyboard
    await tabTo(desk.page, 'veld-caseType')
    await k.type('Naturalisatie')
    await tabTo(desk.page, 'veld-subject-givenNames')
    await k.type('Amira')
    await k.press('Tab')
    await k.type('Haddad')
    await k.press('Tab')
    await k.type('1990-05-17')
    await k.press('Tab')
    await k.type('123456789') // fails the 11-proef
    await k.press('Tab')
    await k.type('Syri')
    await k.press('Tab')
    await k.type('Syri')
    await tabTo(desk.page, 'indienen')
    await k.press('Enter')
    await desk.page.getByText('Dit is geen geldig burgerservicenummer').first().waitFor()
    // The error summary takes the focus; its link leads to the field.
    await untilTrue(desk.page, 'document.activeElement !== null && document.activeElement.hasAttribute("data-error-summary")')
    await check(desk.page, '05-nieuwe-zaak-fouten')
    await k.press('Tab')
    await k.press('Enter')
    expect(await desk.page.evaluate('document.activeElement && document.activeElement.id')).toBe('veld-subject-bsn')
    await k.press('Control+A')
    await k.type('111222333')
    await tabTo(desk.page, 'indienen')
    await k.press('Enter')
    await desk.page.getByText(/Zaak RB-\d{4}-\d{6} is ingediend/).first().waitFor()
    caseUrl = desk.page.url()
    caseId = caseUrl.split('/').pop()!
    expect(caseId).toMatch(/^[0-9a-f-]{36}$/)
    expect(await desk.page.title()).toMatch(/^Zaak RB-\d{4}-\d{6} – Regiobalie$/)
    await check(desk.page, '06-balie-zaak')
    // The citizen paid the fee at the desk; the desk records it on the case page (it lands on the IND remittance).
    await desk.page.getByLabel('Tariefcode').selectOption('D')
    await desk.page.getByLabel('Betaald op').fill('2022-06-01')
    await desk.page.getByRole('button', { name: 'Leges vastleggen' }).click()
    await desk.page.getByText('De betaalde leges zijn vastgelegd.').first().waitFor()
    await check(desk.page, '06b-balie-leges')

    // Documents; the large one shows its progress while it is sent.
    await desk.page.evaluate('window.__progress = 0; document.addEventListener("htmx:xhr:progress", () => { window.__progress += 1 })')
    await upload(desk.page, 'passport', 'SY', pdfFile('paspoort.pdf', largePdf(6)))
    expect(await desk.page.evaluate('window.__progress')).toBeGreaterThan(0)
    await upload(desk.page, 'residence_permit', 'NL', pdfFile('verblijfsvergunning.pdf'))
    await upload(desk.page, 'birth_certificate', 'SY', pdfFile('geboorteakte.pdf'))
    await upload(desk.page, 'civic_integration_diploma', 'NL', pdfFile('inburgering.pdf'))
    await check(desk.page, '07-balie-zaak-documenten')

    // ---- the lead: assigns by skill, seeing each specialist's load --------------------------------
    const lead = await newPage()
    await signIn(lead.page, region.lead.key)
    await untilShown(lead.page, /^Medewerker voor RB-/)
    await check(lead.page, '08-teamleider-toewijzen')
    const select = lead.page.locator(`form[action="/app/zaken/${caseId}/toewijzen"] select`)
    await select.selectOption({ label: 'Specialist (0 open zaken)' })
    await lead.page.locator(`form[action="/app/zaken/${caseId}/toewijzen"] button`).click()
    await lead.page.getByText('is toegewezen').waitFor()
    await lead.page.goto(`${base}/app/team`)
    await lead.page.getByRole('cell', { name: 'Specialist', exact: true }).first().waitFor()
    await check(lead.page, '09-teamleider-team')
    // The specialist's weekly availability: an inverted range is refused next to its field first.
    await lead.page.getByRole('link', { name: 'Beschikbaarheid van Specialist' }).click()
    await lead.page.locator('#veld-weekly-0-weekday').selectOption('1')
    await lead.page.locator('#veld-weekly-0-start').fill('09:00')
    await lead.page.locator('#veld-weekly-0-end').fill('08:00')
    await lead.page.locator('#veld-weekly-0-locationCode').selectOption('stadhuis')
    await lead.page.getByRole('button', { name: 'Beschikbaarheid opslaan' }).click()
    await lead.page.getByText('Het einde moet na het begin liggen.').first().waitFor()
    expect(await lead.page.locator('#veld-weekly-0-end').getAttribute('aria-invalid')).toBe('true')
    await check(lead.page, '09a-teamleider-beschikbaarheid-fout')
    await lead.page.locator('#veld-weekly-0-end').fill('12:30')
    await lead.page.locator('#veld-absences-0-from').fill('2999-07-01')
    await lead.page.locator('#veld-absences-0-until').fill('2999-07-14')
    await lead.page.getByRole('button', { name: 'Beschikbaarheid opslaan' }).click()
    await lead.page.getByText('De beschikbaarheid is opgeslagen.').first().waitFor()
    expect(await lead.page.locator('#veld-weekly-0-end').inputValue()).toBe('12:30')
    expect(await lead.page.locator('#veld-absences-0-until').inputValue()).toBe('2999-07-14')
    await check(lead.page, '09c-teamleider-beschikbaarheid')
    await lead.page.goto(`${base}/app/ceremonies`)
    await lead.page.getByLabel('Datum').fill(ceremonyDate)
    await lead.page.getByLabel('Begintijd').fill('10:00')
    await lead.page.getByLabel('Eindtijd').fill('11:30')
    await lead.page.getByLabel('Locatie').selectOption('stadhuis')
    await lead.page.getByLabel('Aantal plaatsen').fill('20')
    await lead.page.getByRole('button', { name: 'Ceremonie inplannen' }).click()
    await lead.page.getByText(`De ceremonie op ${ceremonyDate} is ingepland.`).first().waitFor()
    expect(await lead.page.getByRole('cell', { name: '0 van 20' }).count()).toBe(1)
    await check(lead.page, '09b-teamleider-ceremonies')

    // ---- the specialist: worklist, case page (access-logged), request for information ------------
    const specialist = await newPage()
    await signIn(specialist.page, region.specialist.key)
    await specialist.page.getByRole('link', { name: /RB-\d{4}-\d{6}/ }).first().waitFor()
    await check(specialist.page, '10-specialist-werkvoorraad')
    await specialist.page.getByLabel('Status').selectOption('in_review')
    await specialist.page.getByRole('button', { name: 'Filteren' }).click()
    await expect.poll(() => specialist.page.url(), { timeout: 10_000 }).toMatch(/status=in_review/)
    await specialist.page.getByRole('link', { name: /RB-\d{4}-\d{6}/ }).first().click()
    await specialist.page.waitForURL(caseUrl)
    await untilShown(specialist.page, 'Geen bijzonderheden', 60_000).catch(() => untilShown(specialist.page, 'Aandacht nodig'))
    await check(specialist.page, '11-specialist-zaak')
    await specialist.page.getByLabel('Geboorteakte', { exact: true }).check()
    await specialist.page.getByLabel('Bericht aan de gemeente').fill('Graag een gelegaliseerde geboorteakte.')
    await specialist.page.getByRole('button', { name: 'Informatie opvragen' }).click()
    await specialist.page.getByText('De informatie is opgevraagd').first().waitFor()
    expect(await specialist.page.getByText('Wacht op informatie').count()).toBeGreaterThan(0)

    // ---- the desk answers by upload -----------------------------------------------------------------
    await desk.page.goto(caseUrl)
    await desk.page.getByText('Graag een gelegaliseerde geboorteakte.').first().waitFor()
    await check(desk.page, '12-balie-verzoek-om-informatie')
    await upload(desk.page, 'birth_certificate', 'SY', pdfFile('geboorteakte-gelegaliseerd.pdf'))
    await desk.page.getByText('In behandeling').first().waitFor()

    // ---- the specialist gives the verdicts and decides --------------------------------------------
    await specialist.page.goto(caseUrl)
    // The verdict forms update the dossier in place (htmx), one document after the other.
    const open = specialist.page.locator('article.rb-document').filter({ hasNot: specialist.page.getByText('Oordeel: Geaccepteerd') })
    for (let left = await open.count(); left > 0; left -= 1) {
      await open.first().getByRole('button', { name: /^Accepteren/ }).click()
      await expect.poll(() => open.count(), { timeout: 10_000 }).toBe(left - 1)
    }
    expect(await specialist.page.locator('#dossier-melding').textContent()).toContain('geaccepteerd')
    await check(specialist.page, '13-specialist-documenten-beoordeeld')
    await specialist.page.locator('input[name="outcome"]').first().check()
    await specialist.page.getByLabel('Toelichting', { exact: true }).fill('Voldoet aan de voorwaarden.')
    await specialist.page.getByRole('button', { name: 'Besluit vastleggen' }).click()
    await specialist.page.getByText('Het besluit over zaak').first().waitFor()
    expect(await specialist.page.locator('.rb-badge').first().textContent()).toBe('Besloten')
    await check(specialist.page, '14-specialist-besloten')
    // The positive advice waits for the Royal Decree; recorded, the ceremony clocks start.
    await specialist.page.getByLabel('Beslissing').selectOption('granted')
    await specialist.page.getByLabel('Datum van het besluit').fill(dutchDate())
    await specialist.page.getByLabel('Nummer van het besluit (niet verplicht)').fill('KB 2026/77')
    await specialist.page.getByRole('button', { name: 'Koninklijk Besluit vastleggen' }).click()
    await specialist.page.getByText('Het Koninklijk Besluit over zaak').first().waitFor()
    expect(await specialist.page.locator('.rb-badge').first().textContent()).toBe('Wacht op ceremonie')
    expect(await specialist.page.getByRole('heading', { name: 'Wettelijke termijnen' }).count()).toBe(1)
    await specialist.page.getByLabel('Soort afspraak').selectOption('ceremony')
    await specialist.page.getByRole('button', { name: 'Afspraak aanvragen' }).click()
    await specialist.page.getByText('is aangevraagd; het systeem plant hem in').first().waitFor()
    expect(await specialist.page.locator('#afspraken-kop + ul li').count()).toBe(1)
    await check(specialist.page, '14b-specialist-koninklijk-besluit')
    await specialist.page.goto(`${base}/app/zaken?termijn=due_within_10_working_days`)
    await check(specialist.page, '14c-specialist-termijnfilter')

    // ---- the ceremony: booked by the scheduling worker, seen by the lead, attended → closed ----------
    await specialist.page.goto(caseUrl)
    await untilShown(specialist.page, /^Ingepland$/)
    expect(await specialist.page.getByText('De uitkomst legt u vast zodra de afspraak begonnen is.').count()).toBe(1)
    await lead.page.goto(`${base}/app/ceremonies`)
    await lead.page.getByRole('link', { name: ceremonyDate }).click()
    await lead.page.getByRole('heading', { name: `Ceremonie op ${ceremonyDate}` }).waitFor()
    expect(await lead.page.getByText('1 van 20', { exact: true }).count()).toBe(1)
    const reference = (await specialist.page.locator('h1').textContent())!.replace('Zaak ', '')
    expect(await lead.page.getByRole('link', { name: reference }).count()).toBe(1)
    await check(lead.page, '14d-teamleider-ceremonie-plaatsen')
    // The ceremony has taken place: its start is moved into the past (the outcome waits for the start).
    await sql`update appointments set starts_at = now() - interval '2 hours', ends_at = now() - interval '1 hour' where case_id = ${caseId} and status = 'booked'`.execute(database.owner)
    await specialist.page.reload()
    await specialist.page.getByLabel('Verschenen', { exact: true }).check()
    await specialist.page.getByLabel(/verklaring van verbondenheid is afgelegd/).check()
    await specialist.page.getByRole('button', { name: /^Uitkomst vastleggen/ }).click()
    await specialist.page.getByText('verschenen is vastgelegd').first().waitFor()
    expect(await specialist.page.locator('.rb-badge').first().textContent()).toBe('Afgesloten')
    await check(specialist.page, '14e-specialist-ceremonie-verschenen')

    // ---- the access log shows the reads -------------------------------------------------------------
    await desk.page.goto(caseUrl)
    const readsByHub = desk.page.locator('#inzage tr', { hasText: 'Medewerker regiocentrum' }).filter({ hasText: 'Dossier ingezien' })
    expect(await readsByHub.count()).toBeGreaterThan(0)
    // As the application role, in the hub's scope (RLS on): what the hub itself can see.
    const { rows } = await withTenant(database.db, { tenantId: region.hub.id, regionId: region.regionId }, (trx) =>
      sql<{ actor_id: string }>`select actor_id from access_log where case_id = ${caseId} and action = 'case.read'`.execute(trx),
    )
    expect(rows.map((r) => r.actor_id)).toContain(region.specialist.id)

    for (const s of [desk, lead, specialist]) await s.context.close()
  }, 600_000)

  let remittanceUrl = ''

  it('settles the month: the lead follows the run and downloads, the desk reads its remittance and name list', async () => {
    const lead = await newPage()
    await signIn(lead.page, region.lead.key)
    await lead.page.goto(`${base}/app/afrekening`)
    await check(lead.page, '21-teamleider-afrekening')
    // The case entered review this month: settle the running month now.
    await lead.page.getByRole('textbox', { name: 'Maand' }).fill(dutchDate().slice(0, 7))
    await lead.page.getByLabel('Lopende maand nu afrekenen').check()
    await lead.page.getByRole('button', { name: 'Afrekening starten' }).click()
    await lead.page.waitForURL(/\/app\/afrekening\/[0-9a-f-]{36}$/)
    await untilShown(lead.page, /^Klaar$/)
    await check(lead.page, '22-teamleider-afrekening-klaar')
    const ubl = await lead.page.request.get(`${base}${await lead.page.getByRole('link', { name: /^UBL/ }).first().getAttribute('href')}`)
    expect(ubl.status()).toBe(200)
    expect(ubl.headers()['content-type']).toMatch(/^application\/xml/)
    expect(await ubl.text()).toContain('urn:fdc:peppol.eu:2017:poacc:billing:3.0')
    const csv = await lead.page.request.get(`${base}${await lead.page.getByRole('link', { name: /^CSV/ }).first().getAttribute('href')}`)
    expect(csv.status()).toBe(200)
    expect(await csv.text()).toMatch(/RB-\d{4}-\d{6}/)

    const desk = await newPage()
    await signIn(desk.page, region.members[0].key)
    await desk.page.goto(`${base}/app/facturen`)
    await check(desk.page, '23-balie-facturen')
    await desk.page.getByRole('link', { name: /^Afdracht \d{4}-\d{2}$/ }).click()
    await desk.page.getByRole('heading', { name: 'Namenlijst voor de IND' }).waitFor()
    remittanceUrl = desk.page.url()
    expect(await desk.page.getByRole('link', { name: /^RB-\d{4}-\d{6}$/ }).count()).toBe(1)
    expect(await desk.page.content()).not.toContain('Haddad')
    await check(desk.page, '24-balie-afdracht')
    const names = await desk.page.request.get(`${base}${await desk.page.getByRole('link', { name: 'Namenlijst downloaden (CSV)' }).getAttribute('href')}`)
    expect(names.status()).toBe(200)
    expect(await names.text()).toContain('Haddad')
    const { rows } = await sql<{ action: string }>`select action from access_log where case_id = ${caseId} and purpose = 'ind-remittance'`.execute(database.owner)
    expect(rows.map((r) => r.action)).toEqual(['remittance.name-list'])

    // Webhooks: the desk subscribes (the secret shown once) and sends a test event.
    await desk.page.goto(`${base}/app/webhooks`)
    await check(desk.page, '25-balie-webhooks')
    await desk.page.getByRole('textbox', { name: /^Adres \(URL\)/ }).fill('https://hooks.example.org/regiobalie')
    await desk.page.getByRole('button', { name: 'Abonnement toevoegen' }).click()
    await desk.page.getByText('Kies er minstens één.').first().waitFor()
    await check(desk.page, '26-balie-webhooks-fout')
    expect(await desk.page.getByRole('textbox', { name: /^Adres \(URL\)/ }).inputValue()).toBe('https://hooks.example.org/regiobalie')
    for (const s of [lead, desk]) await s.context.close()
  }, 180_000)

  it('answers another tenant’s case URL with the 404 page', async () => {
    const other = await newPage()
    await signIn(other.page, region.members[1].key)
    const res = await other.page.goto(caseUrl)
    expect(res?.status()).toBe(404)
    await other.page.getByRole('heading', { name: 'Pagina niet gevonden' }).waitFor()
    expect(await other.page.content()).not.toContain('Haddad')
    await check(other.page, '15-andere-gemeente-404')
    // A new page too: another member's IND remittance.
    expect((await other.page.goto(remittanceUrl))?.status()).toBe(404)
    await other.page.getByRole('heading', { name: 'Pagina niet gevonden' }).waitFor()
    await other.context.close()
  })

  it('refuses a form without its CSRF token', async () => {
    const { context, page } = await newPage()
    await signIn(page, region.members[0].key)
    await page.goto(`${base}/app/zaken/nieuw`)
    await page.evaluate('document.querySelectorAll("form.rb-form input[name=_csrf]").forEach(e => e.remove()); document.body.removeAttribute("hx-boost")')
    await page.getByLabel('Voornamen').fill('Zonder')
    const [response] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.getByRole('button', { name: 'Zaak indienen' }).click()])
    expect(response.status()).toBe(403)
    await page.getByText('Het formulier is verlopen of ongeldig').waitFor()
    await check(page, '16-formulier-zonder-csrf')
    await context.close()
  })

  it('gives the administrator regions, municipalities, keys, agreements and staff', async () => {
    const { context, page } = await newPage()
    await signIn(page, adminKey)
    await check(page, '17-beheer-gemeenten')
    await page.goto(`${base}/app/beheer/regios`)
    await check(page, '18-beheer-regios')
    await page.goto(`${base}/app/beheer/gemeenten/${region.hub.id}`)
    await page.getByLabel('Naam van de nieuwe sleutel').fill('zaaksysteem')
    await page.getByRole('button', { name: 'Sleutel aanmaken' }).click()
    await page.getByText('Dit is de enige keer dat de sleutel wordt getoond').waitFor()
    expect(await page.locator('.rb-secret').textContent()).toMatch(/^rbk_c_/)
    await check(page, '19-beheer-regiocentrum-sleutel')
    await page.goto(`${base}/app/beheer/gemeenten/${region.members[0].id}`)
    await check(page, '20-beheer-deelnemer')
    await context.close()
  })

  it('ran without a single CSP violation in the browser', () => {
    expect(cspViolations).toEqual([])
    expect(visited.length).toBeGreaterThanOrEqual(15)
  })
})
