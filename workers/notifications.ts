// The notifications queue delivers webhooks (api/webhooks/delivery.ts): `deliver-event` makes the
// first attempts of an event's deliveries, `deliver` one attempt of one delivery; `sweep-due-deliveries`, every few seconds, announces retries and
// deferred attempts that have come due.
import type { Config } from '../api/config.js'
import type { Db } from '../api/db/database.js'
import { attemptDelivery, attemptEventDeliveries, sweepDueDeliveries, type AttemptResult, type DeliveryDeps } from '../api/webhooks/delivery.js'
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

export const deliverEvent = (deps: DeliveryDeps, payload: JobPayload<'notifications', 'deliver-event'>): Promise<AttemptResult[]> =>
  attemptEventDeliveries(deps, payload)

export const sweep = (deps: DeliveryDeps): Promise<number> => sweepDueDeliveries(deps)
