// Issue 11 (performance): a delivery row written twice (made, recorded) instead of three times,
// and fewer index entries per write. Frozen once landed.
// - The leases of a subscription's delivery pump move into one row of their own per subscription
//   (webhook_pump_leases: lease_ids, and lease_untils beside them, one per delivery): a pump step
//   claims its batch by writing that one row instead of every delivery of the batch (a new row
//   version and five or six index entries each), and the in-flight cap counts the ids there
//   instead of the entries of webhook_deliveries_leased, which kept the recorded deliveries'
//   entries until vacuum (hundreds of heap visits per step in a burst). Not on the subscription
//   row: that one is read by every fan-out (and key-share locked by its foreign key), and a row
//   rewritten at every step grew the table to thousands of pages of dead versions in a burst. A
//   delivery is leased while its leased_until is ahead (a claim of given deliveries: retries,
//   redelivery, test events — still its own row) or while its id is in its subscription's
//   lease_ids with its lease_until ahead. Every claim holds the subscription's lock, so the two
//   are counted together against the cap. An expired entry counts for nothing, as an expired
//   leased_until: the batch of a pump that died is taken again.
// - webhook_pump_lease_step: the pump step of webhook_pump_step (migration 0018) with the pump's
//   leases in webhook_pump_leases; it records the batch sent last, releases its ids (and expired
//   ones) and claims the next batch. webhook_pump_step stays for the code that called it. Its
//   commit does not wait for the disk (synchronous_commit off for the step's transaction only):
//   a step waited 6–10 ms for its WAL flush on a busy machine, and the pumps went at that pace.
//   What a crash of PostgreSQL itself can lose is the last fraction of a second of steps: a lost
//   record leaves its delivery pending, sent again after the restart with the same webhook-id (as
//   after a worker's crash); a lost lease is one of a batch whose worker lost its connection in
//   the same crash. A delivery itself is never lost: it is made in its event's transaction, which
//   commits as before.
// - webhook_deliveries_subscription_status (subscription, status, created_at, id) gave way to
//   webhook_deliveries_undelivered (subscription, created_at, id) where status <> 'delivered': a
//   recorded delivery leaves no entry behind in it. The pump's claim (status = 'pending') and the
//   listing of failed, dead or pending deliveries use it; the listing of delivered ones the
//   subscription's index (webhook_deliveries_subscription), where nearly all of them are delivered.
import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table webhook_pump_leases (
      subscription_id uuid primary key references webhook_subscriptions (id) on delete cascade,
      tenant_id uuid not null references tenants (id),
      lease_ids uuid[] not null default '{}',
      lease_untils timestamptz[] not null default '{}',
      check (cardinality(lease_ids) = cardinality(lease_untils))
    ) with (fillfactor = 50)`.execute(db)
  await sql`alter table webhook_pump_leases enable row level security`.execute(db)
  await sql`alter table webhook_pump_leases force row level security`.execute(db)
  await sql`create policy webhook_pump_leases_own on webhook_pump_leases for all using (app_is_admin() or tenant_id = app_current_tenant()) with check (app_is_admin() or tenant_id = app_current_tenant())`.execute(db)
  await sql`grant select, insert, update, delete on webhook_pump_leases to regiobalie_app`.execute(db)

  await sql`create index webhook_deliveries_undelivered on webhook_deliveries (subscription_id, created_at desc, id desc) where status <> 'delivered'`.execute(db)
  await sql`drop index webhook_deliveries_subscription_status`.execute(db)

  await sql`
    create function webhook_pump_lease_step(
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
  await sql`revoke all on function webhook_pump_lease_step from public`.execute(db)
  await sql`grant execute on function webhook_pump_lease_step to regiobalie_app`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function if exists webhook_pump_lease_step`.execute(db)
  await sql`create index if not exists webhook_deliveries_subscription_status on webhook_deliveries (subscription_id, status, created_at desc, id desc)`.execute(db)
  await sql`drop index if exists webhook_deliveries_undelivered`.execute(db)
  await sql`drop table if exists webhook_pump_leases`.execute(db)
}
