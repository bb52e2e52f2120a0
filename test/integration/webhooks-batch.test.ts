// Batched delivery (api/webhooks/delivery.ts pumpStep/pumpSend, api/webhooks/delivery-pump.ts):
// a subscription's pending deliveries are claimed, sent and recorded in batches. Each delivery of a
// batch keeps its own outcome; a batch sent but not recorded (a crash) is sent again once its
// leases expire, the recorded ones never; two pumps (two processes) together hold no more than the
// subscription's in-flight cap; a 410 in a batch disables the subscription and ends the rest unsent.
import { sql } from 'kysely'
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { withTenantOf } from '../../api/db/database.js'
import { attemptDelivery, pumpSend, pumpStep, sweepDueDeliveries, type SentBatch } from '../../api/webhooks/delivery.js'
import { pendingSubscriptionsOfEvents } from '../../api/webhooks/webhooks.repository.js'
import { DEFAULT_PUMP_OPTIONS, DeliveryPumps } from '../../api/webhooks/delivery-pump.js'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { newRegion, type RegionFixture } from '../helpers/builders.js'
import { send } from '../helpers/case-builders.js'
import { eventually } from '../helpers/document-builders.js'
import { expectOk } from '../helpers/tenancy-builders.js'
import { startReceiver, type Received, type Receiver } from '../helpers/webhook-receiver.js'
import { deliveriesOf, subscribe, TestClock, testDeliveryDeps, type DeliveryJson, type WebhookJson } from '../helpers/webhook-builders.js'

let t: TestApp
let region: RegionFixture
let receiver: Receiver

beforeAll(async () => {
  t = await startTestApp({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' })
  region = await newRegion(t.database.db)
  receiver = await startReceiver()
})
afterAll(async () => {
  await receiver.close()
  await t.close()
})

const at = (path: string): Received[] => receiver.received.filter((r) => r.path === path)
const idsAt = (path: string): string[] => at(path).map((r) => r.headers['webhook-id'] as string)

/** A subscription of the first member with `n` pending webhook.test deliveries (no worker runs here). */
async function withPending(path: string, n: number): Promise<{ sub: WebhookJson; ids: string[] }> {
  const key = region.members[0].key
  const sub = await subscribe(t.app, key, { url: receiver.url(path), events: ['webhook.test'] })
  const ids: string[] = []
  for (let i = 0; i < n; i += 1) ids.push(expectOk<DeliveryJson>(await send(t.app, 'POST', `/v1/webhooks/${sub.id}/test`, key), 202).id)
  return { sub, ids }
}

async function statuses(subscriptionId: string): Promise<Map<string, { status: string; attempts: number; next: Date | null }>> {
  return new Map((await deliveriesOf(t.database.owner, subscriptionId)).map((d) => [d.id, { status: d.status, attempts: d.attempts, next: d.next_attempt_at }]))
}

describe('a batch', () => {
  it('keeps each delivery’s own outcome: one failing receiver answer fails that delivery only', async () => {
    const { sub, ids } = await withPending('/mixed', 4)
    const failing = ids[2]!
    receiver.on('/mixed', (r, res) => res.writeHead(r.headers['webhook-id'] === failing ? 500 : 204).end())
    const clock = new TestClock()
    const deps = testDeliveryDeps(t.database.db, t.config, clock)
    const tenant = region.members[0].id

    const first = await pumpStep(deps, tenant, sub.id, 4, null)
    expect(first.next!.deliveries.map((d) => d.id).sort()).toEqual([...ids].sort())
    const sent = await pumpSend(deps, first.next!, first.startedAt)
    const second = await pumpStep(deps, tenant, sub.id, 4, sent)
    expect(second.next).toBeNull()

    const rows = await statuses(sub.id)
    expect(rows.get(failing)).toMatchObject({ status: 'failed', attempts: 1 })
    expect(rows.get(failing)!.next!.getTime() - clock.now().getTime()).toBe(5_000)
    for (const id of ids.filter((x) => x !== failing)) expect(rows.get(id)).toMatchObject({ status: 'delivered', attempts: 1, next: null })
    // A success in the batch: the receiver is up, the subscription is not failing.
    const { rows: s } = await sql<{ failing_since: Date | null }>`select failing_since from webhook_subscriptions where id = ${sub.id}`.execute(t.database.owner)
    expect(s[0]!.failing_since).toBeNull()
    // Every request of the batch is signed with the reference library's scheme, its webhook-id the delivery's.
    for (const r of at('/mixed')) expect(new Webhook(sub.secret).verify(r.body, r.headers as Record<string, string>)).toMatchObject({ type: 'webhook.test' })
    expect(idsAt('/mixed').sort()).toEqual([...ids].sort())
  })

  it('sent but not recorded (a crash) is sent again after its leases expire; the recorded ones never are', async () => {
    const { sub, ids } = await withPending('/crash', 8)
    const clock = new TestClock()
    const deps = testDeliveryDeps(t.database.db, t.config, clock)
    const tenant = region.members[0].id

    const a = await pumpStep(deps, tenant, sub.id, 4, null)
    const sentA = await pumpSend(deps, a.next!, a.startedAt)
    // Recording A and claiming B is one transaction; B is sent, then the process dies.
    const b = await pumpStep(deps, tenant, sub.id, 4, sentA)
    await pumpSend(deps, b.next!, b.startedAt)
    const aIds = a.next!.deliveries.map((d) => d.id)
    const bIds = b.next!.deliveries.map((d) => d.id)
    expect([...aIds, ...bIds].sort()).toEqual([...ids].sort())

    // While B's leases hold, another pump takes nothing: the cap (4) is full of them.
    expect((await pumpStep(deps, tenant, sub.id, 4, null)).next).toBeNull()
    clock.advance(2_000 + 20_000 + 1)
    let sent: SentBatch | null = null
    for (let i = 0; i < 5; i += 1) {
      const step = await pumpStep(deps, tenant, sub.id, 4, sent)
      sent = step.next ? await pumpSend(deps, step.next, step.startedAt) : null
      if (!sent) break
    }
    const counts = new Map<string, number>()
    for (const id of idsAt('/crash')) counts.set(id, (counts.get(id) ?? 0) + 1)
    for (const id of aIds) expect(counts.get(id)).toBe(1)
    for (const id of bIds) expect(counts.get(id)).toBe(2)
    const rows = await statuses(sub.id)
    for (const id of ids) expect(rows.get(id)!.status).toBe('delivered')
    for (const id of bIds) expect(rows.get(id)!.attempts).toBe(1)
  })

  it('with a 410 disables the subscription, keeps the others of the batch delivered and ends the rest unsent', async () => {
    const { sub, ids } = await withPending('/gone-batch', 6)
    const clock = new TestClock()
    const deps = testDeliveryDeps(t.database.db, t.config, clock)
    const tenant = region.members[0].id
    const first = await pumpStep(deps, tenant, sub.id, 3, null)
    const gone = first.next!.deliveries[1]!.id
    receiver.on('/gone-batch', (r, res) => res.writeHead(r.headers['webhook-id'] === gone ? 410 : 204).end())
    const sent = await pumpSend(deps, first.next!, first.startedAt)
    const second = await pumpStep(deps, tenant, sub.id, 3, sent)
    expect(second.next).toBeNull()
    expect(second.ended).toBe(3)
    const rows = await statuses(sub.id)
    for (const d of first.next!.deliveries) expect(rows.get(d.id)!.status).toBe(d.id === gone ? 'dead' : 'delivered')
    expect(ids.filter((id) => rows.get(id)!.status === 'dead')).toHaveLength(4)
    expect(at('/gone-batch')).toHaveLength(3)
    expect(expectOk(await send(t.app, 'GET', `/v1/webhooks/${sub.id}`, region.members[0].key))).toMatchObject({ status: 'disabled', disabledReason: 'gone' })
  })
})

describe('a pump step in one statement (webhook_pump_lease_step)', () => {
  it('claims only under the subscriber’s own tenant: another tenant’s step leases and records nothing', async () => {
    const { sub, ids } = await withPending('/tenant-step', 2)
    const clock = new TestClock()
    const deps = testDeliveryDeps(t.database.db, t.config, clock)
    const owner = region.members[0].id
    const other = region.members[1].id
    // The other member (and the hub) cannot see the subscription: nothing is locked, leased or ended.
    for (const tenant of [other, region.hub.id]) {
      const step = await pumpStep(deps, tenant, sub.id, 4, null)
      expect(step.next).toBeNull()
      expect(step.ended).toBe(0)
    }
    const first = await pumpStep(deps, owner, sub.id, 4, null)
    expect(first.next!.deliveries.map((d) => d.id).sort()).toEqual([...ids].sort())
    const sent = await pumpSend(deps, first.next!, first.startedAt)
    // The outcomes recorded under another tenant touch no row of this one; the leases stay held.
    await pumpStep(deps, other, sub.id, 0, sent)
    for (const d of (await statuses(sub.id)).values()) expect(d).toMatchObject({ status: 'pending', attempts: 0 })
    await pumpStep(deps, owner, sub.id, 0, sent)
    for (const d of (await statuses(sub.id)).values()) expect(d).toMatchObject({ status: 'delivered', attempts: 1 })
    expect(idsAt('/tenant-step').sort()).toEqual([...ids].sort())
  })
})

describe('a pump’s leases (webhook_pump_leases, migration 0027)', () => {
  it('claim a batch without writing its deliveries; while held, a deliver job, the sweep and redelivery leave them alone and the cap counts them', async () => {
    const { sub, ids } = await withPending('/pump-leases', 3)
    const clock = new TestClock()
    const deps = testDeliveryDeps(t.database.db, t.config, clock, { maxInFlightPerSubscription: 2 })
    const tenant = region.members[0].id
    const owner = t.database.owner
    const rowVersions = async () =>
      new Map((await sql<{ id: string; v: string; leased_until: Date | null }>`select id, xmin::text as v, leased_until from webhook_deliveries where subscription_id = ${sub.id}`.execute(owner)).rows.map((r) => [r.id, r]))
    const leases = async () => (await sql<{ lease_ids: string[] }>`select lease_ids from webhook_pump_leases where subscription_id = ${sub.id}`.execute(owner)).rows[0]?.lease_ids ?? []

    const before = await rowVersions()
    const first = await pumpStep(deps, tenant, sub.id, 4, null)
    const held = first.next!.deliveries.map((d) => d.id)
    expect(held).toEqual(ids.slice(0, 2))
    const rest = ids[2]!
    expect(await leases()).toEqual(held)
    // The claimed deliveries' rows are as they were: no lease on them, no new row version.
    const after = await rowVersions()
    for (const id of ids) expect(after.get(id)).toEqual(before.get(id))

    // A deliver job of a held delivery is skipped; the third is deferred: the cap (2) is full.
    expect(await attemptDelivery(deps, { tenantId: tenant, deliveryId: held[0]! })).toBe('skipped')
    expect(await attemptDelivery(deps, { tenantId: tenant, deliveryId: rest })).toBe('deferred')
    expect(at('/pump-leases')).toHaveLength(0)
    // Redelivery of a held one is refused as an attempt under way.
    const refused = await send(t.app, 'POST', `/v1/webhooks/${sub.id}/deliveries/${held[1]!}/redeliver`, region.members[0].key)
    expect(refused.statusCode).toBe(409)
    expect(refused.json()).toMatchObject({ code: 'delivery-in-progress' })
    // The sweep takes no delivery of a subscription whose pump holds leases, even when they are due.
    await sql`update webhook_deliveries set next_attempt_at = ${new Date(clock.now().getTime() - 1_000)} where subscription_id = ${sub.id}`.execute(owner)
    await sweepDueDeliveries(deps)
    for (const d of (await statuses(sub.id)).values()) expect(d.next!.getTime()).toBe(clock.now().getTime() - 1_000)

    // Recording the batch releases its leases and claims the third; recording that one leaves none.
    const second = await pumpStep(deps, tenant, sub.id, 4, await pumpSend(deps, first.next!, first.startedAt))
    expect(second.next!.deliveries.map((d) => d.id)).toEqual([rest])
    expect(await leases()).toEqual([rest])
    const third = await pumpStep(deps, tenant, sub.id, 4, await pumpSend(deps, second.next!, second.startedAt))
    expect(third.next).toBeNull()
    expect(await leases()).toEqual([])
    for (const d of (await statuses(sub.id)).values()) expect(d).toMatchObject({ status: 'delivered', attempts: 1 })
    expect(idsAt('/pump-leases').sort()).toEqual([...ids].sort())
  })

  it('that expired count for nothing: a dead pump’s batch is claimed again, by a step or by a deliver job', async () => {
    const { sub, ids } = await withPending('/pump-expired', 2)
    const clock = new TestClock()
    const deps = testDeliveryDeps(t.database.db, t.config, clock, { maxInFlightPerSubscription: 2 })
    const tenant = region.members[0].id
    const first = await pumpStep(deps, tenant, sub.id, 4, null)
    expect(first.next!.deliveries).toHaveLength(2)
    // The pump dies before it sends. Its leases expire (timeout 2 s + margin 20 s).
    clock.advance(22_001)
    expect(await attemptDelivery(deps, { tenantId: tenant, deliveryId: ids[0]! })).toBe('delivered')
    const again = await pumpStep(deps, tenant, sub.id, 4, null)
    expect(again.next!.deliveries.map((d) => d.id)).toEqual([ids[1]!])
    await pumpStep(deps, tenant, sub.id, 0, await pumpSend(deps, again.next!, again.startedAt))
    for (const d of (await statuses(sub.id)).values()) expect(d).toMatchObject({ status: 'delivered', attempts: 1 })
    expect(idsAt('/pump-expired').sort()).toEqual([...ids].sort())
  })
})

describe('the lookup of an event’s subscriptions (webhook_pending_subscriptions)', () => {
  it('finds them across tenants, and its admin setting does not outlive it in the caller’s transaction', async () => {
    const { sub, ids } = await withPending('/lookup', 1)
    const { rows } = await sql<{ event_id: string }>`select event_id from webhook_deliveries where id = ${ids[0]!}`.execute(t.database.owner)
    const eventId = rows[0]!.event_id
    const after = await withTenantOf(t.database.db, region.members[1].id, async (trx) => {
      const found = await pendingSubscriptionsOfEvents(trx, [eventId])
      const { rows: setting } = await sql<{ admin: string | null }>`select current_setting('app.admin', true) as admin`.execute(trx)
      const { rows: visible } = await sql<{ n: number }>`select count(*)::int as n from webhook_subscriptions where id = ${sub.id}`.execute(trx)
      return { found, admin: setting[0]!.admin, visible: visible[0]!.n }
    })
    expect(after.found).toEqual([{ subscription_id: sub.id, tenant_id: region.members[0].id }])
    expect(after.admin).not.toBe('on')
    expect(after.visible).toBe(0)
  })
})

describe('the pumps', () => {
  it('of two processes together hold no more than the in-flight cap, and send every delivery once', async () => {
    let inFlight = 0
    let most = 0
    const { sub, ids } = await withPending('/capped', 12)
    receiver.on('/capped', (_r, res) => {
      inFlight += 1
      most = Math.max(most, inFlight)
      setTimeout(() => {
        inFlight -= 1
        res.writeHead(204).end()
      }, 40)
    })
    const deps = testDeliveryDeps(t.database.db, t.config, new TestClock(), { maxInFlightPerSubscription: 3, now: () => new Date() })
    const one = new DeliveryPumps(deps, { ...DEFAULT_PUMP_OPTIONS, lanes: 2 })
    const two = new DeliveryPumps(deps, { ...DEFAULT_PUMP_OPTIONS, lanes: 2 })
    one.wake(region.members[0].id, sub.id)
    two.wake(region.members[0].id, sub.id)
    // An event's job wakes the pumps of its subscriptions by looking them up.
    const { rows } = await sql<{ event_id: string }>`select event_id from webhook_deliveries where id = ${ids[0]!}`.execute(t.database.owner)
    await two.wakeForEvents([rows[0]!.event_id])
    expect(await eventually(async () => [...(await statuses(sub.id)).values()].every((d) => d.status === 'delivered'), 15_000)).toBe(true)
    await Promise.all([one.close(), two.close()])
    expect(most).toBeLessThanOrEqual(3)
    expect(most).toBeGreaterThanOrEqual(2)
    expect(idsAt('/capped').sort()).toEqual([...ids].sort())
  })

  it('after a partial batch waits its linger before the next step, so that what arrived meanwhile goes in one step', async () => {
    const { sub, ids } = await withPending('/linger', 1)
    const key = region.members[0].key
    const arrived: number[] = []
    const later: string[] = []
    receiver.on('/linger', (_r, res) => {
      arrived.push(Date.now())
      res.writeHead(204).end()
    })
    const deps = testDeliveryDeps(t.database.db, t.config, new TestClock(), { now: () => new Date() })
    const pumps = new DeliveryPumps(deps, { lanes: 1, lingerMs: 400 })
    pumps.wake(region.members[0].id, sub.id)
    expect(await eventually(async () => arrived.length === 1, 5_000)).toBe(true)
    // Three more while the lane lingers after its batch of one: they wait for the step after it.
    for (let i = 0; i < 3; i += 1) later.push(expectOk<DeliveryJson>(await send(t.app, 'POST', `/v1/webhooks/${sub.id}/test`, key), 202).id)
    pumps.wake(region.members[0].id, sub.id)
    expect(await eventually(async () => arrived.length === 4, 5_000)).toBe(true)
    await pumps.close()
    expect(arrived[1]! - arrived[0]!).toBeGreaterThanOrEqual(300)
    // One step claimed all three: they were sent side by side.
    expect(arrived[3]! - arrived[1]!).toBeLessThan(300)
    expect(idsAt('/linger').sort()).toEqual([...ids, ...later].sort())
  })
})
