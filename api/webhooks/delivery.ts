// One attempt of one webhook delivery, and the sweep that finds attempts that are due. Time and
// chance come in through deps (`now`, `random`), so the retry schedule is tested without waiting.
//
// An attempt: (1) in the subscriber's transaction, lock the subscription, respect its in-flight
// cap (a slow receiver holds at most `maxInFlightPerSubscription` attempts; the rest are deferred
// and the queue serves other subscriptions), lease the delivery; (2) check the URL against the
// SSRF guard again, sign with Standard Webhooks (every secret still valid), POST; (3) record the
// outcome: delivered, failed with the next attempt scheduled, dead, or — on 410 — the subscription
// disabled. Five days of failures on end disable it too, and the tenant's other subscriptions hear
// of it. Idempotent: a second job for the same delivery finds it leased, delivered or dead.
import { randomUUID } from 'node:crypto'
import { Webhook } from 'standardwebhooks'
import { withAdmin, withTenant, type Db, type Trx } from '../db/database.js'
import type { WebhookEventJson } from '../db/schema.js'
import { failedTooLong, nextAttemptAt } from '../domain/webhook-retry.js'
import { enqueueManyInTransaction } from '../jobs/outbox.js'
import type { JobPayload } from '../jobs/registry.js'
import { renderBody } from './payload.js'
import { decryptSecret } from './secrets.js'
import { DELIVERY_TIMEOUT_MS, EXCERPT_CHARS, httpSender, type Sender, type SendResult } from './sender.js'
import { checkWebhookUrl, systemResolver, type Resolver } from './url-guard.js'
import type { AttemptOutcome, WebhookMetrics } from './webhooks.metrics.js'
import * as repo from './webhooks.repository.js'

export interface DeliveryDeps {
  db: Db
  /** Derived from the master key (secrets.ts `secretsKey`). */
  secretsKey: Buffer
  publicBaseUrl: string
  allowPrivateNetworks: boolean
  maxInFlightPerSubscription: number
  now?: () => Date
  random?: () => number
  resolve?: Resolver
  send?: Sender
  timeoutMs?: number
  metrics?: WebhookMetrics
}

export type AttemptResult = AttemptOutcome | 'skipped'

const LEASE_MARGIN_MS = 20_000
// A deferred attempt (subscription at its cap after the in-job retries: a slow receiver) is taken
// again by the sweep after 1–5 s, spread so that a backlog does not come back all at once.
const DEFER_MS = 1_000
const DEFER_SPREAD_MS = 4_000
const IN_JOB_RETRY_PAUSES_MS = [10, 40, 150]
const SWEEP_REQUEUE_MS = 60_000

/** The Standard Webhooks signature header: one `v1,…` per valid secret, separated by spaces. */
export function signatureHeader(secrets: readonly string[], messageId: string, timestamp: Date, body: string): string {
  return secrets.map((secret) => new Webhook(secret).sign(messageId, timestamp, body)).join(' ')
}

interface Claimed {
  delivery: repo.DeliveryRow
  subscription: repo.SubscriptionRow
  secrets: string[]
}

type Claim = { kind: 'claimed'; claimed: Claimed } | { kind: 'skipped' } | { kind: 'deferred' } | { kind: 'dead' }

async function claim(deps: DeliveryDeps, trx: Trx, deliveryId: string, now: Date): Promise<Claim> {
  const delivery = await repo.findDelivery(trx, deliveryId)
  if (!delivery || delivery.status === 'delivered' || delivery.status === 'dead') return { kind: 'skipped' }
  const subscription = await repo.lockSubscription(trx, delivery.subscription_id)
  if (!subscription) return { kind: 'skipped' }
  if (subscription.status !== 'active') {
    await repo.updateDelivery(trx, delivery.id, { status: 'dead', next_attempt_at: null, leased_until: null, last_error: 'subscription-disabled' })
    return { kind: 'dead' }
  }
  if ((await repo.leasesHeld(trx, subscription.id, now)) >= deps.maxInFlightPerSubscription) {
    const wait = DEFER_MS + Math.round(DEFER_SPREAD_MS * random(deps))
    await repo.updateDelivery(trx, delivery.id, { next_attempt_at: new Date(now.getTime() + wait) })
    return { kind: 'deferred' }
  }
  const leased = await repo.takeLease(trx, delivery.id, now, new Date(now.getTime() + timeout(deps) + LEASE_MARGIN_MS))
  if (!leased) return { kind: 'skipped' }
  const secrets = [decryptSecret(subscription.secret_encrypted, deps.secretsKey, subscription.id)]
  if (subscription.previous_secret_encrypted && subscription.previous_secret_expires_at && subscription.previous_secret_expires_at > now) {
    secrets.push(decryptSecret(subscription.previous_secret_encrypted, deps.secretsKey, subscription.id))
  }
  return { kind: 'claimed', claimed: { delivery: leased, subscription, secrets } }
}

const clock = (deps: DeliveryDeps): Date => deps.now?.() ?? new Date()
const random = (deps: DeliveryDeps): number => deps.random?.() ?? Math.random()
const timeout = (deps: DeliveryDeps): number => deps.timeoutMs ?? DELIVERY_TIMEOUT_MS

async function send(deps: DeliveryDeps, c: Claimed, now: Date): Promise<SendResult> {
  const check = await checkWebhookUrl(c.subscription.url, { allowPrivateNetworks: deps.allowPrivateNetworks, resolve: deps.resolve ?? systemResolver })
  if (!check.ok) return { statusCode: null, error: 'url-not-allowed', excerpt: null, durationMs: 0 }
  const body = renderBody(c.delivery.event, c.subscription.format, deps.publicBaseUrl)
  // webhook-id is the delivery's: the same message on every retry, so receivers can deduplicate.
  const messageId = c.delivery.id
  return (deps.send ?? httpSender)({
    url: c.subscription.url,
    body,
    address: check.address ?? null,
    timeoutMs: timeout(deps),
    headers: {
      'content-type': 'application/json',
      'user-agent': 'Regiobalie-Webhooks/1.0',
      'webhook-id': messageId,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': signatureHeader(c.secrets, messageId, now, body),
    },
  })
}

/** Tells the tenant's other active subscriptions that one of its subscriptions was disabled. */
async function announceDisabled(trx: Trx, s: repo.SubscriptionRow, now: Date): Promise<void> {
  const others = await repo.activeSubscriptionsOf(trx, s.tenant_id, s.id)
  const eventId = randomUUID()
  const event: WebhookEventJson = {
    id: eventId,
    type: 'webhook.disabled',
    occurredAt: now.toISOString(),
    objectPath: `/v1/webhooks/${s.id}`,
    data: { subscriptionId: s.id, status: 'disabled', reason: 'failing' },
  }
  const rows = await repo.insertDeliveries(
    trx,
    others.map((o) => ({
      hub_tenant_id: o.hub_tenant_id,
      tenant_id: o.tenant_id,
      subscription_id: o.id,
      event_id: eventId,
      type: event.type,
      event: JSON.stringify(event),
      next_attempt_at: new Date(now.getTime() + SWEEP_REQUEUE_MS),
    })),
  )
  await enqueueManyInTransaction(trx, 'notifications', 'deliver', rows.map((r) => ({ tenantId: r.tenant_id, deliveryId: r.id })))
}

async function record(deps: DeliveryDeps, trx: Trx, c: Claimed, result: SendResult, now: Date): Promise<AttemptOutcome> {
  const attempts = c.delivery.attempts + 1
  const common = {
    attempts,
    leased_until: null,
    last_attempt_at: now,
    last_status_code: result.statusCode,
    last_error: result.error,
    response_excerpt: result.excerpt?.slice(0, EXCERPT_CHARS) ?? null,
    last_duration_ms: result.durationMs,
  }
  const s = c.subscription
  const status = result.statusCode
  if (status !== null && status >= 200 && status < 300) {
    await repo.updateDelivery(trx, c.delivery.id, { ...common, status: 'delivered', delivered_at: now, next_attempt_at: null })
    if (s.failing_since) await repo.updateSubscription(trx, s.id, { failing_since: null })
    return 'delivered'
  }
  if (status === 410) {
    // The receiver says the endpoint is gone for good: stop sending to it.
    await repo.updateDelivery(trx, c.delivery.id, { ...common, status: 'dead', next_attempt_at: null })
    await repo.updateSubscription(trx, s.id, { status: 'disabled', disabled_reason: 'gone', disabled_at: now })
    return 'gone'
  }
  const next = nextAttemptAt(attempts, now, random(deps))
  await repo.updateDelivery(trx, c.delivery.id, { ...common, status: next ? 'failed' : 'dead', next_attempt_at: next })
  const failingSince = s.failing_since ?? now
  if (failedTooLong(failingSince, now)) {
    await repo.updateSubscription(trx, s.id, { status: 'disabled', disabled_reason: 'failing', disabled_at: now, failing_since: failingSince })
    await announceDisabled(trx, s, now)
  } else if (!s.failing_since) {
    await repo.updateSubscription(trx, s.id, { failing_since: now })
  }
  if (!next) return 'dead'
  return result.error === 'url-not-allowed' ? 'refused' : 'failed'
}

// Webhook rows are the subscriber's own; its region is not needed (one set_config, no tenant lookup).
const asSubscriber = <T>(deps: DeliveryDeps, tenantId: string, fn: (trx: Trx) => Promise<T>): Promise<T> =>
  withTenant(deps.db, { tenantId, regionId: null }, fn)

/** The `deliver` job: one attempt of one delivery. */
export async function attemptDelivery(deps: DeliveryDeps, payload: JobPayload<'notifications', 'deliver'>): Promise<AttemptResult> {
  const startedAt = clock(deps)
  const claimed = await asSubscriber(deps, payload.tenantId, (trx) => claim(deps, trx, payload.deliveryId, startedAt))
  if (claimed.kind !== 'claimed') {
    if (claimed.kind !== 'skipped') deps.metrics?.attempt(claimed.kind, null)
    return claimed.kind
  }
  const result = await send(deps, claimed.claimed, startedAt)
  const outcome = await asSubscriber(deps, payload.tenantId, (trx) => record(deps, trx, claimed.claimed, result, clock(deps)))
  deps.metrics?.attempt(outcome, result.error === 'url-not-allowed' ? null : result.durationMs / 1000)
  return outcome
}

/**
 * The `deliver-event` job: the first attempt of every pending delivery of one event, side by side.
 * A subscription at its in-flight cap is asked again a few times within a fraction of a second (a
 * fast receiver frees a place in milliseconds); a slow one stays deferred, for the sweep.
 */
export async function attemptEventDeliveries(deps: DeliveryDeps, payload: JobPayload<'notifications', 'deliver-event'>): Promise<AttemptResult[]> {
  // Ids and subscribers only, read across tenants; each attempt then runs under its subscriber.
  const due = await withAdmin(deps.db, (trx) => repo.pendingOfEvent(trx, payload.eventId))
  const results = await Promise.all(due.map((d) => attemptDelivery(deps, { tenantId: d.tenant_id, deliveryId: d.id })))
  for (const pauseMs of IN_JOB_RETRY_PAUSES_MS) {
    const deferred = due.map((d, i) => [d, i] as const).filter(([, i]) => results[i] === 'deferred')
    if (deferred.length === 0) break
    await new Promise((resolve) => setTimeout(resolve, pauseMs))
    await Promise.all(
      deferred.map(async ([d, i]) => {
        results[i] = await attemptDelivery(deps, { tenantId: d.tenant_id, deliveryId: d.id })
      }),
    )
  }
  return results
}

/** The `sweep-due-deliveries` job: announces every delivery whose next attempt is due. */
export async function sweepDueDeliveries(deps: Pick<DeliveryDeps, 'db' | 'now'>, limit = 1_000): Promise<number> {
  const now = deps.now?.() ?? new Date()
  return withAdmin(deps.db, async (trx) => {
    const due = await repo.takeDue(trx, now, new Date(now.getTime() + SWEEP_REQUEUE_MS), limit)
    if (due.length > 0) {
      // The outbox row belongs to the subscriber (admin transactions have no tenant of their own).
      await trx
        .insertInto('outbox')
        .values(due.map((d) => ({ tenant_id: d.tenant_id, queue: 'notifications', job_name: 'deliver', payload: JSON.stringify({ tenantId: d.tenant_id, deliveryId: d.id }) })))
        .execute()
    }
    return due.length
  })
}
