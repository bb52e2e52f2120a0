// Tenancy: regions, tenants (municipalities), API keys, agreements and staff, each behind
// row-level security. Frozen once landed.
import { sql, type Kysely } from 'kysely'

const protect = async (db: Kysely<any>, table: string): Promise<void> => {
  await sql.raw(`alter table ${table} enable row level security`).execute(db)
  await sql.raw(`alter table ${table} force row level security`).execute(db)
}

// created_at is kept to the millisecond: list cursors carry it through JavaScript Dates, which
// would otherwise lose the microseconds and skip rows between pages.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table regions (
      id uuid primary key default gen_random_uuid(),
      name text not null check (length(name) between 1 and 200),
      created_at timestamptz not null default date_trunc('milliseconds', now())
    )`.execute(db)

  await sql`
    create table tenants (
      id uuid primary key default gen_random_uuid(),
      region_id uuid not null references regions (id),
      municipality_code text not null unique check (municipality_code ~ '^GM[0-9]{4}$'),
      name text not null,
      role text not null check (role in ('hub', 'member')),
      status text not null default 'active' check (status in ('active', 'suspended')),
      created_at timestamptz not null default date_trunc('milliseconds', now()),
      updated_at timestamptz not null default now()
    )`.execute(db)
  // One hub per region, enforced by the database so two concurrent onboardings cannot both win.
  await sql`create unique index tenants_one_hub_per_region on tenants (region_id) where role = 'hub'`.execute(db)
  await sql`create index tenants_region on tenants (region_id, created_at)`.execute(db)

  await sql`
    create table staff (
      id uuid primary key default gen_random_uuid(),
      hub_tenant_id uuid not null references tenants (id),
      name text not null,
      email text not null,
      role text not null check (role in ('specialist', 'lead')),
      skills text[] not null default '{}',
      status text not null default 'active' check (status in ('active', 'inactive')),
      created_at timestamptz not null default date_trunc('milliseconds', now()),
      updated_at timestamptz not null default now(),
      unique (hub_tenant_id, email)
    )`.execute(db)
  await sql`create index staff_hub on staff (hub_tenant_id, created_at)`.execute(db)

  await sql`
    create table api_keys (
      id uuid primary key default gen_random_uuid(),
      kind text not null check (kind in ('admin', 'client', 'staff')),
      tenant_id uuid references tenants (id),
      staff_id uuid references staff (id),
      name text not null,
      prefix text not null,
      secret_hash bytea not null unique,
      scopes text[] not null,
      created_at timestamptz not null default date_trunc('milliseconds', now()),
      revoked_at timestamptz,
      last_used_at timestamptz,
      check ((kind = 'admin') = (tenant_id is null)),
      check ((kind = 'staff') = (staff_id is not null))
    )`.execute(db)
  await sql`create index api_keys_tenant on api_keys (tenant_id, created_at)`.execute(db)

  await sql`
    create table agreements (
      id uuid primary key default gen_random_uuid(),
      hub_tenant_id uuid not null references tenants (id),
      member_tenant_id uuid not null references tenants (id),
      case_type text not null,
      tariff_cents bigint not null check (tariff_cents >= 0),
      valid_from date not null,
      valid_until date,
      created_at timestamptz not null default date_trunc('milliseconds', now()),
      updated_at timestamptz not null default now(),
      unique (member_tenant_id, case_type),
      check (valid_until is null or valid_until >= valid_from)
    )`.execute(db)
  await sql`create index agreements_hub on agreements (hub_tenant_id, member_tenant_id)`.execute(db)

  for (const table of ['regions', 'tenants', 'staff', 'api_keys', 'agreements']) await protect(db, table)

  // Regions and tenants are managed by the platform admin; a tenant sees its own row and region.
  await sql`create policy regions_admin on regions for all using (app_is_admin()) with check (app_is_admin())`.execute(db)
  await sql`create policy tenants_admin on tenants for all using (app_is_admin()) with check (app_is_admin())`.execute(db)
  await sql`create policy tenants_self on tenants for select
    using (id = app_current_tenant() or region_id = app_current_region())`.execute(db)
  await sql`create policy regions_self on regions for select using (id = app_current_region())`.execute(db)
  await sql`create policy staff_access on staff for all
    using (app_is_admin() or hub_tenant_id = app_current_tenant())
    with check (app_is_admin() or hub_tenant_id = app_current_tenant())`.execute(db)
  await sql`create policy api_keys_admin on api_keys for all using (app_is_admin()) with check (app_is_admin())`.execute(db)
  await sql`create policy api_keys_own on api_keys for select using (tenant_id = app_current_tenant())`.execute(db)
  // A hub (its lead, checked in the service) may issue a personal key to its own staff, nothing else.
  await sql`create policy api_keys_staff_issue on api_keys for insert
    with check (kind = 'staff' and tenant_id = app_current_tenant()
      and exists (select 1 from staff s where s.id = staff_id and s.hub_tenant_id = app_current_tenant()))`.execute(db)
  await sql`create policy agreements_access on agreements for all
    using (app_is_admin() or hub_tenant_id = app_current_tenant() or member_tenant_id = app_current_tenant())
    with check (app_is_admin() or hub_tenant_id = app_current_tenant())`.execute(db)

  await sql`grant select, insert, update on regions, tenants, staff, api_keys, agreements to regiobalie_app`.execute(db)
  await sql`grant delete on agreements to regiobalie_app`.execute(db)

  // Key lookup happens before any tenant is known. It runs in a SECURITY DEFINER function owned by
  // regiobalie_auth, the only role whose policies let it read keys across tenants — and it returns
  // only the one key whose hash matches.
  await sql`grant select on api_keys, tenants, staff to regiobalie_auth`.execute(db)
  await sql`grant update (last_used_at) on api_keys to regiobalie_auth`.execute(db)
  await sql`create policy api_keys_auth on api_keys for select to regiobalie_auth using (true)`.execute(db)
  await sql`create policy api_keys_auth_touch on api_keys for update to regiobalie_auth using (true) with check (true)`.execute(db)
  await sql`create policy tenants_auth on tenants for select to regiobalie_auth using (true)`.execute(db)
  await sql`create policy staff_auth on staff for select to regiobalie_auth using (true)`.execute(db)
  await sql`
    create function authenticate_api_key(p_hash bytea)
    returns table (key_id uuid, kind text, tenant_id uuid, staff_id uuid, scopes text[],
                   tenant_status text, tenant_role text, region_id uuid, staff_role text, staff_status text)
    language sql stable security definer set search_path = public, pg_temp as $$
      select k.id, k.kind, k.tenant_id, k.staff_id, k.scopes, t.status, t.role, t.region_id, s.role, s.status
      from api_keys k
      left join tenants t on t.id = k.tenant_id
      left join staff s on s.id = k.staff_id
      where k.secret_hash = p_hash and k.revoked_at is null
    $$`.execute(db)
  // lastUsedAt is written in batches (a few per minute), never one write per request.
  await sql`
    create function touch_api_keys(p_ids uuid[], p_at timestamptz) returns void
    language sql volatile security definer set search_path = public, pg_temp as $$
      update api_keys set last_used_at = p_at
      where id = any(p_ids) and (last_used_at is null or last_used_at < p_at)
    $$`.execute(db)
  for (const fn of ['authenticate_api_key(bytea)', 'touch_api_keys(uuid[], timestamptz)']) {
    await sql.raw(`alter function ${fn} owner to regiobalie_auth`).execute(db)
    await sql.raw(`revoke all on function ${fn} from public`).execute(db)
    await sql.raw(`grant execute on function ${fn} to regiobalie_app`).execute(db)
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function touch_api_keys(uuid[], timestamptz)`.execute(db)
  await sql`drop function authenticate_api_key(bytea)`.execute(db)
  for (const table of ['agreements', 'api_keys', 'staff', 'tenants', 'regions']) {
    await sql.raw(`drop table ${table}`).execute(db)
  }
}
