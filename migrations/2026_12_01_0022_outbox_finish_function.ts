// Issue 13: marking finished jobs in one round trip. The workers mark the outbox rows of finished
// jobs in batches; as a transaction of their own (begin, the admin setting for the outbox's RLS,
// the update, commit) that was four statements per batch, and at a low arrival rate a batch is one
// job. outbox_finish sets the admin setting for its own statement's transaction and updates the
// rows: one statement in autocommit. SECURITY INVOKER: the outbox's RLS applies as before, and the
// app role could set app.admin itself anyway (it is how withAdmin works). Frozen once landed.
import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function outbox_finish(p_keys uuid[]) returns integer
    language plpgsql volatile security invoker set search_path = public, pg_temp as $$
    declare
      v_count integer;
    begin
      perform set_config('app.admin', 'on', true);
      update outbox set finished_at = now() where job_key = any (p_keys) and finished_at is null;
      get diagnostics v_count = row_count;
      return v_count;
    end
    $$`.execute(db)
  await sql`revoke all on function outbox_finish from public`.execute(db)
  await sql`grant execute on function outbox_finish to regiobalie_app`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function if exists outbox_finish`.execute(db)
}
