// The notifications queue delivers webhooks (api/webhooks/delivery.ts): `deliver-event` wakes the
// delivery pumps of an event's subscriptions (api/webhooks/delivery-pump.ts), which send their
// pending deliveries in batches; `deliver` is one attempt of one delivery (retries, redelivery,
// test events); `sweep-due-deliveries`, every few seconds, announces retries and deferred or
// abandoned attempts that have come due.
import type { Config } from '../api/config.js'
import type { Db } from '../api/db/database.js'
import { attemptDelivery, sweepDueDeliveries, type AttemptResult, type DeliveryDeps } from '../api/webhooks/delivery.js'
import type { DeliveryPumps } from '../api/webhooks/delivery-pump.js'
import type { JobPayload } from '../api/jobs/registry.js'
import { secretsKey } from '../api/webhooks/secrets.js'
import type { WebhookMetrics } from '../api/webhooks/webhooks.metrics.js'

export const SWEEP_EVERY_MS = 2_000

export function deliveryDeps(db: Db, config: Config, metrics?: WebhookMetrics): DeliveryDeps {
  return {
    db,
    secretsKey: secretsKey(config.blobMasterKey),
    publicBaseUrl: config.publicBaseUrl,
    allowPrivateNetworks: config.webhooks.allowPrivateNetworks,
    maxInFlightPerSubscription: config.webhooks.maxInFlightPerSubscription,
    ...(metrics ? { metrics } : {}),
  }
}

export const deliver = (deps: DeliveryDeps, payload: JobPayload<'notifications', 'deliver'>): Promise<AttemptResult> => attemptDelivery(deps, payload)

/** Returns once the event's subscriptions are known and their pumps awake, not once delivered. */
export const deliverEvent = (pumps: DeliveryPumps, payload: JobPayload<'notifications', 'deliver-event'>): Promise<void> => pumps.wakeForEvents([payload.eventId])

/** Retries as `deliver` jobs; first attempts left behind wake their subscription's pump in this process. */
export const sweep = (deps: DeliveryDeps, pumps: DeliveryPumps): Promise<number> => sweepDueDeliveries(deps, undefined, (tenantId, subscriptionId) => pumps.wake(tenantId, subscriptionId))
