// Issue 13: the relay picks fairly in O(batch), not O(pending), and wakes when rows are committed.
// - An index on the pending rows by (tenant, queue, id), so the relay can walk the distinct
//   (tenant, queue) pairs with a loose index scan and take the first rows of each.
// - A statement-level trigger that NOTIFYs the relay; PostgreSQL delivers it on commit only, so a
//   rolled-back change wakes nobody. Frozen once landed.
import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create index outbox_pending_pairs on outbox
      ((coalesce(tenant_id, '00000000-0000-0000-0000-000000000000'::uuid)), queue, id)
      where dispatched_at is null`.execute(db)
  await sql`
    create function outbox_notify() returns trigger language plpgsql as $$
    begin
      perform pg_notify('regiobalie_outbox', '');
      return null;
    end $$`.execute(db)
  await sql`create trigger outbox_notify after insert on outbox for each statement execute function outbox_notify()`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop trigger if exists outbox_notify on outbox`.execute(db)
  await sql`drop function if exists outbox_notify()`.execute(db)
  await sql`drop index if exists outbox_pending_pairs`.execute(db)
}
