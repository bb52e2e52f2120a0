// Retention (ARCHITECTURE "Privacy"): once a closed case's retention period has passed, its
// documents are crypto-shredded — the wrapped data key is deleted, which makes the blob unreadable —
// and the blob itself is removed afterwards. Per-object status (shredded_at) makes a rerun a no-op.
// A case type without an established retention period (retentionYears null) is never shredded.
import { sql } from 'kysely'
import { withAdmin, type Db } from '../api/db/database.js'
import type { BlobStore } from '../api/documents/blob-store.js'
import { addYears } from '../api/domain/calendar.js'
import { findCaseType, retentionYearsFor, type IprMatter } from '../api/domain/case-types.js'
import { dutchDate } from '../api/time.js'

interface Candidate {
  id: string
  blob_name: string
  case_type: string
  case_type_version: string
  ipr_matter: string | null
  closed_at: Date
}

export async function shredExpiredDocuments(db: Db, store: BlobStore, today: string = dutchDate()): Promise<number> {
  const shredded = await withAdmin(db, async (trx) => {
    const { rows } = await sql<Candidate>`
      select d.id, d.blob_name, c.case_type, c.case_type_version, c.ipr_matter, closed.at as closed_at
      from documents d
      join cases c on c.id = d.case_id
      join lateral (select max(e.created_at) as at from case_events e where e.case_id = c.id and e.to_status = 'closed') closed on true
      where c.status = 'closed' and d.wrapped_key is not null and closed.at is not null`.execute(trx)
    const due = rows.filter((r) => {
      const definition = findCaseType(r.case_type, r.case_type_version)
      const years = definition ? retentionYearsFor(definition, r.ipr_matter as IprMatter | null) : null
      return years !== null && addYears(dutchDate(r.closed_at), years) <= today
    })
    if (due.length === 0) return []
    await trx
      .updateTable('documents')
      .set({ wrapped_key: null, shredded_at: sql`now()` })
      .where(
        'id',
        'in',
        due.map((r) => r.id),
      )
      .where('wrapped_key', 'is not', null)
      .execute()
    return due
  })
  // The key is gone, so the bytes are unreadable already; removing them is housekeeping.
  for (const d of shredded) await store.delete(d.blob_name)
  return shredded.length
}
