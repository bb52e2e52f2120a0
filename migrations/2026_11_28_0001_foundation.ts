// Foundation: the application's group role, the tenancy helper functions every RLS policy reads,
// and the transactional outbox. Frozen once landed.
import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  // Group roles are cluster-wide, so they may exist already (another database on the same server).
  // regiobalie_app: what the API and workers connect as (through a login member, see scripts/migrate.ts).
  // regiobalie_auth: owns the few SECURITY DEFINER functions that must look across tenants (key lookup).
  await sql`
    do $$
    begin
      if not exists (select 1 from pg_roles where rolname = 'regiobalie_app') then
        create role regiobalie_app nologin nosuperuser nobypassrls nocreatedb nocreaterole;
      end if;
      if not exists (select 1 from pg_roles where rolname = 'regiobalie_auth') then
        create role regiobalie_auth nologin nosuperuser nobypassrls nocreatedb nocreaterole;
      end if;
    end
    $$`.execute(db)
  await sql`grant usage on schema public to regiobalie_app, regiobalie_auth`.execute(db)

  // The tenant and the admin flag are set per transaction (set_config(..., true)); unset → no rows.
  await sql`
    create function app_current_tenant() returns uuid language sql stable as $$
      select nullif(current_setting('app.tenant_id', true), '')::uuid
    $$`.execute(db)
  // The region of the tenant, set together with it; lets a hub see the municipalities of its region.
  await sql`
    create function app_current_region() returns uuid language sql stable as $$
      select nullif(current_setting('app.region_id', true), '')::uuid
    $$`.execute(db)
  await sql`
    create function app_is_admin() returns boolean language sql stable as $$
      select coalesce(current_setting('app.admin', true), '') = 'on'
    $$`.execute(db)

  await sql`
    create table outbox (
      id bigint generated always as identity primary key,
      -- The BullMQ job id. Not the sequence: after a restore or a rebuilt database the sequence
      -- starts over, and BullMQ would take a new row for an old, completed job and drop it.
      job_key uuid not null unique default gen_random_uuid(),
      tenant_id uuid,
      queue text not null,
      job_name text not null,
      payload jsonb not null,
      created_at timestamptz not null default now(),
      dispatched_at timestamptz,
      -- Set by the worker when the job finished for good (done, or failed its last attempt); the
      -- relay counts rows dispatched and not yet finished as a tenant's jobs in flight.
      finished_at timestamptz
    )`.execute(db)
  await sql`create index outbox_pending on outbox (tenant_id, id) where dispatched_at is null`.execute(db)
  await sql`create index outbox_dispatched_at on outbox (dispatched_at) where dispatched_at is not null`.execute(db)
  await sql`create index outbox_in_flight on outbox (tenant_id, queue) where dispatched_at is not null and finished_at is null`.execute(db)
  await sql`alter table outbox enable row level security`.execute(db)
  await sql`alter table outbox force row level security`.execute(db)
  // A tenant's transaction may announce its own changes; only the relay (admin setting) reads them.
  await sql`
    create policy outbox_insert on outbox for insert
      with check (app_is_admin() or tenant_id = app_current_tenant())`.execute(db)
  await sql`create policy outbox_admin on outbox for all using (app_is_admin()) with check (app_is_admin())`.execute(db)
  await sql`grant select, insert, update, delete on outbox to regiobalie_app`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table outbox`.execute(db)
  await sql`drop function app_is_admin()`.execute(db)
  await sql`drop function app_current_region()`.execute(db)
  await sql`drop function app_current_tenant()`.execute(db)
}
