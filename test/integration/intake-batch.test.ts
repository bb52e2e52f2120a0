// Issue 13, the relay's throughput: intake jobs of one hub that arrive together are checked in one
// transaction (workers/case-intake.ts, workers/batcher.ts). Each job still gets its own answer, a
// case is routed once even when its job is in the batch twice, another tenant's case is left alone,
// and the batch writes exactly what the one-case path writes: the same timeline row, version, due
// date, webhook deliveries and their outbox row.
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { newRegion, type RegionFixture } from '../helpers/builders.js'
import { submitCase, toIntake } from '../helpers/case-builders.js'
import { startReceiver, type Receiver } from '../helpers/webhook-receiver.js'
import { subscribe } from '../helpers/webhook-builders.js'
import { intakeBatcher } from '../../workers/case-intake.js'

let t: TestApp
let region: RegionFixture
let other: RegionFixture
let receiver: Receiver

beforeAll(async () => {
  t = await startTestApp({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' })
  region = await newRegion(t.database.db)
  other = await newRegion(t.database.db)
  receiver = await startReceiver()
  await subscribe(t.app, region.members[0].key, { url: receiver.url('/member'), events: ['case.status_changed'] })
  await subscribe(t.app, region.hub.key, { url: receiver.url('/hub'), events: ['case.status_changed'] })
})
afterAll(async () => {
  await receiver.close()
  await t.close()
})

interface Written {
  status: string
  version: number
  clock_due_on: string | null
  events: number
  action: string
  actor_kind: string
  actor_id: string
  reason: string | null
  from_status: string
  to_status: string
  deliveries: number
  jobs: number
}

/** What a case's intake wrote, read behind RLS. */
async function writtenFor(caseId: string): Promise<Written> {
  const { rows } = await sql<Written>`
    select c.status, c.version, c.clock_due_on::text as clock_due_on,
           (select count(*)::int from case_events e where e.case_id = c.id and e.action in ('route', 'reject_at_intake')) as events,
           e.action, e.actor_kind, e.actor_id, e.reason, e.from_status, e.to_status,
           (select count(*)::int from webhook_deliveries d where d.event->'data'->>'caseEventId' = e.id::text) as deliveries,
           (select count(*)::int from outbox o where o.job_name = 'deliver-event'
              and o.payload->>'eventId' in (select d.event_id::text from webhook_deliveries d where d.event->'data'->>'caseEventId' = e.id::text)) as jobs
    from cases c join case_events e on e.case_id = c.id and e.action in ('route', 'reject_at_intake')
    where c.id = ${caseId}`.execute(t.database.owner)
  expect(rows).toHaveLength(1)
  return rows[0]!
}

describe('intake jobs checked together', () => {
  it('routes every case of the batch once and answers each job on its own', async () => {
    const member = region.members[0]
    const cases = [] as string[]
    for (let i = 0; i < 5; i += 1) cases.push((await submitCase(t.app, member.key)).id)
    const already = (await submitCase(t.app, member.key)).id
    expect(await toIntake(t.database.db, region.hub.id, already)).toBe('routed')
    const foreign = (await submitCase(t.app, other.members[0].key)).id

    const batcher = intakeBatcher(t.database.db)
    const ids = [...cases, already, cases[0]!, foreign]
    // Added in one turn of the event loop: one batch, one transaction.
    const results = await Promise.all(ids.map((caseId) => batcher.add(region.hub.id, { tenantId: region.hub.id, caseId })))
    expect(results).toEqual(['routed', 'routed', 'routed', 'routed', 'routed', 'skipped', 'skipped', 'skipped'])

    // The case routed on its own and the batched ones wrote the same.
    const single = await writtenFor(already)
    expect(single).toMatchObject({ status: 'intake', events: 1, action: 'route', from_status: 'submitted', to_status: 'intake', deliveries: 2, jobs: 1 })
    for (const id of cases) expect(await writtenFor(id)).toEqual(single)
    // One transaction wrote the batch: its timeline rows carry the one transaction id.
    const { rows: times } = await sql<{ n: number }>`
      select count(distinct xmin::text)::int as n from case_events where action = 'route' and case_id = any(${cases}::uuid[])`.execute(t.database.owner)
    expect(times[0]!.n).toBe(1)
    // Another region's case is invisible to this hub and stays submitted.
    const { rows } = await sql<{ status: string }>`select status from cases where id = ${foreign}`.execute(t.database.owner)
    expect(rows[0]!.status).toBe('submitted')
  })

  it('fails only the job whose case cannot be checked, and still routes the others', async () => {
    const member = region.members[1]
    const good = [(await submitCase(t.app, member.key)).id, (await submitCase(t.app, member.key)).id]
    const batcher = intakeBatcher(t.database.db)
    const answers = await Promise.allSettled([
      batcher.add(region.hub.id, { tenantId: region.hub.id, caseId: good[0]! }),
      // Not a uuid: the batch's statement fails, then each job is tried on its own.
      batcher.add(region.hub.id, { tenantId: region.hub.id, caseId: 'not-a-case-id' }),
      batcher.add(region.hub.id, { tenantId: region.hub.id, caseId: good[1]! }),
    ])
    expect(answers.map((a) => a.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    expect(answers[0]).toMatchObject({ value: 'routed' })
    expect(answers[2]).toMatchObject({ value: 'routed' })
    for (const id of good) expect((await writtenFor(id)).events).toBe(1)
  })
})
