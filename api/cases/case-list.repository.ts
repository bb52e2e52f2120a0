// The SQL of the case list (STYLE.md §9): one page in one statement, in autocommit — the function
// sets the tenant for its own statement's transaction and reads under row-level security.
import { sql } from 'kysely'
import type { Db, TenantScope } from '../db/database.js'
import type { Page } from '../pagination.js'
import type { CaseFilter } from './cases.repository.js'

/**
 * One row of the list as list_cases_json (migration 0025) writes it: the item's JSON text up to
 * `"checklist":`, the stored checklist pairs (`[["passport", "missing"], …]`, document-kind order),
 * the JSON from `,"decision":` up to `"clocks":`, the facts the clocks count from (`|`-separated,
 * '' for null: api/cases/clocks.ts listedClocksOf) and the JSON after the clocks; the id and the
 * submission time (ISO text) make the next cursor.
 */
export interface CaseListJsonRow {
  item_id: string
  item_submitted_at: string
  item_head: string
  item_checklist: string
  item_middle: string
  item_clock_facts: string
  item_tail: string
}

/** One page of the list (limit + 1 rows, newest first): each filter an argument (null: absent), the cursor an index bound. */
export async function listCaseRows(db: Db, scope: TenantScope, filter: CaseFilter, page: Page): Promise<CaseListJsonRow[]> {
  const hub = filter.side === 'hub'
  const { rows } = await sql<CaseListJsonRow>`
    select * from list_cases_json(${scope.tenantId}::uuid, ${scope.regionId}::uuid,
      ${hub ? filter.tenantId : null}::uuid, ${hub ? (filter.memberTenantId ?? null) : filter.tenantId}::uuid,
      ${filter.status ?? null}::text, ${filter.caseType ?? null}::text, ${filter.assignedStaffId ?? null}::uuid, ${filter.unassigned === true}::boolean,
      ${filter.clockDue !== undefined}::boolean, ${filter.clockDue?.before ?? null}::date, ${filter.clockDue?.from ?? null}::date, ${filter.clockDue?.until ?? null}::date,
      ${page.after?.createdAt ?? null}::timestamptz, ${page.after?.id ?? null}::uuid, ${page.limit + 1}::integer)`.execute(db)
  return rows
}
