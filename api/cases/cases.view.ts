// Rows → the JSON shapes of openapi.yaml. A list item carries no personal data (no subject): only
// the case detail does, and reading it is written to the access log.
// Each view returns the contract's component type, so a view that drifts from openapi.yaml fails
// to compile.
import type { components } from '../../openapi/types.gen.js'
import type { CaseClock } from '../domain/clocks.js'
import type { CaseRow, ChecklistRow, EventRow } from './cases.repository.js'

type Schemas = components['schemas']

/** What a view shows of a checklist item. */
export type ChecklistItemOf = Pick<ChecklistRow, 'document_kind' | 'status'>

const checklistView = (items: ChecklistItemOf[]): Schemas['ChecklistItem'][] => items.map((i) => ({ documentKind: i.document_kind, status: i.status }))

/** The fields a case row gives as they are (a list item's are written by list_cases_json, migration 0025). */
const plainFields = (
  c: Pick<CaseRow, 'id' | 'reference' | 'case_type' | 'ipr_matter' | 'status' | 'member_tenant_id' | 'hub_tenant_id' | 'external_reference' | 'assigned_staff_id' | 'due_date'>,
) => ({
  id: c.id,
  reference: c.reference,
  caseType: c.case_type,
  iprMatter: c.ipr_matter,
  status: c.status,
  memberTenantId: c.member_tenant_id,
  hubTenantId: c.hub_tenant_id,
  externalReference: c.external_reference,
  assignedStaffId: c.assigned_staff_id,
  dueDate: c.due_date,
})

// Object.assign, not a spread: on Node 20 `{ ...fields, more }` cost some 35 µs per view against
// 1 µs (issue 13, bench:submit's CPU profile).
export const caseSummaryView = (c: CaseRow, checklist: ChecklistItemOf[], clocks: CaseClock[]): Schemas['CaseSummary'] =>
  Object.assign(plainFields(c), {
    checklist: checklistView(checklist),
    decision: c.decision_outcome
      ? { outcome: c.decision_outcome, note: c.decision_note, decidedAt: c.decided_at?.toISOString() ?? null, decidedBy: c.decided_by }
      : null,
    royalDecree:
      c.royal_decree_decision && c.royal_decree_date
        ? {
            decision: c.royal_decree_decision,
            decreeDate: c.royal_decree_date,
            decreeNumber: c.royal_decree_number,
            recordedAt: c.royal_decree_recorded_at?.toISOString() ?? null,
          }
        : null,
    clocks,
    submittedAt: c.created_at.toISOString(),
    updatedAt: c.updated_at.toISOString(),
    version: c.version,
  })

export const caseView = (c: CaseRow, checklist: ChecklistItemOf[], clocks: CaseClock[]): Schemas['Case'] =>
  Object.assign(caseSummaryView(c, checklist, clocks), { subject: c.subject, note: c.note })

export const eventView = (e: EventRow): Schemas['CaseEvent'] => ({
  id: e.id,
  action: e.action,
  from: e.from_status,
  to: e.to_status,
  actor: { kind: e.actor_kind, id: e.actor_id },
  reason: e.reason,
  version: e.version,
  at: e.created_at.toISOString(),
})
