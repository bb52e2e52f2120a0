// All SQL of webhooks: subscriptions and deliveries. Runs in the caller's transaction, which has the
// tenant set (RLS: a tenant sees its own subscriptions and deliveries only) or, for the sweep across
// tenants, the admin setting.
import { sql, type Insertable, type Selectable, type Updateable } from 'kysely'
import type { Trx } from '../db/database.js'
import { newestFirstPage } from '../db/keyset.js'
import type { WebhookDeliveriesTable, WebhookDeliveryStatus, WebhookSubscriptionsTable } from '../db/schema.js'
import type { Page } from '../pagination.js'

export type SubscriptionRow = Selectable<WebhookSubscriptionsTable>
export type DeliveryRow = Selectable<WebhookDeliveriesTable>

export const insertSubscription = (trx: Trx, values: Insertable<WebhookSubscriptionsTable>): Promise<SubscriptionRow> =>
  trx.insertInto('webhook_subscriptions').values(values).returningAll().executeTakeFirstOrThrow()

export const findSubscription = (trx: Trx, tenantId: string, id: string): Promise<SubscriptionRow | undefined> =>
  trx.selectFrom('webhook_subscriptions').selectAll().where('id', '=', id).where('tenant_id', '=', tenantId).executeTakeFirst()

/** Locks the subscription against concurrent claims (not against fan-out's key-share locks). */
export const lockSubscription = (trx: Trx, id: string): Promise<SubscriptionRow | undefined> =>
  trx.selectFrom('webhook_subscriptions').selectAll().where('id', '=', id).forNoKeyUpdate().executeTakeFirst()

export const listSubscriptions = (trx: Trx, tenantId: string, page: Page): Promise<SubscriptionRow[]> =>
  trx.selectFrom('webhook_subscriptions').selectAll().where('tenant_id', '=', tenantId).$call(newestFirstPage(page)).execute()

export const updateSubscription = (trx: Trx, id: string, set: Updateable<WebhookSubscriptionsTable>): Promise<SubscriptionRow> =>
  trx
    .updateTable('webhook_subscriptions')
    .set({ ...set, updated_at: sql`date_trunc('milliseconds', now())` })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow()

export const deleteSubscription = async (trx: Trx, tenantId: string, id: string): Promise<boolean> => {
  const result = await trx.deleteFrom('webhook_subscriptions').where('id', '=', id).where('tenant_id', '=', tenantId).executeTakeFirst()
  return result.numDeletedRows > 0n
}

export const activeSubscriptionsOf = (trx: Trx, tenantId: string, exceptId: string): Promise<SubscriptionRow[]> =>
  trx
    .selectFrom('webhook_subscriptions')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('status', '=', 'active')
    .where('id', '<>', exceptId)
    .execute()

export const insertDeliveries = (trx: Trx, values: Insertable<WebhookDeliveriesTable>[]): Promise<DeliveryRow[]> =>
  values.length === 0 ? Promise.resolve([]) : trx.insertInto('webhook_deliveries').values(values).returningAll().execute()

export const findDelivery = (trx: Trx, id: string): Promise<DeliveryRow | undefined> =>
  trx.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst()

export const listDeliveries = (trx: Trx, subscriptionId: string, status: WebhookDeliveryStatus | undefined, page: Page): Promise<DeliveryRow[]> =>
  trx
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('subscription_id', '=', subscriptionId)
    .$if(status !== undefined, (qb) => qb.where('status', '=', status!))
    .$call(newestFirstPage(page))
    .execute()

export const updateDelivery = (trx: Trx, id: string, set: Updateable<WebhookDeliveriesTable>): Promise<DeliveryRow> =>
  trx.updateTable('webhook_deliveries').set(set).where('id', '=', id).returningAll().executeTakeFirstOrThrow()

/** Attempts of one subscription holding a lease at `now` (the in-flight cap counts these). */
export async function leasesHeld(trx: Trx, subscriptionId: string, now: Date): Promise<number> {
  const row = await trx
    .selectFrom('webhook_deliveries')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('subscription_id', '=', subscriptionId)
    .where('leased_until', '>', now)
    .executeTakeFirstOrThrow()
  return Number(row.n)
}

/** Takes the lease of a delivery that is due for an attempt and not held by another attempt. */
export const takeLease = (trx: Trx, id: string, now: Date, until: Date): Promise<DeliveryRow | undefined> =>
  trx
    .updateTable('webhook_deliveries')
    .set({ leased_until: until })
    .where('id', '=', id)
    .where('status', 'in', ['pending', 'failed'])
    .where((eb) => eb.or([eb('leased_until', 'is', null), eb('leased_until', '<=', now)]))
    .returningAll()
    .executeTakeFirst()

/**
 * Deliveries whose next attempt is due (retries, deferred attempts, jobs that were lost), across
 * tenants (admin setting). Their next_attempt_at moves `requeueAfter` on, so the next sweep only
 * takes them again if this job is lost too.
 */
export async function takeDue(trx: Trx, now: Date, requeueAt: Date, limit: number): Promise<{ id: string; tenant_id: string }[]> {
  const { rows } = await sql<{ id: string; tenant_id: string }>`
    update webhook_deliveries d set next_attempt_at = ${requeueAt}
    where d.id in (
      select id from webhook_deliveries
      where status in ('pending', 'failed') and next_attempt_at <= ${now}
        and (leased_until is null or leased_until <= ${now})
      order by next_attempt_at
      limit ${limit}
      for update skip locked)
    returning d.id, d.tenant_id`.execute(trx)
  return rows
}

export const pendingOfEvent = (trx: Trx, eventId: string): Promise<{ id: string; tenant_id: string }[]> =>
  trx.selectFrom('webhook_deliveries').select(['id', 'tenant_id']).where('event_id', '=', eventId).where('status', '=', 'pending').execute()
