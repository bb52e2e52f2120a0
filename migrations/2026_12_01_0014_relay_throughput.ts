// Issue 13, the relay at a large backlog and the intake job's round trips. Frozen once landed.
// - `fair_key`: the row's tenant, or the all-zero uuid for a system row, as a plain column. The
//   relay reads the outbox under row-level security, and PostgreSQL uses a condition as an index
//   condition under RLS only when it is leakproof; a condition on `coalesce(tenant_id, …)` is not
//   (coalesce is not on the planner's leakproof list), so the loose index scan of 0010 became a
//   filter over every pending row (4 s a round at 1,000,000 pending). On a plain column the same
//   comparisons are index conditions again: the fair pick reads O(batch) rows.
//   (`app_enter_tenant`, which the relay's workers also use, comes with migration 0013.)
import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table outbox add column fair_key uuid not null
      generated always as (coalesce(tenant_id, '00000000-0000-0000-0000-000000000000'::uuid)) stored`.execute(db)
  await sql`create index outbox_pending_fair on outbox (fair_key, queue, id) where dispatched_at is null`.execute(db)
  await sql`drop index if exists outbox_pending_pairs`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    create index if not exists outbox_pending_pairs on outbox
      ((coalesce(tenant_id, '00000000-0000-0000-0000-000000000000'::uuid)), queue, id)
      where dispatched_at is null`.execute(db)
  await sql`drop index if exists outbox_pending_fair`.execute(db)
  await sql`alter table outbox drop column if exists fair_key`.execute(db)
}
