// Issue 11 (performance): an event is stored once, not in every delivery row. The fan-out
// (webhook_fan_out) wrote the event's JSON into each of its deliveries: 20 subscriptions, 20
// copies, and every recorded attempt copied it again into the row's new version (~520 bytes a row;
// ~160 without it). Now the fan-out writes the event into webhook_events once, only when it made a
// delivery, and the deliveries it makes carry only its id. Frozen once landed.
// - webhook_events: id, the event's hub and member (its readers: the subscribers, who are always
//   one of the two, RLS), the JSON, created_at. Written only by the fan-out (its owner's policy);
//   read by the pump step and the claims of given deliveries; removed with the last of its
//   deliveries by the retention job (workers/maintenance.ts).
// - webhook_deliveries.event may be null: the deliveries made before this migration, and those
//   made one by one (test events, insertDeliveries), keep their JSON in the row; a reader takes
//   coalesce(d.event, e.event). No foreign key: the fan-out writes both in one statement, and a
//   key check per delivery row is what this saves.
// - webhook_pump_lease_step (migration 0027) claims with that coalesce; nothing else in it changes.
// In a scratch pgbench of the fan-out's insert (25 events × 20 subscriptions a transaction, 4
// clients) this took 37–43 to 45–48 transactions/s, and the table to a third of its size.
import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table webhook_events (
      id uuid primary key,
      hub_tenant_id uuid not null,
      member_tenant_id uuid,
      event jsonb not null,
      created_at timestamptz not null default now()
    )`.execute(db)
  await sql`alter table webhook_events enable row level security`.execute(db)
  await sql`alter table webhook_events force row level security`.execute(db)
  await sql`create policy webhook_events_own on webhook_events for all using (app_is_admin() or hub_tenant_id = app_current_tenant() or member_tenant_id = app_current_tenant()) with check (app_is_admin() or hub_tenant_id = app_current_tenant() or member_tenant_id = app_current_tenant())`.execute(db)
  await sql`create policy webhook_events_fan_out on webhook_events for all to regiobalie_webhooks using (true) with check (true)`.execute(db)
  await sql`grant select, delete on webhook_events to regiobalie_app`.execute(db)
  await sql`grant select, insert on webhook_events to regiobalie_webhooks`.execute(db)
  await sql`alter table webhook_deliveries alter column event drop not null`.execute(db)

  await sql`
    create or replace function webhook_fan_out(p_event_id uuid, p_type text, p_hub uuid, p_member uuid, p_event jsonb)
    returns table (delivery_id uuid, subscriber_tenant_id uuid)
    language plpgsql security definer set search_path = public, pg_temp as $$
    begin
      if not (app_is_admin() or app_current_tenant() = p_hub or (p_member is not null and app_current_tenant() = p_member)) then
        raise exception 'webhook fan-out of an event that is not the current tenant''s' using errcode = '42501';
      end if;
      return query
        insert into webhook_deliveries as d (hub_tenant_id, tenant_id, subscription_id, event_id, type, next_attempt_at)
        select s.hub_tenant_id, s.tenant_id, s.id, p_event_id, p_type, now() + interval '60 seconds'
        from webhook_subscriptions s
        where s.status = 'active' and p_type = any (s.events)
          and (s.tenant_id = p_hub or s.tenant_id = p_member)
        on conflict (event_id, subscription_id) do nothing
        returning d.id, d.tenant_id;
      -- The event once, when some subscription is to hear of it.
      if found then
        insert into webhook_events (id, hub_tenant_id, member_tenant_id, event)
        values (p_event_id, p_hub, p_member, p_event)
        on conflict (id) do nothing;
      end if;
    end
    $$`.execute(db)
  await sql`alter function webhook_fan_out(uuid, text, uuid, uuid, jsonb) owner to regiobalie_webhooks`.execute(db)

  await sql`
    create or replace function webhook_pump_lease_step(
      p_tenant uuid, p_subscription uuid, p_now timestamptz, p_until timestamptz, p_cap integer, p_limit integer,
      p_ids uuid[], p_statuses text[], p_attempts integer[], p_codes integer[], p_errors text[], p_excerpts text[],
      p_durations integer[], p_next timestamptz[])
    returns jsonb
    language plpgsql volatile security invoker set search_path = public, pg_temp set enable_bitmapscan = off as $$
    declare
      v_sub webhook_subscriptions;
      v_lease webhook_pump_leases;
      v_live_ids uuid[];
      v_live_untils timestamptz[];
      v_row_leases integer;
      v_room integer;
      v_ended integer := 0;
      v_new_ids uuid[] := '{}';
      v_deliveries jsonb := '[]'::jsonb;
    begin
      perform set_config('app.tenant_id', p_tenant::text, true), set_config('app.region_id', '', true),
        -- The step's commit does not wait for its WAL to reach the disk (see the head of this file).
        set_config('synchronous_commit', 'off', true);
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
      select * into v_sub from webhook_subscriptions where id = p_subscription for no key update;
      if not found then
        return jsonb_build_object('subscription', null, 'deliveries', '[]'::jsonb, 'ended', 0);
      end if;
      -- The pump leases still held: not recorded just now, not expired. Every writer of them holds
      -- the subscription's lock, so they are read without a lock of their own.
      select * into v_lease from webhook_pump_leases where subscription_id = p_subscription;
      select coalesce(array_agg(l.id order by l.n), '{}'), coalesce(array_agg(l.until order by l.n), '{}')
        into v_live_ids, v_live_untils
        from unnest(coalesce(v_lease.lease_ids, '{}'), coalesce(v_lease.lease_untils, '{}')) with ordinality as l(id, until, n)
        where l.until > p_now and l.id <> all (p_ids);
      if p_limit > 0 and v_sub.status <> 'active' then
        with ended as (
          update webhook_deliveries set status = 'dead', next_attempt_at = null, leased_until = null, last_error = 'subscription-disabled'
          where subscription_id = p_subscription and status in ('pending', 'failed')
            and (leased_until is null or leased_until <= p_now) and id <> all (v_live_ids)
          returning 1)
        select count(*)::int into v_ended from ended;
      elsif p_limit > 0 then
        select count(*)::int into v_row_leases from webhook_deliveries
          where subscription_id = p_subscription and leased_until > p_now;
        v_room := least(p_limit, greatest(0, p_cap - cardinality(v_live_ids) - v_row_leases));
        if v_room > 0 then
          select coalesce(array_agg(c.id order by c.created_at, c.id), '{}'),
                 coalesce(jsonb_agg(jsonb_build_object('id', c.id, 'attempts', c.attempts, 'event', coalesce(c.event, e.event)) order by c.created_at, c.id), '[]'::jsonb)
            into v_new_ids, v_deliveries
            from (select id, attempts, event, event_id, created_at from webhook_deliveries
                  where subscription_id = p_subscription and status = 'pending'
                    and (leased_until is null or leased_until <= p_now) and id <> all (v_live_ids)
                  order by created_at, id
                  limit v_room) c
            left join webhook_events e on e.id = c.event_id;
        end if;
      end if;
      if v_lease.subscription_id is null then
        if cardinality(v_new_ids) > 0 then
          insert into webhook_pump_leases (subscription_id, tenant_id, lease_ids, lease_untils)
          values (p_subscription, v_sub.tenant_id, v_new_ids, array_fill(p_until, array[cardinality(v_new_ids)]));
        end if;
      elsif cardinality(v_new_ids) > 0 or cardinality(v_live_ids) <> cardinality(v_lease.lease_ids) then
        update webhook_pump_leases set
          lease_ids = v_live_ids || v_new_ids,
          lease_untils = v_live_untils || array_fill(p_until, array[cardinality(v_new_ids)])
        where subscription_id = p_subscription;
      end if;
      if p_limit <= 0 or v_sub.status <> 'active' then
        return jsonb_build_object('subscription', null, 'deliveries', '[]'::jsonb, 'ended', v_ended);
      end if;
      return jsonb_build_object('subscription', to_jsonb(v_sub), 'deliveries', v_deliveries, 'ended', 0);
    end
    $$`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  // The functions as migrations 0007 and 0027 left them; the events go back into their deliveries
  // before their table goes.
  await sql`
    create or replace function webhook_fan_out(p_event_id uuid, p_type text, p_hub uuid, p_member uuid, p_event jsonb)
    returns table (delivery_id uuid, subscriber_tenant_id uuid)
    language plpgsql security definer set search_path = public, pg_temp as $$
    begin
      if not (app_is_admin() or app_current_tenant() = p_hub or (p_member is not null and app_current_tenant() = p_member)) then
        raise exception 'webhook fan-out of an event that is not the current tenant''s' using errcode = '42501';
      end if;
      return query
        insert into webhook_deliveries as d (hub_tenant_id, tenant_id, subscription_id, event_id, type, event, next_attempt_at)
        select s.hub_tenant_id, s.tenant_id, s.id, p_event_id, p_type, p_event, now() + interval '60 seconds'
        from webhook_subscriptions s
        where s.status = 'active' and p_type = any (s.events)
          and (s.tenant_id = p_hub or s.tenant_id = p_member)
        on conflict (event_id, subscription_id) do nothing
        returning d.id, d.tenant_id;
    end
    $$`.execute(db)
  await sql`
    create or replace function webhook_pump_lease_step(
      p_tenant uuid, p_subscription uuid, p_now timestamptz, p_until timestamptz, p_cap integer, p_limit integer,
      p_ids uuid[], p_statuses text[], p_attempts integer[], p_codes integer[], p_errors text[], p_excerpts text[],
      p_durations integer[], p_next timestamptz[])
    returns jsonb
    language plpgsql volatile security invoker set search_path = public, pg_temp set enable_bitmapscan = off as $$
    declare
      v_sub webhook_subscriptions;
      v_lease webhook_pump_leases;
      v_live_ids uuid[];
      v_live_untils timestamptz[];
      v_row_leases integer;
      v_room integer;
      v_ended integer := 0;
      v_new_ids uuid[] := '{}';
      v_deliveries jsonb := '[]'::jsonb;
    begin
      perform set_config('app.tenant_id', p_tenant::text, true), set_config('app.region_id', '', true),
        -- The step's commit does not wait for its WAL to reach the disk (see the head of this file).
        set_config('synchronous_commit', 'off', true);
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
      select * into v_sub from webhook_subscriptions where id = p_subscription for no key update;
      if not found then
        return jsonb_build_object('subscription', null, 'deliveries', '[]'::jsonb, 'ended', 0);
      end if;
      -- The pump leases still held: not recorded just now, not expired. Every writer of them holds
      -- the subscription's lock, so they are read without a lock of their own.
      select * into v_lease from webhook_pump_leases where subscription_id = p_subscription;
      select coalesce(array_agg(l.id order by l.n), '{}'), coalesce(array_agg(l.until order by l.n), '{}')
        into v_live_ids, v_live_untils
        from unnest(coalesce(v_lease.lease_ids, '{}'), coalesce(v_lease.lease_untils, '{}')) with ordinality as l(id, until, n)
        where l.until > p_now and l.id <> all (p_ids);
      if p_limit > 0 and v_sub.status <> 'active' then
        with ended as (
          update webhook_deliveries set status = 'dead', next_attempt_at = null, leased_until = null, last_error = 'subscription-disabled'
          where subscription_id = p_subscription and status in ('pending', 'failed')
            and (leased_until is null or leased_until <= p_now) and id <> all (v_live_ids)
          returning 1)
        select count(*)::int into v_ended from ended;
      elsif p_limit > 0 then
        select count(*)::int into v_row_leases from webhook_deliveries
          where subscription_id = p_subscription and leased_until > p_now;
        v_room := least(p_limit, greatest(0, p_cap - cardinality(v_live_ids) - v_row_leases));
        if v_room > 0 then
          select coalesce(array_agg(c.id order by c.created_at, c.id), '{}'),
                 coalesce(jsonb_agg(jsonb_build_object('id', c.id, 'attempts', c.attempts, 'event', c.event) order by c.created_at, c.id), '[]'::jsonb)
            into v_new_ids, v_deliveries
            from (select id, attempts, event, created_at from webhook_deliveries
                  where subscription_id = p_subscription and status = 'pending'
                    and (leased_until is null or leased_until <= p_now) and id <> all (v_live_ids)
                  order by created_at, id
                  limit v_room) c;
        end if;
      end if;
      if v_lease.subscription_id is null then
        if cardinality(v_new_ids) > 0 then
          insert into webhook_pump_leases (subscription_id, tenant_id, lease_ids, lease_untils)
          values (p_subscription, v_sub.tenant_id, v_new_ids, array_fill(p_until, array[cardinality(v_new_ids)]));
        end if;
      elsif cardinality(v_new_ids) > 0 or cardinality(v_live_ids) <> cardinality(v_lease.lease_ids) then
        update webhook_pump_leases set
          lease_ids = v_live_ids || v_new_ids,
          lease_untils = v_live_untils || array_fill(p_until, array[cardinality(v_new_ids)])
        where subscription_id = p_subscription;
      end if;
      if p_limit <= 0 or v_sub.status <> 'active' then
        return jsonb_build_object('subscription', null, 'deliveries', '[]'::jsonb, 'ended', v_ended);
      end if;
      return jsonb_build_object('subscription', to_jsonb(v_sub), 'deliveries', v_deliveries, 'ended', 0);
    end
    $$`.execute(db)
  await sql`update webhook_deliveries d set event = e.event from webhook_events e where d.event is null and e.id = d.event_id`.execute(db)
  await sql`drop table if exists webhook_events`.execute(db)
  await sql`alter table webhook_deliveries alter column event set not null`.execute(db)
}
