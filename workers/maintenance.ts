import { sql } from 'kysely'
import { withAdmin, type Db } from '../api/db/database.js'

/** Dispatched outbox rows are kept a week for diagnosis, then removed. */
export const OUTBOX_RETENTION_DAYS = 7

export async function purgeDispatchedOutbox(db: Db, retentionDays = OUTBOX_RETENTION_DAYS): Promise<number> {
  return withAdmin(db, async (trx) => {
    const result = await trx
      .deleteFrom('outbox')
      .where('dispatched_at', '<', sql<Date>`now() - make_interval(days => ${retentionDays})`)
      .executeTakeFirst()
    return Number(result.numDeletedRows)
  })
}

/** Stored idempotent responses are kept 48 hours: API.md promises at least 24. */
export const IDEMPOTENCY_RETENTION_HOURS = 48

export async function purgeIdempotencyKeys(db: Db, retentionHours = IDEMPOTENCY_RETENTION_HOURS): Promise<number> {
  return withAdmin(db, async (trx) => {
    const result = await trx
      .deleteFrom('idempotency_keys')
      .where('created_at', '<', sql<Date>`now() - make_interval(hours => ${retentionHours})`)
      .executeTakeFirst()
    return Number(result.numDeletedRows)
  })
}

/**
 * Finished webhook deliveries (delivered, or dead and not redelivered) are kept 30 days for the
 * deliveries list and for redelivery, then removed: a subscription's history never grows without
 * a rule. Pending and failed ones are still in their retry schedule (at most ~43 hours) and stay.
 * One statement a day; the table is scanned once.
 */
export const WEBHOOK_DELIVERY_RETENTION_DAYS = 30

export async function purgeFinishedDeliveries(db: Db, retentionDays = WEBHOOK_DELIVERY_RETENTION_DAYS): Promise<number> {
  return withAdmin(db, async (trx) => {
    const result = await trx
      .deleteFrom('webhook_deliveries')
      .where('status', 'in', ['delivered', 'dead'])
      .where(sql<Date>`coalesce(delivered_at, last_attempt_at, created_at)`, '<', sql<Date>`now() - make_interval(days => ${retentionDays})`)
      .executeTakeFirst()
    return Number(result.numDeletedRows)
  })
}
