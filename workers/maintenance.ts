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
