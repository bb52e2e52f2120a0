// Issue 13, submissions: the checklist summary refresh (migration 0019) finds its cases through the
// primary key, whatever the statistics say. A PL/pgSQL function keeps its plan for the life of the
// connection: planned while the cases table was small (a new database, a first busy minute before
// autovacuum's ANALYZE), the refresh kept a sequential scan of all cases, on every insert of
// checklist items. In bench:submit that was 2.8 ms of a batch's 9 ms in PostgreSQL, growing with
// the table (13,000 cases after 10 s). The function only ever updates the cases whose ids it is
// given, so it plans without sequential scans. Frozen once landed.
import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter function cases_refresh_checklist_summary(uuid[]) set enable_seqscan = off`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter function cases_refresh_checklist_summary(uuid[]) reset enable_seqscan`.execute(db)
}
