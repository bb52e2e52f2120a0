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
