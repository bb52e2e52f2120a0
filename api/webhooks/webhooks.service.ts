// Webhook subscriptions of a tenant (API.md "Webhooks"): create with a secret shown once, list,
// read, delete, rotate the secret (the old one signs alongside for 24 hours), send a test event,
// list deliveries, redeliver. Every call is the tenant's own: another tenant's subscription is 404.
import { randomUUID } from 'node:crypto'
import { requireTenantPrincipal } from '../access-log/access-log.service.js'
import { tenantScope, type Principal, type TenantPrincipal } from '../auth/principal.js'
import { withTenant, type Db, type Trx } from '../db/database.js'
import type { WebhookDeliveryStatus, WebhookEventJson, WebhookFormat } from '../db/schema.js'
import { DomainError, notFound } from '../domain/errors.js'
import { enqueueInTransaction } from '../jobs/outbox.js'
import { parsePage, toPage, type PageQuery } from '../pagination.js'
import { isEventType, type EventType } from './events.js'
import { encryptSecret, generateSecret } from './secrets.js'
import { checkWebhookUrl, systemResolver, type Resolver } from './url-guard.js'
import * as repo from './webhooks.repository.js'
import { deliveryView, subscriptionView } from './webhooks.view.js'

export interface WebhookDeps {
  db: Db
  /** Derived from the master key (secrets.ts `secretsKey`). */
  secretsKey: Buffer
  allowPrivateNetworks: boolean
  resolve?: Resolver
  now?: () => Date
}

export const ROTATION_OVERLAP_MS = 24 * 3_600_000
// A fresh delivery's job runs at once; if it is lost, the sweep takes the delivery after this long.
const LOST_JOB_AFTER_MS = 60_000

export interface CreateInput {
  url: string
  events: string[]
  description?: string
  format?: WebhookFormat
}

const scoped = <T>(deps: WebhookDeps, p: TenantPrincipal, fn: (trx: Trx) => Promise<T>) => withTenant(deps.db, tenantScope(p), fn)
const clock = (deps: WebhookDeps) => deps.now?.() ?? new Date()

async function assertUrlAllowed(deps: WebhookDeps, url: string): Promise<void> {
  const check = await checkWebhookUrl(url, { allowPrivateNetworks: deps.allowPrivateNetworks, resolve: deps.resolve ?? systemResolver })
  if (!check.ok) throw new DomainError('refused', 'url-not-allowed', `the webhook URL ${check.reason ?? 'is not allowed'}`)
}

async function own(trx: Trx, p: TenantPrincipal, id: string): Promise<repo.SubscriptionRow> {
  const s = await repo.findSubscription(trx, p.tenantId, id)
  if (!s) throw notFound('webhook')
  return s
}

async function hubOf(trx: Trx, p: TenantPrincipal): Promise<string | null> {
  if (p.tenantRole === 'hub') return p.tenantId
  const hub = await trx.selectFrom('tenants').select('id').where('region_id', '=', p.regionId).where('role', '=', 'hub').executeTakeFirst()
  return hub?.id ?? null
}

export async function createSubscription(deps: WebhookDeps, principal: Principal, input: CreateInput) {
  const p = requireTenantPrincipal(principal)
  const events = [...new Set(input.events)]
  const unknown = events.filter((e) => !isEventType(e))
  if (unknown.length > 0) {
    throw new DomainError('invalid', 'invalid-request', `unknown event ${unknown.join(', ')}`, [{ name: 'events', code: 'unknown-event', reason: `${unknown.join(', ')} is not an event` }])
  }
  await assertUrlAllowed(deps, input.url)
  const id = randomUUID()
  const secret = generateSecret()
  const created = await scoped(deps, p, async (trx) =>
    repo.insertSubscription(trx, {
      id,
      hub_tenant_id: await hubOf(trx, p),
      tenant_id: p.tenantId,
      url: input.url,
      events,
      description: input.description ?? null,
      format: input.format ?? 'standard',
      secret_encrypted: encryptSecret(secret, deps.secretsKey, id),
    }),
  )
  return { ...subscriptionView(created, clock(deps)), secret }
}

export async function listSubscriptions(deps: WebhookDeps, principal: Principal, query: PageQuery) {
  const p = requireTenantPrincipal(principal)
  const page = parsePage(query)
  const now = clock(deps)
  return toPage(await scoped(deps, p, (trx) => repo.listSubscriptions(trx, p.tenantId, page)), page, (s) => subscriptionView(s, now))
}

export async function getSubscription(deps: WebhookDeps, principal: Principal, id: string) {
  const p = requireTenantPrincipal(principal)
  return subscriptionView(await scoped(deps, p, (trx) => own(trx, p, id)), clock(deps))
}

export async function deleteSubscription(deps: WebhookDeps, principal: Principal, id: string): Promise<void> {
  const p = requireTenantPrincipal(principal)
  const deleted = await scoped(deps, p, (trx) => repo.deleteSubscription(trx, p.tenantId, id))
  if (!deleted) throw notFound('webhook')
}

/** A new secret; the one it replaces keeps signing alongside it for 24 hours. */
export async function rotateSecret(deps: WebhookDeps, principal: Principal, id: string) {
  const p = requireTenantPrincipal(principal)
  const now = clock(deps)
  const secret = generateSecret()
  const updated = await scoped(deps, p, async (trx) => {
    const s = await own(trx, p, id)
    return repo.updateSubscription(trx, s.id, {
      secret_encrypted: encryptSecret(secret, deps.secretsKey, s.id),
      previous_secret_encrypted: s.secret_encrypted,
      previous_secret_expires_at: new Date(now.getTime() + ROTATION_OVERLAP_MS),
    })
  })
  return { ...subscriptionView(updated, now), secret }
}

function assertActive(s: repo.SubscriptionRow): void {
  if (s.status !== 'active') {
    throw new DomainError('conflict', 'webhook-disabled', `the subscription was disabled (${s.disabled_reason ?? 'disabled'}); create a new one`)
  }
}

/** Delivers a `webhook.test` event to this subscription only. */
export async function sendTestEvent(deps: WebhookDeps, principal: Principal, id: string) {
  const p = requireTenantPrincipal(principal)
  const now = clock(deps)
  return scoped(deps, p, async (trx) => {
    const s = await own(trx, p, id)
    assertActive(s)
    const type: EventType = 'webhook.test'
    const event: WebhookEventJson = {
      id: randomUUID(),
      type,
      occurredAt: now.toISOString(),
      objectPath: `/v1/webhooks/${s.id}`,
      data: { subscriptionId: s.id, tenantId: p.tenantId },
    }
    const [delivery] = await repo.insertDeliveries(trx, [
      {
        hub_tenant_id: s.hub_tenant_id,
        tenant_id: s.tenant_id,
        subscription_id: s.id,
        event_id: event.id,
        type,
        event: JSON.stringify(event),
        next_attempt_at: new Date(now.getTime() + LOST_JOB_AFTER_MS),
      },
    ])
    await enqueueInTransaction(trx, 'notifications', 'deliver', { tenantId: s.tenant_id, deliveryId: delivery!.id })
    return deliveryView(delivery!)
  })
}

export interface DeliveriesQuery extends PageQuery {
  status?: WebhookDeliveryStatus
}

export async function listDeliveries(deps: WebhookDeps, principal: Principal, id: string, query: DeliveriesQuery) {
  const p = requireTenantPrincipal(principal)
  const page = parsePage(query)
  const rows = await scoped(deps, p, async (trx) => {
    const s = await own(trx, p, id)
    return repo.listDeliveries(trx, s.id, query.status, page)
  })
  return toPage(rows, page, deliveryView)
}

/** Starts a delivery over (a fresh retry schedule), whatever became of it; the same webhook-id. */
export async function redeliver(deps: WebhookDeps, principal: Principal, id: string, deliveryId: string) {
  const p = requireTenantPrincipal(principal)
  const now = clock(deps)
  return scoped(deps, p, async (trx) => {
    const s = await own(trx, p, id)
    const d = await repo.findDelivery(trx, deliveryId)
    if (!d || d.subscription_id !== s.id) throw notFound('delivery')
    assertActive(s)
    if ((d.leased_until && d.leased_until > now) || (await repo.pumpLeasedIds(trx, s.id, now)).includes(d.id)) {
      throw new DomainError('conflict', 'delivery-in-progress', 'an attempt of this delivery is under way; try again when it has finished')
    }
    const updated = await repo.updateDelivery(trx, d.id, {
      status: 'pending',
      attempts: 0,
      next_attempt_at: new Date(now.getTime() + LOST_JOB_AFTER_MS),
      delivered_at: null,
    })
    await enqueueInTransaction(trx, 'notifications', 'deliver', { tenantId: s.tenant_id, deliveryId: d.id })
    return deliveryView(updated)
  })
}
