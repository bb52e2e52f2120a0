// Retention of webhook deliveries (workers/maintenance.ts purgeFinishedDeliveries): delivered and
// dead deliveries are removed 30 days after they finished; pending and failed ones (still in their
// retry schedule) and younger ones stay, and the deliveries list shows what is left.
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
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
