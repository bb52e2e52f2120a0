// The case list (GET /v1/cases, the workbench's worklists): a member's own cases or a hub's, newest
// first, a page at a time, items without personal data (so not access-logged). Authorisation per
// API.md; RLS is the backstop.
// Issue 13: the page is JSON text from PostgreSQL (list_cases_json, migration 0025), sent on as it
// is; the API adds only what depends on the catalogue and today — the clocks — and the checklist
// items, each written once for many pages, and the cursor. The text is what the view (cases.view.ts) and
// the schema serialiser wrote before: CaseSummary's keys in the contract's order, no spaces. The
// page is written straight into the bytes of the reply (pageBytes).
import { requireTenantPrincipal } from '../access-log/access-log.service.js'
import { tenantScope, type Principal } from '../auth/principal.js'
import type { CaseStatus } from '../domain/case-state.js'
import type { CaseTypeCode } from '../domain/case-types.js'
import { CLOCK_FILTERS, clockFilterRange, type ClockFilter } from '../domain/clocks.js'
import { invalidFields } from '../domain/errors.js'
import { parseJsonBytes, type JsonBytes } from '../json-bytes.js'
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
 * next pages as the bytes it is sent as: a worklist repeats a few checklists and a few sets of
 * clock facts (cases of one type submitted on one day and not moved on yet). At most `limit` keys
 * are kept (a set of clocks is ~1.2 KB: ~2.4 MB); then it starts again.
 */
const remembered = (make: (key: string) => string, limit = 2_000): ((key: string) => Buffer) => {
  const made = new Map<string, Buffer>()
  return (key) => {
    let bytes = made.get(key)
    if (bytes === undefined) {
      bytes = Buffer.from(make(key))
      if (made.size >= limit) made.clear()
      made.set(key, bytes)
    }
    return bytes
  }
}

/** The stored checklist pairs as the contract's items. */
const checklistJson = remembered((pairs) =>
  JSON.stringify(
    (JSON.parse(pairs) as Array<[ChecklistItem['documentKind'], ChecklistItem['status']]>).map(([documentKind, status]): ChecklistItem => ({ documentKind, status })),
  ),
)

/**
 * The clocks of a set of clock facts on one day: the catalogue and the calendar are fixed in the
 * process, so only the day changes them; the sets of the day before are dropped with it.
 */
let clocksOfDay: { today: string; clocksJson: (facts: string) => Buffer } | null = null
const clocksJsonOn = (today: string): ((facts: string) => Buffer) => {
  if (clocksOfDay?.today !== today) clocksOfDay = { today, clocksJson: remembered((facts) => JSON.stringify(listedClocksOf(facts, today))) }
  return clocksOfDay.clocksJson
}

const ITEMS_START = Buffer.from('{"items":[')

/** What a list needs of the cases' dependencies (CaseDeps, cases.service.ts). */
export interface CaseListDeps {
  db: Db
  now?: () => Date
}

/** One page of the list as the JSON of a CaseList. */
export async function listCasesJson(deps: CaseListDeps, principal: Principal, query: ListQuery): Promise<JsonBytes<CaseList>> {
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
  return pageBytes(found.items, today, `],"nextCursor":${JSON.stringify(nextCursor)}}`)
}

/**
 * The page's bytes, written once into one buffer: the items' text as PostgreSQL wrote it, with the
 * checklist and the clocks of each item put in from what is remembered, between the start of the
 * CaseList and `end`. Every item is 5 parts cut by PART_CUT: JSON, checklist pairs, JSON, clock
 * facts, JSON (the last one running into the next item's first).
 */
function pageBytes(items: string, today: string, end: string): JsonBytes<CaseList> {
  const clocksOf = clocksJsonOn(today)
  // The JSON parts of the items as [from, to) of `items`, and the remembered bytes between them.
  const cuts: number[] = []
  const put: Buffer[] = []
  let at = 0
  let putBytes = 0
  while (at < items.length) {
    const checklistAt = items.indexOf(PART_CUT, at)
    if (checklistAt < 0) break
    const middleAt = items.indexOf(PART_CUT, checklistAt + 1)
    const factsAt = items.indexOf(PART_CUT, middleAt + 1)
    const tailAt = items.indexOf(PART_CUT, factsAt + 1)
    if (middleAt < 0 || factsAt < 0 || tailAt < 0) throw new Error('list_cases_json wrote an item that is not 5 parts')
    const checklist = checklistJson(items.slice(checklistAt + 1, middleAt))
    const clocks = clocksOf(items.slice(factsAt + 1, tailAt))
    cuts.push(at, checklistAt, middleAt + 1, factsAt)
    put.push(checklist, clocks)
    putBytes += checklist.length + clocks.length
    at = tailAt + 1
  }
  // Text of ASCII only (the usual page: codes, ids, dates) is its own bytes; any other is encoded
  // as UTF-8 (a part never ends inside a character: the cuts are U+0001). The whole text's length
  // in bytes bounds its parts'.
  const textBytes = Buffer.byteLength(items)
  const ascii = textBytes === items.length
  const page = Buffer.allocUnsafe(ITEMS_START.length + textBytes + putBytes + Buffer.byteLength(end))
  let length = ITEMS_START.copy(page, 0)
  const encoding = ascii ? 'latin1' : 'utf8'
  const write = (text: string): void => {
    length += page.write(text, length, encoding)
  }
  for (let i = 0; i < put.length; i += 2) {
    const c = i * 2
    write(items.slice(cuts[c], cuts[c + 1]))
    length += (put[i] as Buffer).copy(page, length)
    write(items.slice(cuts[c + 2], cuts[c + 3]))
    length += (put[i + 1] as Buffer).copy(page, length)
  }
  write(items.slice(at))
  write(end)
  return page.subarray(0, length) as JsonBytes<CaseList>
}

/** One page of the list as objects (the workbench's worklists). */
export const listCases = async (deps: CaseListDeps, principal: Principal, query: ListQuery): Promise<CaseList> =>
  parseJsonBytes(await listCasesJson(deps, principal, query))
