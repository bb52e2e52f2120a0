// Issue 13, group commit for submissions: the submissions of one member that arrive together are
// written by one statement, in one transaction (api/cases/submission-batches.ts), instead of one
// statement and one commit each.
// - case_submission: one submission as the API prepared it, every field submit_case (migration
//   0015) takes, so the batch carries the same values the single statement would.
// - submit_cases: sets the member's tenant and region for the statement's implicit transaction as
//   submit_case does, then writes the submissions whose agreement valid on their day routes them to
//   their hub while that hub is active — cases, checklists, submit events, webhook fan-out and
//   outbox rows, set-based — and returns the cases it wrote. A submission it leaves out is refused:
//   the caller submits that one through submit_case, which answers its refusal exactly as before.
//   The checklist summary (migration 0019) is written with the case, so the summary trigger of
//   the checklist insert finds every row right and rewrites none (it rewrote each case row once).
//   SECURITY INVOKER: row-level security applies to every row as it does to submit_case's.
// - idempotency_claim, idempotency_complete: an Idempotency-Key's claim (insert, or what is stored
//   under the key) and its completion each in one statement that sets the principal's scope itself
//   (the admin setting, or its tenant and region), instead of a transaction of four round trips
//   each (api/http/plugins/idempotency.ts). SECURITY INVOKER: RLS applies as it did.
// Frozen once landed.
import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create type case_submission as (
      case_id uuid, event_id uuid, hub uuid, day date, created_at timestamptz, reference text,
      case_type text, case_type_version date, ipr_matter text, subject jsonb, bsn_hash bytea,
      external_reference text, note text, due_date date, clock_due_on date, checklist text[],
      actor_id text, webhook_event jsonb, intake_job jsonb, delivery_job jsonb)`.execute(db)
  await sql`
    create function submit_cases(p_tenant uuid, p_region uuid, p_items jsonb)
    returns setof cases
    language plpgsql volatile security invoker set search_path = public, pg_temp as $$
    declare
      v_items case_submission[];
      v_delivers boolean[] := '{}';
      v_deliveries integer;
      v_n integer;
    begin
      perform set_config('app.tenant_id', p_tenant::text, true), set_config('app.region_id', coalesce(p_region::text, ''), true);
      -- Routed as submit_case routes: the agreement valid on the day names the item's hub, which is active.
      select array_agg(i order by e.n) into v_items
        from jsonb_array_elements(p_items) with ordinality e(item, n)
        cross join lateral jsonb_populate_record(null::case_submission, e.item) i
        where exists (
          select from agreements a join tenants t on t.id = a.hub_tenant_id
          where a.member_tenant_id = p_tenant and a.case_type = i.case_type
            and a.valid_from <= i.day and (a.valid_until is null or a.valid_until >= i.day)
            and a.hub_tenant_id = i.hub and t.status = 'active');
      if v_items is null then
        return;
      end if;
      return query
        insert into cases (id, hub_tenant_id, member_tenant_id, reference, case_type, case_type_version, ipr_matter,
                           status, subject, bsn_hash, external_reference, note, due_date, clock_due_on, created_at, updated_at,
                           checklist_summary)
          select i.case_id, i.hub, p_tenant, i.reference, i.case_type, i.case_type_version, i.ipr_matter,
                 'submitted', i.subject, i.bsn_hash, i.external_reference, i.note, i.due_date, i.clock_due_on, i.created_at, i.created_at,
                 coalesce((select jsonb_agg(jsonb_build_array(k.kind, 'missing') order by k.kind)
                           from (select distinct unnest(i.checklist) as kind) k), '[]'::jsonb)
          from unnest(v_items) i
          returning *;
      insert into case_checklist_items (case_id, hub_tenant_id, member_tenant_id, document_kind)
        select i.case_id, i.hub, p_tenant, k from unnest(v_items) i cross join lateral unnest(i.checklist) k
        on conflict (case_id, document_kind) do nothing;
      insert into case_events (id, case_id, hub_tenant_id, member_tenant_id, actor_kind, actor_id, action, from_status, to_status, reason, version)
        select i.event_id, i.case_id, i.hub, p_tenant, 'member', i.actor_id, 'submit', null, 'submitted', null, 1
        from unnest(v_items) i;
      for v_n in 1 .. array_length(v_items, 1) loop
        select count(*) into v_deliveries
          from webhook_fan_out(((v_items[v_n]).webhook_event->>'id')::uuid, (v_items[v_n]).webhook_event->>'type', (v_items[v_n]).hub, p_tenant, (v_items[v_n]).webhook_event);
        v_delivers := v_delivers || (v_deliveries > 0);
      end loop;
      -- Each case's intake job, then its delivery job when someone subscribed, in submission order.
      insert into outbox (queue, job_name, payload)
        select o.queue, o.job_name, o.payload
        from generate_subscripts(v_items, 1) n
        cross join lateral (
          select 0 as k, 'case-intake' as queue, 'intake-checks' as job_name, (v_items[n]).intake_job as payload
          union all
          select 1, 'notifications', 'deliver-event', (v_items[n]).delivery_job where v_delivers[n]
        ) o
        order by n, o.k;
    end
    $$`.execute(db)
  await sql`revoke all on function submit_cases from public`.execute(db)
  await sql`grant execute on function submit_cases to regiobalie_app`.execute(db)

  await sql`
    create function idempotency_scope(p_admin boolean, p_tenant uuid, p_region uuid) returns void
    language plpgsql volatile security invoker set search_path = public, pg_temp as $$
    begin
      if p_admin then
        perform set_config('app.admin', 'on', true);
      else
        perform set_config('app.tenant_id', p_tenant::text, true), set_config('app.region_id', coalesce(p_region::text, ''), true);
      end if;
    end $$`.execute(db)
  // claimed: the key is this request's now; otherwise the row stored under it (none: taken meanwhile).
  await sql`
    create function idempotency_claim(p_admin boolean, p_tenant uuid, p_region uuid, p_owner uuid, p_principal text,
                                      p_key text, p_hash bytea, p_stale_seconds integer)
    returns table (claimed boolean, status text, request_hash bytea, response_status integer, response_body text,
                   response_headers jsonb, stale boolean)
    language plpgsql volatile security invoker set search_path = public, pg_temp as $$
    begin
      perform idempotency_scope(p_admin, p_tenant, p_region);
      insert into idempotency_keys (owner_id, principal_id, idempotency_key, request_hash, status)
        values (p_owner, p_principal, p_key, p_hash, 'in_flight')
        on conflict (owner_id, principal_id, idempotency_key) do nothing;
      if found then
        return query select true, null::text, null::bytea, null::integer, null::text, null::jsonb, null::boolean;
        return;
      end if;
      return query
        select false, k.status, k.request_hash, k.response_status, k.response_body, k.response_headers,
               k.created_at < now() - make_interval(secs => p_stale_seconds)
        from idempotency_keys k
        where k.owner_id = p_owner and k.principal_id = p_principal and k.idempotency_key = p_key;
    end $$`.execute(db)
  await sql`
    create function idempotency_complete(p_admin boolean, p_tenant uuid, p_region uuid, p_owner uuid, p_principal text,
                                         p_key text, p_status integer, p_body text, p_headers jsonb) returns void
    language plpgsql volatile security invoker set search_path = public, pg_temp as $$
    begin
      perform idempotency_scope(p_admin, p_tenant, p_region);
      update idempotency_keys
        set status = 'done', response_status = p_status, response_body = p_body, response_headers = p_headers
        where owner_id = p_owner and principal_id = p_principal and idempotency_key = p_key;
    end $$`.execute(db)
  for (const fn of ['idempotency_scope', 'idempotency_claim', 'idempotency_complete']) {
    await sql.raw(`revoke all on function ${fn} from public`).execute(db)
    await sql.raw(`grant execute on function ${fn} to regiobalie_app`).execute(db)
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const fn of ['idempotency_complete', 'idempotency_claim', 'idempotency_scope']) await sql.raw(`drop function if exists ${fn}`).execute(db)
  await sql`drop function if exists submit_cases`.execute(db)
  await sql`drop type if exists case_submission`.execute(db)
}
