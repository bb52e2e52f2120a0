// Issue 13, the case list at a million cases: what a list item shows of a case's checklist and of
// its clock events is kept on the case row, so a page is one index range scan of `cases` and no
// longer 101 checklist sorts and 101 event look-ups (4.3 of 5 ms of the page's statement).
// - `checklist_summary`: the checklist as [documentKind, status] pairs in document-kind order, the
//   order the detail reads it in (repo.checklistOf).
// - `handed_over_on`, `lapsed_on`, `ended_on`: the Dutch date of the case's first `ceremony_attended`,
//   `decree_lapsed`, and `withdraw`/`reject_at_intake`/`close` event (api/cases/clocks.ts clockFactsOf).
// Triggers keep them in the very statement that changes the checklist or appends an event, whoever
// writes it (submit_case, the lifecycle, the documents' review, a worker, the owner): every writer
// holds the case's row lock already (lockCase), so the update of the case row adds no lock order.
// The functions run with the writer's rights (SECURITY INVOKER): the writer is a party of the case,
// row-level security lets it update the row as it lets it read it.
// - list_cases: one page of the list in one statement (one round trip instead of begin, set the
//   tenant, select, commit): sets the tenant and region for the statement's implicit transaction as
//   submit_case does, then selects under row-level security as the caller. Every filter is a
//   nullable argument. The unfiltered pages of a hub and of a member are static statements whose
//   plans are kept (planning was a third of the page's cost); any other combination is planned for
//   its own arguments, so an absent filter folds away and the page is a range scan of the index
//   that ends in the page order. The cursor is a row comparison, `(created_at, id) < (…)`, which the index takes as a bound: a page
//   deep in the walk reads its 101 rows, not every row before it. Frozen once landed.
import { sql, type Kysely } from 'kysely'

/** The clock events and the column of the first Dutch date of each. */
const FIRST_EVENT_COLUMNS = [
  ['handed_over_on', `'ceremony_attended'`],
  ['lapsed_on', `'decree_lapsed'`],
  ['ended_on', `'withdraw', 'reject_at_intake', 'close'`],
] as const

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table cases
      add column checklist_summary jsonb not null default '[]',
      add column handed_over_on date,
      add column lapsed_on date,
      add column ended_on date`.execute(db)

  // The summary of the given cases, recomputed from their items; rows already right are not rewritten.
  // PL/pgSQL, so its plan is kept per connection (an SQL function's is made on every call), and the
  // cases are found by their ids in the primary key (a join to the ids alone let the planner scan
  // the whole table: 2 of a submission's 5 ms on a small database).
  await sql`
    create function cases_refresh_checklist_summary(p_case_ids uuid[]) returns void
    language plpgsql volatile security invoker set search_path = public, pg_temp as $$
    begin
      update cases c set checklist_summary = s.summary
      from (
        select ids.id,
               coalesce((select jsonb_agg(jsonb_build_array(i.document_kind, i.status) order by i.document_kind)
                         from case_checklist_items i where i.case_id = ids.id), '[]'::jsonb) as summary
        from (select distinct unnest(p_case_ids) as id) ids
      ) s
      where c.id = any (p_case_ids) and c.id = s.id and c.checklist_summary is distinct from s.summary;
    end
    $$`.execute(db)
  // One statement-level trigger per event (a transition table belongs to one event): the cases a
  // statement touched, once each — a submission's three items rewrite the case row once.
  await sql`
    create function case_checklist_items_summarise() returns trigger
    language plpgsql security invoker set search_path = public, pg_temp as $$
    begin
      if tg_op = 'INSERT' then
        perform cases_refresh_checklist_summary(array(select case_id from new_items));
      elsif tg_op = 'UPDATE' then
        perform cases_refresh_checklist_summary(array(select case_id from new_items union select case_id from old_items));
      else
        perform cases_refresh_checklist_summary(array(select case_id from old_items));
      end if;
      return null;
    end $$`.execute(db)
  await sql`create trigger case_checklist_items_summarise_insert after insert on case_checklist_items
    referencing new table as new_items for each statement execute function case_checklist_items_summarise()`.execute(db)
  await sql`create trigger case_checklist_items_summarise_update after update on case_checklist_items
    referencing old table as old_items new table as new_items for each statement execute function case_checklist_items_summarise()`.execute(db)
  await sql`create trigger case_checklist_items_summarise_delete after delete on case_checklist_items
    referencing old table as old_items for each statement execute function case_checklist_items_summarise()`.execute(db)

  // The timeline is append-only: an event can only make a first date earlier (or set it).
  await sql.raw(`
    create function case_events_first_dates() returns trigger
    language plpgsql security invoker set search_path = public, pg_temp as $$
    declare
      v_day date := (new.created_at at time zone 'Europe/Amsterdam')::date;
    begin
      ${FIRST_EVENT_COLUMNS.map(
        ([column, actions], i) => `${i === 0 ? 'if' : 'elsif'} new.action in (${actions}) then
        update cases set ${column} = v_day where id = new.case_id and (${column} is null or ${column} > v_day);`,
      ).join('\n      ')}
      end if;
      return null;
    end $$`).execute(db)
  await sql.raw(`create trigger case_events_first_dates after insert on case_events for each row
    when (new.action in (${FIRST_EVENT_COLUMNS.map(([, actions]) => actions).join(', ')}))
    execute function case_events_first_dates()`).execute(db)

  // The select list of a list row, and the cursor as a bound that an absent cursor leaves open
  // (every created_at is finite), so the unfiltered pages need no branch on it.
  const listed = `
        select c.id, c.reference, c.case_type, c.case_type_version, c.ipr_matter, c.status,
               c.member_tenant_id, c.hub_tenant_id, c.external_reference, c.assigned_staff_id, c.due_date,
               c.decision_outcome, c.decision_note, c.decided_by, c.royal_decree_decision, c.royal_decree_date,
               c.royal_decree_number, c.fee_paid_on, c.ceremony_invited_on, c.version,
               to_char(c.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
               to_char(c.updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
               to_char(c.decided_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
               to_char(c.royal_decree_recorded_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
               (c.created_at at time zone 'Europe/Amsterdam')::date, (c.decided_at at time zone 'Europe/Amsterdam')::date,
               c.handed_over_on, c.lapsed_on, c.ended_on, c.checklist_summary
        from cases c`
  const page = (after: string, id: string, limit: string) => `
          and (c.created_at, c.id) < (coalesce(${after}, 'infinity'::timestamptz), coalesce(${id}, 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid))
        order by c.created_at desc, c.id desc
        limit ${limit}`
  await sql.raw(`
    create function list_cases(
      p_tenant uuid, p_region uuid,
      p_hub_tenant_id uuid, p_member_tenant_id uuid,
      p_status text, p_case_type text, p_assigned_staff_id uuid, p_unassigned boolean,
      p_clock boolean, p_clock_before date, p_clock_from date, p_clock_until date,
      p_after_created_at timestamptz, p_after_id uuid, p_limit integer)
    returns table (
      id uuid, reference text, case_type text, case_type_version date, ipr_matter text, status text,
      member_tenant_id uuid, hub_tenant_id uuid, external_reference text, assigned_staff_id uuid, due_date date,
      decision_outcome text, decision_note text, decided_by text, royal_decree_decision text, royal_decree_date date,
      royal_decree_number text, fee_paid_on date, ceremony_invited_on date, version integer,
      submitted_at text, updated_at_iso text, decided_at_iso text, royal_decree_recorded_at_iso text,
      submitted_on date, decided_on date, handed_over_on date, lapsed_on date, ended_on date, checklist jsonb)
    language plpgsql volatile security invoker
    set search_path = public, pg_temp as $fn$
    begin
      perform set_config('app.tenant_id', p_tenant::text, true), set_config('app.region_id', coalesce(p_region::text, ''), true);
      -- A hub's or a member's pages without filters, the lists asked for most: static statements whose
      -- plans PL/pgSQL keeps (one range scan of cases_hub_page / cases_member_page).
      if p_status is null and p_case_type is null and p_assigned_staff_id is null and not p_unassigned and not p_clock then
        if p_member_tenant_id is null then
          return query ${listed}
            where c.hub_tenant_id = p_hub_tenant_id ${page('p_after_created_at', 'p_after_id', 'p_limit')};
          return;
        elsif p_hub_tenant_id is null then
          return query ${listed}
            where c.member_tenant_id = p_member_tenant_id ${page('p_after_created_at', 'p_after_id', 'p_limit')};
          return;
        end if;
      end if;
      -- Any other combination: planned for its own arguments, so each absent filter folds away and
      -- the page is a range scan of the index of the filters given.
      return query execute $q$ ${listed}
        where ($1 is null or c.hub_tenant_id = $1)
          and ($2 is null or c.member_tenant_id = $2)
          and ($3 is null or c.status = $3)
          and ($4 is null or c.case_type = $4)
          and ($5 is null or c.assigned_staff_id = $5)
          and (not $6 or c.assigned_staff_id is null)
          and (not $7 or c.clock_due_on is not null)
          and ($8 is null or c.clock_due_on < $8)
          and ($9 is null or c.clock_due_on >= $9)
          and ($10 is null or c.clock_due_on <= $10) ${page('$11', '$12', '$13')} $q$
        using p_hub_tenant_id, p_member_tenant_id, p_status, p_case_type, p_assigned_staff_id, p_unassigned,
              p_clock, p_clock_before, p_clock_from, p_clock_until, p_after_created_at, p_after_id, p_limit;
    end $fn$`).execute(db)
  await sql`revoke all on function list_cases from public`.execute(db)
  await sql`grant execute on function list_cases to regiobalie_app`.execute(db)

  // The cases there are: as the platform admin, so the owner sees every row under forced RLS.
  await sql`select set_config('app.admin', 'on', true)`.execute(db)
  await sql`
    update cases c set checklist_summary = s.summary
    from (select case_id, jsonb_agg(jsonb_build_array(document_kind, status) order by document_kind) as summary
          from case_checklist_items group by case_id) s
    where c.id = s.case_id`.execute(db)
  await sql.raw(`
    update cases c set ${FIRST_EVENT_COLUMNS.map(([column]) => `${column} = e.${column}`).join(', ')}
    from (select case_id, ${FIRST_EVENT_COLUMNS.map(
      ([column, actions]) => `min((created_at at time zone 'Europe/Amsterdam')::date) filter (where action in (${actions})) as ${column}`,
    ).join(', ')}
          from case_events where action in (${FIRST_EVENT_COLUMNS.map(([, actions]) => actions).join(', ')}) group by case_id) e
    where c.id = e.case_id`).execute(db)
  await sql`select set_config('app.admin', '', true)`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function if exists list_cases`.execute(db)
  await sql`drop trigger if exists case_events_first_dates on case_events`.execute(db)
  await sql`drop function if exists case_events_first_dates()`.execute(db)
  for (const event of ['insert', 'update', 'delete']) {
    await sql.raw(`drop trigger if exists case_checklist_items_summarise_${event} on case_checklist_items`).execute(db)
  }
  await sql`drop function if exists case_checklist_items_summarise()`.execute(db)
  await sql`drop function if exists cases_refresh_checklist_summary(uuid[])`.execute(db)
  await sql`alter table cases drop column if exists checklist_summary, drop column if exists handed_over_on,
    drop column if exists lapsed_on, drop column if exists ended_on`.execute(db)
}
