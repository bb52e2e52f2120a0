// Rows → the JSON shapes of openapi.yaml. Never a secret (it is shown once, by the service, on
// creation and rotation), never a delivery's body.
import { isEventType } from './events.js'
import type { DeliveryRow, SubscriptionRow } from './webhooks.repository.js'

const iso = (d: Date | null): string | null => d?.toISOString() ?? null

export const subscriptionView = (s: SubscriptionRow, now: Date = new Date()) => ({
  id: s.id,
  url: s.url,
  events: s.events.filter(isEventType),
  description: s.description,
  format: s.format,
  status: s.status,
  disabledReason: s.disabled_reason,
  disabledAt: iso(s.disabled_at),
  previousSecretExpiresAt: s.previous_secret_expires_at && s.previous_secret_expires_at > now ? s.previous_secret_expires_at.toISOString() : null,
  createdAt: s.created_at.toISOString(),
  updatedAt: s.updated_at.toISOString(),
})

export const deliveryView = (d: DeliveryRow) => ({
  id: d.id,
  subscriptionId: d.subscription_id,
  eventId: d.event_id,
  type: d.type,
  status: d.status,
  attempts: d.attempts,
  lastStatusCode: d.last_status_code,
  lastError: d.last_error,
  responseExcerpt: d.response_excerpt,
  lastAttemptAt: iso(d.last_attempt_at),
  nextAttemptAt: d.status === 'pending' || d.status === 'failed' ? iso(d.next_attempt_at) : null,
  deliveredAt: iso(d.delivered_at),
  createdAt: d.created_at.toISOString(),
})
