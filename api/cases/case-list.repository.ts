// The SQL of the case list (STYLE.md §9): one page in one statement, in autocommit — the function
// sets the tenant for its own statement's transaction and reads under row-level security.
import { sql } from 'kysely'
import type { Db, TenantScope } from '../db/database.js'
import type { Page } from '../pagination.js'
import type { CaseFilter } from './cases.repository.js'

/**
 * One page of the list as list_cases_json (migration 0025) writes it: the items' JSON text, joined
 * by `,`, each cut by U+0001 into the item up to `"checklist":`, the stored checklist pairs
 * (`[["passport", "missing"], …]`, document-kind order), the item from `,"decision":` up to
 * `"clocks":`, the facts the clocks count from (`|`-separated, '' for null: api/cases/clocks.ts
 * listedClocksOf) and the rest of the item; whether a next page follows; the id and submission
 * time (ISO text) of the page's last item, for the next cursor.
 */
export interface CaseListPage {
  items: string
  more: boolean
  last_id: string | null
  last_submitted_at: string | null
}

/** The cut between the parts of an item in CaseListPage.items. */
export const PART_CUT = '\u0001'

/** One page of the list, newest first: each filter an argument (null: absent), the cursor an index bound. */
export async function listCasePage(db: Db, scope: TenantScope, filter: CaseFilter, page: Page): Promise<CaseListPage> {
  const hub = filter.side === 'hub'
  const { rows } = await sql<CaseListPage>`
    select * from list_cases_json(${scope.tenantId}::uuid, ${scope.regionId}::uuid,
      ${hub ? filter.tenantId : null}::uuid, ${hub ? (filter.memberTenantId ?? null) : filter.tenantId}::uuid,
      ${filter.status ?? null}::text, ${filter.caseType ?? null}::text, ${filter.assignedStaffId ?? null}::uuid, ${filter.unassigned === true}::boolean,
      ${filter.clockDue !== undefined}::boolean, ${filter.clockDue?.before ?? null}::date, ${filter.clockDue?.from ?? null}::date, ${filter.clockDue?.until ?? null}::date,
      ${page.after?.createdAt ?? null}::timestamptz, ${page.after?.id ?? null}::uuid, ${page.limit + 1}::integer)`.execute(db)
  const [row] = rows
  if (!row) throw new Error('list_cases_json returned no row')
  return row
}
