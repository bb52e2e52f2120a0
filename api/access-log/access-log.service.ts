// The access log (Wet BRP protocol right, DOMAIN.md §6.2): every read of a person's data is written
// down — who, from which tenant, which case, when, why — and the member and hub of a case can ask
// who read it. A BSN is never stored here in clear: entries carry the case's keyed BSN hash.
import type { Selectable } from 'kysely'
import { keyHolderOf, tenantScope, type Principal, type TenantPrincipal } from '../auth/principal.js'
import type { AccessAction } from '../db/column-types.js'
import type { CasesTable } from '../db/schema.js'
import { withTenant, type Db, type Trx } from '../db/database.js'
import { bsnHash } from '../domain/bsn-hash.js'
import { isValidBsn } from '../domain/bsn.js'
import { invalidFields, DomainError } from '../domain/errors.js'
import { parsePage, toPage } from '../pagination.js'
import * as repo from './access-log.repository.js'
import { entryView } from './access-log.view.js'

export type { AccessAction }

/** Why a principal reads: a member follows its own case, the hub works it. */
const purposeOf = (p: TenantPrincipal): string => (p.tenantRole === 'member' ? 'case-tracking' : 'case-handling')


/** Appends the entry in the transaction that reads the data: no read without its record. */
export async function recordRead(
  trx: Trx,
  principal: TenantPrincipal,
  c: Pick<Selectable<CasesTable>, 'id' | 'hub_tenant_id' | 'member_tenant_id' | 'bsn_hash'>,
  action: AccessAction,
  documentId: string | null = null,
  /** Overrides the default purpose of the principal's side (e.g. `ind-remittance`, BOEN art. 8(4)). */
  purpose?: string,
): Promise<void> {
  const actor = keyHolderOf(principal)
  await repo.appendEntry(trx, {
    hub_tenant_id: c.hub_tenant_id,
    member_tenant_id: c.member_tenant_id,
    case_id: c.id,
    document_id: documentId,
    actor_tenant_id: principal.tenantId,
    actor_kind: actor.kind,
    actor_id: actor.id,
    action,
    purpose: purpose ?? purposeOf(principal),
    bsn_hash: c.bsn_hash,
  })
}

export const requireTenantPrincipal = (p: Principal): TenantPrincipal => {
  if (p.kind === 'admin') throw new DomainError('forbidden', 'forbidden', 'the platform administrator does not read case data')
  return p
}


export async function searchAccessLog(
  db: Db,
  bsnKey: Buffer,
  principal: Principal,
  input: { caseId?: string; bsn?: string; limit?: number; cursor?: string },
) {
  const p = requireTenantPrincipal(principal)
  // The contract says so in words: a schema's oneOf would answer "must match exactly one schema".
  if ((input.caseId === undefined) === (input.bsn === undefined)) {
    const reason = input.caseId === undefined ? 'give exactly one of caseId and bsn (neither was given)' : 'give exactly one of caseId and bsn, not both'
    throw invalidFields([
      { name: 'caseId', code: 'exactly-one-of', reason },
      { name: 'bsn', code: 'exactly-one-of', reason },
    ])
  }
  if (input.bsn !== undefined && !isValidBsn(input.bsn)) {
    throw invalidFields([{ name: 'bsn', code: 'invalid-bsn', reason: 'is not a valid BSN (11-proef)' }])
  }
  const page = parsePage(input, 'cursor')
  const rows = await withTenant(db, tenantScope(p), (trx) =>
    repo.searchEntries(
      trx,
      {
        side: p.tenantRole,
        tenantId: p.tenantId,
        ...(input.caseId ? { caseId: input.caseId } : {}),
        ...(input.bsn ? { bsnHash: bsnHash(bsnKey, input.bsn) } : {}),
      },
      page,
    ),
  )
  return toPage(rows, page, entryView)
}
