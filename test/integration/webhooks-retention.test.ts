// Storage of webhook deliveries: an event fanned out is stored once (webhook_events, migration
// 0031), readable by its hub and member only, and not at all when no subscription hears of it; and
// retention (workers/maintenance.ts purgeFinishedDeliveries): delivered and dead deliveries are
// removed 30 days after they finished, their event with the last of them; pending and failed ones
// (still in their retry schedule) and younger ones stay, and the deliveries list shows what is left.
import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { withTenantOf } from '../../api/db/database.js'
import { emitEvent } from '../../api/webhooks/events.js'
import { purgeFinishedDeliveries, WEBHOOK_DELIVERY_RETENTION_DAYS } from '../../workers/maintenance.js'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { newRegion, type RegionFixture } from '../helpers/builders.js'
import { send } from '../helpers/case-builders.js'
import { expectOk } from '../helpers/tenancy-builders.js'
import { subscribe, type DeliveryJson } from '../helpers/webhook-builders.js'

let t: TestApp
let region: RegionFixture

beforeAll(async () => {
  t = await startTestApp({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' })
  region = await newRegion(t.database.db)
})
afterAll(async () => {
  await t.close()
})

/** Puts a delivery in a status, finished `daysAgo` days ago. */
async function finished(id: string, status: string, daysAgo: number): Promise<void> {
  const at = sql`now() - make_interval(days => ${daysAgo})`
  await sql`
    update webhook_deliveries set status = ${status}, attempts = 1, last_attempt_at = ${at}, created_at = ${at},
      delivered_at = case when ${status} = 'delivered' then ${at} end,
      next_attempt_at = case when ${status} in ('pending', 'failed') then now() + interval '5 minutes' end
    where id = ${id}`.execute(t.database.owner)
}

describe('finished webhook deliveries', () => {
  it(`are removed ${WEBHOOK_DELIVERY_RETENTION_DAYS} days after they finished; unfinished and younger ones stay`, async () => {
    const key = region.members[0].key
    const sub = await subscribe(t.app, key, { url: 'http://127.0.0.1:9/hook', events: ['webhook.test'] })
    const ids: string[] = []
    for (let i = 0; i < 6; i += 1) ids.push(expectOk<DeliveryJson>(await send(t.app, 'POST', `/v1/webhooks/${sub.id}/test`, key), 202).id)
    const [oldDelivered, youngDelivered, oldDead, youngDead, oldFailed, oldPending] = ids as [string, string, string, string, string, string]
    await finished(oldDelivered, 'delivered', 31)
    await finished(youngDelivered, 'delivered', 29)
    await finished(oldDead, 'dead', 31)
    await finished(youngDead, 'dead', 29)
    await finished(oldFailed, 'failed', 31)
    await finished(oldPending, 'pending', 31)

    expect(await purgeFinishedDeliveries(t.database.db)).toBe(2)
    const listed = expectOk<{ items: DeliveryJson[] }>(await send(t.app, 'GET', `/v1/webhooks/${sub.id}/deliveries?limit=100`, key), 200).items.map((d) => d.id)
    expect(listed.sort()).toEqual([youngDelivered, youngDead, oldFailed, oldPending].sort())
    // A rerun finds nothing more to remove.
    expect(await purgeFinishedDeliveries(t.database.db)).toBe(0)
  })
})

describe('an event fanned out', () => {
  const emit = (tenantId: string, memberTenantId: string) =>
    withTenantOf(t.database.db, tenantId, (trx) =>
      emitEvent(trx, {
        type: 'case.status_changed',
        hubTenantId: region.hub.id,
        memberTenantId,
        objectPath: `/v1/cases/${randomUUID()}`,
        data: { caseId: randomUUID(), reference: 'RB-2026-000001', status: 'in_review', previousStatus: 'intake' },
      }),
    )
  const eventsOf = async (caseIdsOf: string) =>
    (await sql<{ id: string; n: number }>`select e.id, (select count(*)::int from webhook_deliveries d where d.event_id = e.id and d.event is null) as n from webhook_events e where e.event->'data'->>'caseId' = ${caseIdsOf}`.execute(t.database.owner)).rows

  it('is stored once for all its deliveries, readable by its hub and member only, and removed with the last of them', async () => {
    const [member, other] = region.members
    await subscribe(t.app, member.key, { url: 'http://127.0.0.1:9/once', events: ['case.status_changed'] })
    await subscribe(t.app, member.key, { url: 'http://127.0.0.1:9/twice', events: ['case.status_changed'] })
    await subscribe(t.app, region.hub.key, { url: 'http://127.0.0.1:9/hub', events: ['case.status_changed'] })
    expect(await emit(member.id, member.id)).toBe(3)
    const { rows: made } = await sql<{ case_id: string }>`select event->'data'->>'caseId' as case_id from webhook_events order by created_at desc limit 1`.execute(t.database.owner)
    const caseId = made[0]!.case_id
    const stored = await eventsOf(caseId)
    expect(stored).toHaveLength(1)
    expect(stored[0]!.n).toBe(3)
    // Its hub and its member read it (their pumps claim with it); another member does not.
    const visible = (tenantId: string) => withTenantOf(t.database.db, tenantId, async (trx) => (await sql<{ n: number }>`select count(*)::int as n from webhook_events where id = ${stored[0]!.id}`.execute(trx)).rows[0]!.n)
    expect(await visible(member.id)).toBe(1)
    expect(await visible(region.hub.id)).toBe(1)
    expect(await visible(other.id)).toBe(0)

    // Finished long ago: the deliveries go, and the event with the last of them.
    await sql`update webhook_deliveries set status = 'delivered', delivered_at = now() - interval '31 days', created_at = now() - interval '31 days' where event_id = ${stored[0]!.id}`.execute(t.database.owner)
    await sql`update webhook_events set created_at = now() - interval '31 days' where id = ${stored[0]!.id}`.execute(t.database.owner)
    expect(await purgeFinishedDeliveries(t.database.db)).toBe(3)
    expect(await eventsOf(caseId)).toHaveLength(0)
  })

  it('that no subscription hears of is not stored', async () => {
    const before = (await sql<{ n: number }>`select count(*)::int as n from webhook_events`.execute(t.database.owner)).rows[0]!.n
    // No subscription of the hub or the second member hears invoice.issued.
    expect(
      await withTenantOf(t.database.db, region.members[1].id, (trx) =>
        emitEvent(trx, { type: 'invoice.issued', hubTenantId: region.hub.id, memberTenantId: region.members[1].id, objectPath: `/v1/invoices/${randomUUID()}`, data: { invoiceId: randomUUID() } }),
      ),
    ).toBe(0)
    expect((await sql<{ n: number }>`select count(*)::int as n from webhook_events`.execute(t.database.owner)).rows[0]!.n).toBe(before)
  })
})
