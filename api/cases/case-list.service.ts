// The case list (GET /v1/cases, the workbench's worklists): a member's own cases or a hub's, newest
// first, a page at a time, items without personal data (so not access-logged). Authorisation per
// API.md; RLS is the backstop.
// Issue 13: the page is JSON text from PostgreSQL (list_cases_json, migration 0025), sent on as it
// is; the API adds only what depends on the catalogue and today — the clocks — and the checklist
// items, each written once for many pages, and the cursor. The text is what the view (cases.view.ts) and
// the schema serialiser wrote before: CaseSummary's keys in the contract's order, no spaces.
import { requireTenantPrincipal } from '../access-log/access-log.service.js'
import { tenantScope, type Principal } from '../auth/principal.js'
import type { CaseStatus } from '../domain/case-state.js'
import type { CaseTypeCode } from '../domain/case-types.js'
import { CLOCK_FILTERS, clockFilterRange, type ClockFilter } from '../domain/clocks.js'
import { invalidFields } from '../domain/errors.js'
import { parseJsonText, type JsonText } from '../json-text.js'
import { encodeCursor, parsePage, type PageQuery } from '../pagination.js'
import { dutchDate } from '../time.js'
import type { components } from '../../openapi/types.gen.js'
import { listCasePage, PART_CUT } from './case-list.repository.js'
import type { Db } from '../db/database.js'
import type { CaseFilter } from './cases.repository.js'
import { listedClocksOf } from './clocks.js'

type CaseList = components['schemas']['CaseList']
type ChecklistItem = components['schemas']['ChecklistItem']

export interface ListQuery extends PageQuery {
  status?: CaseStatus
  caseType?: CaseTypeCode
  assignedTo?: string
  memberTenantId?: string
  /** Only cases without a specialist (hub staff). */
  unassigned?: boolean
  clock?: string
}

/**
 * A part of the JSON of an item that depends only on its key (a pure function of it), kept for the
 * next pages: a worklist repeats a few checklists and a few sets of clock facts (cases of one type
 * submitted on one day and not moved on yet). At most `limit` keys are kept (a set of clocks is
 * ~1.2 KB of text: ~2.4 MB); then it starts again.
 */
const remembered = (make: (key: string) => string, limit = 2_000): ((key: string) => string) => {
  const made = new Map<string, string>()
  return (key) => {
    let text = made.get(key)
    if (text === undefined) {
      text = make(key)
      if (made.size >= limit) made.clear()
      made.set(key, text)
    }
    return text
  }
}

/** The stored checklist pairs as the contract's items. */
const checklistJson = remembered((pairs) =>
  JSON.stringify(
    (JSON.parse(pairs) as Array<[ChecklistItem['documentKind'], ChecklistItem['status']]>).map(([documentKind, status]): ChecklistItem => ({ documentKind, status })),
  ),
)

/** The clocks of a set of clock facts on a day (`<today>|<facts>`): the catalogue and the calendar are fixed in the process. */
const clocksJson = remembered((todayAndFacts) => {
  const cut = todayAndFacts.indexOf('|')
  return JSON.stringify(listedClocksOf(todayAndFacts.slice(cut + 1), todayAndFacts.slice(0, cut)))
})

/** One page of the list as the JSON text of a CaseList. */
/** What a list needs of the cases' dependencies (CaseDeps, cases.service.ts). */
export interface CaseListDeps {
  db: Db
  now?: () => Date
}

export async function listCasesJson(deps: CaseListDeps, principal: Principal, query: ListQuery): Promise<JsonText<CaseList>> {
  const p = requireTenantPrincipal(principal)
  const page = parsePage(query)
  if (query.memberTenantId && p.tenantRole !== 'hub') {
    throw invalidFields([{ name: 'query.memberTenantId', code: 'hub-only', reason: 'filters a hub’s list; a member sees its own cases' }])
  }
  let assignedStaffId: string | undefined
  if (query.assignedTo === 'me') {
    if (p.kind !== 'staff') throw invalidFields([{ name: 'query.assignedTo', code: 'staff-only', reason: '"me" needs a staff key' }])
    assignedStaffId = p.staffId
  } else if (query.assignedTo) {
    assignedStaffId = query.assignedTo
  }
  const clock = query.clock as ClockFilter | undefined
  if (clock !== undefined && !CLOCK_FILTERS.includes(clock)) {
    throw invalidFields([{ name: 'query.clock', code: 'not-allowed', reason: `must be one of ${CLOCK_FILTERS.join(', ')}` }])
  }
  const today = dutchDate(deps.now?.() ?? new Date())
  const filter: CaseFilter = {
    side: p.tenantRole,
    tenantId: p.tenantId,
    ...(query.status ? { status: query.status } : {}),
    ...(query.caseType ? { caseType: query.caseType } : {}),
    ...(assignedStaffId ? { assignedStaffId } : {}),
    ...(query.memberTenantId ? { memberTenantId: query.memberTenantId } : {}),
    ...(query.unassigned && p.tenantRole === 'hub' ? { unassigned: true } : {}),
    ...(clock ? { clockDue: clockFilterRange(clock, today) } : {}),
  }
  // One statement sets the tenant and reads the page: no transaction of our own.
  const found = await listCasePage(deps.db, tenantScope(p), filter, page)
  const nextCursor = found.more && found.last_id && found.last_submitted_at ? encodeCursor(new Date(found.last_submitted_at), found.last_id) : null
  // Every item is 5 parts: JSON, checklist pairs, JSON, clock facts, JSON (the last one running
  // into the next item's first); the second and fourth of each become JSON here.
  const parts = found.items === '' ? [] : found.items.split(PART_CUT)
  for (let i = 1; i < parts.length; i += 4) {
    parts[i] = checklistJson(parts[i] ?? '')
    parts[i + 2] = clocksJson(`${today}|${parts[i + 2] ?? ''}`)
  }
  parts.unshift('{"items":[')
  parts.push(`],"nextCursor":${JSON.stringify(nextCursor)}}`)
  return parts.join('') as JsonText<CaseList>
}

/** One page of the list as objects (the workbench's worklists). */
export const listCases = async (deps: CaseListDeps, principal: Principal, query: ListQuery): Promise<CaseList> =>
  parseJsonText(await listCasesJson(deps, principal, query))
