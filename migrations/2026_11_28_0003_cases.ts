// Cases: the dossier, its checklist, its append-only event timeline, per-hub yearly reference
// counters, stored idempotent responses, and the append-only access log. Frozen once landed.
import { sql, type Kysely } from 'kysely'

const protect = async (db: Kysely<any>, table: string): Promise<void> => {
  await sql.raw(`alter table ${table} enable row level security`).execute(db)
  await sql.raw(`alter table ${table} force row level security`).execute(db)
}

// A row of a case is visible to the hub it is routed to and to the member that submitted it.
const caseParty = `app_is_admin() or hub_tenant_id = app_current_tenant() or member_tenant_id = app_current_tenant()`

export async function up(db: Kysely<any>): Promise<void> {
  // An outbox row belongs to the tenant whose transaction wrote it (the relay's fairness key): a
  // member's submission counts against the member, not against the hub the case is routed to.
  await sql`alter table outbox alter column tenant_id set default app_current_tenant()`.execute(db)
  await sql`
    create table cases (
      id uuid primary key default gen_random_uuid(),
      hub_tenant_id uuid not null references tenants (id),
      member_tenant_id uuid not null references tenants (id),
      reference text not null,
      case_type text not null,
      case_type_version date not null,
      ipr_matter text,
      status text not null,
      subject jsonb not null,
      bsn_hash bytea,
      external_reference text,
      note text,
      assigned_staff_id uuid references staff (id),
      due_date date not null,
      decision_outcome text check (decision_outcome in ('granted', 'refused')),
      decision_note text,
      decided_at timestamptz,
      version integer not null default 1,
      created_at timestamptz not null default date_trunc('milliseconds', now()),
      updated_at timestamptz not null default date_trunc('milliseconds', now()),
      unique (hub_tenant_id, reference)
    )`.execute(db)
  // One index per list filter, each ending in the page order, so a list stays an index range scan
  // at a million cases (hub lists, member lists, and the filters status, caseType, assignedTo).
  for (const [name, cols] of [
    ['cases_hub_page', 'hub_tenant_id, created_at desc, id desc'],
    ['cases_member_page', 'member_tenant_id, created_at desc, id desc'],
    ['cases_hub_status', 'hub_tenant_id, status, created_at desc, id desc'],
    ['cases_member_status', 'member_tenant_id, status, created_at desc, id desc'],
    ['cases_hub_type', 'hub_tenant_id, case_type, created_at desc, id desc'],
    ['cases_member_type', 'member_tenant_id, case_type, created_at desc, id desc'],
    ['cases_hub_assigned', 'hub_tenant_id, assigned_staff_id, created_at desc, id desc'],
  ] as const) {
    await sql.raw(`create index ${name} on cases (${cols})`).execute(db)
  }
  await sql`create index cases_bsn_hash on cases (bsn_hash) where bsn_hash is not null`.execute(db)

  await sql`
    create table case_checklist_items (
      case_id uuid not null references cases (id),
      hub_tenant_id uuid not null,
      member_tenant_id uuid not null,
      document_kind text not null,
      status text not null default 'missing' check (status in ('missing', 'received', 'accepted', 'rejected')),
      -- Set while the specialist waits for this kind (request-information); cleared when it arrived.
      requested_at timestamptz,
      updated_at timestamptz not null default now(),
      primary key (case_id, document_kind)
    )`.execute(db)

  await sql`
    create table case_events (
      id uuid primary key default gen_random_uuid(),
      case_id uuid not null references cases (id),
      hub_tenant_id uuid not null,
      member_tenant_id uuid not null,
      actor_kind text not null check (actor_kind in ('member', 'hub', 'system')),
      actor_id text,
      action text not null,
      from_status text,
      to_status text not null,
      reason text,
      version integer not null,
      created_at timestamptz not null default clock_timestamp(),
      unique (case_id, version)
    )`.execute(db)

  await sql`
    create table case_reference_counters (
      hub_tenant_id uuid not null references tenants (id),
      year integer not null,
      last_value integer not null,
      primary key (hub_tenant_id, year)
    )`.execute(db)

  await sql`
    create table idempotency_keys (
      owner_id uuid not null,
      idempotency_key text not null,
      request_hash bytea not null,
      status text not null check (status in ('in_flight', 'done')),
      response_status integer,
      response_body text,
      response_headers jsonb,
      created_at timestamptz not null default now(),
      primary key (owner_id, idempotency_key)
    )`.execute(db)
  await sql`create index idempotency_keys_created on idempotency_keys (created_at)`.execute(db)

  await sql`
    create table access_log (
      id bigint generated always as identity primary key,
      hub_tenant_id uuid not null,
      member_tenant_id uuid not null,
      case_id uuid not null references cases (id),
      document_id uuid,
      actor_tenant_id uuid not null,
      actor_kind text not null,
      actor_id text not null,
      action text not null,
      purpose text not null,
      bsn_hash bytea,
      created_at timestamptz not null default clock_timestamp()
    )`.execute(db)
  await sql`create index access_log_case on access_log (case_id, id)`.execute(db)
  await sql`create index access_log_bsn on access_log (bsn_hash, id) where bsn_hash is not null`.execute(db)

  for (const table of ['cases', 'case_checklist_items', 'case_events', 'case_reference_counters', 'idempotency_keys', 'access_log']) {
    await protect(db, table)
  }
  await sql.raw(`create policy cases_parties on cases for all using (${caseParty}) with check (${caseParty})`).execute(db)
  await sql.raw(`create policy checklist_parties on case_checklist_items for all using (${caseParty}) with check (${caseParty})`).execute(db)
  await sql.raw(`create policy case_events_parties on case_events for all using (${caseParty}) with check (${caseParty})`).execute(db)
  await sql`create policy counters_hub on case_reference_counters for all
    using (app_is_admin() or hub_tenant_id = app_current_tenant())
    with check (app_is_admin() or hub_tenant_id = app_current_tenant())`.execute(db)
  // A member submitting a case takes the next number of its hub's counter.
  await sql`create policy counters_member on case_reference_counters for all
    using (exists (select 1 from agreements a where a.hub_tenant_id = case_reference_counters.hub_tenant_id
                   and a.member_tenant_id = app_current_tenant()))
    with check (exists (select 1 from agreements a where a.hub_tenant_id = case_reference_counters.hub_tenant_id
                   and a.member_tenant_id = app_current_tenant()))`.execute(db)
  await sql`create policy idempotency_owner on idempotency_keys for all
    using (app_is_admin() or owner_id = app_current_tenant())
    with check (app_is_admin() or owner_id = app_current_tenant())`.execute(db)
  await sql.raw(`create policy access_log_read on access_log for select using (${caseParty})`).execute(db)
  await sql`create policy access_log_write on access_log for insert
    with check (app_is_admin() or actor_tenant_id = app_current_tenant())`.execute(db)

  await sql`grant select, insert, update on cases, case_checklist_items, case_reference_counters to regiobalie_app`.execute(db)
  await sql`grant select, insert, update, delete on idempotency_keys to regiobalie_app`.execute(db)
  // The timeline and the access log are append-only: no UPDATE, no DELETE for the application.
  await sql`grant select, insert on case_events, access_log to regiobalie_app`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['access_log', 'idempotency_keys', 'case_reference_counters', 'case_events', 'case_checklist_items', 'cases']) {
    await sql.raw(`drop table ${table}`).execute(db)
  }
}
