// Issue 11 (performance): webhook delivery in fewer round trips. Frozen once landed.
// - webhook_pump_step: one step of a subscription's delivery pump (api/webhooks/delivery.ts
//   pumpStep) as one statement instead of six (begin, tenant, record, lock, lease, commit). It sets
//   the subscriber's tenant for the statement's implicit transaction, records the outcomes of the
//   batch the pump sent last (each delivery its own), then — unless p_limit is 0 — locks the
//   subscription and leases up to p_limit of its oldest pending deliveries, as many as its
//   in-flight cap leaves room for; a subscription no longer active has its unleased deliveries
//   ended instead. The lock and the lease are statements of their own inside the function (each
//   takes a new snapshot under READ COMMITTED), so the lease sees the leases committed by a claim
//   it waited for, as before. It runs with the caller's rights (SECURITY INVOKER): row-level
//   security applies as it did to the statements it replaces. A step whose batch changes the
//   subscription (a 410, the start or the end of a run of failures) still runs as the transaction
//   of several statements it was.
//   Without bitmap scans: the leases a subscription holds are counted on webhook_deliveries_leased,
//   whose entries of recorded deliveries stay behind (dead, their lease time still ahead) until
//   vacuum; a bitmap scan visits every one of them at every claim — hundreds of heap pages per
//   step in a burst — where an index scan marks them dead once and skips them after.
// - webhook_emit: an event's fan-out (webhook_fan_out) and its outbox row, in one statement.
// - webhook_pending_subscriptions: the subscriptions (and their tenants) with pending deliveries of
//   some events, across tenants — the lookup of the notifications worker's `deliver-event` job, in
//   one statement instead of four (begin, admin, select, commit). The admin setting holds inside
//   the function only (its SET clause restores the caller's value on exit), so it cannot leak into
//   a caller's transaction.
import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function webhook_pump_step(
      p_tenant uuid, p_subscription uuid, p_now timestamptz, p_until timestamptz, p_cap integer, p_limit integer,
      p_ids uuid[], p_statuses text[], p_attempts integer[], p_codes integer[], p_errors text[], p_excerpts text[],
      p_durations integer[], p_next timestamptz[])
    returns jsonb
    language plpgsql volatile security invoker set search_path = public, pg_temp set enable_bitmapscan = off as $$
    declare
      v_sub webhook_subscriptions;
      v_ended integer;
      v_deliveries jsonb;
    begin
      perform set_config('app.tenant_id', p_tenant::text, true), set_config('app.region_id', '', true);
      if cardinality(p_ids) > 0 then
        update webhook_deliveries d set
          status = v.status, attempts = v.attempts, leased_until = null, last_attempt_at = p_now,
          last_status_code = v.code, last_error = v.error, response_excerpt = v.excerpt, last_duration_ms = v.ms,
          delivered_at = case when v.status = 'delivered' then p_now else d.delivered_at end,
          next_attempt_at = v.next
        from unnest(p_ids, p_statuses, p_attempts, p_codes, p_errors, p_excerpts, p_durations, p_next)
          as v(id, status, attempts, code, error, excerpt, ms, next)
        where d.id = v.id;
      end if;
      if p_limit <= 0 then
        return jsonb_build_object('subscription', null, 'deliveries', '[]'::jsonb, 'ended', 0);
      end if;
      select * into v_sub from webhook_subscriptions where id = p_subscription for no key update;
      if not found then
        return jsonb_build_object('subscription', null, 'deliveries', '[]'::jsonb, 'ended', 0);
      end if;
      if v_sub.status <> 'active' then
        with ended as (
          update webhook_deliveries set status = 'dead', next_attempt_at = null, leased_until = null, last_error = 'subscription-disabled'
          where subscription_id = p_subscription and status in ('pending', 'failed')
            and (leased_until is null or leased_until <= p_now)
          returning 1)
        select count(*)::int into v_ended from ended;
        return jsonb_build_object('subscription', null, 'deliveries', '[]'::jsonb, 'ended', v_ended);
      end if;
      with held as (
        select count(*)::int as n from webhook_deliveries
        where subscription_id = p_subscription and leased_until > p_now),
      pick as (
        select id from webhook_deliveries
        where subscription_id = p_subscription and status = 'pending'
          and (leased_until is null or leased_until <= p_now)
        order by created_at, id
        limit least(p_limit, greatest(0, p_cap - (select n from held)))
        for update skip locked),
      leased as (
        update webhook_deliveries d set leased_until = p_until
        from pick where d.id = pick.id
        returning d.id, d.attempts, d.event, d.created_at)
      select coalesce(jsonb_agg(jsonb_build_object('id', id, 'attempts', attempts, 'event', event) order by created_at, id), '[]'::jsonb)
        into v_deliveries from leased;
      return jsonb_build_object('subscription', to_jsonb(v_sub), 'deliveries', v_deliveries, 'ended', 0);
    end
    $$`.execute(db)
  await sql`revoke all on function webhook_pump_step from public`.execute(db)
  await sql`grant execute on function webhook_pump_step to regiobalie_app`.execute(db)

  await sql`
    create function webhook_emit(p_event jsonb, p_hub uuid, p_member uuid, p_job jsonb)
    returns integer
    language plpgsql volatile security invoker set search_path = public, pg_temp as $$
    declare
      v_deliveries integer;
    begin
      select count(*)::int into v_deliveries
        from webhook_fan_out((p_event->>'id')::uuid, p_event->>'type', p_hub, p_member, p_event);
      if v_deliveries > 0 then
        insert into outbox (queue, job_name, payload) values ('notifications', 'deliver-event', p_job);
      end if;
      return v_deliveries;
    end
    $$`.execute(db)
  await sql`revoke all on function webhook_emit from public`.execute(db)
  await sql`grant execute on function webhook_emit to regiobalie_app`.execute(db)

  await sql`
    create function webhook_pending_subscriptions(p_events uuid[])
    returns table (subscription_id uuid, tenant_id uuid)
    language plpgsql volatile security invoker set search_path = public, pg_temp set app.admin = 'on' as $$
    begin
      return query
        select distinct d.subscription_id, d.tenant_id from webhook_deliveries d
        where d.event_id = any (p_events) and d.status = 'pending';
    end
    $$`.execute(db)
  await sql`revoke all on function webhook_pending_subscriptions from public`.execute(db)
  await sql`grant execute on function webhook_pending_subscriptions to regiobalie_app`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function if exists webhook_pending_subscriptions`.execute(db)
  await sql`drop function if exists webhook_emit`.execute(db)
  await sql`drop function if exists webhook_pump_step`.execute(db)
}
