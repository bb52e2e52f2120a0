// Webhooks (API.md "Webhooks"): a tenant's subscriptions, with their signing secrets encrypted, and
// one delivery row per event and matching subscription. Frozen once landed.
//
// Fan-out runs inside the transaction of the change (a member submitting a case, a hub worker
// reviewing a document), whose tenant cannot see the other party's subscriptions. It goes through
// one SECURITY DEFINER function owned by regiobalie_webhooks, the only role whose policies let it
// read subscriptions and write deliveries across tenants — and the function only fans out an event
// whose hub or member is the transaction's own tenant.
import { sql, type Kysely } from 'kysely'

const own = `app_is_admin() or tenant_id = app_current_tenant()`

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    do $$
    begin
      if not exists (select 1 from pg_roles where rolname = 'regiobalie_webhooks') then
        create role regiobalie_webhooks nologin nosuperuser nobypassrls nocreatedb nocreaterole;
      end if;
    end
    $$`.execute(db)
  await sql`grant usage on schema public to regiobalie_webhooks`.execute(db)

  await sql`
    create table webhook_subscriptions (
      id uuid primary key default gen_random_uuid(),
      -- The hub of the subscriber's region (the distribution column); null while the region has none.
      hub_tenant_id uuid references tenants (id),
      tenant_id uuid not null references tenants (id),
      url text not null,
      events text[] not null check (cardinality(events) > 0),
      description text,
      format text not null default 'standard' check (format in ('standard', 'zgw')),
      status text not null default 'active' check (status in ('active', 'disabled')),
      disabled_reason text check (disabled_reason in ('gone', 'failing')),
      disabled_at timestamptz,
      -- AES-256-GCM under a key derived from BLOB_MASTER_KEY (api/webhooks/secrets.ts); never clear text.
      secret_encrypted text not null,
      -- The secret before the last rotation: it signs alongside the new one until it expires.
      previous_secret_encrypted text,
      previous_secret_expires_at timestamptz,
      -- Start of the current run of failed attempts; cleared by a success. Five days → disabled.
      failing_since timestamptz,
      created_at timestamptz not null default date_trunc('milliseconds', now()),
      updated_at timestamptz not null default date_trunc('milliseconds', now())
    )`.execute(db)
  await sql`create index webhook_subscriptions_tenant on webhook_subscriptions (tenant_id, created_at desc, id desc)`.execute(db)
  await sql`create index webhook_subscriptions_active on webhook_subscriptions using gin (events) where status = 'active'`.execute(db)

  await sql`
    create table webhook_deliveries (
      id uuid primary key default gen_random_uuid(),
      hub_tenant_id uuid,
      tenant_id uuid not null references tenants (id),
      subscription_id uuid not null references webhook_subscriptions (id) on delete cascade,
      event_id uuid not null,
      type text not null,
      -- The event as emitted (ids, references, statuses, the object's path): rendered into the body
      -- of the subscription's format at every attempt, identically.
      event jsonb not null,
      status text not null default 'pending' check (status in ('pending', 'delivered', 'failed', 'dead')),
      attempts integer not null default 0,
      -- When the next attempt is due; for a pending delivery, when to try again if its job was lost.
      next_attempt_at timestamptz,
      -- Held by the attempt in progress; the per-subscription in-flight cap counts these.
      leased_until timestamptz,
      last_attempt_at timestamptz,
      last_status_code integer,
      last_error text,
      -- At most a few hundred characters of the receiver's answer, never the whole body.
      response_excerpt text check (length(response_excerpt) <= 256),
      last_duration_ms integer,
      delivered_at timestamptz,
      created_at timestamptz not null default date_trunc('milliseconds', now()),
      unique (event_id, subscription_id)
    )`.execute(db)
  await sql`create index webhook_deliveries_subscription on webhook_deliveries (subscription_id, created_at desc, id desc)`.execute(db)
  await sql`create index webhook_deliveries_subscription_status on webhook_deliveries (subscription_id, status, created_at desc, id desc)`.execute(db)
  await sql`create index webhook_deliveries_due on webhook_deliveries (next_attempt_at) where status in ('pending', 'failed')`.execute(db)
  await sql`create index webhook_deliveries_leased on webhook_deliveries (subscription_id, leased_until) where leased_until is not null`.execute(db)

  for (const table of ['webhook_subscriptions', 'webhook_deliveries']) {
    await sql.raw(`alter table ${table} enable row level security`).execute(db)
    await sql.raw(`alter table ${table} force row level security`).execute(db)
    await sql.raw(`create policy ${table}_own on ${table} for all using (${own}) with check (${own})`).execute(db)
  }
  await sql`grant select, insert, update, delete on webhook_subscriptions to regiobalie_app`.execute(db)
  await sql`grant select, insert, update on webhook_deliveries to regiobalie_app`.execute(db)

  await sql`grant select on webhook_subscriptions to regiobalie_webhooks`.execute(db)
  await sql`grant select, insert on webhook_deliveries to regiobalie_webhooks`.execute(db)
  await sql`create policy webhook_subscriptions_fan_out on webhook_subscriptions for select to regiobalie_webhooks using (true)`.execute(db)
  await sql`create policy webhook_deliveries_fan_out on webhook_deliveries for all to regiobalie_webhooks using (true) with check (true)`.execute(db)
  await sql`
    create function webhook_fan_out(p_event_id uuid, p_type text, p_hub uuid, p_member uuid, p_event jsonb)
    returns table (delivery_id uuid, subscriber_tenant_id uuid)
    language plpgsql volatile security definer set search_path = public, pg_temp as $$
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
  await sql`alter function webhook_fan_out(uuid, text, uuid, uuid, jsonb) owner to regiobalie_webhooks`.execute(db)
  await sql`revoke all on function webhook_fan_out(uuid, text, uuid, uuid, jsonb) from public`.execute(db)
  await sql`grant execute on function webhook_fan_out(uuid, text, uuid, uuid, jsonb) to regiobalie_app`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function webhook_fan_out(uuid, text, uuid, uuid, jsonb)`.execute(db)
  await sql`drop table webhook_deliveries`.execute(db)
  await sql`drop table webhook_subscriptions`.execute(db)
}
