// Issue 13: a case submission in one statement (one round trip) instead of some fifteen.
// - submit_case: sets the member's tenant and region for the statement's implicit transaction,
//   routes by the agreement valid on the day, refuses a suspended hub, and writes the case, its
//   checklist, the submit event, the webhook fan-out (webhook_fan_out) and the outbox rows — all
//   or nothing. It runs with the caller's rights (SECURITY INVOKER): row-level security applies to
//   every row it reads and writes exactly as it did to the statements it replaces. The caller
//   (api/cases/cases.service.ts) has validated the input and computed the due date, the clock and
//   the reference (from a block reserved beforehand, api/cases/reference-numbers.ts).
// - A NOTIFY on the channel `regiobalie_auth` whenever a key, a tenant or a staff member changes in
//   a way that affects authentication, so every API process drops the principals it cached
//   (api/auth/principal-cache.ts); lastUsedAt updates do not count. Frozen once landed.
import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function submit_case(
      p_tenant uuid, p_region uuid, p_hub uuid, p_day date,
      p_case_id uuid, p_event_id uuid, p_created_at timestamptz, p_reference text,
      p_case_type text, p_case_type_version date, p_ipr_matter text, p_subject jsonb, p_bsn_hash bytea,
      p_external_reference text, p_note text, p_due_date date, p_clock_due_on date,
      p_checklist text[], p_actor_id text, p_webhook_event jsonb, p_intake_job jsonb, p_delivery_job jsonb)
    returns setof cases
    language plpgsql volatile security invoker set search_path = public, pg_temp as $$
    declare
      v_hub uuid;
      v_hub_status text;
      v_case cases;
      v_deliveries integer;
    begin
      perform set_config('app.tenant_id', p_tenant::text, true), set_config('app.region_id', coalesce(p_region::text, ''), true);
      select a.hub_tenant_id into v_hub from agreements a
        where a.member_tenant_id = p_tenant and a.case_type = p_case_type
          and a.valid_from <= p_day and (a.valid_until is null or a.valid_until >= p_day);
      if v_hub is null then
        raise exception 'case-type-not-delegated' using errcode = 'RB001';
      end if;
      select t.status into v_hub_status from tenants t where t.id = v_hub;
      if v_hub_status is distinct from 'active' then
        raise exception 'hub-suspended' using errcode = 'RB002';
      end if;
      if p_hub is distinct from v_hub then
        raise exception 'the agreement routes to a hub outside the member''s region' using errcode = 'RB003';
      end if;
      insert into cases (id, hub_tenant_id, member_tenant_id, reference, case_type, case_type_version, ipr_matter,
                         status, subject, bsn_hash, external_reference, note, due_date, clock_due_on, created_at, updated_at)
        values (p_case_id, v_hub, p_tenant, p_reference, p_case_type, p_case_type_version, p_ipr_matter,
                'submitted', p_subject, p_bsn_hash, p_external_reference, p_note, p_due_date, p_clock_due_on, p_created_at, p_created_at)
        returning * into v_case;
      insert into case_checklist_items (case_id, hub_tenant_id, member_tenant_id, document_kind)
        select p_case_id, v_hub, p_tenant, k from unnest(p_checklist) k
        on conflict (case_id, document_kind) do nothing;
      insert into case_events (id, case_id, hub_tenant_id, member_tenant_id, actor_kind, actor_id, action, from_status, to_status, reason, version)
        values (p_event_id, p_case_id, v_hub, p_tenant, 'member', p_actor_id, 'submit', null, 'submitted', null, v_case.version);
      select count(*) into v_deliveries
        from webhook_fan_out((p_webhook_event->>'id')::uuid, p_webhook_event->>'type', v_hub, p_tenant, p_webhook_event);
      insert into outbox (queue, job_name, payload)
        select 'case-intake', 'intake-checks', p_intake_job
        union all
        select 'notifications', 'deliver-event', p_delivery_job where v_deliveries > 0;
      return next v_case;
    end
    $$`.execute(db)
  await sql`revoke all on function submit_case from public`.execute(db)
  await sql`grant execute on function submit_case to regiobalie_app`.execute(db)

  await sql`
    create function auth_changed() returns trigger language plpgsql as $$
    begin
      perform pg_notify('regiobalie_auth', tg_table_name);
      return null;
    end $$`.execute(db)
  // A key's use (last_used_at, batched) changes nothing a principal is made of.
  await sql`
    create trigger api_keys_auth_changed after update on api_keys for each row
      when (old.revoked_at is distinct from new.revoked_at or old.scopes is distinct from new.scopes
            or old.secret_hash is distinct from new.secret_hash or old.kind is distinct from new.kind
            or old.tenant_id is distinct from new.tenant_id or old.staff_id is distinct from new.staff_id)
      execute function auth_changed()`.execute(db)
  await sql`create trigger api_keys_auth_deleted after delete on api_keys for each statement execute function auth_changed()`.execute(db)
  for (const table of ['tenants', 'staff']) {
    await sql.raw(`create trigger ${table}_auth_changed after update or delete on ${table} for each statement execute function auth_changed()`).execute(db)
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['tenants', 'staff']) await sql.raw(`drop trigger if exists ${table}_auth_changed on ${table}`).execute(db)
  await sql`drop trigger if exists api_keys_auth_deleted on api_keys`.execute(db)
  await sql`drop trigger if exists api_keys_auth_changed on api_keys`.execute(db)
  await sql`drop function if exists auth_changed()`.execute(db)
  await sql`drop function if exists submit_case`.execute(db)
}
