// The document-review job: decrypts one document, checks its integrity and runs the review rules.
// Idempotent per document and review version: the result is stored under that unique key once;
// a second run (BullMQ delivers at least once) finds it and stops.
import { Writable, type Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { UnrecoverableError } from 'bullmq'
import type { Logger } from 'pino'
import * as cases from '../api/cases/cases.repository.js'
import { withTenantOf, type Db } from '../api/db/database.js'
import { createDecryptStream, unwrapDataKey } from '../api/documents/blob-crypto.js'
import type { BlobStore } from '../api/documents/blob-store.js'
import * as docs from '../api/documents/documents.repository.js'
import { checkIntegrityIsolated, DEFAULT_ISOLATION } from '../api/documents/integrity-isolated.js'
import { findCaseType } from '../api/domain/case-types.js'
import { blobUnavailableOutcome, reviewDocument } from '../api/domain/review.js'
import type { JobPayload } from '../api/jobs/registry.js'
import { dutchDate } from '../api/time.js'
import { emitEvent } from '../api/webhooks/events.js'

export interface ReviewDeps {
  db: Db
  store: BlobStore
  masterKey: Buffer
  /** Where the integrity check's thread entry is; next to the compiled module unless given (tests). */
  integrityThread?: URL
  logger?: Logger
}

class BlobUnavailable extends Error {}

/** The decrypted bytes, through `pipeline` so an error on either stream is one rejection, never a crash. */
async function readAll(source: Readable, decrypt: NodeJS.ReadWriteStream, expected: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let total = 0
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      total += chunk.length
      if (total > expected) return done(new BlobUnavailable('blob is longer than its recorded size'))
      chunks.push(chunk)
      done()
    },
  })
  await pipeline(source, decrypt, sink)
  return Buffer.concat(chunks, total)
}

export async function runDocumentReview(deps: ReviewDeps, payload: JobPayload<'document-review', 'review'>): Promise<string> {
  const found = await withTenantOf(deps.db, payload.tenantId, async (trx) => {
    const d = await docs.findDocument(trx, payload.documentId)
    if (!d || d.review_version !== payload.reviewVersion || !d.wrapped_key) return null
    if (await docs.latestReview(trx, d)) return null
    const c = await cases.findCase(trx, d.case_id)
    const duplicate = await docs.earlierDuplicate(trx, d)
    return c ? { d, c, wrappedKey: d.wrapped_key, duplicateOf: duplicate?.id ?? null } : null
  })
  if (!found) return 'skipped'
  const { d, c, wrappedKey, duplicateOf } = found
  let bytes: Buffer
  try {
    const dataKey = unwrapDataKey(wrappedKey, deps.masterKey)
    if (!(await deps.store.exists(d.blob_name))) throw new BlobUnavailable('the blob is missing')
    bytes = await readAll(deps.store.read(d.blob_name), createDecryptStream(dataKey), d.size_bytes)
  } catch (err) {
    // A missing or corrupt blob: recorded as a finding, and this job alone fails (no retry would
    // bring the bytes back). Other jobs in flight are untouched.
    deps.logger?.error({ documentId: d.id, err: err instanceof Error ? err.message : String(err) }, 'document blob unavailable')
    const outcome = blobUnavailableOutcome()
    await withTenantOf(deps.db, payload.tenantId, (trx) => docs.saveReview(trx, d, outcome.status, outcome.findings))
    throw new UnrecoverableError('blob-unavailable')
  }
  const integrity = await checkIntegrityIsolated(d.content_type, bytes, DEFAULT_ISOLATION, deps.integrityThread)
  const outcome = reviewDocument({
    kind: d.kind,
    issuingCountry: d.issuing_country,
    language: d.language,
    expiresOn: d.expires_on,
    documentForm: (d.document_form) ?? null,
    presentedOn: dutchDate(d.created_at),
    today: dutchDate(),
    caseType: findCaseType(c.case_type, c.case_type_version),
    duplicateOf,
    integrity: integrity.status === 'unreadable' ? { status: 'unreadable', reason: integrity.reason } : { status: integrity.status },
  })
  const saved = await withTenantOf(deps.db, payload.tenantId, async (trx) => {
    if (!(await docs.saveReview(trx, d, outcome.status, outcome.findings))) return false
    await emitEvent(trx, {
      type: 'document.reviewed',
      hubTenantId: d.hub_tenant_id,
      memberTenantId: d.member_tenant_id,
      objectPath: `/v1/documents/${d.id}`,
      data: { documentId: d.id, caseId: c.id, reference: c.reference, kind: d.kind, reviewStatus: outcome.status, reviewVersion: d.review_version },
    })
    return true
  })
  return saved ? outcome.status : 'skipped'
}
