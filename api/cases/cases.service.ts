// Case intake and lifecycle: submit, route, track and work a case. Authorisation per API.md's "who"
// column lives here; RLS is the backstop; every transition goes through lifecycle.applyTransition.
import { randomUUID } from 'node:crypto'
import { recordRead, requireTenantPrincipal } from '../access-log/access-log.service.js'
import { tenantScope, type Principal, type TenantPrincipal } from '../auth/principal.js'
import { findStaff } from '../tenancy/tenancy.repository.js'
import { withTenant, type Db, type Trx } from '../db/database.js'
import type { CaseSubjectJson } from '../db/schema.js'
import { bsnHash } from '../domain/bsn-hash.js'
import { OPEN_STATUSES } from '../domain/case-state.js'
import { bsnInvalidReason } from '../domain/bsn.js'
import { isValidIsoDate, workingDaysAfter } from '../domain/calendar.js'
import { allowedActions } from '../domain/case-state.js'
import { findCaseType, requiredDocumentsFor, type CaseTypeCode, type IprMatter } from '../domain/case-types.js'
import type { DocumentKind } from '../domain/document-kinds.js'
import { isCountryCode } from '../domain/countries.js'
import { invalidFields, notFound, DomainError, type InvalidField } from '../domain/errors.js'
import { nextReferenceNumber } from './reference-numbers.js'
import { dutchDate } from '../time.js'
import * as repo from './cases.repository.js'
import { submitInBatch } from './submission-batches.js'
import { storedEvent } from '../webhooks/events.js'
import { applyTransition, platformEventOf, transitionContext, type Actor } from './lifecycle.js'
import { clocksOf } from './clocks.js'
import { clockDueOnSubmission, clocksOfSubmitted } from './submission-clocks.js'
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

const todayOf = (deps: CaseDeps): string => dutchDate(deps.now?.() ?? new Date())

/** The clocks of each case, by id, as of today: one query for the events of all of them. */
async function clocksFor(deps: CaseDeps, trx: Trx, rows: repo.CaseRow[]): Promise<Map<string, ReturnType<typeof clocksOf>>> {
  const events = await repo.clockEventsOf(trx, rows.map((r) => r.id))
  const today = todayOf(deps)
  return new Map(rows.map((r) => [r.id, clocksOf(r, events.filter((e) => e.case_id === r.id), today)]))
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
  const year = Number(today.slice(0, 4))
  const scope = tenantScope(p)
  const reserved = await nextReferenceNumber(deps.db, scope, year)
  // Everything is known before the one statement that writes it (repo.submitCase, or with the
  // member's other submissions of the moment repo.submitCases): the ids, the reference, the due
  // dates, the checklist and the event the subscribers hear.
  const hubTenantId = reserved?.hubTenantId ?? null
  const caseId = randomUUID()
  const eventId = randomUUID()
  const reference = reserved ? `RB-${year}-${String(reserved.number).padStart(6, '0')}` : ''
  const createdAt = new Date()
  const checklist = requiredDocumentsFor(definition, iprMatter)
  const webhookEvent = storedEvent(
    platformEventOf(
      'case.submitted',
      { id: caseId, hub_tenant_id: hubTenantId ?? '', member_tenant_id: p.tenantId, reference, case_type: definition.code, status: 'submitted', version: 1 },
      { id: eventId, from_status: null },
    ),
  )
  const outcome = await submitInBatch(deps.db, {
    tenantId: scope.tenantId,
    regionId: scope.regionId,
    hubTenantId,
    day: today,
    caseId,
    eventId,
    createdAt,
    reference,
    caseType: definition.code,
    caseTypeVersion: definition.validFrom,
    iprMatter,
    subject: input.subject,
    bsnHash: input.subject.bsn ? bsnHash(deps.bsnHashKey, input.subject.bsn) : null,
    externalReference: input.externalReference ?? null,
    note: input.note ?? null,
    dueDate: workingDaysAfter(today, definition.handlingTermWorkingDays),
    // fee_payment (and option_decision) run from the submission.
    clockDueOn: clockDueOnSubmission(definition.code, definition.validFrom, createdAt),
    checklist,
    actorId: p.keyId,
    webhookEvent,
    intakeJob: { tenantId: hubTenantId ?? '', caseId },
    deliveryJob: { tenantId: hubTenantId ?? '', eventId: webhookEvent.id },
  })
  if ('refused' in outcome) {
    if (outcome.refused === 'case-type-not-delegated') {
      throw new DomainError('refused', 'case-type-not-delegated', `this municipality has no agreement for ${input.caseType} valid on ${today}`)
    }
    // A suspended hub takes no new work: its members are told so instead of filling its queue.
    if (outcome.refused === 'hub-suspended') {
      throw new DomainError('refused', 'hub-suspended', 'the hub municipality this case type is delegated to is suspended on the platform')
    }
    // Agreements route to the region's hub only (putAgreement), whose number was reserved above.
    throw new Error('the agreement routes to a hub outside the member’s region')
  }
  const created = outcome.case
  // The checklist as written (all missing), in the order checklistOf reads it; no clock event yet.
  const items = [...new Set(checklist)].sort().map((kind) => ({ document_kind: kind, status: 'missing' as const }))
  return caseView(created, items, clocksOfSubmitted(created, todayOf(deps)))
}

// The list: case-list.service.ts (issue 13: its page is JSON text from PostgreSQL).
export { listCases, listCasesJson, type ListQuery } from './case-list.service.js'

export async function getCase(deps: CaseDeps, principal: Principal, caseId: string) {
  const p = requireTenantPrincipal(principal)
  return withCaseScope(deps, p, async (trx) => {
    const c = await repo.findCase(trx, caseId)
    if (!c) throw notFound('case')
    await recordRead(trx, p, c, 'case.read')
    return caseView(c, await repo.checklistOf(trx, [c.id]), (await clocksFor(deps, trx, [c])).get(c.id)!)
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
    return caseSummaryView(updated, await repo.checklistOf(trx, [updated.id]), (await clocksFor(deps, trx, [updated])).get(updated.id)!)
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
  input: { outcome: NonNullable<repo.CaseRow['decision_outcome']>; note: string },
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
    // The state machine refuses an outcome the case type does not know (400 naming `outcome`).
    return {
      action: 'decide',
      reason: `${input.outcome}: ${input.note}`,
      changes: { decision_outcome: input.outcome, decision_note: input.note, decided_at: deps.now?.() ?? new Date(), decided_by: eventActorOf(p).id },
    }
  })

export const closeCase = (deps: CaseDeps, principal: Principal, caseId: string, expectedVersion: number | null) =>
  act(deps, principal, caseId, expectedVersion, async (c, p) => {
    if (p.tenantId !== c.hub_tenant_id) throw new DomainError('forbidden', 'forbidden-action', 'a case is closed by its hub')
    return { action: 'close' }
  })

/** Each staff member's load: open cases assigned to them, for the hub's staff (the lead assigns by it). */
export async function staffLoad(deps: CaseDeps, principal: Principal): Promise<Map<string, number>> {
  const p = requireTenantPrincipal(principal)
  if (p.kind !== 'staff') throw new DomainError('forbidden', 'forbidden', 'the load of a hub’s staff is for that hub’s staff')
  const rows = await withCaseScope(deps, p, (trx) => repo.openCasesPerStaff(trx, p.tenantId, OPEN_STATUSES))
  return new Map(rows.map((r) => [r.assigned_staff_id!, r.open]))
}

export interface RoyalDecreeInput {
  decision: 'granted' | 'refused'
  decreeDate: string
  decreeNumber?: string
}

/**
 * POST /cases/{id}/royal-decree: the King's decree (or the IND's refusal) on a naturalisation the
 * hub advised to grant. Recorded by the assigned specialist or a lead of the hub.
 */
export const recordRoyalDecree = (deps: CaseDeps, principal: Principal, caseId: string, input: RoyalDecreeInput, expectedVersion: number | null) =>
  act(deps, principal, caseId, expectedVersion, async (c, p) => {
    if (p.kind !== 'staff' || p.tenantId !== c.hub_tenant_id) throw new DomainError('forbidden', 'forbidden', 'a Royal Decree is recorded by the hub’s staff')
    if (p.staffRole !== 'lead' && c.assigned_staff_id !== p.staffId) {
      throw new DomainError('forbidden', 'not-assigned', 'only the assigned specialist or a lead may record the Royal Decree')
    }
    const action = input.decision === 'granted' ? 'royal_decree_granted' : 'royal_decree_refused'
    // API.md: 409 invalid-transition unless a naturalisation decided with advise_grant (and no decree yet).
    if (!allowedActions(c.status, 'hub', transitionContext(c)).includes(action)) {
      throw new DomainError('conflict', 'invalid-transition', 'a Royal Decree is recorded on a naturalisation case decided with advise_grant, once')
    }
    const problems: InvalidField[] = []
    if (!isValidIsoDate(input.decreeDate)) {
      problems.push({ name: 'decreeDate', code: 'invalid-date', reason: 'is not a calendar date' })
    } else if (input.decreeDate > todayOf(deps)) {
      problems.push({ name: 'decreeDate', code: 'date-in-future', reason: 'lies in the future' })
    } else if (c.decided_at && input.decreeDate < dutchDate(c.decided_at)) {
      problems.push({ name: 'decreeDate', code: 'before-advice', reason: `lies before the advice of ${dutchDate(c.decided_at)}` })
    }
    if (problems.length > 0) throw invalidFields(problems)
    return {
      action,
      reason: `Royal Decree ${input.decision}${input.decreeNumber ? ` (${input.decreeNumber})` : ''} of ${input.decreeDate}`,
      changes: {
        royal_decree_decision: input.decision,
        royal_decree_date: input.decreeDate,
        royal_decree_number: input.decreeNumber ?? null,
        royal_decree_recorded_at: deps.now?.() ?? new Date(),
      },
    }
  })
