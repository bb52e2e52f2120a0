// All SQL of webhooks: subscriptions and deliveries. Runs in the caller's transaction, which has the
// tenant set (RLS: a tenant sees its own subscriptions and deliveries only) or, for the sweep across
// tenants, the admin setting.
import { sql, type Insertable, type Selectable, type Updateable } from 'kysely'
import type { Db, Trx } from '../db/database.js'
import { newestFirstPage } from '../db/keyset.js'
import type { WebhookDeliveriesTable, WebhookDeliveryStatus, WebhookEventJson, WebhookSubscriptionsTable } from '../db/schema.js'
import type { Page } from '../pagination.js'

export type SubscriptionRow = Selectable<WebhookSubscriptionsTable>
export type DeliveryRow = Selectable<WebhookDeliveriesTable>
/** What an attempt needs of a leased delivery: its id (the webhook-id), its attempts, its event. */
export type ClaimedDelivery = Pick<DeliveryRow, 'id' | 'attempts' | 'event'>

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

/**
 * Deliveries whose next attempt is due (retries, deferred attempts, jobs that were lost), across
 * tenants (admin setting). Their next_attempt_at moves `requeueAfter` on, so the next sweep only
 * takes them again if this job is lost too.
 */
export async function takeDue(
  trx: Trx,
  now: Date,
  requeueAt: Date,
  limit: number,
): Promise<{ id: string; tenant_id: string; subscription_id: string; status: 'pending' | 'failed' }[]> {
  // An index scan of webhook_deliveries_due, not a bitmap scan: the entries of recorded deliveries
  // stay in it until vacuum, and a bitmap scan visits their rows at every sweep (42,000 entries,
  // 2,800 heap pages, 116 ms every 2 s after a burst of 200,000 with autovacuum behind), where an
  // index scan marks them dead once and skips them after (2.6 ms). Nor compiled to machine code:
  // with the table's statistics behind its growth, the planner's estimate passed jit_above_cost
  // and every sweep spent ~85 ms compiling a statement that runs in a few (bench:webhooks).
  // For this transaction only.
  await sql`select set_config('enable_bitmapscan', 'off', true), set_config('jit', 'off', true)`.execute(trx)
  const { rows } = await sql<{ id: string; tenant_id: string; subscription_id: string; status: 'pending' | 'failed' }>`
    update webhook_deliveries d set next_attempt_at = ${requeueAt}
    where d.id in (
      select id from webhook_deliveries
      where status in ('pending', 'failed') and next_attempt_at <= ${now}
        and (leased_until is null or leased_until <= ${now})
        -- A pending delivery of a subscription whose pump holds live leases is not lost: that
        -- pump takes it (one job per delivery of a large backlog would flood the queue).
        -- Its leases are its deliveries' leased_until and its pump's (webhook_pump_leases).
        and (status = 'failed' or not (exists (
          select 1 from webhook_deliveries l
          where l.subscription_id = webhook_deliveries.subscription_id and l.leased_until > ${now}) or exists (
          select 1 from webhook_pump_leases p, unnest(p.lease_untils) as u(until)
          where p.subscription_id = webhook_deliveries.subscription_id and u.until > ${now})))
      order by next_attempt_at
      limit ${limit}
      for update skip locked)
    returning d.id, d.tenant_id, d.subscription_id, d.status`.execute(trx)
  return rows
}

// --- batched delivery (api/webhooks/delivery.ts): a few statements per batch, not per delivery

/** The state of the given deliveries as a claim sees it (visible ones only). */
export const deliveriesForClaim = (trx: Trx, ids: readonly string[]): Promise<Pick<DeliveryRow, 'id' | 'subscription_id' | 'status' | 'leased_until'>[]> =>
  trx.selectFrom('webhook_deliveries').select(['id', 'subscription_id', 'status', 'leased_until']).where('id', 'in', ids).execute()

/** The deliveries the subscription's pump holds at `now` (webhook_pump_leases, migration 0027). */
export async function pumpLeasedIds(trx: Trx, subscriptionId: string, now: Date): Promise<string[]> {
  const row = await trx.selectFrom('webhook_pump_leases').select(['lease_ids', 'lease_untils']).where('subscription_id', '=', subscriptionId).executeTakeFirst()
  return row ? row.lease_ids.filter((_, i) => row.lease_untils[i]! > now) : []
}

/**
 * Leases deliveries of one subscription on their rows, at most `cap` minus the leases it holds at
 * `now` and at most `limit`: the given ids, or (ids null) its pending deliveries, oldest first;
 * never one of `pumpLeased` (the subscription's pump leases, which the caller has taken off `cap`).
 * The caller holds the subscription's lock (lockSubscription, a statement of its own, so that this
 * statement's snapshot sees the leases committed by the claim it waited for).
 */
export async function leaseBatch(
  trx: Trx,
  subscriptionId: string,
  ids: readonly string[] | null,
  now: Date,
  until: Date,
  cap: number,
  limit: number,
  pumpLeased: readonly string[] = [],
): Promise<DeliveryRow[]> {
  const which = ids === null ? sql`status = 'pending'` : sql`id = any(${[...ids]}::uuid[]) and status in ('pending', 'failed')`
  const { rows } = await sql<DeliveryRow>`
    with held as (
      select count(*)::int as n from webhook_deliveries
      where subscription_id = ${subscriptionId} and leased_until > ${now}),
    pick as (
      select id from webhook_deliveries
      where subscription_id = ${subscriptionId} and ${which}
        and (leased_until is null or leased_until <= ${now}) and id <> all (${[...pumpLeased]}::uuid[])
      order by created_at, id
      limit least(${limit}::int, greatest(0, ${cap}::int - (select n from held)))
      for update skip locked)
    update webhook_deliveries d set leased_until = ${until}
    from pick where d.id = pick.id
    returning d.*`.execute(trx)
  return rows
}

/** Moves the next attempt of deliveries that could not be leased (their subscription at its cap). */
export async function deferDeliveries(trx: Trx, ids: readonly string[], at: Date): Promise<void> {
  if (ids.length > 0) await trx.updateTable('webhook_deliveries').set({ next_attempt_at: at }).where('id', 'in', ids).execute()
}

/**
 * Ends unleased, undelivered deliveries of a disabled subscription (the given ids, or all of them),
 * never one of `pumpLeased` (its pump leases still held).
 */
export async function endDeliveriesOfDisabled(trx: Trx, subscriptionId: string, ids: readonly string[] | null, now: Date, pumpLeased: readonly string[] = []): Promise<string[]> {
  const rows = await trx
    .updateTable('webhook_deliveries')
    .set({ status: 'dead', next_attempt_at: null, leased_until: null, last_error: 'subscription-disabled' })
    .where('subscription_id', '=', subscriptionId)
    .where('status', 'in', ['pending', 'failed'])
    .where((eb) => eb.or([eb('leased_until', 'is', null), eb('leased_until', '<=', now)]))
    .$if(ids !== null, (qb) => qb.where('id', 'in', ids!))
    .$if(pumpLeased.length > 0, (qb) => qb.where('id', 'not in', pumpLeased))
    .returning('id')
    .execute()
  return rows.map((r) => r.id)
}

export interface AttemptRecord {
  id: string
  status: WebhookDeliveryStatus
  attempts: number
  statusCode: number | null
  error: string | null
  excerpt: string | null
  durationMs: number
  nextAttemptAt: Date | null
}

/** Records the outcomes of a batch of attempts in one statement, each row its own outcome. */
export async function recordAttempts(trx: Trx, records: readonly AttemptRecord[], now: Date): Promise<void> {
  if (records.length === 0) return
  await sql`
    update webhook_deliveries d set
      status = v.status, attempts = v.attempts, leased_until = null, last_attempt_at = ${now},
      last_status_code = v.code, last_error = v.error, response_excerpt = v.excerpt, last_duration_ms = v.ms,
      delivered_at = case when v.status = 'delivered' then ${now}::timestamptz else d.delivered_at end,
      next_attempt_at = v.next
    from unnest(
      ${records.map((r) => r.id)}::uuid[], ${records.map((r) => r.status)}::text[], ${records.map((r) => r.attempts)}::int[],
      ${records.map((r) => r.statusCode)}::int[], ${records.map((r) => r.error)}::text[], ${records.map((r) => r.excerpt)}::text[],
      ${records.map((r) => r.durationMs)}::int[], ${records.map((r) => r.nextAttemptAt)}::timestamptz[]
    ) as v(id, status, attempts, code, error, excerpt, ms, next)
    where d.id = v.id`.execute(trx)
}

/** Releases pump leases of a subscription (recorded deliveries) and drops the expired ones; the caller holds its lock. */
export async function releasePumpLeases(trx: Trx, subscriptionId: string, ids: readonly string[], now: Date): Promise<void> {
  await sql`
    update webhook_pump_leases p set
      lease_ids = coalesce((select array_agg(l.id order by l.n) from unnest(p.lease_ids, p.lease_untils) with ordinality as l(id, until, n)
                            where l.until > ${now} and l.id <> all (${[...ids]}::uuid[])), '{}'),
      lease_untils = coalesce((select array_agg(l.until order by l.n) from unnest(p.lease_ids, p.lease_untils) with ordinality as l(id, until, n)
                               where l.until > ${now} and l.id <> all (${[...ids]}::uuid[])), '{}')
    where p.subscription_id = ${subscriptionId} and cardinality(p.lease_ids) > 0`.execute(trx)
}

/** Pending deliveries of an event with their subscriptions, across tenants (admin). */
export const pendingOfEventBySubscription = (trx: Trx, eventId: string): Promise<{ id: string; tenant_id: string; subscription_id: string }[]> =>
  trx
    .selectFrom('webhook_deliveries')
    .select(['id', 'tenant_id', 'subscription_id'])
    .where('event_id', '=', eventId)
    .where('status', '=', 'pending')
    .orderBy('created_at')
    .orderBy('id')
    .execute()

/** The step of a subscription's pump that webhook_pump_lease_step (migration 0027) ran. */
export interface PumpStepRow {
  /** The locked subscription, null when nothing was claimed because it is gone or not active. */
  subscription: SubscriptionRow | null
  deliveries: ClaimedDelivery[]
  /** Unleased deliveries ended because the subscription is no longer active. */
  ended: number
}

interface SubscriptionJson extends Omit<SubscriptionRow, 'created_at' | 'updated_at' | 'disabled_at' | 'failing_since' | 'previous_secret_expires_at'> {
  created_at: string
  updated_at: string
  disabled_at: string | null
  failing_since: string | null
  previous_secret_expires_at: string | null
}
const dateOrNull = (value: string | null): Date | null => (value === null ? null : new Date(value))

/**
 * One step of a subscription's pump in one statement (its own implicit transaction, under the
 * subscriber's tenant): records the outcomes given and releases their pump leases, then — `limit`
 * above 0 — leases up to `limit` of the subscription's oldest pending deliveries (pump leases, in
 * webhook_pump_leases), at most `cap` minus the leases it holds at `now`, or ends its unleased
 * deliveries when it is not active.
 */
export async function pumpStepStatement(
  db: Db,
  tenantId: string,
  subscriptionId: string,
  records: readonly AttemptRecord[],
  now: Date,
  until: Date,
  cap: number,
  limit: number,
): Promise<PumpStepRow> {
  const { rows } = await sql<{ step: { subscription: SubscriptionJson | null; deliveries: { id: string; attempts: number; event: WebhookEventJson }[]; ended: number } }>`
    select webhook_pump_lease_step(
      ${tenantId}::uuid, ${subscriptionId}::uuid, ${now}::timestamptz, ${until}::timestamptz, ${cap}::int, ${limit}::int,
      ${records.map((r) => r.id)}::uuid[], ${records.map((r) => r.status)}::text[], ${records.map((r) => r.attempts)}::int[],
      ${records.map((r) => r.statusCode)}::int[], ${records.map((r) => r.error)}::text[], ${records.map((r) => r.excerpt)}::text[],
      ${records.map((r) => r.durationMs)}::int[], ${records.map((r) => r.nextAttemptAt)}::timestamptz[]) as step`.execute(db)
  const step = rows[0]!.step
  const s = step.subscription
  return {
    subscription: s
      ? {
          ...s,
          created_at: new Date(s.created_at),
          updated_at: new Date(s.updated_at),
          disabled_at: dateOrNull(s.disabled_at),
          failing_since: dateOrNull(s.failing_since),
          previous_secret_expires_at: dateOrNull(s.previous_secret_expires_at),
        }
      : null,
    deliveries: step.deliveries,
    ended: step.ended,
  }
}

/**
 * An event's fan-out and, when it made deliveries, its `deliver-event` outbox row, in one
 * statement (webhook_emit, migration 0018) in the caller's transaction. Returns the deliveries made.
 */
export async function emitStatement(trx: Trx, event: WebhookEventJson, hubTenantId: string, memberTenantId: string | null, job: unknown): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    select webhook_emit(${JSON.stringify(event)}::jsonb, ${hubTenantId}::uuid, ${memberTenantId}::uuid, ${JSON.stringify(job)}::jsonb) as n`.execute(trx)
  return rows[0]!.n
}

/**
 * The subscriptions (and their tenants) with pending deliveries of these events, across tenants,
 * in one statement (webhook_pending_subscriptions, migration 0018: the admin setting inside it only).
 */
export async function pendingSubscriptionsOfEvents(db: Db, eventIds: readonly string[]): Promise<{ subscription_id: string; tenant_id: string }[]> {
  const { rows } = await sql<{ subscription_id: string; tenant_id: string }>`
    select subscription_id, tenant_id from webhook_pending_subscriptions(${[...eventIds]}::uuid[])`.execute(db)
  return rows
}
