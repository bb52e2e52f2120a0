// Case intake and lifecycle: submit, route, track and work a case. Authorisation per API.md's "who"
// column lives here; RLS is the backstop; every transition goes through lifecycle.applyTransition.
import { recordRead, requireTenantPrincipal } from '../access-log/access-log.service.js'
import { tenantScope, type Principal, type TenantPrincipal } from '../auth/principal.js'
import { findStaff } from '../tenancy/tenancy.repository.js'
import { withTenant, type Db } from '../db/database.js'
import type { CaseSubjectJson } from '../db/schema.js'
import { bsnHash } from '../domain/bsn-hash.js'
import { bsnInvalidReason } from '../domain/bsn.js'
import { isValidIsoDate, workingDaysAfter } from '../domain/calendar.js'
import type { CaseStatus } from '../domain/case-state.js'
import { findCaseType, requiredDocumentsFor, type CaseTypeCode, type IprMatter } from '../domain/case-types.js'
import type { DocumentKind } from '../domain/document-kinds.js'
import { isCountryCode } from '../domain/countries.js'
import { invalidFields, notFound, DomainError, type InvalidField } from '../domain/errors.js'
import { enqueueInTransaction } from '../jobs/outbox.js'
import { parsePage, toPage, type PageQuery } from '../pagination.js'
import { dutchDate } from '../time.js'
import * as repo from './cases.repository.js'
import { announce, applyTransition, type Actor } from './lifecycle.js'
import { caseSummaryView, caseView, eventView } from './cases.view.js'

export interface CaseDeps {
  db: Db
  bsnHashKey: Buffer
  now?: () => Date
}

export interface SubmitInput {
  caseType: CaseTypeCode
  subject: CaseSubjectJson
  iprMatter?: IprMatter
  externalReference?: string
  note?: string
}

/** Field rules the schema cannot express (11-proef, real dates, ISO countries, iprMatter). */
function validateSubmission(input: SubmitInput, today: string): void {
  const problems: InvalidField[] = []
  const { subject } = input
  if (subject.bsn !== undefined) {
    const reason = bsnInvalidReason(subject.bsn)
    if (reason) problems.push({ name: 'subject.bsn', code: 'invalid-bsn', reason })
  }
  if (!isValidIsoDate(subject.dateOfBirth)) {
    problems.push({ name: 'subject.dateOfBirth', code: 'invalid-date', reason: 'is not a calendar date' })
  } else if (subject.dateOfBirth > today) {
    problems.push({ name: 'subject.dateOfBirth', code: 'date-in-future', reason: 'lies in the future' })
  }
  for (const field of ['nationality', 'countryOfBirth'] as const) {
    const value = subject[field]
    if (value !== undefined && !isCountryCode(value)) {
      problems.push({ name: `subject.${field}`, code: 'unknown-country', reason: 'is not an ISO 3166-1 alpha-2 country code' })
    }
  }
  if (input.caseType === 'ipr_assessment' && !input.iprMatter) {
    problems.push({ name: 'iprMatter', code: 'required', reason: 'is required for ipr_assessment' })
  }
  if (input.caseType !== 'ipr_assessment' && input.iprMatter) {
    problems.push({ name: 'iprMatter', code: 'not-allowed', reason: 'applies to ipr_assessment only' })
  }
  if (problems.length > 0) throw invalidFields(problems)
}

/** The actor of a case event: the hub (staff or its client) or the member. */
const eventActorOf = (p: TenantPrincipal): Actor =>
  p.kind === 'staff' ? { kind: 'hub', id: p.staffId } : { kind: p.tenantRole === 'hub' ? 'hub' : 'member', id: p.keyId }

const withCaseScope = <T>(deps: CaseDeps, p: TenantPrincipal, fn: Parameters<typeof withTenant<T>>[2]) => withTenant(deps.db, tenantScope(p), fn)

export async function submitCase(deps: CaseDeps, principal: Principal, input: SubmitInput) {
  const p = requireTenantPrincipal(principal)
  if (p.tenantRole !== 'member' || p.kind !== 'client') {
    throw new DomainError('forbidden', 'forbidden', 'cases are submitted by a member municipality’s client, not by a hub')
  }
  const now = deps.now?.() ?? new Date()
  const today = dutchDate(now)
  validateSubmission(input, today)
  const definition = findCaseType(input.caseType, today)
  if (!definition) throw new DomainError('refused', 'case-type-not-available', `${input.caseType} is not in the catalogue on ${today}`)
  const iprMatter = input.iprMatter ?? null
  return withCaseScope(deps, p, async (trx) => {
    const agreement = await repo.agreementOn(trx, p.tenantId, input.caseType, today)
    if (!agreement) throw new DomainError('refused', 'case-type-not-delegated', `this municipality has no agreement for ${input.caseType} valid on ${today}`)
    const year = Number(today.slice(0, 4))
    const number = await repo.nextReferenceNumber(trx, agreement.hub_tenant_id, year)
    const created = await repo.insertCase(trx, {
      hub_tenant_id: agreement.hub_tenant_id,
      member_tenant_id: p.tenantId,
      reference: `RB-${year}-${String(number).padStart(6, '0')}`,
      case_type: definition.code,
      case_type_version: definition.validFrom,
      ipr_matter: iprMatter,
      status: 'submitted',
      subject: input.subject,
      bsn_hash: input.subject.bsn ? bsnHash(deps.bsnHashKey, input.subject.bsn) : null,
      external_reference: input.externalReference ?? null,
      note: input.note ?? null,
      due_date: workingDaysAfter(today, definition.handlingTermWorkingDays),
    })
    await repo.insertChecklist(trx, created, requiredDocumentsFor(definition, iprMatter))
    const event = await repo.insertEvent(trx, {
      case_id: created.id,
      hub_tenant_id: created.hub_tenant_id,
      member_tenant_id: created.member_tenant_id,
      actor_kind: 'member',
      actor_id: p.keyId,
      action: 'submit',
      from_status: null,
      to_status: 'submitted',
      reason: null,
      version: created.version,
    })
    await announce(trx, created, event.id)
    await enqueueInTransaction(trx, 'case-intake', 'intake-checks', { tenantId: created.hub_tenant_id, caseId: created.id })
    return caseView(created, await repo.checklistOf(trx, [created.id]))
  })
}

export interface ListQuery extends PageQuery {
  status?: CaseStatus
  caseType?: CaseTypeCode
  assignedTo?: string
  memberTenantId?: string
}

export async function listCases(deps: CaseDeps, principal: Principal, query: ListQuery) {
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
  return withCaseScope(deps, p, async (trx) => {
    const rows = await repo.listCases(
      trx,
      {
        side: p.tenantRole,
        tenantId: p.tenantId,
        ...(query.status ? { status: query.status } : {}),
        ...(query.caseType ? { caseType: query.caseType } : {}),
        ...(assignedStaffId ? { assignedStaffId } : {}),
        ...(query.memberTenantId ? { memberTenantId: query.memberTenantId } : {}),
      },
      page,
    )
    const checklist = await repo.checklistOf(
      trx,
      rows.slice(0, page.limit).map((r) => r.id),
    )
    return toPage(rows, page, (r) =>
      caseSummaryView(
        r,
        checklist.filter((i) => i.case_id === r.id),
      ),
    )
  })
}

export async function getCase(deps: CaseDeps, principal: Principal, caseId: string) {
  const p = requireTenantPrincipal(principal)
  return withCaseScope(deps, p, async (trx) => {
    const c = await repo.findCase(trx, caseId)
    if (!c) throw notFound('case')
    await recordRead(trx, p, c, 'case.read')
    return caseView(c, await repo.checklistOf(trx, [c.id]))
  })
}

export async function caseEvents(deps: CaseDeps, principal: Principal, caseId: string) {
  const p = requireTenantPrincipal(principal)
  return withCaseScope(deps, p, async (trx) => {
    if (!(await repo.findCase(trx, caseId))) throw notFound('case')
    return { items: (await repo.eventsOf(trx, caseId)).map(eventView) }
  })
}

/** Locks the case, runs `decide` for the rules of this action, applies the transition, returns the view. */
async function act(
  deps: CaseDeps,
  principal: Principal,
  caseId: string,
  expectedVersion: number | null,
  decide: (c: repo.CaseRow, p: TenantPrincipal, trx: Parameters<Parameters<typeof withTenant>[2]>[0]) => Promise<Omit<Parameters<typeof applyTransition>[2], 'actor' | 'expectedVersion'>>,
) {
  const p = requireTenantPrincipal(principal)
  return withCaseScope(deps, p, async (trx) => {
    const c = await repo.lockCase(trx, caseId)
    if (!c) throw notFound('case')
    const transition = await decide(c, p, trx)
    const updated = await applyTransition(trx, c, { ...transition, actor: eventActorOf(p), expectedVersion })
    // The answer to an action carries no personal data: reading the subject is GET /cases/{id}, logged.
    return caseSummaryView(updated, await repo.checklistOf(trx, [updated.id]))
  })
}

const requireAssignedSpecialist = (c: repo.CaseRow, p: TenantPrincipal): void => {
  if (p.kind !== 'staff' || c.assigned_staff_id !== p.staffId) {
    throw new DomainError('forbidden', 'not-assigned', 'only the specialist assigned to this case may do this')
  }
}

export const withdrawCase = (deps: CaseDeps, principal: Principal, caseId: string, input: { reason: string }, expectedVersion: number | null) =>
  act(deps, principal, caseId, expectedVersion, async () => ({ action: 'withdraw', reason: input.reason }))

export const assignCase = (deps: CaseDeps, principal: Principal, caseId: string, input: { staffId: string }, expectedVersion: number | null) =>
  act(deps, principal, caseId, expectedVersion, async (c, p, trx) => {
    if (p.kind !== 'staff' || p.tenantId !== c.hub_tenant_id) throw new DomainError('forbidden', 'forbidden', 'cases are assigned by hub staff')
    if (p.staffRole !== 'lead' && input.staffId !== p.staffId) throw new DomainError('forbidden', 'forbidden', 'a specialist may assign a case to himself only')
    const staff = await findStaff(trx, input.staffId)
    if (!staff || staff.hub_tenant_id !== c.hub_tenant_id || staff.status !== 'active') {
      throw new DomainError('refused', 'unknown-staff', 'no active staff member of this hub has that id')
    }
    if (!staff.skills.includes(c.case_type)) throw new DomainError('refused', 'staff-lacks-skill', `that staff member lacks the skill ${c.case_type}`)
    return { action: 'assign', changes: { assigned_staff_id: staff.id } }
  })

export const requestInformation = (
  deps: CaseDeps,
  principal: Principal,
  caseId: string,
  input: { message: string; documentKinds: DocumentKind[] },
  expectedVersion: number | null,
) =>
  act(deps, principal, caseId, expectedVersion, async (c, p, trx) => {
    requireAssignedSpecialist(c, p)
    // Rolled back with the transition when the case is not in review.
    await repo.requireDocuments(trx, c, input.documentKinds)
    return { action: 'request_information', reason: input.message }
  })

export const decideCase = (
  deps: CaseDeps,
  principal: Principal,
  caseId: string,
  input: { outcome: 'granted' | 'refused'; note: string },
  expectedVersion: number | null,
) =>
  act(deps, principal, caseId, expectedVersion, async (c, p, trx) => {
    requireAssignedSpecialist(c, p)
    if (c.status === 'in_review' || c.status === 'scheduled') {
      const open = (await repo.checklistOf(trx, [c.id])).filter((i) => i.status !== 'accepted')
      if (open.length > 0) {
        throw new DomainError('conflict', 'checklist-incomplete', `not yet accepted: ${open.map((i) => i.document_kind).join(', ')}`)
      }
    }
    return { action: 'decide', reason: input.note, changes: { decision_outcome: input.outcome, decision_note: input.note, decided_at: new Date() } }
  })

export const closeCase = (deps: CaseDeps, principal: Principal, caseId: string, expectedVersion: number | null) =>
  act(deps, principal, caseId, expectedVersion, async (c, p) => {
    if (p.tenantId !== c.hub_tenant_id) throw new DomainError('forbidden', 'forbidden-action', 'a case is closed by its hub')
    return { action: 'close' }
  })
