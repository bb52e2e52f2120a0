// Platform events for the tenants' webhook subscribers (API.md "Webhooks"). Every feature that
// announces a change calls emitEvent inside the transaction of that change, so an event exists if
// and only if its change was committed: the fan-out writes one delivery row per matching
// subscription (the member's and the hub's) and one outbox row announcing them, in that transaction.
import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import type { Trx } from '../db/database.js'
import type { WebhookEventJson } from '../db/schema.js'
import { enqueueInTransaction } from '../jobs/outbox.js'
import type { JobPayload } from '../jobs/registry.js'
import { emitStatement } from './webhooks.repository.js'

export const EVENT_TYPES = [
  'case.submitted',
  'case.status_changed',
  'case.information_requested',
  'case.decided',
  'document.reviewed',
  'appointment.booked',
  'appointment.cancelled',
  'appointment.unschedulable',
  'invoice.issued',
  'remittance.due',
  'webhook.test',
] as const
export type EventType = (typeof EVENT_TYPES)[number]

export interface PlatformEvent {
  type: EventType
  /** The hub the object belongs to; its subscribers hear of it. */
  hubTenantId: string
  /** The member whose case it is (null for a hub-only object); its subscribers hear of it too. */
  memberTenantId: string | null
  /** API path of the object the event is about, e.g. `/v1/appointments/<id>`. */
  objectPath: string
  /** Ids, references and statuses only — never a BSN, a name or file bytes. */
  data: Readonly<Record<string, string | number | boolean | null>>
}

export const isEventType = (value: string): value is EventType => (EVENT_TYPES as readonly string[]).includes(value)

/** The event as stored with each delivery and sent to the subscribers. */
export const storedEvent = (event: PlatformEvent): WebhookEventJson => ({
  id: randomUUID(),
  type: event.type,
  occurredAt: new Date().toISOString(),
  objectPath: event.objectPath,
  data: { ...event.data },
})

/**
 * The fan-out as SQL, one row per delivery made, for a caller that puts it in a statement of its
 * own (a case transition writes its rows and fans its event out in one statement); the caller then
 * calls announceDeliveries with the number of rows.
 */
export const fanOutSql = (event: PlatformEvent, stored: WebhookEventJson) => sql<{ delivery_id: string; subscriber_tenant_id: string }>`
    select delivery_id, subscriber_tenant_id
    from webhook_fan_out(${stored.id}::uuid, ${event.type}, ${event.hubTenantId}::uuid, ${event.memberTenantId}::uuid, ${JSON.stringify(stored)}::jsonb)`

/** The job that announces an event's deliveries: ids only. */
export const deliverEventJob = (event: PlatformEvent, stored: WebhookEventJson): JobPayload<'notifications', 'deliver-event'> => ({
  tenantId: event.hubTenantId,
  eventId: stored.id,
})

/**
 * One job for all the event's deliveries: the relay moves one row instead of one per subscription,
 * and the worker attempts them side by side (each under its subscriber's tenant). No deliveries, no job.
 */
export async function announceDeliveries(trx: Trx, event: PlatformEvent, stored: WebhookEventJson, deliveries: number): Promise<void> {
  if (deliveries > 0) await enqueueInTransaction(trx, 'notifications', 'deliver-event', deliverEventJob(event, stored))
}

/**
 * Fans the event out to the active subscriptions of its hub and member that asked for its type.
 * The transaction's tenant must be the event's hub or member (the database function refuses any
 * other): a tenant can only announce events of its own objects. Returns the deliveries made.
 */
export async function emitEvent(trx: Trx, event: PlatformEvent): Promise<number> {
  const stored = storedEvent(event)
  // The fan-out and, when it made deliveries, the outbox row that announces them: one statement
  // (webhook_emit, migration 0018), the job the same as announceDeliveries enqueues.
  return emitStatement(trx, stored, event.hubTenantId, event.memberTenantId, deliverEventJob(event, stored))
}
