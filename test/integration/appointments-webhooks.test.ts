// Issue 10 with issue 11: the booking's outcome is announced to the webhook subscribers of the case's
// member and hub — the fan-out and its one outbox row are written by the booking's own statement
// (book_appointment, migration 0016), with ids, the reference and statuses only.
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { amsterdamToUtc, startOfNextWorkingDay, utcToAmsterdam } from '../../api/domain/scheduling.js'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { caseInReview, putHubLocation, putOfficeHours, requestAppointment, runSchedulingJobs } from '../helpers/appointment-builders.js'
import { newRegion, type RegionFixture } from '../helpers/builders.js'
import { subscribe, type WebhookJson } from '../helpers/webhook-builders.js'

let t: TestApp
let region: RegionFixture
let other: RegionFixture
const subscriptions: WebhookJson[] = []

beforeAll(async () => {
  t = await startTestApp({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' })
  region = await newRegion(t.database.db)
  other = await newRegion(t.database.db)
  await putHubLocation(t.app, region)
  // One half-hour a day: the first request is booked, a second on the same day is not.
  await putOfficeHours(t.app, region, region.specialist.id, '09:00', '09:30')
  const hook = { url: 'http://127.0.0.1:9/hook', events: ['appointment.booked', 'appointment.unschedulable'] }
  for (const key of [region.hub.key, region.members[0].key, other.hub.key]) subscriptions.push(await subscribe(t.app, key, hook))
})
afterAll(async () => t.close())

const deliveriesOfCase = async (caseId: string) =>
  (
    await sql<{ tenant_id: string; subscription_id: string; type: string; event_id: string; event: { type: string; objectPath: string; data: Record<string, unknown> } }>`
      select tenant_id, subscription_id, type, event_id, event from webhook_deliveries where event->'data'->>'caseId' = ${caseId} order by tenant_id`.execute(t.database.owner)
  ).rows

const deliveryJobsOf = async (eventId: string) =>
  (
    await sql<{ payload: Record<string, string>; tenant_id: string }>`
      select payload, tenant_id from outbox where queue = 'notifications' and job_name = 'deliver-event' and payload->>'eventId' = ${eventId}`.execute(t.database.owner)
  ).rows

describe('appointment webhooks', () => {
  it('booked and unschedulable reach the member’s and the hub’s subscriptions, announced by one outbox row each', async () => {
    const day = utcToAmsterdam(startOfNextWorkingDay(new Date())).date
    const onDay = { earliest: amsterdamToUtc(day, 0).toISOString(), latest: amsterdamToUtc(day, 23 * 60).toISOString() }
    const first = await caseInReview(t.app, t.database.db, region)
    const booked = await requestAppointment(t.app, region.lead.key, first.id, { kind: 'intake_interview', ...onDay })
    const second = await caseInReview(t.app, t.database.db, region)
    const refused = await requestAppointment(t.app, region.lead.key, second.id, { kind: 'intake_interview', ...onDay })
    expect(await runSchedulingJobs(t.database.db, t.database.owner)).toEqual(['booked', 'unschedulable'])

    const mine = [region.hub.id, region.members[0].id].sort()
    const bookedDeliveries = await deliveriesOfCase(first.id)
    expect(bookedDeliveries.map((d) => d.tenant_id)).toEqual(mine)
    expect(new Set(bookedDeliveries.map((d) => d.event_id)).size).toBe(1)
    expect(bookedDeliveries[0]!.event).toMatchObject({
      type: 'appointment.booked',
      objectPath: `/v1/appointments/${booked.id}`,
      data: { appointmentId: booked.id, caseId: first.id, caseReference: first.reference, kind: 'intake_interview', status: 'booked', attempt: 1 },
    })
    expect(Object.keys(bookedDeliveries[0]!.event.data).sort()).toEqual(['appointmentId', 'attempt', 'caseId', 'caseReference', 'kind', 'status'])
    const bookedJobs = await deliveryJobsOf(bookedDeliveries[0]!.event_id)
    expect(bookedJobs).toEqual([{ payload: { tenantId: region.hub.id, eventId: bookedDeliveries[0]!.event_id }, tenant_id: region.hub.id }])

    const refusedDeliveries = await deliveriesOfCase(second.id)
    expect(refusedDeliveries.map((d) => [d.tenant_id, d.type])).toEqual(mine.map((id) => [id, 'appointment.unschedulable']))
    expect(refusedDeliveries[0]!.event.data).toEqual({
      appointmentId: refused.id,
      caseId: second.id,
      caseReference: second.reference,
      kind: 'intake_interview',
      status: 'unschedulable',
      reason: 'no-availability',
    })
    expect(await deliveryJobsOf(refusedDeliveries[0]!.event_id)).toHaveLength(1)

    // Another region's hub hears nothing of them; a re-run of the jobs announces nothing more.
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from webhook_deliveries where subscription_id = ${subscriptions[2]!.id}`.execute(t.database.owner)
    expect(rows[0]!.n).toBe(0)
    await sql`update outbox set dispatched_at = null where queue = 'scheduling' and payload->>'appointmentId' in (${booked.id}, ${refused.id})`.execute(t.database.owner)
    expect(await runSchedulingJobs(t.database.db, t.database.owner)).toEqual(['skipped', 'skipped'])
    expect((await deliveriesOfCase(first.id)).length + (await deliveriesOfCase(second.id)).length).toBe(4)
  })
})
