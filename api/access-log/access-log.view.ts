// Returns the contract's AccessLogEntry, so a view that drifts from openapi.yaml fails to compile.
// An entry names who read which case when and why; never the BSN (not even its hash).
import type { components } from '../../openapi/types.gen.js'
import type { AccessLogRow } from './access-log.repository.js'

export const entryView = (e: AccessLogRow): components['schemas']['AccessLogEntry'] => ({
  id: String(e.id),
  caseId: e.case_id,
  documentId: e.document_id,
  actorTenantId: e.actor_tenant_id,
  actor: { kind: e.actor_kind, id: e.actor_id },
  action: e.action,
  purpose: e.purpose,
  at: e.created_at.toISOString(),
})
