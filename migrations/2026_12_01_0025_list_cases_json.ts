// Issue 13, the case list's page as JSON text: the API spent ~3.6 ms of CPU per page of 100 on
// parsing 101 rows of 30 columns, mapping them to the view and serialising a 139 KB body. Now
// PostgreSQL writes the page's items as JSON (CaseSummary, exactly as the view and the schema
// serialiser wrote them: the contract's key order, no spaces, `null` for an absent value), in one
// row, around the two parts of each item it cannot write:
// - the checklist, passed on as the stored [documentKind, status] pairs (a page repeats a few of them);
// - the statutory clocks, which depend on the case type's catalogue, the Dutch calendar and today
//   (api/domain/clocks.ts): passed on as the facts they count from, one `|`-separated text that is
//   also the key under which the API computes each set of facts once (every value is a date or a
//   code of a domain list, never a `|`).
// The items are joined by `,`; within an item, the parts are cut by U+0001, which JSON text never
// holds raw (to_json and jsonb escape every control character): item up to `"checklist":` ␁ pairs
// ␁ item from `,"decision":` up to `"clocks":` ␁ clock facts ␁ rest of the item. Beside it: whether
// there is a next page, and the id and submission time of the page's last item (the next cursor,
// api/pagination.ts encodeCursor). One row of one text instead of 101 rows of 30 columns: the
// driver reads one message.
// list_cases_json reads its page through list_cases (migration 0019), with the same arguments: the
// same filters, index range scans, kept plans, tenant and region settings and row-level security
// (SECURITY INVOKER, as the caller); the items keep its order (newest first), by their ordinality.
// Text is written by to_json, whose escapes are JSON.stringify's (\" \\ \b \f \n \r \t, \u00xx for
// the other control characters, everything else as it is). Frozen once landed.
import { sql, type Kysely } from 'kysely'

// Written with one concat per item (a chain of || copies the growing text at every step),
// and to_json only where a value is text: a uuid, a date (ISO: the function sets its DateStyle),
// an integer and list_cases' ISO times (to_char) are JSON strings or numbers as they are printed.

/** Text as a JSON string, `null` when it is null. */
const text = (expression: string): string => `coalesce(to_json(${expression})::text, 'null')`
/** A uuid, a date or ISO time text as a JSON string, `null` when it is null. */
const printed = (expression: string): string => `coalesce('"' || ${expression} || '"', 'null')`

/** concat's arguments for JSON members (key → SQL JSON text) in this order (the contract's), after `prefix`. */
const members = (prefix: string, fields: Array<[string, string]>, suffix = ''): string =>
  `${fields.map(([key, value], i) => `'${i === 0 ? prefix : ','}"${key}":', ${value}`).join(', ')}${suffix ? `, '${suffix}'` : ''}`

export async function up(db: Kysely<any>): Promise<void> {
  const head = members('{', [
    ['id', printed('l.id::text')],
    ['reference', text('l.reference')],
    ['caseType', text('l.case_type')],
    ['iprMatter', text('l.ipr_matter')],
    ['status', text('l.status')],
    ['memberTenantId', printed('l.member_tenant_id::text')],
    ['hubTenantId', printed('l.hub_tenant_id::text')],
    ['externalReference', text('l.external_reference')],
    ['assignedStaffId', printed('l.assigned_staff_id::text')],
    ['dueDate', printed('l.due_date::text')],
    ['checklist', "''"],
  ])
  const decision = members('{', [
    ['outcome', text('l.decision_outcome')],
    ['note', text('l.decision_note')],
    ['decidedAt', printed('l.decided_at_iso')],
    ['decidedBy', text('l.decided_by')],
  ], '}')
  const royalDecree = members('{', [
    ['decision', text('l.royal_decree_decision')],
    ['decreeDate', printed('l.royal_decree_date::text')],
    ['decreeNumber', text('l.royal_decree_number')],
    ['recordedAt', printed('l.royal_decree_recorded_at_iso')],
  ], '}')
  const middle = members(',', [
    ['decision', `case when l.decision_outcome is null then 'null' else concat(${decision}) end`],
    ['royalDecree', `case when l.royal_decree_decision is null or l.royal_decree_date is null then 'null' else concat(${royalDecree}) end`],
    ['clocks', "''"],
  ])
  const tail = members(',', [
    ['submittedAt', printed('l.submitted_at')],
    ['updatedAt', printed('l.updated_at_iso')],
    ['version', 'l.version'],
  ], '}')
  const facts = `concat_ws('|', ${[
    'l.case_type', 'l.case_type_version', 'l.submitted_on', 'l.fee_paid_on', 'l.decided_on', 'l.decision_outcome',
    'l.royal_decree_decision', 'l.royal_decree_date', 'l.ceremony_invited_on', 'l.handed_over_on', 'l.lapsed_on', 'l.ended_on',
  ]
    .map((column) => `coalesce(${column}::text, '')`)
    .join(', ')})`
  await sql.raw(`
    create function list_cases_json(
      p_tenant uuid, p_region uuid,
      p_hub_tenant_id uuid, p_member_tenant_id uuid,
      p_status text, p_case_type text, p_assigned_staff_id uuid, p_unassigned boolean,
      p_clock boolean, p_clock_before date, p_clock_from date, p_clock_until date,
      p_after_created_at timestamptz, p_after_id uuid, p_limit integer)
    returns table (items text, more boolean, last_id text, last_submitted_at text)
    language plpgsql volatile security invoker
    set search_path = public, pg_temp set datestyle = 'ISO, YMD' as $fn$
    begin
      -- p_limit is the page's limit + 1: the extra row only tells there is a next page.
      return query
        select coalesce(string_agg(concat(${head}, chr(1), l.checklist::text, chr(1), ${middle}, chr(1), ${facts}, chr(1), ${tail}), ','
                                   order by l.ordinality) filter (where l.ordinality < p_limit), ''),
               count(*) >= p_limit,
               max(l.id::text) filter (where l.ordinality = p_limit - 1),
               max(l.submitted_at) filter (where l.ordinality = p_limit - 1)
        from list_cases(p_tenant, p_region, p_hub_tenant_id, p_member_tenant_id, p_status, p_case_type, p_assigned_staff_id, p_unassigned,
                        p_clock, p_clock_before, p_clock_from, p_clock_until, p_after_created_at, p_after_id, p_limit) with ordinality l;
    end $fn$`).execute(db)
  await sql`revoke all on function list_cases_json from public`.execute(db)
  await sql`grant execute on function list_cases_json to regiobalie_app`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function if exists list_cases_json`.execute(db)
}
