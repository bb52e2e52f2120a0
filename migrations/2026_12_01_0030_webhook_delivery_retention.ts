// Issue 13 (growth): finished webhook deliveries are removed 30 days after they finished
// (workers/maintenance.ts purgeFinishedDeliveries, a daily maintenance job). The application role
// may delete them; the rows' policy (webhook_deliveries_own) still decides which: the job runs as
// the platform admin. Frozen once landed.
import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await sql`grant delete on webhook_deliveries to regiobalie_app`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`revoke delete on webhook_deliveries from regiobalie_app`.execute(db)
}
