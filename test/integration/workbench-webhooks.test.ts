// The workbench's webhook pages over app.inject: the desk (and the lead) list and create
// subscriptions with the secret shown once, send a test event, see the deliveries, redeliver, get a
// new secret and delete; a specialist and another tenant get the 404 page; errors sit next to their fields.
import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { newRegion, type RegionFixture } from '../helpers/builders.js'
import { signedIn as signInAs, WebClient } from '../helpers/web.js'
import { TEST_KEYS } from '../helpers/env.js'
import { decryptSecret, secretsKey } from '../../api/webhooks/secrets.js'

let t: TestApp
let region: RegionFixture

beforeAll(async () => {
  t = await startTestApp({ QUEUE_PREFIX: `{rbwebhooks-${randomUUID()}}`, WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' })
  region = await newRegion(t.database.db)
}, 180_000)
afterAll(async () => t.close())

const signedIn = (key: string): Promise<WebClient> => signInAs(t.app, key)

describe('webhook subscriptions in the workbench', () => {
  let webhookId = ''
  let firstSecret = ''

  it('refuses a subscription without events, next to the field; creates one and shows the secret once', async () => {
    const desk = await signedIn(region.members[0].key)
    const page = await desk.get('/app/webhooks')
    expect(page.statusCode).toBe(200)
    expect(page.body).toContain('Nog geen abonnementen.')
    const none = await desk.post('/app/webhooks', { _csrf: WebClient.csrf(page), url: 'http://127.0.0.1:9/hook', format: 'standard', description: '' })
    expect(none.statusCode).toBe(400)
    expect(none.body).toContain('href="#veld-events"')
    expect(none.body).toContain('value="http://127.0.0.1:9/hook"')
    const ftp = await desk.post('/app/webhooks', { _csrf: WebClient.csrf(page), url: 'ftp://example.org/hook', events: ['case.decided'], format: 'standard' })
    expect(ftp.statusCode).toBe(422)
    expect(ftp.body).toContain('Dit adres is niet toegestaan')

    const created = await desk.post('/app/webhooks', { _csrf: WebClient.csrf(page), url: 'http://127.0.0.1:9/hook', events: ['case.decided', 'appointment.booked'], format: 'standard', description: 'Zaaksysteem' })
    expect(created.statusCode).toBe(201)
    const secret = /<code class="utrecht-code rb-secret">(whsec_[^<]+)<\/code>/.exec(created.body)?.[1]
    expect(secret).toBeTruthy()
    firstSecret = secret!
    webhookId = /href="\/app\/webhooks\/([0-9a-f-]{36})"/.exec(created.body)![1]!
    // Shown once: the list and the subscription's page never show it again.
    expect((await desk.get('/app/webhooks')).body).not.toContain(secret!)
    const detail = await desk.get(`/app/webhooks/${webhookId}`)
    expect(detail.statusCode).toBe(200)
    expect(detail.body).not.toContain(secret!)
    expect(detail.body).toContain('case.decided, appointment.booked')
  })

  it('sends a test event, lists its delivery and redelivers it', async () => {
    const desk = await signedIn(region.members[0].key)
    const page = await desk.get(`/app/webhooks/${webhookId}`)
    expect(page.body).toContain('Nog geen berichten.')
    const sent = await desk.post(`/app/webhooks/${webhookId}/test`, { _csrf: WebClient.csrf(page) })
    expect(sent.statusCode).toBe(303)
    const after = await desk.get(`/app/webhooks/${webhookId}`)
    expect(after.body).toContain('Er is een testbericht (webhook.test) verstuurd.')
    expect(after.body).toContain('<code class="utrecht-code">webhook.test</code>')
    const deliveryId = /\/bezorgingen\/([0-9a-f-]{36})\/opnieuw/.exec(after.body)![1]!
    const again = await desk.post(`/app/webhooks/${webhookId}/bezorgingen/${deliveryId}/opnieuw`, { _csrf: WebClient.csrf(after) })
    expect(again.statusCode).toBe(303)
    expect((await desk.get(`/app/webhooks/${webhookId}`)).body).toContain('De bezorging wordt opnieuw geprobeerd.')
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from webhook_deliveries where subscription_id = ${webhookId}`.execute(t.database.owner)
    expect(rows[0]!.n).toBe(1)
  })

  it('is the tenant’s own: another member and a specialist get the 404 page; the lead manages the hub’s', async () => {
    const other = await signedIn(region.members[1].key)
    expect((await other.get(`/app/webhooks/${webhookId}`)).statusCode).toBe(404)
    const otherPage = await other.get('/app/webhooks')
    expect(otherPage.body).not.toContain(webhookId)
    expect((await other.post(`/app/webhooks/${webhookId}/verwijderen`, { _csrf: WebClient.csrf(otherPage) })).statusCode).toBe(404)
    expect((await (await signedIn(region.specialist.key)).get('/app/webhooks')).statusCode).toBe(404)
    const lead = await signedIn(region.lead.key)
    const leadPage = await lead.get('/app/webhooks')
    expect(leadPage.statusCode).toBe(200)
    expect(leadPage.body).not.toContain(webhookId)
  })

  it('gives a new secret, shown once, while the previous one signs for 24 hours more; not for another tenant', async () => {
    const other = await signedIn(region.members[1].key)
    const otherPage = await other.get('/app/webhooks')
    expect((await other.post(`/app/webhooks/${webhookId}/geheim-vernieuwen`, { _csrf: WebClient.csrf(otherPage) })).statusCode).toBe(404)

    const desk = await signedIn(region.members[0].key)
    const page = await desk.get(`/app/webhooks/${webhookId}`)
    expect(page.body).not.toContain('Vorig geheim')
    const before = Date.now()
    const rotated = await desk.post(`/app/webhooks/${webhookId}/geheim-vernieuwen`, { _csrf: WebClient.csrf(page) })
    expect(rotated.statusCode).toBe(200)
    expect(rotated.body).toContain('Er is een nieuw geheim')
    const secret = /<code class="utrecht-code rb-secret">(whsec_[^<]+)<\/code>/.exec(rotated.body)?.[1]
    expect(secret).toBeTruthy()
    expect(secret).not.toBe(firstSecret)
    // Stored encrypted: the new one signs, the first one alongside it until a day from now.
    const key = secretsKey(Buffer.from(TEST_KEYS.BLOB_MASTER_KEY, 'base64'))
    const { rows } = await sql<{ secret_encrypted: string; previous_secret_encrypted: string; previous_secret_expires_at: Date }>`
      select secret_encrypted, previous_secret_encrypted, previous_secret_expires_at from webhook_subscriptions where id = ${webhookId}`.execute(t.database.owner)
    expect(rows[0]!.secret_encrypted).not.toContain(secret!)
    expect(decryptSecret(rows[0]!.secret_encrypted, key, webhookId)).toBe(secret)
    expect(decryptSecret(rows[0]!.previous_secret_encrypted, key, webhookId)).toBe(firstSecret)
    const overlap = rows[0]!.previous_secret_expires_at.getTime() - before
    expect(overlap).toBeGreaterThan(24 * 3_600_000 - 60_000)
    expect(overlap).toBeLessThanOrEqual(24 * 3_600_000 + 60_000)
    // Shown once; the page says until when the previous secret signs.
    const after = await desk.get(`/app/webhooks/${webhookId}`)
    expect(after.body).not.toContain(secret!)
    expect(after.body).toContain('Vorig geheim')
  })

  it('deletes the subscription', async () => {
    const desk = await signedIn(region.members[0].key)
    const page = await desk.get(`/app/webhooks/${webhookId}`)
    const deleted = await desk.post(`/app/webhooks/${webhookId}/verwijderen`, { _csrf: WebClient.csrf(page) })
    expect(deleted.statusCode).toBe(303)
    expect(deleted.headers.location).toBe('/app/webhooks')
    expect((await desk.get(`/app/webhooks/${webhookId}`)).statusCode).toBe(404)
  })
})
