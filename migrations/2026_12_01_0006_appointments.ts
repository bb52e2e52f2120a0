// Appointments and scheduling: a hub's locations, staff availability (weekly wall-clock pattern and
// absences), ceremony sessions with seats, and appointments. Two guarantees live in the database,
// not in code: no staff member holds two appointments at once (an exclusion constraint on
// staff and time range, btree_gist), and no session has more seats taken than its capacity (a
// check constraint behind the row lock the scheduler takes). Frozen once landed.
import { sql, type Kysely } from 'kysely'

const protect = async (db: Kysely<any>, table: string): Promise<void> => {
  await sql.raw(`alter table ${table} enable row level security`).execute(db)
  await sql.raw(`alter table ${table} force row level security`).execute(db)
}

const hubOnly = `app_is_admin() or hub_tenant_id = app_current_tenant()`
// A row of a case is visible to the hub it is routed to and to the member that submitted it.
const caseParty = `app_is_admin() or hub_tenant_id = app_current_tenant() or member_tenant_id = app_current_tenant()`

export async function up(db: Kysely<any>): Promise<void> {
  await sql`create extension if not exists btree_gist`.execute(db)

  await sql`
    create table locations (
      hub_tenant_id uuid not null references tenants (id),
      code text not null check (code ~ '^[a-z0-9][a-z0-9-]{0,39}$'),
      name text not null check (length(name) between 1 and 200),
      municipality_code text not null check (municipality_code ~ '^GM[0-9]{4}$'),
      address jsonb not null,
      created_at timestamptz not null default date_trunc('milliseconds', now()),
      updated_at timestamptz not null default now(),
      primary key (hub_tenant_id, code)
    )`.execute(db)

  // The weekly pattern in Europe/Amsterdam wall-clock minutes; PUT replaces a staff member's rows.
  await sql`
    create table staff_availability (
      hub_tenant_id uuid not null,
      staff_id uuid not null references staff (id),
      weekday smallint not null check (weekday between 1 and 7),
      start_minute smallint not null check (start_minute between 0 and 1440),
      end_minute smallint not null check (end_minute between 0 and 1440),
      location_code text not null,
      check (start_minute < end_minute),
      foreign key (hub_tenant_id, location_code) references locations (hub_tenant_id, code)
    )`.execute(db)
  await sql`create index staff_availability_staff on staff_availability (hub_tenant_id, staff_id)`.execute(db)

  await sql`
    create table staff_absences (
      hub_tenant_id uuid not null,
      staff_id uuid not null references staff (id),
      from_date date not null,
      until_date date not null,
      check (from_date <= until_date)
    )`.execute(db)
  await sql`create index staff_absences_staff on staff_absences (hub_tenant_id, staff_id)`.execute(db)

  await sql`
    create table ceremony_sessions (
      id uuid primary key default gen_random_uuid(),
      hub_tenant_id uuid not null references tenants (id),
      session_date date not null,
      start_minute smallint not null,
      end_minute smallint not null,
      starts_at timestamptz not null,
      ends_at timestamptz not null,
      location_code text not null,
      capacity integer not null check (capacity between 1 and 1000),
      seats_taken integer not null default 0,
      created_at timestamptz not null default date_trunc('milliseconds', now()),
      check (start_minute < end_minute),
      check (seats_taken between 0 and capacity),
      foreign key (hub_tenant_id, location_code) references locations (hub_tenant_id, code)
    )`.execute(db)
  await sql`create index ceremony_sessions_hub on ceremony_sessions (hub_tenant_id, starts_at)`.execute(db)

  await sql`
    create table appointments (
      id uuid primary key default gen_random_uuid(),
      hub_tenant_id uuid not null references tenants (id),
      member_tenant_id uuid not null references tenants (id),
      case_id uuid not null references cases (id),
      kind text not null check (kind in ('intake_interview', 'registration_appearance', 'ceremony', 'option_confirmation')),
      status text not null default 'requested'
        check (status in ('requested', 'booked', 'unschedulable', 'cancelled', 'attended', 'no_show')),
      earliest timestamptz,
      latest timestamptz,
      requested_location_code text,
      starts_at timestamptz,
      ends_at timestamptz,
      staff_id uuid references staff (id),
      location_code text,
      ceremony_id uuid references ceremony_sessions (id),
      attempt smallint not null default 1 check (attempt between 1 and 3),
      registered_letter boolean not null default false,
      reason text,
      declaration_made boolean,
      -- Raised on every change; the calendar file's SEQUENCE.
      version integer not null default 1,
      requested_at timestamptz not null default clock_timestamp(),
      booked_at timestamptz,
      created_at timestamptz not null default date_trunc('milliseconds', now()),
      updated_at timestamptz not null default now(),
      check ((starts_at is null) = (ends_at is null)),
      check (starts_at is null or starts_at < ends_at),
      check (status <> 'booked' or starts_at is not null)
    )`.execute(db)
  // Never two appointments of one staff member at once, whatever the concurrency: the second
  // writer of an overlapping range fails (23P01) once the first commits. A cancelled or
  // unschedulable appointment holds no time.
  await sql`
    alter table appointments add constraint appointments_no_double_booking
      exclude using gist (staff_id with =, tstzrange(starts_at, ends_at, '[)') with &&)
      where (staff_id is not null and status in ('booked', 'attended', 'no_show'))`.execute(db)
  // One open appointment per case and kind (409 appointment-already-open).
  await sql`create unique index appointments_one_open_per_kind on appointments (case_id, kind) where status in ('requested', 'booked')`.execute(db)
  await sql`create index appointments_case on appointments (case_id, created_at)`.execute(db)
  await sql`create index appointments_staff on appointments (hub_tenant_id, staff_id, starts_at) where staff_id is not null`.execute(db)

  for (const table of ['locations', 'staff_availability', 'staff_absences', 'ceremony_sessions', 'appointments']) await protect(db, table)
  // A hub manages its locations; the members of its region read them (a desk in their town hall).
  await sql.raw(`create policy locations_hub on locations for all using (${hubOnly}) with check (${hubOnly})`).execute(db)
  await sql`create policy locations_region on locations for select
    using (exists (select 1 from tenants t where t.id = locations.hub_tenant_id and t.region_id = app_current_region()))`.execute(db)
  for (const table of ['staff_availability', 'staff_absences', 'ceremony_sessions']) {
    await sql.raw(`create policy ${table}_hub on ${table} for all using (${hubOnly}) with check (${hubOnly})`).execute(db)
  }
  // A member that cancels its own case's ceremony appointment gives the seat back.
  await sql`create policy ceremony_sessions_member on ceremony_sessions for all
    using (exists (select 1 from appointments a where a.ceremony_id = ceremony_sessions.id and a.member_tenant_id = app_current_tenant()))
    with check (exists (select 1 from appointments a where a.ceremony_id = ceremony_sessions.id and a.member_tenant_id = app_current_tenant()))`.execute(db)
  await sql.raw(`create policy appointments_parties on appointments for all using (${caseParty}) with check (${caseParty})`).execute(db)

  await sql`grant select, insert, update on locations, ceremony_sessions, appointments to regiobalie_app`.execute(db)
  await sql`grant select, insert, delete on staff_availability, staff_absences to regiobalie_app`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['appointments', 'ceremony_sessions', 'staff_absences', 'staff_availability', 'locations']) {
    await sql.raw(`drop table ${table}`).execute(db)
  }
}
