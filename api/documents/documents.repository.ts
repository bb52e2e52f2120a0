import type { Selectable } from 'kysely'
import { sql } from 'kysely'
import type { Trx } from '../db/database.js'
import type { DocumentReviewsTable, DocumentsTable, ReviewFindingJson } from '../db/schema.js'
import type { DocumentKind } from '../domain/document-kinds.js'

export type DocumentRow = Selectable<DocumentsTable>
export type ReviewRow = Selectable<DocumentReviewsTable>

export const insertDocument = (trx: Trx, values: Omit<DocumentRow, 'id' | 'created_at' | 'review_status' | 'review_version' | 'verdict' | 'verdict_reason' | 'verdict_by' | 'verdict_at' | 'shredded_at'>): Promise<DocumentRow> =>
  trx.insertInto('documents').values(values).returningAll().executeTakeFirstOrThrow()

export const findDocument = (trx: Trx, id: string): Promise<DocumentRow | undefined> =>
  trx.selectFrom('documents').selectAll().where('id', '=', id).executeTakeFirst()

export const lockDocument = (trx: Trx, id: string): Promise<DocumentRow | undefined> =>
  trx.selectFrom('documents').selectAll().where('id', '=', id).forUpdate().executeTakeFirst()

export const documentsOfCase = (trx: Trx, caseId: string): Promise<DocumentRow[]> =>
  trx.selectFrom('documents').selectAll().where('case_id', '=', caseId).orderBy('created_at', 'desc').orderBy('id', 'desc').execute()

/** Another document of the case with the same bytes, uploaded before this one. */
export const earlierDuplicate = (trx: Trx, d: DocumentRow): Promise<{ id: string } | undefined> =>
  trx
    .selectFrom('documents')
    .select('id')
    .where('case_id', '=', d.case_id)
    .where('sha256', '=', d.sha256)
    .where('id', '!=', d.id)
    .where((eb) => eb.or([eb('created_at', '<', d.created_at), eb.and([eb('created_at', '=', d.created_at), eb('id', '<', d.id)])]))
    .executeTakeFirst()

export const latestReview = (trx: Trx, d: DocumentRow): Promise<ReviewRow | undefined> =>
  trx.selectFrom('document_reviews').selectAll().where('document_id', '=', d.id).where('review_version', '=', d.review_version).executeTakeFirst()

/** Stores the outcome of one review version once; a second run of the same version changes nothing. */
export async function saveReview(trx: Trx, d: DocumentRow, status: ReviewRow['status'], findings: ReviewFindingJson[]): Promise<boolean> {
  const inserted = await trx
    .insertInto('document_reviews')
    .values({
      document_id: d.id,
      review_version: d.review_version,
      hub_tenant_id: d.hub_tenant_id,
      member_tenant_id: d.member_tenant_id,
      status,
      findings: JSON.stringify(findings),
    })
    .onConflict((oc) => oc.columns(['document_id', 'review_version']).doNothing())
    .returning('document_id')
    .executeTakeFirst()
  if (!inserted) return false
  await trx.updateTable('documents').set({ review_status: status }).where('id', '=', d.id).where('review_version', '=', d.review_version).execute()
  return true
}

export const setVerdict = (trx: Trx, id: string, v: { verdict: 'accepted' | 'rejected'; reason: string; by: string }): Promise<DocumentRow> =>
  trx
    .updateTable('documents')
    .set({ verdict: v.verdict, verdict_reason: v.reason, verdict_by: v.by, verdict_at: sql`now()` })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow()

/** Checklist items of the case that a document of `kind` fulfils, set to `status`. */
type ChecklistStatus = 'missing' | 'received' | 'accepted' | 'rejected'

export async function markChecklist(trx: Trx, caseId: string, itemKinds: readonly DocumentKind[], status: Exclude<ChecklistStatus, 'missing'>, onlyFrom?: ChecklistStatus[]): Promise<void> {
  if (itemKinds.length === 0) return
  let q = trx.updateTable('case_checklist_items').set({ status, updated_at: sql`now()` }).where('case_id', '=', caseId).where('document_kind', 'in', itemKinds)
  if (onlyFrom) q = q.where('status', 'in', onlyFrom)
  await q.execute()
}
