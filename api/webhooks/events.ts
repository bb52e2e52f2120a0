// Platform events for the tenants' webhook subscribers (API.md "Webhooks"). Every feature that
// announces a change calls emitEvent inside the transaction of that change, so an event exists if
// and only if its change was committed. Fan-out to subscriptions lands with the webhooks issue (11);
// until then an event has no subscriber to reach.
import type { Trx } from '../db/database.js'

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

export async function emitEvent(_trx: Trx, _event: PlatformEvent): Promise<void> {
  // No subscriptions exist yet (issue 11 builds them); nothing to fan out to.
}
