// Returns the contract's Document, so a view that drifts from openapi.yaml fails to compile.
import type { components } from '../../openapi/types.gen.js'
import type { DocumentRow, ReviewRow } from './documents.repository.js'

export const documentView = (d: DocumentRow, review: ReviewRow | undefined): components['schemas']['Document'] => ({
  id: d.id,
  caseId: d.case_id,
  kind: d.kind,
  issuingCountry: d.issuing_country,
  language: d.language,
  issuedOn: d.issued_on,
  expiresOn: d.expires_on,
  documentForm: d.document_form,
  filename: d.filename,
  contentType: d.content_type,
  sizeBytes: d.size_bytes,
  sha256: d.sha256.toString('hex'),
  review: { status: d.review_status, version: d.review_version, findings: review?.findings ?? [] },
  verdict: d.verdict ? { verdict: d.verdict, reason: d.verdict_reason, by: d.verdict_by, at: d.verdict_at?.toISOString() ?? null } : null,
  shredded: d.wrapped_key === null,
  uploadedAt: d.created_at.toISOString(),
})
