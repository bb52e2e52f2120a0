// Fees and settlement (issue 14): national tariff tables, billing details, recorded fees, the
// double-entry ledger (immutable, balanced — enforced here, not only in code), service charges,
// settlement runs, invoices and credit notes numbered per hub and year, and IND remittances.
// Frozen once landed.
import { sql, type Kysely } from 'kysely'

const protect = async (db: Kysely<any>, table: string): Promise<void> => {
  await sql.raw(`alter table ${table} enable row level security`).execute(db)
  await sql.raw(`alter table ${table} force row level security`).execute(db)
}

const party = `app_is_admin() or hub_tenant_id = app_current_tenant() or member_tenant_id = app_current_tenant()`
const hubOnly = `app_is_admin() or hub_tenant_id = app_current_tenant()`

export async function up(db: Kysely<any>): Promise<void> {
  // National data, not a tenant's: everyone reads, only the platform admin writes.
  await sql`
    create table tariff_tables (
      year integer primary key check (year between 2000 and 2200),
      source text not null check (length(source) between 1 and 1000),
      loaded_at timestamptz not null default now()
    )`.execute(db)
  await sql`
    create table tariff_items (
      year integer not null references tariff_tables (year) on delete cascade,
      code text not null check (code in ('A', 'B', 'C', 'D', 'E', 'F', 'G', 'H')),
      fee_cents bigint not null check (fee_cents >= 0),
      compensation_cents bigint not null check (compensation_cents between 0 and fee_cents),
      primary key (year, code)
    )`.execute(db)

  await sql`
    create table billing_details (
      tenant_id uuid primary key references tenants (id),
      region_id uuid not null references regions (id),
      oin text not null check (oin ~ '^[0-9]{20}$'),
      kvk text check (kvk ~ '^[0-9]{8}$'),
      street text not null,
      house_number text not null,
      postal_code text not null,
      city text not null,
      iban text not null,
      email text not null,
      vat_category text not null default 'O',
      updated_at timestamptz not null default now()
    )`.execute(db)

  await sql`
    create table fees (
      case_id uuid primary key references cases (id),
      hub_tenant_id uuid not null references tenants (id),
      member_tenant_id uuid not null references tenants (id),
      case_type text not null,
      tariff_code text,
      tariff_year integer,
      minors integer not null default 0 check (minors between 0 and 50),
      paid_on date,
      exemption_reason text,
      fee_cents bigint not null check (fee_cents >= 0),
      compensation_cents bigint not null check (compensation_cents >= 0),
      remit_cents bigint not null check (remit_cents = fee_cents - compensation_cents and remit_cents >= 0),
      period text not null check (period ~ '^[0-9]{4}-[0-9]{2}$'),
      recorded_by text not null,
      remittance_id uuid,
      created_at timestamptz not null default date_trunc('milliseconds', now()),
      check ((exemption_reason is null) = (tariff_code is not null and paid_on is not null))
    )`.execute(db)
  await sql`create index fees_unremitted on fees (hub_tenant_id, member_tenant_id, period) where remittance_id is null and remit_cents > 0`.execute(db)
  await sql`create index fees_remittance on fees (remittance_id) where remittance_id is not null`.execute(db)

  // The ledger: an entry and its lines, written together; never changed, never deleted.
  await sql`
    create table ledger_entries (
      id uuid primary key default gen_random_uuid(),
      hub_tenant_id uuid not null references tenants (id),
      member_tenant_id uuid not null references tenants (id),
      case_id uuid references cases (id),
      kind text not null check (kind in ('service_charge', 'service_charge_reversal', 'fee', 'ind_remittance')),
      period text not null check (period ~ '^[0-9]{4}-[0-9]{2}$'),
      -- (case, charge kind) or (remittance): a job run twice posts once.
      idempotency_key text not null unique,
      reverses_entry_id uuid references ledger_entries (id),
      created_at timestamptz not null default date_trunc('milliseconds', clock_timestamp())
    )`.execute(db)
  await sql`create index ledger_entries_hub on ledger_entries (hub_tenant_id, period, created_at desc, id desc)`.execute(db)
  await sql`create index ledger_entries_member on ledger_entries (member_tenant_id, period, created_at desc, id desc)`.execute(db)
  await sql`
    create table ledger_lines (
      entry_id uuid not null references ledger_entries (id),
      line_no smallint not null,
      hub_tenant_id uuid not null,
      member_tenant_id uuid not null,
      tenant_id uuid not null references tenants (id),
      account text not null,
      debit_cents bigint not null check (debit_cents >= 0),
      credit_cents bigint not null check (credit_cents >= 0),
      primary key (entry_id, line_no),
      check ((debit_cents > 0) <> (credit_cents > 0))
    )`.execute(db)
  await sql`create index ledger_lines_account on ledger_lines (tenant_id, account)`.execute(db)
  // Every entry balances: its lines are inserted in one statement, which this checks as a whole.
  await sql`
    create function ledger_lines_balanced() returns trigger language plpgsql as $$
    begin
      if exists (
        select 1 from ledger_lines l
        where l.entry_id in (select distinct entry_id from new_lines)
        group by l.entry_id having sum(l.debit_cents) <> sum(l.credit_cents)
      ) then
        raise exception 'ledger entry does not balance' using errcode = '23514';
      end if;
      return null;
    end $$`.execute(db)
  await sql`create trigger ledger_lines_balanced after insert on ledger_lines referencing new table as new_lines
    for each statement execute function ledger_lines_balanced()`.execute(db)
  await sql`
    create function ledger_immutable() returns trigger language plpgsql as $$
    begin
      raise exception 'ledger rows are immutable; post a reversing entry' using errcode = '42501';
    end $$`.execute(db)
  for (const table of ['ledger_entries', 'ledger_lines']) {
    await sql.raw(`create trigger ${table}_immutable before update or delete on ${table} for each row execute function ledger_immutable()`).execute(db)
    await sql.raw(`create trigger ${table}_no_truncate before truncate on ${table} for each statement execute function ledger_immutable()`).execute(db)
  }

  // What the hub bills: one row per (case, charge kind), never changed.
  await sql`
    create table service_charges (
      id uuid primary key default gen_random_uuid(),
      hub_tenant_id uuid not null references tenants (id),
      member_tenant_id uuid not null references tenants (id),
      case_id uuid not null references cases (id),
      kind text not null default 'service_charge',
      case_reference text not null,
      case_type text not null,
      entered_review_on date not null,
      period text not null check (period ~ '^[0-9]{4}-[0-9]{2}$'),
      amount_cents bigint not null check (amount_cents > 0),
      ledger_entry_id uuid not null references ledger_entries (id),
      posted_at timestamptz not null default clock_timestamp(),
      unique (case_id, kind)
    )`.execute(db)
  // The charges not invoiced yet: a work queue, written with the charge and emptied by the invoice
  // that takes them, so a settlement reads only what is open, however long the history grows.
  await sql`
    create table open_charges (
      charge_id uuid primary key references service_charges (id),
      hub_tenant_id uuid not null,
      member_tenant_id uuid not null,
      period text not null,
      posted_at timestamptz not null
    )`.execute(db)
  await sql`create index open_charges_member on open_charges (hub_tenant_id, member_tenant_id, period)`.execute(db)
  // A charge is on one invoice, once: the primary key says so; the table is append-only.
  await sql`
    create table invoice_lines (
      charge_id uuid primary key references service_charges (id),
      invoice_id uuid not null,
      hub_tenant_id uuid not null,
      member_tenant_id uuid not null,
      amount_cents bigint not null check (amount_cents > 0)
    )`.execute(db)
  await sql`create index invoice_lines_invoice on invoice_lines (invoice_id, charge_id)`.execute(db)

  await sql`
    create table settlements (
      id uuid primary key default gen_random_uuid(),
      hub_tenant_id uuid not null references tenants (id),
      period text not null check (period ~ '^[0-9]{4}-[0-9]{2}$'),
      status text not null default 'running' check (status in ('running', 'done', 'failed')),
      close_early boolean not null default false,
      -- Charges and fees posted up to this instant are on this settlement; later ones on the next.
      cutoff timestamptz not null default clock_timestamp(),
      issue_date date not null,
      total integer not null default 0,
      done integer not null default 0,
      created_at timestamptz not null default date_trunc('milliseconds', now()),
      finished_at timestamptz,
      unique (hub_tenant_id, period)
    )`.execute(db)

  // One row per member a run has finished: a resumed run skips these, and progress counts them.
  await sql`
    create table settlement_members (
      settlement_id uuid not null references settlements (id),
      hub_tenant_id uuid not null,
      member_tenant_id uuid not null references tenants (id),
      primary key (settlement_id, member_tenant_id)
    )`.execute(db)

  await sql`
    create table invoice_counters (
      hub_tenant_id uuid not null references tenants (id),
      year integer not null,
      last_value integer not null,
      primary key (hub_tenant_id, year)
    )`.execute(db)

  await sql`
    create table invoices (
      id uuid primary key default gen_random_uuid(),
      hub_tenant_id uuid not null references tenants (id),
      member_tenant_id uuid not null references tenants (id),
      document_type text not null check (document_type in ('invoice', 'credit_note')),
      settlement_id uuid references settlements (id),
      credited_invoice_id uuid references invoices (id),
      number text not null unique,
      year integer not null,
      sequence integer not null check (sequence > 0),
      period text not null,
      issue_date date not null,
      due_date date not null,
      reason text,
      line_count integer not null check (line_count > 0),
      total_cents bigint not null check (total_cents > 0),
      created_at timestamptz not null default date_trunc('milliseconds', now()),
      unique (hub_tenant_id, year, sequence),
      check ((document_type = 'credit_note') = (credited_invoice_id is not null))
    )`.execute(db)
  await sql`create unique index invoices_one_per_settlement on invoices (settlement_id, member_tenant_id) where document_type = 'invoice'`.execute(db)
  await sql`create index invoices_hub on invoices (hub_tenant_id, created_at desc, id desc)`.execute(db)
  await sql`create index invoices_member on invoices (member_tenant_id, created_at desc, id desc)`.execute(db)

  await sql`
    create table credit_note_lines (
      credit_note_id uuid not null references invoices (id),
      charge_id uuid not null unique references service_charges (id),
      hub_tenant_id uuid not null,
      member_tenant_id uuid not null,
      amount_cents bigint not null check (amount_cents > 0),
      primary key (credit_note_id, charge_id)
    )`.execute(db)

  await sql`
    create table remittances (
      id uuid primary key default gen_random_uuid(),
      hub_tenant_id uuid not null references tenants (id),
      member_tenant_id uuid not null references tenants (id),
      settlement_id uuid not null references settlements (id),
      period text not null,
      due_on date not null,
      line_count integer not null check (line_count > 0),
      fee_cents bigint not null,
      compensation_cents bigint not null,
      remit_cents bigint not null check (remit_cents = fee_cents - compensation_cents),
      status text not null default 'due' check (status in ('due', 'remitted')),
      remitted_on date,
      bank_reference text,
      created_at timestamptz not null default date_trunc('milliseconds', now()),
      unique (settlement_id, member_tenant_id)
    )`.execute(db)
  await sql`create index remittances_hub on remittances (hub_tenant_id, created_at desc, id desc)`.execute(db)
  await sql`create index remittances_member on remittances (member_tenant_id, created_at desc, id desc)`.execute(db)

  const tables = ['tariff_tables', 'tariff_items', 'billing_details', 'fees', 'ledger_entries', 'ledger_lines', 'service_charges', 'open_charges', 'invoice_lines',
    'settlements', 'settlement_members', 'invoice_counters', 'invoices', 'credit_note_lines', 'remittances']
  for (const table of tables) await protect(db, table)

  for (const table of ['tariff_tables', 'tariff_items']) {
    await sql.raw(`create policy ${table}_read on ${table} for select using (true)`).execute(db)
    await sql.raw(`create policy ${table}_admin on ${table} for all using (app_is_admin()) with check (app_is_admin())`).execute(db)
  }
  await sql`create policy billing_admin on billing_details for all using (app_is_admin()) with check (app_is_admin())`.execute(db)
  await sql`create policy billing_region on billing_details for select
    using (tenant_id = app_current_tenant() or region_id = app_current_region())`.execute(db)
  for (const table of ['fees', 'ledger_entries', 'ledger_lines', 'service_charges', 'open_charges', 'invoice_lines', 'invoices', 'credit_note_lines', 'remittances']) {
    await sql.raw(`create policy ${table}_parties on ${table} for all using (${party}) with check (${party})`).execute(db)
  }
  for (const table of ['settlements', 'settlement_members', 'invoice_counters']) {
    await sql.raw(`create policy ${table}_hub on ${table} for all using (${hubOnly}) with check (${hubOnly})`).execute(db)
  }

  await sql`grant select, insert, update on tariff_tables, billing_details, settlements, invoice_counters to regiobalie_app`.execute(db)
  await sql`grant select, insert on settlement_members to regiobalie_app`.execute(db)
  await sql`grant select, insert, delete on tariff_items to regiobalie_app`.execute(db)
  // Append-only for the application: no UPDATE, no DELETE on the ledger, invoices or their lines.
  await sql`grant select, insert on ledger_entries, ledger_lines, service_charges, invoice_lines, invoices, credit_note_lines to regiobalie_app`.execute(db)
  await sql`grant select, insert, delete on open_charges to regiobalie_app`.execute(db)
  await sql`grant select, insert on fees, remittances to regiobalie_app`.execute(db)
  await sql`grant update (remittance_id) on fees to regiobalie_app`.execute(db)
  await sql`grant update (status, remitted_on, bank_reference) on remittances to regiobalie_app`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['remittances', 'credit_note_lines', 'invoices', 'invoice_counters', 'settlement_members', 'settlements', 'invoice_lines', 'open_charges', 'service_charges', 'ledger_lines',
    'ledger_entries', 'fees', 'billing_details', 'tariff_items', 'tariff_tables']) {
    await sql.raw(`drop table ${table}`).execute(db)
  }
  for (const fn of ['ledger_immutable', 'ledger_lines_balanced']) await sql.raw(`drop function ${fn}()`).execute(db)
}
