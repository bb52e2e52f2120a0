// Issue 11, delivery: events fan out in the transaction of the change to the member's and the
// hub's subscriptions only; every delivery is signed per Standard Webhooks (verified here with the
// reference library, as a receiver would); retries follow the schedule on a clock the test moves,
// then the delivery is dead and can be redelivered; rotation signs with both secrets for 24 hours;
// a 410 or five days of failures disable a subscription; one slow receiver is capped; the SSRF
// guard is checked again at delivery. Every body the receiver got is scanned for personal data.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'kysely'
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { withTenantOf } from '../../api/db/database.js'
import { FilesystemBlobStore } from '../../api/documents/blob-store.js'
import { attemptDelivery, attemptEventDeliveries, sweepDueDeliveries } from '../../api/webhooks/delivery.js'
import { emitEvent } from '../../api/webhooks/events.js'
import { runDocumentReview } from '../../workers/document-review.js'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { newRegion, type RegionFixture } from '../helpers/builders.js'
import { newSubject, send, submitCase, toIntake, type CaseCreate } from '../helpers/case-builders.js'
import { filePart, minimalPdf, uploadOk } from '../helpers/document-builders.js'
import { expectOk, expectProblem } from '../helpers/tenancy-builders.js'
import { answer, startReceiver, type Received, type Receiver } from '../helpers/webhook-receiver.js'
import { COMPILED_INTEGRITY_THREAD } from '../e2e/helpers.js'
import { attemptAll, deliveriesOf, subscribe, TestClock, testDeliveryDeps, type DeliveryJson, type WebhookJson } from '../helpers/webhook-builders.js'

let t: TestApp
let region: RegionFixture
let other: RegionFixture
let receiver: Receiver
let blobDir: string
const subjects: CaseCreate['subject'][] = []

const ALL_CASE_EVENTS = ['case.submitted', 'case.status_changed', 'case.information_requested', 'case.decided', 'document.reviewed']

beforeAll(async () => {
  blobDir = await mkdtemp(join(tmpdir(), 'rb-webhooks-'))
  t = await startTestApp({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', BLOB_DIR: blobDir, PUBLIC_BASE_URL: 'https://regiobalie.example' })
  region = await newRegion(t.database.db)
  other = await newRegion(t.database.db)
  receiver = await startReceiver()
})
afterAll(async () => {
  await receiver.close()
  await t.close()
  await rm(blobDir, { recursive: true, force: true })
})

/** Submits a case with a fresh subject, remembered for the personal-data scan at the end. */
async function submit(key: string) {
  const subject = newSubject()
  subjects.push(subject)
  return submitCase(t.app, key, { subject })
}

const at = (path: string): Received[] => receiver.received.filter((r) => r.path === path)
const bodyOf = (r: Received) => JSON.parse(r.body) as { type: string; timestamp: string; data: Record<string, unknown> }

/** Standard Webhooks verification as a receiver does it, at the time the attempt was made. */
function verify(secret: string, r: Received, now: Date = new Date()): unknown {
  vi.useFakeTimers({ toFake: ['Date'], now })
  try {
    return new Webhook(secret).verify(r.body, r.headers as Record<string, string>)
  } finally {
    vi.useRealTimers()
  }
}

async function testEvent(key: string, webhookId: string): Promise<DeliveryJson> {
  return expectOk<DeliveryJson>(await send(t.app, 'POST', `/v1/webhooks/${webhookId}/test`, key), 202)
}

describe('fan-out', () => {
  let subA: WebhookJson
  let subB: WebhookJson
  let subHub: WebhookJson
  let subOtherHub: WebhookJson

  beforeAll(async () => {
    subA = await subscribe(t.app, region.members[0].key, { url: receiver.url('/a'), events: ALL_CASE_EVENTS })
    subB = await subscribe(t.app, region.members[1].key, { url: receiver.url('/b'), events: ALL_CASE_EVENTS })
    subHub = await subscribe(t.app, region.hub.key, { url: receiver.url('/hub'), events: ALL_CASE_EVENTS })
    subOtherHub = await subscribe(t.app, other.hub.key, { url: receiver.url('/other-hub'), events: ALL_CASE_EVENTS })
  })

  it('a member hears of its own cases, the hub of the cases routed to it — nobody else', async () => {
    const clock = new TestClock()
    const deps = testDeliveryDeps(t.database.db, t.config, clock)
    const c = await submit(region.members[0].key)
    expect(await toIntake(t.database.db, c.hubTenantId, c.id)).toBe('routed')
    for (const sub of [subA, subHub]) {
      expect((await deliveriesOf(t.database.owner, sub.id)).map((d) => d.type)).toEqual(['case.submitted', 'case.status_changed'])
      expect(await attemptAll(deps, t.database.owner, sub.id)).toEqual(['delivered', 'delivered'])
    }
    expect(await deliveriesOf(t.database.owner, subB.id)).toEqual([])
    expect(await deliveriesOf(t.database.owner, subOtherHub.id)).toEqual([])

    for (const path of ['/a', '/hub']) {
      const bodies = at(path).map(bodyOf)
      expect(bodies.map((b) => b.type)).toEqual(['case.submitted', 'case.status_changed'])
      expect(bodies[1]).toMatchObject({
        type: 'case.status_changed',
        data: { caseId: c.id, reference: c.reference, status: 'intake', previousStatus: 'submitted', url: `https://regiobalie.example/v1/cases/${c.id}` },
      })
    }
    // The other member's case reaches the other member and the hub, not member A.
    const d = await submit(region.members[1].key)
    expect((await deliveriesOf(t.database.owner, subB.id)).map((x) => x.type)).toEqual(['case.submitted'])
    expect((await deliveriesOf(t.database.owner, subA.id)).every((x) => x.type !== 'case.submitted' || x.id !== d.id)).toBe(true)
    expect((await deliveriesOf(t.database.owner, subA.id))).toHaveLength(2)
    expect((await deliveriesOf(t.database.owner, subHub.id))).toHaveLength(3)
  })

  it('every delivery verifies with the reference library, with a webhook-id that is the delivery id', async () => {
    const received = [...at('/a'), ...at('/hub')]
    expect(received.length).toBeGreaterThanOrEqual(4)
    for (const r of received) {
      const secret = r.path === '/a' ? subA.secret : subHub.secret
      expect(verify(secret, r)).toEqual(JSON.parse(r.body))
      expect(() => verify(subB.secret, r)).toThrow()
      expect(r.headers['content-type']).toBe('application/json')
      expect(r.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/=]+$/)
      expect(Math.abs(Number(r.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(300)
    }
    const ids = (await deliveriesOf(t.database.owner, subA.id)).map((d) => d.id)
    expect(at('/a').map((r) => r.headers['webhook-id'])).toEqual(ids)
  })

  it('case.information_requested and case.decided follow the transitions of the hub', async () => {
    const c = await submit(region.members[0].key)
    await toIntake(t.database.db, c.hubTenantId, c.id)
    expectOk(await send(t.app, 'POST', `/v1/cases/${c.id}/assign`, region.lead.key, { staffId: region.specialist.id }))
    expectOk(await send(t.app, 'POST', `/v1/cases/${c.id}/request-information`, region.specialist.key, { message: 'Stuur de geboorteakte van Jansen', documentKinds: ['birth_certificate'] }))
    const { rows: mine } = await sql<{ type: string; status: string }>`
      select type, event->'data'->>'status' as status from webhook_deliveries
      where subscription_id = ${subA.id} and event->'data'->>'caseId' = ${c.id} order by created_at, (event->>'type') desc`.execute(t.database.owner)
    expect(mine.map((d) => `${d.type} ${d.status}`)).toEqual([
      'case.submitted submitted',
      'case.status_changed intake',
      'case.status_changed in_review',
      'case.status_changed awaiting_information',
      'case.information_requested awaiting_information',
    ])
    const deps = testDeliveryDeps(t.database.db, t.config, new TestClock())
    await attemptAll(deps, t.database.owner, subA.id)
    // The two events of one transaction share their time; which of them arrives last is not fixed.
    const requested = at('/a').map(bodyOf).filter((b) => b.type === 'case.information_requested')
    expect(requested).toHaveLength(1)
    expect(requested[0]).toMatchObject({ type: 'case.information_requested', data: { caseId: c.id, status: 'awaiting_information' } })
    // The specialist's message goes nowhere near a webhook body.
    expect(at('/a').some((r) => r.body.includes('Jansen'))).toBe(false)
  })

  it('document.reviewed comes from the review worker’s transaction', async () => {
    const c = await submit(region.members[0].key)
    const doc = await uploadOk(t.app, region.members[0].key, c.id, { kind: 'birth_certificate', issuingCountry: 'DE', language: 'de' }, filePart(minimalPdf(), 'akte.pdf', 'application/pdf'))
    const before = (await deliveriesOf(t.database.owner, subHub.id)).length
    await runDocumentReview({ db: t.database.db, store: new FilesystemBlobStore(blobDir), masterKey: t.config.blobMasterKey, integrityThread: COMPILED_INTEGRITY_THREAD }, { tenantId: region.hub.id, documentId: doc.id, reviewVersion: 1 })
    const rows = await deliveriesOf(t.database.owner, subHub.id)
    expect(rows.slice(before).map((d) => d.type)).toEqual(['document.reviewed'])
    await attemptAll(testDeliveryDeps(t.database.db, t.config, new TestClock()), t.database.owner, subHub.id)
    expect(bodyOf(at('/hub').at(-1)!)).toMatchObject({ type: 'document.reviewed', data: { documentId: doc.id, caseId: c.id, url: `https://regiobalie.example/v1/documents/${doc.id}` } })
    expect((await deliveriesOf(t.database.owner, subA.id)).at(-1)!.type).toBe('document.reviewed')
  })

  it('a tenant cannot fan out an event of another tenant’s object', async () => {
    await expect(
      withTenantOf(t.database.db, region.members[1].id, (trx) =>
        emitEvent(trx, { type: 'case.submitted', hubTenantId: other.hub.id, memberTenantId: region.members[0].id, objectPath: '/v1/cases/x', data: {} }),
      ),
    ).rejects.toThrow(/not the current tenant/)
  })

  it('a rolled-back change sends nothing', async () => {
    const before = (await deliveriesOf(t.database.owner, subA.id)).length
    await expect(
      withTenantOf(t.database.db, region.members[0].id, async (trx) => {
        await emitEvent(trx, { type: 'case.submitted', hubTenantId: region.hub.id, memberTenantId: region.members[0].id, objectPath: '/v1/cases/x', data: {} })
        throw new Error('the change failed')
      }),
    ).rejects.toThrow('the change failed')
    expect(await deliveriesOf(t.database.owner, subA.id)).toHaveLength(before)
  })

  it('announces the event’s deliveries through one outbox row, with ids and the tenant only', async () => {
    const c = await submit(region.members[0].key)
    const { rows: deliveries } = await sql<{ event_id: string; tenant_id: string }>`
      select event_id, tenant_id from webhook_deliveries where event->'data'->>'caseId' = ${c.id}`.execute(t.database.owner)
    expect(deliveries.map((d) => d.tenant_id).sort()).toEqual([region.hub.id, region.members[0].id].sort())
    const { rows } = await sql<{ payload: Record<string, string>; tenant_id: string }>`
      select payload, tenant_id from outbox where queue = 'notifications' and job_name = 'deliver-event' and payload->>'eventId' = ${deliveries[0]!.event_id}`.execute(t.database.owner)
    expect(rows).toHaveLength(1)
    expect(rows[0]!.payload).toEqual({ tenantId: region.hub.id, eventId: deliveries[0]!.event_id })
    // The row counts against the tenant whose change it announces (the relay's fairness key).
    expect(rows[0]!.tenant_id).toBe(region.members[0].id)
    const outcomes = await attemptEventDeliveries(testDeliveryDeps(t.database.db, t.config, new TestClock()), rows[0]!.payload as { tenantId: string; eventId: string })
    expect(outcomes).toEqual(['delivered', 'delivered'])
  })

  it('sends the ZGW Notificaties shape to a subscription that asked for it', async () => {
    const zgw = await subscribe(t.app, region.members[0].key, { url: receiver.url('/zgw'), events: ['case.submitted'], format: 'zgw' })
    const c = await submit(region.members[0].key)
    await attemptAll(testDeliveryDeps(t.database.db, t.config, new TestClock()), t.database.owner, zgw.id)
    const r = at('/zgw')[0]!
    expect(verify(zgw.secret, r)).toBeTruthy()
    const body = JSON.parse(r.body) as Record<string, unknown> & { kenmerken: Record<string, string>; aanmaakdatum: string }
    expect(Object.keys(body).sort()).toEqual(['aanmaakdatum', 'actie', 'hoofdObject', 'kanaal', 'kenmerken', 'resource', 'resourceUrl'])
    expect(body).toMatchObject({
      kanaal: 'zaken',
      hoofdObject: `https://regiobalie.example/v1/cases/${c.id}`,
      resource: 'zaak',
      resourceUrl: `https://regiobalie.example/v1/cases/${c.id}`,
      actie: 'create',
      kenmerken: { type: 'case.submitted', caseId: c.id, reference: c.reference, caseType: 'naturalisation', status: 'submitted' },
    })
    expect(body.aanmaakdatum).toMatch(/^\d{4}-\d\d-\d\dT/)
  })
})

describe('retries', () => {
  it('follow the schedule on the clock, then the delivery is dead, listed, and redeliverable with the same webhook-id', async () => {
    receiver.on('/fail', answer(500, 'x'.repeat(2_000)))
    const sub = await subscribe(t.app, region.members[0].key, { url: receiver.url('/fail'), events: ['webhook.test'] })
    const clock = new TestClock()
    const deps = testDeliveryDeps(t.database.db, t.config, clock)
    const delivery = await testEvent(region.members[0].key, sub.id)
    const payload = { tenantId: region.members[0].id, deliveryId: delivery.id }
    const expectedDelays = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]

    for (const [i, delay] of expectedDelays.entries()) {
      const attemptedAt = clock.now()
      expect(await attemptDelivery(deps, payload)).toBe('failed')
      const [row] = await deliveriesOf(t.database.owner, sub.id)
      expect(row).toMatchObject({ status: 'failed', attempts: i + 1 })
      expect(row!.next_attempt_at!.getTime() - attemptedAt.getTime()).toBe(delay)
      // Not due a millisecond early; due on time, and the sweep announces it through the outbox.
      clock.set(new Date(row!.next_attempt_at!.getTime() - 1))
      await sweepDueDeliveries({ db: t.database.db, now: clock.now })
      expect((await deliveriesOf(t.database.owner, sub.id))[0]!.next_attempt_at).toEqual(row!.next_attempt_at)
      clock.advance(1)
      expect(await sweepDueDeliveries({ db: t.database.db, now: clock.now })).toBeGreaterThanOrEqual(1)
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from outbox where payload->>'deliveryId' = ${delivery.id}`.execute(t.database.owner)
      expect(rows[0]!.n).toBe(i + 2)
    }
    expect(await attemptDelivery(deps, payload)).toBe('dead')
    expect(await attemptDelivery(deps, payload)).toBe('skipped')

    const received = at('/fail')
    expect(received).toHaveLength(8)
    expect(new Set(received.map((r) => r.headers['webhook-id']))).toEqual(new Set([delivery.id]))
    const stamps = received.map((r) => Number(r.headers['webhook-timestamp']))
    expect([...stamps].sort((a, b) => a - b)).toEqual(stamps)

    const dead = expectOk<{ items: DeliveryJson[] }>(await send(t.app, 'GET', `/v1/webhooks/${sub.id}/deliveries?status=dead`, region.members[0].key)).items
    expect(dead).toHaveLength(1)
    expect(dead[0]).toMatchObject({ id: delivery.id, status: 'dead', attempts: 8, lastStatusCode: 500, nextAttemptAt: null, type: 'webhook.test' })
    expect(dead[0]!.responseExcerpt!.length).toBeLessThanOrEqual(256)
    expect(expectOk<{ items: DeliveryJson[] }>(await send(t.app, 'GET', `/v1/webhooks/${sub.id}/deliveries?status=delivered`, region.members[0].key)).items).toEqual([])

    receiver.on('/fail', answer(200, 'ok'))
    const again = expectOk<DeliveryJson>(await send(t.app, 'POST', `/v1/webhooks/${sub.id}/deliveries/${delivery.id}/redeliver`, region.members[0].key), 202)
    expect(again).toMatchObject({ id: delivery.id, status: 'pending', attempts: 0 })
    expect(await attemptDelivery(deps, payload)).toBe('delivered')
    expect(at('/fail').at(-1)!.headers['webhook-id']).toBe(delivery.id)
    expect(verify(sub.secret, at('/fail').at(-1)!, clock.now())).toBeTruthy()
    const list = expectOk<{ items: DeliveryJson[] }>(await send(t.app, 'GET', `/v1/webhooks/${sub.id}/deliveries`, region.members[0].key)).items
    expect(list[0]).toMatchObject({ status: 'delivered', attempts: 1, lastStatusCode: 200, nextAttemptAt: null })
  })

  it('the sweep wakes the pump of a subscription whose first attempts were left behind, once, instead of a job per delivery', async () => {
    const sub = await subscribe(t.app, region.members[0].key, { url: receiver.url('/left-behind'), events: ['webhook.test'] })
    const deliveries = [await testEvent(region.members[0].key, sub.id), await testEvent(region.members[0].key, sub.id), await testEvent(region.members[0].key, sub.id)]
    const jobs = async () =>
      (await sql<{ n: number }>`select count(*)::int as n from outbox where payload->>'deliveryId' = any(${deliveries.map((d) => d.id)}::text[])`.execute(t.database.owner)).rows[0]!.n
    const before = await jobs()
    // Never attempted, no lease held: due once their first attempt is a minute overdue.
    const later = () => new Date(Date.now() + 120_000)
    const woken: Array<[string, string]> = []
    const swept = await sweepDueDeliveries({ db: t.database.db, now: later }, 1_000, (tenantId, subscriptionId) => woken.push([tenantId, subscriptionId]))
    expect(swept).toBeGreaterThanOrEqual(3)
    expect(woken.filter(([, s]) => s === sub.id)).toEqual([[region.members[0].id, sub.id]])
    expect(await jobs()).toBe(before)
    // Without a pump to wake (an older caller), each left-behind delivery is a job of its own.
    const next = () => new Date(Date.now() + 240_000)
    await sweepDueDeliveries({ db: t.database.db, now: next })
    expect(await jobs()).toBe(before + 3)
  })

  it('do not follow redirects, give up on a receiver after the timeout, and count a refused connection as a failure', async () => {
    receiver.on('/redirect', answer(302, '', { location: receiver.url('/target') }))
    receiver.on('/silent', () => undefined)
    const clock = new TestClock()
    const deps = testDeliveryDeps(t.database.db, t.config, clock, { timeoutMs: 300 })
    for (const [path, expected] of [['/redirect', { last_status_code: 302, last_error: null }], ['/silent', { last_status_code: null, last_error: 'timeout' }]] as const) {
      const sub = await subscribe(t.app, region.members[0].key, { url: receiver.url(path), events: ['webhook.test'] })
      const d = await testEvent(region.members[0].key, sub.id)
      expect(await attemptDelivery(deps, { tenantId: region.members[0].id, deliveryId: d.id })).toBe('failed')
      const { rows } = await sql<{ last_status_code: number | null; last_error: string | null }>`
        select last_status_code, last_error from webhook_deliveries where id = ${d.id}`.execute(t.database.owner)
      expect(rows[0]).toEqual(expected)
    }
    expect(at('/target')).toEqual([])
    const closed = await subscribe(t.app, region.members[0].key, { url: 'http://127.0.0.1:1/nobody', events: ['webhook.test'] })
    const d = await testEvent(region.members[0].key, closed.id)
    expect(await attemptDelivery(deps, { tenantId: region.members[0].id, deliveryId: d.id })).toBe('failed')
    const { rows } = await sql<{ last_error: string }>`select last_error from webhook_deliveries where id = ${d.id}`.execute(t.database.owner)
    expect(rows[0]!.last_error).toBe('connection-refused')
  })
})

describe('rotation', () => {
  it('signs with both secrets for 24 hours, then with the new one only', async () => {
    const sub = await subscribe(t.app, region.hub.key, { url: receiver.url('/rotate'), events: ['webhook.test'] })
    const rotated = expectOk<WebhookJson>(await send(t.app, 'POST', `/v1/webhooks/${sub.id}/rotate-secret`, region.hub.key))
    expect(rotated.secret).not.toBe(sub.secret)
    const expires = new Date(rotated.previousSecretExpiresAt!)
    expect(Math.abs(expires.getTime() - Date.now() - 24 * 3_600_000)).toBeLessThan(60_000)

    const clock = new TestClock()
    const deps = testDeliveryDeps(t.database.db, t.config, clock)
    const first = await testEvent(region.hub.key, sub.id)
    expect(await attemptDelivery(deps, { tenantId: region.hub.id, deliveryId: first.id })).toBe('delivered')
    const during = at('/rotate')[0]!
    expect((during.headers['webhook-signature'] as string).split(' ')).toHaveLength(2)
    expect(verify(sub.secret, during, clock.now())).toBeTruthy()
    expect(verify(rotated.secret, during, clock.now())).toBeTruthy()

    clock.set(new Date(expires.getTime() + 1_000))
    const second = await testEvent(region.hub.key, sub.id)
    expect(await attemptDelivery(deps, { tenantId: region.hub.id, deliveryId: second.id })).toBe('delivered')
    const after = at('/rotate')[1]!
    expect((after.headers['webhook-signature'] as string).split(' ')).toHaveLength(1)
    expect(verify(rotated.secret, after, clock.now())).toBeTruthy()
    expect(() => verify(sub.secret, after, clock.now())).toThrow()
  })
})

describe('disabling', () => {
  it('a 410 disables the subscription: no more deliveries, test and redeliver refused', async () => {
    receiver.on('/gone', answer(410))
    const sub = await subscribe(t.app, region.members[0].key, { url: receiver.url('/gone'), events: ['webhook.test', 'case.submitted'] })
    const d = await testEvent(region.members[0].key, sub.id)
    const deps = testDeliveryDeps(t.database.db, t.config, new TestClock())
    expect(await attemptDelivery(deps, { tenantId: region.members[0].id, deliveryId: d.id })).toBe('gone')
    expect(expectOk(await send(t.app, 'GET', `/v1/webhooks/${sub.id}`, region.members[0].key))).toMatchObject({ status: 'disabled', disabledReason: 'gone' })
    await submit(region.members[0].key)
    expect(await deliveriesOf(t.database.owner, sub.id)).toHaveLength(1)
    expectProblem(await send(t.app, 'POST', `/v1/webhooks/${sub.id}/test`, region.members[0].key), 409, 'webhook-disabled')
    expectProblem(await send(t.app, 'POST', `/v1/webhooks/${sub.id}/deliveries/${d.id}/redeliver`, region.members[0].key), 409, 'webhook-disabled')
    expect(at('/gone')).toHaveLength(1)
  })

  it('five days of failures on end disable the subscription, and the tenant’s other subscriptions hear of it', async () => {
    receiver.on('/down', answer(503))
    const r = await newRegion(t.database.db)
    const down = await subscribe(t.app, r.members[0].key, { url: receiver.url('/down'), events: ['webhook.test'] })
    const notice = await subscribe(t.app, r.members[0].key, { url: receiver.url('/notice'), events: ['case.submitted'] })
    const clock = new TestClock()
    const deps = testDeliveryDeps(t.database.db, t.config, clock)
    const first = await testEvent(r.members[0].key, down.id)
    expect(await attemptDelivery(deps, { tenantId: r.members[0].id, deliveryId: first.id })).toBe('failed')
    clock.advance(5 * 86_400_000 - 60_000)
    const second = await testEvent(r.members[0].key, down.id)
    expect(await attemptDelivery(deps, { tenantId: r.members[0].id, deliveryId: second.id })).toBe('failed')
    expect(expectOk(await send(t.app, 'GET', `/v1/webhooks/${down.id}`, r.members[0].key))).toMatchObject({ status: 'active' })
    clock.advance(60_000)
    const third = await testEvent(r.members[0].key, down.id)
    expect(await attemptDelivery(deps, { tenantId: r.members[0].id, deliveryId: third.id })).toBe('failed')
    expect(expectOk(await send(t.app, 'GET', `/v1/webhooks/${down.id}`, r.members[0].key))).toMatchObject({ status: 'disabled', disabledReason: 'failing' })
    // The scheduled retries of the disabled subscription end as dead letters, unsent.
    expect(await attemptDelivery(deps, { tenantId: r.members[0].id, deliveryId: first.id })).toBe('dead')

    expect((await deliveriesOf(t.database.owner, notice.id)).map((d) => d.type)).toEqual(['webhook.disabled'])
    await attemptAll(deps, t.database.owner, notice.id)
    expect(bodyOf(at('/notice')[0]!)).toMatchObject({ type: 'webhook.disabled', data: { subscriptionId: down.id, status: 'disabled', reason: 'failing' } })
    expect(at('/down')).toHaveLength(3)
  })
})

describe('fairness', () => {
  it('caps the attempts in flight per subscription: a slow receiver’s next delivery is deferred while others go', async () => {
    let release: () => void = () => undefined
    receiver.on('/slow', (_req, res) => {
      release = () => res.writeHead(200).end()
    })
    const slow = await subscribe(t.app, region.hub.key, { url: receiver.url('/slow'), events: ['webhook.test'] })
    const fast = await subscribe(t.app, region.hub.key, { url: receiver.url('/fast'), events: ['webhook.test'] })
    const clock = new TestClock()
    const deps = testDeliveryDeps(t.database.db, t.config, clock, { maxInFlightPerSubscription: 1, timeoutMs: 5_000 })
    const [d1, d2, d3] = [await testEvent(region.hub.key, slow.id), await testEvent(region.hub.key, slow.id), await testEvent(region.hub.key, fast.id)]
    const first = attemptDelivery(deps, { tenantId: region.hub.id, deliveryId: d1.id })
    for (let i = 0; i < 100 && at('/slow').length === 0; i += 1) await new Promise((r) => setTimeout(r, 20))
    expect(at('/slow')).toHaveLength(1)
    expect(await attemptDelivery(deps, { tenantId: region.hub.id, deliveryId: d2.id })).toBe('deferred')
    const { rows } = await sql<{ next_attempt_at: Date; status: string }>`select next_attempt_at, status from webhook_deliveries where id = ${d2.id}`.execute(t.database.owner)
    expect(rows[0]!.status).toBe('pending')
    expect(rows[0]!.next_attempt_at.getTime() - clock.now().getTime()).toBe(3_000) // 1 s + 4 s × random 0.5
    expect(await attemptDelivery(deps, { tenantId: region.hub.id, deliveryId: d3.id })).toBe('delivered')
    release()
    receiver.on('/slow', answer(200))
    expect(await first).toBe('delivered')
    expect(await attemptDelivery(deps, { tenantId: region.hub.id, deliveryId: d2.id })).toBe('delivered')
  })
})

describe('the SSRF guard at delivery', () => {
  it('refuses an address that became internal after the subscription was made, and sends nothing there', async () => {
    const sub = await subscribe(t.app, region.members[0].key, { url: receiver.url('/ssrf'), events: ['webhook.test'] })
    const rebound = await subscribe(t.app, region.members[0].key, { url: 'https://receiver.example/hook', events: ['webhook.test'] })
    const clock = new TestClock()
    const guarded = testDeliveryDeps(t.database.db, t.config, clock, {
      allowPrivateNetworks: false,
      resolve: async () => [{ address: '10.1.2.3', family: 4 }],
    })
    for (const s of [sub, rebound]) {
      const d = await testEvent(region.members[0].key, s.id)
      expect(await attemptDelivery(guarded, { tenantId: region.members[0].id, deliveryId: d.id })).toBe('refused')
      const { rows } = await sql<{ status: string; last_error: string }>`select status, last_error from webhook_deliveries where id = ${d.id}`.execute(t.database.owner)
      expect(rows[0]).toEqual({ status: 'failed', last_error: 'url-not-allowed' })
    }
    expect(at('/ssrf')).toEqual([])
  })
})

describe('personal data', () => {
  it('appears in no body any subscription received in this file', () => {
    expect(subjects.length).toBeGreaterThan(5)
    expect(receiver.allBodies.length).toBeGreaterThan(20)
    for (const body of receiver.allBodies) {
      for (const s of subjects) {
        if (s.bsn) expect(body).not.toContain(s.bsn)
        expect(body).not.toContain(s.surname)
        for (const name of s.givenNames.split(' ')) expect(body).not.toContain(name)
        expect(body).not.toContain(s.dateOfBirth)
      }
    }
  })
})
