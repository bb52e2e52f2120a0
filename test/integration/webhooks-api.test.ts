// Issue 11, the webhooks API: subscribe (the secret shown once, stored encrypted), the refusals of
// API.md (400 unknown event, 422 url-not-allowed, 403 without webhooks:write), list, read, delete,
// rotate, test, deliveries, redeliver — and another tenant's subscription is a 404 everywhere.
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { newAdminKey, newRegion, type RegionFixture } from '../helpers/builders.js'
import { send } from '../helpers/case-builders.js'
import { expectOk, expectProblem } from '../helpers/tenancy-builders.js'
import { subscribe, type DeliveryJson, type WebhookJson } from '../helpers/webhook-builders.js'

let t: TestApp
let guarded: TestApp
let region: RegionFixture
let member: string
let adminKey: string

beforeAll(async () => {
  t = await startTestApp({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' })
  guarded = await startTestApp({}, { database: t.database })
  region = await newRegion(t.database.db)
  member = region.members[0].key
  adminKey = await newAdminKey(t.database.db)
})
afterAll(async () => {
  await guarded.close()
  await t.close()
})

const hook = { url: 'http://127.0.0.1:9/hook', events: ['case.submitted', 'case.status_changed'] }

describe('POST /v1/webhooks', () => {
  it('201 with Location and the secret, shown once and stored only encrypted', async () => {
    const res = await send(t.app, 'POST', '/v1/webhooks', member, { ...hook, description: 'zaaksysteem' })
    const created = expectOk<WebhookJson>(res, 201)
    expect(res.headers.location).toBe(`/v1/webhooks/${created.id}`)
    expect(created).toMatchObject({ url: hook.url, events: hook.events, description: 'zaaksysteem', format: 'standard', status: 'active', previousSecretExpiresAt: null })
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/)

    const got = expectOk<Record<string, unknown>>(await send(t.app, 'GET', `/v1/webhooks/${created.id}`, member))
    expect(got).not.toHaveProperty('secret')
    expect(JSON.stringify(got)).not.toContain(created.secret.slice(6))
    const list = await send(t.app, 'GET', '/v1/webhooks', member)
    expect(list.body).not.toContain(created.secret.slice(6))

    const { rows } = await sql<{ row: string }>`select row_to_json(s)::text as row from webhook_subscriptions s where id = ${created.id}`.execute(t.database.owner)
    const key = created.secret.slice(6)
    expect(rows[0]!.row).not.toContain(key)
    expect(rows[0]!.row).not.toContain(Buffer.from(key, 'base64').toString('hex'))
    expect(rows[0]!.row).not.toContain(Buffer.from(key, 'base64').toString('base64url'))
  })

  it('400 for an unknown event, no events, an unknown property', async () => {
    expectProblem(await send(t.app, 'POST', '/v1/webhooks', member, { ...hook, events: ['case.exploded'] }), 400, 'invalid-request')
    expectProblem(await send(t.app, 'POST', '/v1/webhooks', member, { ...hook, events: [] }), 400, 'invalid-request')
    expectProblem(await send(t.app, 'POST', '/v1/webhooks', member, { ...hook, tenantId: region.members[1].id }), 400, 'invalid-request')
    expectProblem(await send(t.app, 'POST', '/v1/webhooks', member, { ...hook, format: 'soap' }), 400, 'invalid-request')
  })

  it('422 url-not-allowed for plain http and for loopback, private, link-local, CGNAT and unique-local targets', async () => {
    for (const url of [
      'http://receiver.example/hook',
      'https://127.0.0.1/hook',
      'https://localhost/hook',
      'https://10.0.0.8/hook',
      'https://172.16.5.4/hook',
      'https://192.168.1.1/hook',
      'https://169.254.169.254/latest/meta-data/',
      'https://100.64.0.1/hook',
      'https://[::1]/hook',
      'https://[fd00::1]/hook',
      'https://[::ffff:127.0.0.1]/hook',
    ]) {
      const p = expectProblem(await send(guarded.app, 'POST', '/v1/webhooks', member, { ...hook, url }), 422, 'url-not-allowed')
      expect(p.detail, url).toMatch(/^the webhook URL /)
    }
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from webhook_subscriptions where url like 'https://%'`.execute(t.database.owner)
    expect(rows[0]!.n).toBe(0)
  })

  it('403 insufficient-scope for a key without webhooks:write; 403 for the platform admin', async () => {
    expectProblem(await send(t.app, 'POST', '/v1/webhooks', region.specialist.key, hook), 403, 'insufficient-scope')
    expectProblem(await send(t.app, 'GET', '/v1/webhooks', region.specialist.key), 403, 'insufficient-scope')
    expectProblem(await send(t.app, 'POST', '/v1/webhooks', adminKey, hook), 403, 'forbidden')
  })

  it('a hub subscribes too', async () => {
    const created = await subscribe(t.app, region.hub.key, { ...hook, format: 'zgw' })
    expect(created.format).toBe('zgw')
  })
})

describe('the tenant’s own subscriptions', () => {
  let mine: WebhookJson

  beforeAll(async () => {
    mine = await subscribe(t.app, member, hook)
  })

  it('are listed newest first with keyset pages', async () => {
    const r = await newRegion(t.database.db)
    const ids = [await subscribe(t.app, r.members[0].key, hook), await subscribe(t.app, r.members[0].key, hook), await subscribe(t.app, r.members[0].key, hook)].map((s) => s.id)
    const first = expectOk<{ items: WebhookJson[]; nextCursor: string | null }>(await send(t.app, 'GET', '/v1/webhooks?limit=2', r.members[0].key))
    expect(first.items.map((s) => s.id)).toEqual([ids[2], ids[1]])
    const second = expectOk<{ items: WebhookJson[]; nextCursor: string | null }>(await send(t.app, 'GET', `/v1/webhooks?limit=2&cursor=${first.nextCursor}`, r.members[0].key))
    expect(second).toEqual({ items: [expect.objectContaining({ id: ids[0] })], nextCursor: null })
    expectProblem(await send(t.app, 'GET', '/v1/webhooks?colour=red', r.members[0].key), 400, 'invalid-request')
  })

  it('rotate-secret answers a new secret and keeps the old one signing for 24 hours', async () => {
    const rotated = expectOk<WebhookJson>(await send(t.app, 'POST', `/v1/webhooks/${mine.id}/rotate-secret`, member))
    expect(rotated.secret).toMatch(/^whsec_/)
    expect(rotated.secret).not.toBe(mine.secret)
    expect(new Date(rotated.previousSecretExpiresAt!).getTime() - Date.now()).toBeGreaterThan(24 * 3_600_000 - 60_000)
    expect(expectOk<WebhookJson>(await send(t.app, 'GET', `/v1/webhooks/${mine.id}`, member)).previousSecretExpiresAt).toBe(rotated.previousSecretExpiresAt)
  })

  it('test answers 202 with a pending webhook.test delivery, listed with its status', async () => {
    const d = expectOk<DeliveryJson>(await send(t.app, 'POST', `/v1/webhooks/${mine.id}/test`, member), 202)
    expect(d).toMatchObject({ subscriptionId: mine.id, type: 'webhook.test', status: 'pending', attempts: 0, lastStatusCode: null })
    const list = expectOk<{ items: DeliveryJson[] }>(await send(t.app, 'GET', `/v1/webhooks/${mine.id}/deliveries?status=pending`, member))
    expect(list.items.map((x) => x.id)).toContain(d.id)
    expectProblem(await send(t.app, 'GET', `/v1/webhooks/${mine.id}/deliveries?status=lost`, member), 400, 'invalid-request')
    const { rows } = await sql<{ payload: unknown }>`select payload from outbox where job_name = 'deliver' and payload->>'deliveryId' = ${d.id}`.execute(t.database.owner)
    expect(rows).toEqual([{ payload: { tenantId: region.members[0].id, deliveryId: d.id } }])
  })

  it('redeliver answers 202; a delivery of another subscription is 404', async () => {
    const d = expectOk<DeliveryJson>(await send(t.app, 'POST', `/v1/webhooks/${mine.id}/test`, member), 202)
    expect(expectOk<DeliveryJson>(await send(t.app, 'POST', `/v1/webhooks/${mine.id}/deliveries/${d.id}/redeliver`, member), 202)).toMatchObject({ id: d.id, status: 'pending' })
    const sibling = await subscribe(t.app, member, hook)
    expectProblem(await send(t.app, 'POST', `/v1/webhooks/${sibling.id}/deliveries/${d.id}/redeliver`, member), 404, 'not-found')
    expectProblem(await send(t.app, 'POST', `/v1/webhooks/${mine.id}/deliveries/00000000-0000-4000-8000-000000000001/redeliver`, member), 404, 'not-found')
  })

  it('are 404 for every other tenant — the other member, the hub, another region — on every operation', async () => {
    const d = expectOk<DeliveryJson>(await send(t.app, 'POST', `/v1/webhooks/${mine.id}/test`, member), 202)
    const o = await newRegion(t.database.db)
    for (const key of [region.members[1].key, region.hub.key, o.members[0].key]) {
      expectProblem(await send(t.app, 'GET', `/v1/webhooks/${mine.id}`, key), 404, 'not-found')
      expectProblem(await send(t.app, 'DELETE', `/v1/webhooks/${mine.id}`, key), 404, 'not-found')
      expectProblem(await send(t.app, 'POST', `/v1/webhooks/${mine.id}/rotate-secret`, key), 404, 'not-found')
      expectProblem(await send(t.app, 'POST', `/v1/webhooks/${mine.id}/test`, key), 404, 'not-found')
      expectProblem(await send(t.app, 'GET', `/v1/webhooks/${mine.id}/deliveries`, key), 404, 'not-found')
      expectProblem(await send(t.app, 'POST', `/v1/webhooks/${mine.id}/deliveries/${d.id}/redeliver`, key), 404, 'not-found')
      const list = expectOk<{ items: WebhookJson[] }>(await send(t.app, 'GET', '/v1/webhooks', key))
      expect(list.items.map((s) => s.id)).not.toContain(mine.id)
    }
    expect(expectOk(await send(t.app, 'GET', `/v1/webhooks/${mine.id}`, member))).toMatchObject({ id: mine.id })
  })

  it('DELETE answers 204, then the subscription and its deliveries are gone', async () => {
    const doomed = await subscribe(t.app, member, hook)
    expectOk(await send(t.app, 'POST', `/v1/webhooks/${doomed.id}/test`, member), 202)
    expectOk(await send(t.app, 'DELETE', `/v1/webhooks/${doomed.id}`, member), 204)
    expectProblem(await send(t.app, 'GET', `/v1/webhooks/${doomed.id}`, member), 404, 'not-found')
    expectProblem(await send(t.app, 'DELETE', `/v1/webhooks/${doomed.id}`, member), 404, 'not-found')
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from webhook_deliveries where subscription_id = ${doomed.id}`.execute(t.database.owner)
    expect(rows[0]!.n).toBe(0)
  })
})

describe('row-level security', () => {
  it('the application role sees no subscription without a tenant, and only its own with one', async () => {
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from webhook_subscriptions`.execute(t.database.db)
    expect(rows[0]!.n).toBe(0)
  })
})
