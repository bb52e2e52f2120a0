import type { Selectable } from 'kysely'
import type { Trx } from '../db/database.js'
import type { Page } from '../pagination.js'
import type { AccessLogTable } from '../db/schema.js'

export type AccessLogRow = Selectable<AccessLogTable>

export const appendEntry = async (trx: Trx, entry: Omit<AccessLogRow, 'id' | 'created_at'>): Promise<void> => {
  await trx.insertInto('access_log').values(entry).execute()
}

export function searchEntries(
  trx: Trx,
  filter: { caseId?: string; bsnHash?: Buffer; side: 'member' | 'hub'; tenantId: string },
  page: Page,
): Promise<AccessLogRow[]> {
  let q = trx.selectFrom('access_log').selectAll()
  q = filter.side === 'hub' ? q.where('hub_tenant_id', '=', filter.tenantId) : q.where('member_tenant_id', '=', filter.tenantId)
  if (filter.caseId) q = q.where('case_id', '=', filter.caseId)
  if (filter.bsnHash) q = q.where('bsn_hash', '=', filter.bsnHash)
  // Newest first by id alone: the identity follows insertion, and (case_id, id) / (bsn_hash, id) are indexed.
  if (page.after) q = q.where('id', '<', Number(page.after.id))
  return q.orderBy('id', 'desc').limit(page.limit + 1).execute()
}
