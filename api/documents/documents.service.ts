// Documents of a case: streaming upload into encrypted storage, listing, metadata, the decrypted
// download (written to the access log) and the specialist's verdict.
import { pipeline, type Readable } from 'node:stream'
import { recordRead, requireTenantPrincipal } from '../access-log/access-log.service.js'
import { keyHolderOf, tenantScope, type Principal, type TenantPrincipal } from '../auth/principal.js'
import * as cases from '../cases/cases.repository.js'
import { applyTransition } from '../cases/lifecycle.js'
import { withTenant, type Db } from '../db/database.js'
import { isValidIsoDate } from '../domain/calendar.js'
import { isOpen } from '../domain/case-state.js'
import { satisfiesRequirement } from '../domain/case-types.js'
import { isCountryCode } from '../domain/countries.js'
import { isDocumentKind, type DocumentKind } from '../domain/document-kinds.js'
import { invalidFields, notFound, DomainError, type InvalidField } from '../domain/errors.js'
import { DOCUMENT_FORMS, isDocumentForm, type DocumentForm } from '../domain/legalisation.js'
import { enqueueInTransaction } from '../jobs/outbox.js'
import { dutchDate } from '../time.js'
import { createDecryptStream, unwrapDataKey } from './blob-crypto.js'
import type { BlobStore } from './blob-store.js'
import * as repo from './documents.repository.js'
import { documentView } from './documents.view.js'
import { downloadFilename } from './sniff.js'
import { storeEncrypted, type StoredBlob } from './upload-pipeline.js'

export interface DocumentDeps {
  db: Db
  store: BlobStore
  masterKey: Buffer
}

/** The parts of a multipart request as @fastify/multipart yields them. */
export type UploadPart =
  | { type: 'field'; fieldname: string; value: unknown; valueTruncated: boolean; fieldnameTruncated: boolean }
  | { type: 'file'; fieldname: string; filename: string; file: Readable & { truncated?: boolean } }

const FIELDS = ['kind', 'issuingCountry', 'language', 'issuedOn', 'expiresOn', 'documentForm'] as const
type Field = (typeof FIELDS)[number]

interface UploadFields {
  kind: DocumentKind
  issuingCountry: string
  language: string
  issuedOn: string | null
  expiresOn: string | null
  documentForm: DocumentForm | null
}

function validateFields(fields: Partial<Record<Field, string>>, today: string, where?: string): UploadFields {
  const problems: InvalidField[] = []
  const { kind, issuingCountry, language, issuedOn, expiresOn, documentForm } = fields
  const required = where ? `is required, ${where}` : 'is required'
  if (!kind) problems.push({ name: 'kind', code: 'required', reason: required })
  else if (!isDocumentKind(kind)) problems.push({ name: 'kind', code: 'not-allowed', reason: 'is not a known document kind' })
  if (!issuingCountry) problems.push({ name: 'issuingCountry', code: 'required', reason: required })
  else if (!isCountryCode(issuingCountry)) problems.push({ name: 'issuingCountry', code: 'unknown-country', reason: 'is not an ISO 3166-1 alpha-2 code' })
  if (!language) problems.push({ name: 'language', code: 'required', reason: required })
  else if (!/^[a-z]{2}$/.test(language)) problems.push({ name: 'language', code: 'invalid-format', reason: 'must be an ISO 639-1 code such as nl or ar' })
  for (const [name, value] of [['issuedOn', issuedOn], ['expiresOn', expiresOn]] as const) {
    if (value !== undefined && !isValidIsoDate(value)) problems.push({ name, code: 'invalid-date', reason: 'is not a calendar date YYYY-MM-DD' })
  }
  if (issuedOn && isValidIsoDate(issuedOn) && issuedOn > today) problems.push({ name: 'issuedOn', code: 'date-in-future', reason: 'lies in the future' })
  if (documentForm !== undefined && !isDocumentForm(documentForm)) {
    problems.push({ name: 'documentForm', code: 'not-allowed', reason: `must be one of ${DOCUMENT_FORMS.join(', ')}` })
  }
  if (problems.length > 0) throw invalidFields(problems)
  return {
    kind: kind as DocumentKind,
    issuingCountry: issuingCountry!,
    language: language!,
    issuedOn: issuedOn ?? null,
    expiresOn: expiresOn ?? null,
    documentForm: (documentForm as DocumentForm | undefined) ?? null,
  }
}

const isField = (name: string): name is Field => (FIELDS as readonly string[]).includes(name)

const uploader = (p: TenantPrincipal): string => {
  const holder = keyHolderOf(p)
  return `${holder.kind}:${holder.id}`
}

/** @fastify/multipart's limit errors, in the contract's terms. */
function multipartProblem(err: unknown): unknown {
  const code = (err as { code?: unknown }).code
  switch (code) {
    case 'FST_REQ_FILE_TOO_LARGE':
      return new DomainError('too-large', 'file-too-large', 'the file is larger than the upload limit')
    case 'FST_PARTS_LIMIT':
    case 'FST_FILES_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return new DomainError('invalid', 'too-many-parts', 'the request has more parts, files or fields than allowed')
    case 'FST_PROTO_VIOLATION':
      return invalidFields([{ name: '__proto__', code: 'not-allowed', reason: 'is not an allowed field name' }])
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return new DomainError('invalid', 'multipart-required', 'send the document as multipart/form-data')
    default:
      // The multipart parser's own errors (@fastify/busboy): the body itself is broken.
      if (err instanceof Error && /^(Unexpected end of (multipart data|form)|Multipart: Boundary not found|Boundary required|Malformed)/.test(err.message)) {
        return new DomainError('invalid', 'malformed-multipart', 'the multipart body could not be read')
      }
      return err
  }
}

export interface UploadHooks {
  /**
   * Called once the file is stored and before anything is committed, with what identifies the
   * upload (fields and the file's SHA-256): the route claims the Idempotency-Key with it. A throw
   * removes the blob again.
   */
  beforeCommit?: (fingerprint: { fields: UploadFields; sha256: string }) => Promise<void>
}

export async function uploadDocument(deps: DocumentDeps, principal: Principal, caseId: string, parts: AsyncIterable<UploadPart>, hooks: UploadHooks = {}) {
  const p = requireTenantPrincipal(principal)
  const scope = tenantScope(p)
  const precheck = await withTenant(deps.db, scope, (trx) => cases.findCase(trx, caseId))
  if (!precheck) throw notFound('case')
  if (!isOpen(precheck.status)) throw new DomainError('conflict', 'case-closed', 'the case no longer takes documents')
  const today = dutchDate()
  const fields: Partial<Record<Field, string>> = {}
  let stored: StoredBlob | null = null
  let clientFilename: string | undefined
  let meta: UploadFields | null = null
  try {
    for await (const part of parts) {
      if (part.type === 'field') {
        if (stored) throw invalidFields([{ name: part.fieldname, code: 'field-after-file', reason: 'fields must come before the file' }])
        if (!isField(part.fieldname)) throw invalidFields([{ name: part.fieldname, code: 'unknown-property', reason: 'is not a known field' }])
        if (part.valueTruncated || part.fieldnameTruncated) throw invalidFields([{ name: part.fieldname, code: 'too-long', reason: 'is longer than allowed' }])
        if (fields[part.fieldname] !== undefined) throw invalidFields([{ name: part.fieldname, code: 'duplicate', reason: 'is given twice' }])
        fields[part.fieldname] = typeof part.value === 'string' ? part.value : ''
        continue
      }
      if (part.fieldname !== 'file' || stored) {
        part.file.resume()
        throw new DomainError('invalid', 'too-many-parts', 'send exactly one file, in the part named "file"')
      }
      try {
        // The file streams straight into the store, so its fields must have arrived: a missing one
        // may simply have been sent after the file.
        meta = validateFields(fields, today, 'in a part before the file (the fields must come first)')
      } catch (err) {
        part.file.resume()
        throw err
      }
      clientFilename = part.filename
      stored = await storeEncrypted(deps.store, part.file, deps.masterKey)
      if (part.file.truncated) throw new DomainError('too-large', 'file-too-large', 'the file is larger than the upload limit')
    }
    if (!stored || !meta) {
      validateFields(fields, today)
      throw invalidFields([{ name: 'file', code: 'required', reason: 'a file part is required' }])
    }
    const blob = stored
    const m = meta
    await hooks.beforeCommit?.({ fields: m, sha256: blob.sha256.toString('hex') })
    const row = await withTenant(deps.db, scope, async (trx) => {
      const c = await cases.lockCase(trx, caseId)
      if (!c) throw notFound('case')
      if (!isOpen(c.status)) throw new DomainError('conflict', 'case-closed', 'the case no longer takes documents')
      const doc = await repo.insertDocument(trx, {
        case_id: c.id,
        hub_tenant_id: c.hub_tenant_id,
        member_tenant_id: c.member_tenant_id,
        kind: m.kind,
        issuing_country: m.issuingCountry,
        language: m.language,
        issued_on: m.issuedOn,
        expires_on: m.expiresOn,
        document_form: m.documentForm,
        filename: downloadFilename(clientFilename, blob.contentType),
        content_type: blob.contentType,
        size_bytes: blob.sizeBytes,
        sha256: blob.sha256,
        blob_name: blob.blobName,
        wrapped_key: blob.wrappedKey,
        uploaded_by_tenant_id: p.tenantId,
        uploaded_by: uploader(p),
      })
      await updateChecklistOnUpload(trx, c, m.kind)
      await enqueueInTransaction(trx, 'document-review', 'review', { tenantId: c.hub_tenant_id, documentId: doc.id, reviewVersion: doc.review_version })
      return doc
    })
    return documentView(row, undefined)
  } catch (err) {
    if (stored) await deps.store.delete(stored.blobName)
    throw multipartProblem(err)
  }
}

/** The upload fulfils its checklist items; a case awaiting information returns to review once every requested kind arrived. */
async function updateChecklistOnUpload(trx: Parameters<Parameters<typeof withTenant>[2]>[0], c: cases.CaseRow, kind: DocumentKind): Promise<void> {
  const items = await cases.checklistOf(trx, [c.id])
  const fulfilled = items.filter((i) => satisfiesRequirement(i.document_kind, kind)).map((i) => i.document_kind)
  await repo.markChecklist(trx, c.id, fulfilled, 'received', ['missing', 'rejected'])
  if (c.status !== 'awaiting_information') return
  const after = await cases.checklistOf(trx, [c.id])
  if (after.some((i) => i.requested_at !== null && (i.status === 'missing' || i.status === 'rejected'))) return
  await cases.clearRequested(trx, c.id)
  await applyTransition(trx, c, { action: 'information_received', actor: { kind: 'system', id: 'document-upload' }, reason: 'the requested documents arrived' })
}

export async function listDocuments(deps: DocumentDeps, principal: Principal, caseId: string) {
  const p = requireTenantPrincipal(principal)
  return withTenant(deps.db, tenantScope(p), async (trx) => {
    if (!(await cases.findCase(trx, caseId))) throw notFound('case')
    const docs = await repo.documentsOfCase(trx, caseId)
    return { items: await Promise.all(docs.map(async (d) => documentView(d, await repo.latestReview(trx, d)))) }
  })
}

export async function getDocument(deps: DocumentDeps, principal: Principal, documentId: string) {
  const p = requireTenantPrincipal(principal)
  return withTenant(deps.db, tenantScope(p), async (trx) => {
    const d = await repo.findDocument(trx, documentId)
    if (!d) throw notFound('document')
    return documentView(d, await repo.latestReview(trx, d))
  })
}

/** The decrypted bytes; the read is written to the access log before a byte leaves. */
export async function openDocumentContent(deps: DocumentDeps, principal: Principal, documentId: string) {
  const p = requireTenantPrincipal(principal)
  const d = await withTenant(deps.db, tenantScope(p), async (trx) => {
    const doc = await repo.findDocument(trx, documentId)
    if (!doc) throw notFound('document')
    if (!doc.wrapped_key) throw new DomainError('gone', 'document-shredded', 'the document was crypto-shredded after its retention period')
    const c = await cases.findCase(trx, doc.case_id)
    if (!c) throw notFound('document')
    await recordRead(trx, p, c, 'document.download', doc.id)
    return doc
  })
  // A missing blob is our data broken, not the client's request: a 500 with its own code, before a
  // byte or a header goes out. A blob that breaks half way (corrupt, truncated) errors the stream,
  // and the response is aborted rather than ended cleanly (see createDecryptStream).
  const unavailable = () => new DomainError('internal', 'blob-unavailable', 'the stored file of this document cannot be read; the operators have been told')
  let dataKey: Buffer
  try {
    dataKey = unwrapDataKey(d.wrapped_key!, deps.masterKey)
  } catch {
    throw unavailable()
  }
  if (!(await deps.store.exists(d.blob_name))) throw unavailable()
  // `pipeline`, not `.pipe`: an error on the blob stream destroys the decrypting one too.
  const stream: Readable = pipeline(deps.store.read(d.blob_name), createDecryptStream(dataKey), () => undefined)
  return { id: d.id, stream, contentType: d.content_type, filename: d.filename, sizeBytes: d.size_bytes }
}

export async function recordVerdict(deps: DocumentDeps, principal: Principal, documentId: string, input: { verdict: 'accepted' | 'rejected'; reason: string }) {
  const p = requireTenantPrincipal(principal)
  return withTenant(deps.db, tenantScope(p), async (trx) => {
    const d = await repo.lockDocument(trx, documentId)
    if (!d) throw notFound('document')
    if (p.kind !== 'staff' || p.tenantId !== d.hub_tenant_id) throw new DomainError('forbidden', 'forbidden', 'the verdict on a document is given by hub staff')
    const c = await cases.lockCase(trx, d.case_id)
    if (!c || !isOpen(c.status)) throw new DomainError('conflict', 'case-closed', 'the case is no longer open')
    const updated = await repo.setVerdict(trx, d.id, { verdict: input.verdict, reason: input.reason, by: `staff:${p.staffId}` })
    const items = (await cases.checklistOf(trx, [c.id])).filter((i) => satisfiesRequirement(i.document_kind, d.kind))
    await repo.markChecklist(
      trx,
      c.id,
      items.map((i) => i.document_kind),
      input.verdict,
    )
    return documentView(updated, await repo.latestReview(trx, updated))
  })
}
