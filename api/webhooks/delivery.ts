// Attempts of webhook deliveries, in batches of one subscription, and the sweep that finds
// attempts that are due. Time and chance come in through deps (`now`, `random`), so the retry
// schedule is tested without waiting.
//
// A batch: (1) in the subscriber's transaction, lock the subscription and lease as many of its
// deliveries as its in-flight cap leaves room for (one statement: a slow receiver holds at most
// `maxInFlightPerSubscription` attempts; the rest wait and the other subscriptions go on); (2)
// check the URL against the SSRF guard again (DNS answers kept a few seconds), sign each body with
// Standard Webhooks (every secret still valid; decrypted secrets kept a minute, in memory only),
// POST them side by side; (3) record every outcome in one statement — delivered, failed with the
// next attempt scheduled, dead — and at most one change of the subscription: a 410 disables it,
// five days of failures on end too (the tenant's other subscriptions hear of it). The pump
// (delivery-pump.ts) records a batch and claims the next in one statement (webhook_pump_lease_step),
// or, when the batch changes its subscription, in one transaction of several. The pump's leases
// are held in a row of the subscription's (webhook_pump_leases: one write per batch, migration
// 0027); the other claims lease on the deliveries' rows; both count against the cap. Idempotent: a second
// claim of the same delivery finds it leased, delivered or dead; a batch sent but never recorded
// is sent again, with the same webhook-id, once its leases expire.
import { randomUUID } from 'node:crypto'
import { withAdmin, withTenant, type Db, type Trx } from '../db/database.js'
import type { WebhookEventJson } from '../db/schema.js'
import { failedTooLong, nextAttemptAt } from '../domain/webhook-retry.js'
import { enqueueManyInTransaction } from '../jobs/outbox.js'
import type { JobPayload } from '../jobs/registry.js'
import { bodyOf } from './payload.js'
import { signersOf } from './signing.js'
import { DELIVERY_TIMEOUT_MS, EXCERPT_CHARS, httpSender, type Sender, type SendResult } from './sender.js'
import { cachedResolver, checkWebhookUrl, systemResolver, type Resolver } from './url-guard.js'
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

/** Leased deliveries of one subscription, attempted together. */
export interface Batch {
  subscription: repo.SubscriptionRow
  deliveries: repo.ClaimedDelivery[]
}

const clock = (deps: DeliveryDeps): Date => deps.now?.() ?? new Date()
const random = (deps: DeliveryDeps): number => deps.random?.() ?? Math.random()
const timeout = (deps: DeliveryDeps): number => deps.timeoutMs ?? DELIVERY_TIMEOUT_MS
const leaseUntil = (deps: DeliveryDeps, now: Date): Date => new Date(now.getTime() + timeout(deps) + LEASE_MARGIN_MS)

/**
 * Claims given deliveries of one tenant (retries, redelivery, test events, the event job): for
 * each of their subscriptions, under its lock, as many as its in-flight cap leaves room for; the
 * rest are deferred. Delivered, dead, unknown and otherwise leased ones are skipped.
 */
async function claimIds(deps: DeliveryDeps, trx: Trx, ids: readonly string[], now: Date): Promise<{ batches: Batch[]; results: Map<string, AttemptResult> }> {
  const results = new Map<string, AttemptResult>()
  const batches: Batch[] = []
  const rows = await repo.deliveriesForClaim(trx, ids)
  const bySubscription = new Map<string, string[]>()
  for (const id of ids) results.set(id, 'skipped')
  for (const r of rows) {
    if (r.status === 'delivered' || r.status === 'dead' || (r.leased_until && r.leased_until > now)) continue
    bySubscription.set(r.subscription_id, [...(bySubscription.get(r.subscription_id) ?? []), r.id])
  }
  for (const [subscriptionId, unlocked] of bySubscription) {
    const subscription = await repo.lockSubscription(trx, subscriptionId)
    if (!subscription) continue
    // Under the lock: the deliveries its pump holds now are under way (skipped, as leased rows are).
    const pumpLeased = await repo.pumpLeasedIds(trx, subscription.id, now)
    const candidates = unlocked.filter((id) => !pumpLeased.includes(id))
    if (candidates.length === 0) continue
    if (subscription.status !== 'active') {
      for (const id of await repo.endDeliveriesOfDisabled(trx, subscription.id, candidates, now, pumpLeased)) results.set(id, 'dead')
      continue
    }
    const cap = deps.maxInFlightPerSubscription - pumpLeased.length
    const leased = await repo.leaseBatch(trx, subscription.id, candidates, now, leaseUntil(deps, now), cap, candidates.length, pumpLeased)
    const taken = new Set(leased.map((d) => d.id))
    const deferred = candidates.filter((id) => !taken.has(id))
    if (deferred.length > 0) {
      const wait = DEFER_MS + Math.round(DEFER_SPREAD_MS * random(deps))
      await repo.deferDeliveries(trx, deferred, new Date(now.getTime() + wait))
      for (const id of deferred) results.set(id, 'deferred')
    }
    if (leased.length > 0) batches.push({ subscription, deliveries: leased })
  }
  return { batches, results }
}

/** Claims the oldest pending deliveries of one subscription, as many as its cap leaves room for (the pump). */
async function claimPending(deps: DeliveryDeps, trx: Trx, subscriptionId: string, limit: number, now: Date): Promise<{ batch: Batch | null; ended: number }> {
  const subscription = await repo.lockSubscription(trx, subscriptionId)
  if (!subscription) return { batch: null, ended: 0 }
  const pumpLeased = await repo.pumpLeasedIds(trx, subscription.id, now)
  if (subscription.status !== 'active') return { batch: null, ended: (await repo.endDeliveriesOfDisabled(trx, subscription.id, null, now, pumpLeased)).length }
  const cap = deps.maxInFlightPerSubscription - pumpLeased.length
  const deliveries = await repo.leaseBatch(trx, subscription.id, null, now, leaseUntil(deps, now), cap, limit, pumpLeased)
  return { batch: deliveries.length > 0 ? { subscription, deliveries } : null, ended: 0 }
}

/** Sends every delivery of the batch side by side: one SSRF check and one set of signers for all. */
async function sendBatch(deps: DeliveryDeps, batch: Batch, now: Date): Promise<SendResult[]> {
  const s = batch.subscription
  const check = await checkWebhookUrl(s.url, { allowPrivateNetworks: deps.allowPrivateNetworks, resolve: cachedResolver(deps.resolve ?? systemResolver) })
  if (!check.ok) return batch.deliveries.map(() => ({ statusCode: null, error: 'url-not-allowed', excerpt: null, durationMs: 0 }))
  const signers = signersOf(deps.secretsKey, s, now)
  const timestamp = String(Math.floor(now.getTime() / 1000))
  const sender = deps.send ?? httpSender
  return Promise.all(
    batch.deliveries.map((d) => {
      const body = bodyOf(d.event, s.format, deps.publicBaseUrl)
      // webhook-id is the delivery's: the same message on every retry, so receivers can deduplicate.
      const messageId = d.id
      return sender({
        url: s.url,
        body,
        address: check.address ?? null,
        timeoutMs: timeout(deps),
        pool: { key: s.id, sockets: deps.maxInFlightPerSubscription },
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Regiobalie-Webhooks/1.0',
          'webhook-id': messageId,
          'webhook-timestamp': timestamp,
          'webhook-signature': signers.map((w) => w.sign(messageId, now, body)).join(' '),
        },
      }).catch((): SendResult => ({ statusCode: null, error: 'network-error', excerpt: null, durationMs: 0 }))
    }),
  )
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

const isSuccess = (r: SendResult): boolean => r.statusCode !== null && r.statusCode >= 200 && r.statusCode < 300

/**
 * Records a batch's outcomes: one statement for all its deliveries, each with its own outcome (one
 * failing does not fail the others), and at most one change of the subscription: a 410 disables
 * it; otherwise a success ends its run of failures, and failures alone start or extend one — five
 * days of it disable the subscription, and the tenant's other subscriptions hear of it.
 */
async function recordBatch(deps: DeliveryDeps, trx: Trx, batch: Batch, results: readonly SendResult[], now: Date): Promise<AttemptOutcome[]> {
  const { records, outcomes } = attemptRecords(deps, batch, results, now)
  await repo.recordAttempts(trx, records, now)
  await changeSubscription(trx, batch.subscription, outcomes, now)
  return outcomes
}

/** Each delivery's outcome and what to record of it (its next attempt drawn with deps.random). */
function attemptRecords(deps: DeliveryDeps, batch: Batch, results: readonly SendResult[], now: Date): { records: repo.AttemptRecord[]; outcomes: AttemptOutcome[] } {
  const outcomes: AttemptOutcome[] = []
  const records: repo.AttemptRecord[] = batch.deliveries.map((d, i) => {
    const result = results[i]!
    const attempts = d.attempts + 1
    const common = { id: d.id, attempts, statusCode: result.statusCode, error: result.error, excerpt: result.excerpt?.slice(0, EXCERPT_CHARS) ?? null, durationMs: result.durationMs }
    if (isSuccess(result)) {
      outcomes.push('delivered')
      return { ...common, status: 'delivered', nextAttemptAt: null }
    }
    if (result.statusCode === 410) {
      // The receiver says the endpoint is gone for good: stop sending to it.
      outcomes.push('gone')
      return { ...common, status: 'dead', nextAttemptAt: null }
    }
    const next = nextAttemptAt(attempts, now, random(deps))
    outcomes.push(!next ? 'dead' : result.error === 'url-not-allowed' ? 'refused' : 'failed')
    return { ...common, status: next ? 'failed' : 'dead', nextAttemptAt: next }
  })
  return { records, outcomes }
}

/**
 * Whether a batch with these outcomes changes its subscription (changeSubscription): a 410, a
 * success ending a run of failures, failures starting one or lasting five days.
 */
function changesSubscription(s: repo.SubscriptionRow, outcomes: readonly AttemptOutcome[], now: Date): boolean {
  if (outcomes.includes('gone')) return true
  if (outcomes.includes('delivered')) return s.failing_since !== null
  return !s.failing_since || failedTooLong(s.failing_since, now)
}

/** At most one change of the subscription after a batch (see recordBatch). */
async function changeSubscription(trx: Trx, s: repo.SubscriptionRow, outcomes: readonly AttemptOutcome[], now: Date): Promise<void> {
  if (outcomes.includes('gone')) {
    await repo.updateSubscription(trx, s.id, { status: 'disabled', disabled_reason: 'gone', disabled_at: now })
  } else if (outcomes.includes('delivered')) {
    if (s.failing_since) await repo.updateSubscription(trx, s.id, { failing_since: null })
  } else {
    const failingSince = s.failing_since ?? now
    if (failedTooLong(failingSince, now)) {
      await repo.updateSubscription(trx, s.id, { status: 'disabled', disabled_reason: 'failing', disabled_at: now, failing_since: failingSince })
      await announceDisabled(trx, s, now)
    } else if (!s.failing_since) {
      await repo.updateSubscription(trx, s.id, { failing_since: now })
    }
  }
}

// Webhook rows are the subscriber's own; its region is not needed (one set_config, no tenant lookup).
const asSubscriber = <T>(deps: DeliveryDeps, tenantId: string, fn: (trx: Trx) => Promise<T>): Promise<T> =>
  withTenant(deps.db, { tenantId, regionId: null }, fn)

/** Sends a claimed batch and records it (its own transaction); the outcome per delivery, in order. */
async function attemptBatch(deps: DeliveryDeps, tenantId: string, batch: Batch, startedAt: Date): Promise<AttemptOutcome[]> {
  const results = await sendBatch(deps, batch, startedAt)
  const outcomes = await asSubscriber(deps, tenantId, (trx) => recordBatch(deps, trx, batch, results, clock(deps)))
  if (deps.metrics) {
    for (const [i, outcome] of outcomes.entries()) {
      deps.metrics.attempt(outcome, results[i]!.error === 'url-not-allowed' ? null : results[i]!.durationMs / 1000)
    }
  }
  return outcomes
}

/** One attempt of each of the given deliveries of one subscriber tenant, batched per subscription. */
export async function attemptDeliveries(deps: DeliveryDeps, tenantId: string, ids: readonly string[]): Promise<AttemptResult[]> {
  if (ids.length === 0) return []
  const startedAt = clock(deps)
  const { batches, results } = await asSubscriber(deps, tenantId, (trx) => claimIds(deps, trx, ids, startedAt))
  for (const r of results.values()) if (r === 'dead' || r === 'deferred') deps.metrics?.attempt(r, null)
  await Promise.all(
    batches.map(async (batch) => {
      const outcomes = await attemptBatch(deps, tenantId, batch, startedAt)
      batch.deliveries.forEach((d, i) => results.set(d.id, outcomes[i]!))
    }),
  )
  return ids.map((id) => results.get(id) ?? 'skipped')
}

/** The `deliver` job: one attempt of one delivery. */
export async function attemptDelivery(deps: DeliveryDeps, payload: JobPayload<'notifications', 'deliver'>): Promise<AttemptResult> {
  const [result] = await attemptDeliveries(deps, payload.tenantId, [payload.deliveryId])
  return result ?? 'skipped'
}

/**
 * The first attempt of every pending delivery of one event, side by side (one batch per
 * subscriber). A subscription at its in-flight cap is asked again a few times within a fraction of
 * a second (a fast receiver frees a place in milliseconds); a slow one stays deferred, for the sweep.
 */
export async function attemptEventDeliveries(deps: DeliveryDeps, payload: JobPayload<'notifications', 'deliver-event'>): Promise<AttemptResult[]> {
  // Ids and subscribers only, read across tenants; each attempt then runs under its subscriber.
  const due = await withAdmin(deps.db, (trx) => repo.pendingOfEventBySubscription(trx, payload.eventId))
  const results = new Map<string, AttemptResult>()
  const attempt = async (rows: readonly { id: string; tenant_id: string }[]) => {
    const byTenant = new Map<string, string[]>()
    for (const d of rows) byTenant.set(d.tenant_id, [...(byTenant.get(d.tenant_id) ?? []), d.id])
    await Promise.all(
      [...byTenant].map(async ([tenantId, ids]) => {
        const outcomes = await attemptDeliveries(deps, tenantId, ids)
        ids.forEach((id, i) => results.set(id, outcomes[i]!))
      }),
    )
  }
  await attempt(due)
  for (const pauseMs of IN_JOB_RETRY_PAUSES_MS) {
    const deferred = due.filter((d) => results.get(d.id) === 'deferred')
    if (deferred.length === 0) break
    await new Promise((resolve) => setTimeout(resolve, pauseMs))
    await attempt(deferred)
  }
  return due.map((d) => results.get(d.id) ?? 'skipped')
}

/** A pump's batch, sent and not yet recorded. */
export interface SentBatch {
  batch: Batch
  results: SendResult[]
}

type StepResult = { next: Batch | null; ended: number }

// The usual step: record, release, lock, lease — one statement (webhook_pump_lease_step, migration 0027).
async function stepInOneStatement(deps: DeliveryDeps, tenantId: string, subscriptionId: string, limit: number, records: readonly repo.AttemptRecord[], now: Date): Promise<StepResult> {
  const step = await repo.pumpStepStatement(deps.db, tenantId, subscriptionId, records, now, leaseUntil(deps, now), deps.maxInFlightPerSubscription, limit)
  return { next: step.subscription && step.deliveries.length > 0 ? { subscription: step.subscription, deliveries: step.deliveries } : null, ended: step.ended }
}

// A step whose batch changes the subscription (a 410; a run of failures starting, ending or
// lasting too long) — rare: record, change, then claim under the changed state, in one transaction.
async function stepInTransaction(
  deps: DeliveryDeps,
  tenantId: string,
  subscriptionId: string,
  limit: number,
  subscription: repo.SubscriptionRow,
  recorded: { records: repo.AttemptRecord[]; outcomes: AttemptOutcome[] },
  now: Date,
): Promise<StepResult> {
  return asSubscriber(deps, tenantId, async (trx) => {
    await repo.recordAttempts(trx, recorded.records, now)
    // The batch was claimed by a step in one statement (pump leases) or by this path (leased rows).
    // Pump leases are written under the subscription's lock only (as webhook_pump_lease_step does).
    await repo.lockSubscription(trx, subscriptionId)
    await repo.releasePumpLeases(trx, subscriptionId, recorded.records.map((r) => r.id), now)
    await changeSubscription(trx, subscription, recorded.outcomes, now)
    const claim = limit > 0 ? await claimPending(deps, trx, subscriptionId, limit, now) : { batch: null, ended: 0 }
    return { next: claim.batch, ended: claim.ended }
  })
}

/**
 * One step of a subscription's pump (delivery-pump.ts), one transaction (usually one statement): records the batch the
 * pump sent last (each delivery its own outcome), then claims the next — up to `limit` of the
 * oldest pending deliveries, as many as the in-flight cap leaves room for (none when `limit` is
 * 0). `next` is null when nothing was claimed (nothing pending, or the cap is full).
 */
export async function pumpStep(
  deps: DeliveryDeps,
  tenantId: string,
  subscriptionId: string,
  limit: number,
  sent: SentBatch | null,
): Promise<{ next: Batch | null; startedAt: Date; ended: number }> {
  const startedAt = clock(deps)
  const recorded = sent ? attemptRecords(deps, sent.batch, sent.results, startedAt) : { records: [], outcomes: [] }
  const { next, ended } =
    sent && changesSubscription(sent.batch.subscription, recorded.outcomes, startedAt)
      ? await stepInTransaction(deps, tenantId, subscriptionId, limit, sent.batch.subscription, recorded, startedAt)
      : await stepInOneStatement(deps, tenantId, subscriptionId, limit, recorded.records, startedAt)
  if (deps.metrics) {
    recorded.outcomes.forEach((outcome, i) => deps.metrics!.attempt(outcome, sent!.results[i]!.error === 'url-not-allowed' ? null : sent!.results[i]!.durationMs / 1000))
    for (let i = 0; i < ended; i += 1) deps.metrics.attempt('dead', null)
  }
  return { next, startedAt, ended }
}

/** Sends a batch the pump claimed (signed with the claim's time). */
export async function pumpSend(deps: DeliveryDeps, batch: Batch, startedAt: Date): Promise<SentBatch> {
  return { batch, results: await sendBatch(deps, batch, startedAt) }
}

/**
 * The `sweep-due-deliveries` job: announces every delivery whose next attempt is due. A retry is a
 * `deliver` job of its own. A first attempt whose subscription holds no live lease (its pump never
 * woke, or died) wakes that subscription's pump when `wake` is given — one pump per subscription,
 * not one job per delivery, so a burst whose `deliver-event` jobs still wait in the outbox does not
 * turn into a job per delivery — and is a `deliver` job otherwise.
 */
export async function sweepDueDeliveries(
  deps: Pick<DeliveryDeps, 'db' | 'now'>,
  limit = 1_000,
  wake?: (tenantId: string, subscriptionId: string) => void,
): Promise<number> {
  const now = deps.now?.() ?? new Date()
  const due = await withAdmin(deps.db, async (trx) => {
    const taken = await repo.takeDue(trx, now, new Date(now.getTime() + SWEEP_REQUEUE_MS), limit)
    const jobs = wake ? taken.filter((d) => d.status === 'failed') : taken
    if (jobs.length > 0) {
      // The outbox row belongs to the subscriber (admin transactions have no tenant of their own).
      await trx
        .insertInto('outbox')
        .values(jobs.map((d) => ({ tenant_id: d.tenant_id, queue: 'notifications', job_name: 'deliver', payload: JSON.stringify({ tenantId: d.tenant_id, deliveryId: d.id }) })))
        .execute()
    }
    return taken
  })
  if (wake) {
    for (const d of new Map(due.filter((d) => d.status === 'pending').map((d) => [d.subscription_id, d])).values()) wake(d.tenant_id, d.subscription_id)
  }
  return due.length
}
