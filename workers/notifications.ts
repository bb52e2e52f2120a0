// Case events for the tenants' subscribers. Webhook subscriptions are not built yet (API.md "Next"),
// so a job confirms the event exists and reports zero deliveries; the delivery loop lands with
// webhooks, on this same queue and job.
import { withTenantOf, type Db } from '../api/db/database.js'
import type { JobPayload } from '../api/jobs/registry.js'

export async function publishCaseEvent(db: Db, payload: JobPayload<'notifications', 'case-event'>): Promise<{ found: boolean; deliveries: number }> {
  const event = await withTenantOf(db, payload.tenantId, (trx) =>
    trx.selectFrom('case_events').select('id').where('id', '=', payload.eventId).where('case_id', '=', payload.caseId).executeTakeFirst(),
  )
  return { found: event !== undefined, deliveries: 0 }
}
