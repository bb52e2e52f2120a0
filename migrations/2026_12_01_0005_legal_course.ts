// The legal course of a dossier (issue 15): outcomes per case type, who decided, the Royal Decree,
// the facts the statutory clocks count from, and the earliest running clock's due date (indexed for
// `GET /v1/cases?clock=`). Frozen once landed.
import { sql, type Kysely } from 'kysely'

// Every outcome of outcomes.ts (API.md "Decisions, decrees and clocks"), written out: a migration
// must not change when the code does.
const OUTCOMES = ['advise_grant', 'advise_refuse', 'grant', 'refuse', 'registered', 'refused', 'recognised', 'not_recognised']

export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table cases drop constraint if exists cases_decision_outcome_check`.execute(db)
  // Decisions taken before outcomes were per case type: granted → the type's favourable outcome.
  await sql`
    update cases set decision_outcome = case
      when decision_outcome = 'granted' then case case_type
        when 'naturalisation' then 'advise_grant' when 'option' then 'grant'
        when 'first_registration' then 'registered' else 'recognised' end
      when decision_outcome = 'refused' then case case_type
        when 'naturalisation' then 'advise_refuse' when 'option' then 'refuse'
        when 'first_registration' then 'refused' else 'not_recognised' end
      else decision_outcome end
    where decision_outcome is not null`.execute(db)
  await sql
    .raw(`alter table cases add constraint cases_decision_outcome_check check (decision_outcome in (${OUTCOMES.map((o) => `'${o}'`).join(', ')}))`)
    .execute(db)
  await sql`
    alter table cases
      add column decided_by text,
      add column royal_decree_decision text check (royal_decree_decision in ('granted', 'refused')),
      add column royal_decree_date date,
      add column royal_decree_number text,
      add column royal_decree_recorded_at timestamptz,
      add column fee_paid_on date,
      add column ceremony_invited_on date,
      add column clock_due_on date,
      add constraint cases_royal_decree_complete check ((royal_decree_decision is null) = (royal_decree_date is null))`.execute(db)
  // `?clock=overdue|due_within_10_working_days`: a range on the earliest running clock per tenant.
  await sql`create index cases_hub_clock on cases (hub_tenant_id, clock_due_on) where clock_due_on is not null`.execute(db)
  await sql`create index cases_member_clock on cases (member_tenant_id, clock_due_on) where clock_due_on is not null`.execute(db)
  // The form of an uploaded civil-status document, as stated at upload (narrow treaty exemptions).
  await sql`alter table documents add column document_form text check (document_form in ('standard', 'multilingual_extract', 'eu_multilingual_form'))`.execute(db)
  // The daily lapse job looks at the cases awaiting their ceremony only.
  await sql`create index cases_awaiting_ceremony on cases (id) where status = 'awaiting_ceremony'`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index cases_awaiting_ceremony`.execute(db)
  await sql`alter table documents drop column document_form`.execute(db)
  await sql`drop index cases_member_clock`.execute(db)
  await sql`drop index cases_hub_clock`.execute(db)
  await sql`
    alter table cases
      drop constraint cases_royal_decree_complete,
      drop column clock_due_on,
      drop column ceremony_invited_on,
      drop column fee_paid_on,
      drop column royal_decree_recorded_at,
      drop column royal_decree_number,
      drop column royal_decree_date,
      drop column royal_decree_decision,
      drop column decided_by`.execute(db)
  await sql`alter table cases drop constraint cases_decision_outcome_check`.execute(db)
  await sql`
    update cases set decision_outcome = case
      when decision_outcome in ('advise_grant', 'grant', 'registered', 'recognised') then 'granted' else 'refused' end
    where decision_outcome is not null`.execute(db)
  await sql`alter table cases add constraint cases_decision_outcome_check check (decision_outcome in ('granted', 'refused'))`.execute(db)
}
