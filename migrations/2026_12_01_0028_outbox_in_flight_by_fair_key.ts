// Issue 13, the relay: finding the outbox rows in flight (dispatched, not finished) costs what is
// in flight, whatever the statistics say. PostgreSQL estimates `dispatched_at is not null and
// finished_at is null` as if the two were independent (about a quarter of the table), while in
// truth almost every dispatched row is finished. So it walked other indexes and filtered:
// - the fair pick's count of jobs in flight per tenant took outbox_dispatched_at and read every
//   row dispatched within the 15-minute expiry, finished or not (5,000 finished rows behind a
//   200-job window: 9–15 ms per round; at 1,000 jobs/s the 15 minutes hold 900,000 rows);
// - reconcileLostJobs (every 5 s) walked the primary key, that is the whole outbox, a week of rows.
// A stored column `in_flight` says it in one value, so ANALYZE counts it (its true share, near
// zero), and the index of the rows in flight is keyed by what the pick groups by (fair_key,
// queue) with the dispatch time for the expiry: both readers take it, index only. It replaces the
// old in-flight index (migration 0001), keyed by tenant_id, which the pick could not use.
// Frozen once landed.
import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table outbox add column in_flight boolean not null generated always as (dispatched_at is not null and finished_at is null) stored`.execute(db)
  await sql`create index outbox_in_flight_fair on outbox (fair_key, queue, dispatched_at) where in_flight`.execute(db)
  await sql`drop index outbox_in_flight`.execute(db)
  await sql`analyze outbox`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`create index outbox_in_flight on outbox (tenant_id, queue) where dispatched_at is not null and finished_at is null`.execute(db)
  await sql`drop index outbox_in_flight_fair`.execute(db)
  await sql`alter table outbox drop column in_flight`.execute(db)
}
