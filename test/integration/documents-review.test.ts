// Issue 5, the automated review of a document and the specialist's verdict (API.md "Documents"):
// the review worker's findings (legalisation, translation, expiry, integrity, duplicates, kinds a
// case type does not expect), its idempotency per (document, review version), and the human
// verdict that moves the checklist — up to deciding a case whose every document was accepted.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FilesystemBlobStore } from '../../api/documents/blob-store.js'
import { runDocumentReview, type ReviewDeps } from '../../workers/document-review.js'
import { COMPILED_INTEGRITY_THREAD } from '../e2e/helpers.js'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { newRegion, type RegionFixture } from '../helpers/builders.js'
import { acceptChecklist, act, getCase, send, submitCase, toIntake, type CaseJson } from '../helpers/case-builders.js'
import { filePart, garbagePdf, minimalPdf, pngOf, uploadOk, type DocumentJson } from '../helpers/document-builders.js'
import { expectOk, expectProblem } from '../helpers/tenancy-builders.js'

let t: TestApp
let blobDir: string
let region: RegionFixture
let member: string
let deps: ReviewDeps

beforeAll(async () => {
  blobDir = await mkdtemp(join(tmpdir(), 'rb-docs-review-'))
  t = await startTestApp({ BLOB_DIR: blobDir })
  region = await newRegion(t.database.db)
  member = region.members[0].key
  // The review runs the integrity check in its worker thread, compiled by the global set-up.
  deps = { db: t.database.db, store: new FilesystemBlobStore(blobDir), masterKey: t.config.blobMasterKey, integrityThread: COMPILED_INTEGRITY_THREAD }
})
afterAll(async () => {
  await t.close()
  await rm(blobDir, { recursive: true, force: true })
})

type Finding = DocumentJson['review']['findings'][number]

const review = (documentId: string) => runDocumentReview(deps, { tenantId: region.hub.id, documentId, reviewVersion: 1 })

/** Uploads as the member, runs the worker once and returns the document as the member sees it. */
async function reviewed(caseId: string, fields: Record<string, string | undefined>, bytes: Buffer = minimalPdf()): Promise<DocumentJson> {
  const isPdf = bytes.subarray(0, 5).toString('latin1') === '%PDF-'
  const doc = await uploadOk(t.app, member, caseId, fields, filePart(bytes, isPdf ? 'akte.pdf' : 'scan.png', isPdf ? 'application/pdf' : 'image/png'))
  expect(doc.review.status).toBe('pending')
  await review(doc.id)
  return expectOk<DocumentJson>(await send(t.app, 'GET', `/v1/documents/${doc.id}`, member))
}

const codes = (d: DocumentJson): string[] => d.review.findings.map((f: Finding) => f.code)

const reviewRows = async (documentId: string): Promise<Array<{ status: string; findings: unknown }>> =>
  (await sql<{ status: string; findings: unknown }>`select status, findings from document_reviews where document_id = ${documentId}`.execute(t.database.owner)).rows

describe('documentForm and the narrow treaty exemptions (issue 15)', () => {
  const findingOf = (d: DocumentJson, code: string) => d.review.findings.find((f: Finding) => f.code === code)

  it('a Turkish birth certificate without a form: the exemption holds only for a multilingual extract (warning)', async () => {
    const c = await submitCase(t.app, member)
    const d = await reviewed(c.id, { kind: 'birth_certificate', issuingCountry: 'TR', language: 'en' })
    expect(d.documentForm).toBeNull()
    expect(d.review.status).toBe('needs_attention')
    expect(findingOf(d, 'exempt-treaty')).toMatchObject({ severity: 'warning', message: { en: expect.stringContaining('only if it is a multilingual extract') as unknown } })
  })

  it('a Turkish multilingual extract is exempt (info); a standard deed needs an apostille', async () => {
    const c = await submitCase(t.app, member)
    const extract = await reviewed(c.id, { kind: 'birth_certificate', issuingCountry: 'TR', language: 'en', documentForm: 'multilingual_extract' })
    expect(extract.documentForm).toBe('multilingual_extract')
    expect(findingOf(extract, 'exempt-treaty')).toMatchObject({ severity: 'info' })
    expect(extract.review.status).toBe('passed')
    const standard = await reviewed(c.id, { kind: 'marriage_certificate', issuingCountry: 'TR', language: 'en', documentForm: 'standard' }, pngOf())
    expect(codes(standard)).toContain('apostille-required')
    expect(codes(standard)).not.toContain('exempt-treaty')
  })

  it('Bosnia and Herzegovina and North Macedonia: only multilingual extracts; a divorce decree needs an apostille', async () => {
    const c = await submitCase(t.app, member)
    expect(codes(await reviewed(c.id, { kind: 'divorce_decree', issuingCountry: 'BA', language: 'en' }))).toContain('apostille-required')
    const mk = await reviewed(c.id, { kind: 'birth_certificate', issuingCountry: 'MK', language: 'en', documentForm: 'multilingual_extract' }, pngOf())
    // the North Macedonian scope is inferred, and the finding says so
    expect(codes(mk)).toEqual(expect.arrayContaining(['exempt-treaty', 'rule-data-unconfirmed']))
  })

  it('400 for an unknown documentForm, and no document is stored', async () => {
    const c = await submitCase(t.app, member)
    const { postMultipart, fieldParts } = await import('../helpers/document-builders.js')
    const res = await postMultipart(t.app, member, c.id, [...fieldParts({ kind: 'birth_certificate', documentForm: 'photocopy' }), filePart(pngOf())])
    const p = expectProblem(res, 400, 'invalid-request')
    expect((p.invalidParams as Array<{ name: string }>).map((i) => i.name)).toEqual(['documentForm'])
    expect(expectOk<{ items: unknown[] }>(await send(t.app, 'GET', `/v1/cases/${c.id}/documents`, member)).items).toEqual([])
  })
})

describe('the review worker', () => {
  it('a valid PDF birth certificate from Morocco in Arabic needs attention: apostille and translation', async () => {
    const c = await submitCase(t.app, member)
    const d = await reviewed(c.id, { kind: 'birth_certificate', issuingCountry: 'MA', language: 'ar', issuedOn: '1990-04-20' })
    expect(d.review.status).toBe('needs_attention')
    expect(codes(d)).toEqual(expect.arrayContaining(['apostille-required', 'translation-required']))
    expect(codes(d)).not.toContain('legalisation-required')
    expect(codes(d)).not.toContain('unreadable-file')
    for (const f of d.review.findings) {
      expect(f.message.nl.length).toBeGreaterThan(10)
      expect(f.message.en.length).toBeGreaterThan(10)
      expect(f.message.nl).not.toBe(f.message.en)
      expect(['info', 'warning', 'error']).toContain(f.severity)
    }
    const apostille = d.review.findings.find((f: Finding) => f.code === 'apostille-required')!
    expect(apostille).toMatchObject({ severity: 'warning', message: { nl: expect.stringContaining('Marokko') as unknown, en: expect.stringContaining('Morocco') as unknown } })
    const listed = expectOk<{ items: DocumentJson[] }>(await send(t.app, 'GET', `/v1/cases/${c.id}/documents`, region.specialist.key)).items
    expect(listed.find((x) => x.id === d.id)?.review).toEqual(d.review)
  })

  it('a %PDF-1.7 header followed by garbage is rejected as unreadable, and nothing else is judged', async () => {
    const c = await submitCase(t.app, member)
    const d = await reviewed(c.id, { kind: 'birth_certificate', issuingCountry: 'MA', language: 'ar' }, garbagePdf())
    expect(d.contentType).toBe('application/pdf')
    expect(d.review.status).toBe('rejected')
    expect(codes(d)).toEqual(['unreadable-file'])
    expect(d.review.findings[0]).toMatchObject({ severity: 'error' })
  })

  it('a German birth certificate in German is exempt under the EU regulation and needs no translation', async () => {
    const c = await submitCase(t.app, member)
    const d = await reviewed(c.id, { kind: 'birth_certificate', issuingCountry: 'DE', language: 'de' })
    expect(codes(d)).toContain('exempt-eu-public-documents')
    expect(codes(d)).not.toContain('translation-required')
    expect(codes(d)).not.toContain('apostille-required')
    expect(d.review.status).toBe('passed')
  })

  it('a passport needs no legalisation or apostille, whatever its country', async () => {
    const c = await submitCase(t.app, member)
    const d = await reviewed(c.id, { kind: 'passport', issuingCountry: 'MA', language: 'en', expiresOn: '2099-01-01' }, pngOf())
    expect(codes(d)).not.toEqual(expect.arrayContaining(['apostille-required']))
    expect(codes(d)).not.toContain('legalisation-required')
    expect(codes(d)).not.toContain('document-expired')
    expect(d.review.status).toBe('passed')
  })

  it('an expired document is flagged', async () => {
    const c = await submitCase(t.app, member)
    const d = await reviewed(c.id, { kind: 'passport', issuingCountry: 'NL', language: 'nl', expiresOn: '2020-01-01' }, pngOf())
    expect(codes(d)).toContain('document-expired')
    expect(d.review.status).toBe('needs_attention')
  })

  it('the same bytes uploaded twice to one case: the second is a duplicate, the first is not, in whatever order they are reviewed', async () => {
    const c = await submitCase(t.app, member)
    const bytes = pngOf(5, 5)
    const first = await reviewed(c.id, { kind: 'passport', issuingCountry: 'NL', language: 'nl' }, bytes)
    const second = await reviewed(c.id, { kind: 'passport', issuingCountry: 'NL', language: 'nl' }, bytes)
    expect(second.sha256).toBe(first.sha256)
    expect(codes(second)).toContain('duplicate-document')
    expect(codes(first)).not.toContain('duplicate-document')
    const reversed = await submitCase(t.app, member)
    const a = await uploadOk(t.app, member, reversed.id, { kind: 'passport', issuingCountry: 'NL', language: 'nl' }, filePart(bytes))
    const b = await uploadOk(t.app, member, reversed.id, { kind: 'passport', issuingCountry: 'NL', language: 'nl' }, filePart(bytes))
    await review(b.id)
    await review(a.id)
    const get = async (id: string) => codes(expectOk<DocumentJson>(await send(t.app, 'GET', `/v1/documents/${id}`, member)))
    expect(await get(b.id)).toContain('duplicate-document')
    expect(await get(a.id)).not.toContain('duplicate-document')
    const other = await submitCase(t.app, member)
    expect(codes(await reviewed(other.id, { kind: 'passport', issuingCountry: 'NL', language: 'nl' }, bytes))).not.toContain('duplicate-document')
  })

  it('a kind the case type does not expect is flagged', async () => {
    const c = await submitCase(t.app, member, { caseType: 'first_registration' })
    const d = await reviewed(c.id, { kind: 'civic_integration_diploma', issuingCountry: 'NL', language: 'nl' })
    expect(codes(d)).toContain('kind-not-expected-for-case-type')
    expect(d.review.status).toBe('needs_attention')
    const expected = await reviewed(c.id, { kind: 'proof_of_address', issuingCountry: 'NL', language: 'nl' })
    expect(codes(expected)).not.toContain('kind-not-expected-for-case-type')
  })

  it('is idempotent: a second run of the same review version stores nothing new and changes nothing', async () => {
    const c = await submitCase(t.app, member)
    const doc = await uploadOk(t.app, member, c.id, { kind: 'birth_certificate', issuingCountry: 'MA', language: 'ar' }, filePart(minimalPdf(), 'a.pdf'))
    expect(await review(doc.id)).toBe('needs_attention')
    const first = expectOk<DocumentJson>(await send(t.app, 'GET', `/v1/documents/${doc.id}`, member))
    expect(await review(doc.id)).toBe('skipped')
    await Promise.all([review(doc.id), review(doc.id)])
    const rows = await reviewRows(doc.id)
    expect(rows).toHaveLength(1)
    expect(rows[0]!.status).toBe('needs_attention')
    expect(expectOk<DocumentJson>(await send(t.app, 'GET', `/v1/documents/${doc.id}`, member))).toEqual(first)
  })

  it('concurrent first runs still store exactly one review', async () => {
    const c = await submitCase(t.app, member)
    const doc = await uploadOk(t.app, member, c.id, { kind: 'birth_certificate', issuingCountry: 'DE', language: 'de' }, filePart(minimalPdf(), 'a.pdf'))
    const results = await Promise.all([review(doc.id), review(doc.id), review(doc.id)])
    expect(results.filter((r) => r === 'passed')).toHaveLength(1)
    expect(results.filter((r) => r === 'skipped')).toHaveLength(2)
    expect(await reviewRows(doc.id)).toHaveLength(1)
  })

  it('skips a review version the document does not have, and a document of another tenant', async () => {
    const c = await submitCase(t.app, member)
    const doc = await uploadOk(t.app, member, c.id)
    expect(await runDocumentReview(deps, { tenantId: region.hub.id, documentId: doc.id, reviewVersion: 2 })).toBe('skipped')
    const elsewhere = await newRegion(t.database.db)
    expect(await runDocumentReview(deps, { tenantId: elsewhere.hub.id, documentId: doc.id, reviewVersion: 1 })).toBe('skipped')
    expect(await reviewRows(doc.id)).toHaveLength(0)
    expect(expectOk<DocumentJson>(await send(t.app, 'GET', `/v1/documents/${doc.id}`, member)).review).toMatchObject({ status: 'pending', findings: [] })
  })
})

describe('POST /v1/documents/{id}/verdict', () => {
  const verdict = (key: string, documentId: string, body: object) => send(t.app, 'POST', `/v1/documents/${documentId}/verdict`, key, body)
  const item = async (caseId: string, kind: string) => (await getCase(t.app, member, caseId)).checklist.find((i) => i.documentKind === kind)?.status

  it('accepted by the hub specialist: the verdict is on the document and the checklist item accepted', async () => {
    const c = await submitCase(t.app, member)
    const doc = await uploadOk(t.app, member, c.id, { kind: 'id_card', issuingCountry: 'NL', language: 'nl' })
    expect(await item(c.id, 'passport')).toBe('received')
    const d = expectOk<DocumentJson>(await verdict(region.specialist.key, doc.id, { verdict: 'accepted', reason: 'Echt en geldig' }))
    expect(d.verdict).toMatchObject({ verdict: 'accepted', reason: 'Echt en geldig', by: expect.stringContaining(region.specialist.id) as unknown })
    expect(Date.parse(d.verdict!.at!)).not.toBeNaN()
    expect(await item(c.id, 'passport')).toBe('accepted')
    expect(expectOk<DocumentJson>(await send(t.app, 'GET', `/v1/documents/${doc.id}`, member)).verdict).toEqual(d.verdict)
  })

  it('rejected: the checklist item is rejected, and the review findings stay as they were', async () => {
    const c = await submitCase(t.app, member)
    const doc = await uploadOk(t.app, member, c.id, { kind: 'birth_certificate', issuingCountry: 'MA', language: 'ar' }, filePart(minimalPdf(), 'a.pdf'))
    await review(doc.id)
    const d = expectOk<DocumentJson>(await verdict(region.specialist.key, doc.id, { verdict: 'rejected', reason: 'Geen apostille' }))
    expect(d.verdict).toMatchObject({ verdict: 'rejected', reason: 'Geen apostille' })
    expect(d.review.status).toBe('needs_attention')
    expect(await item(c.id, 'birth_certificate')).toBe('rejected')
    const again = await uploadOk(t.app, member, c.id, { kind: 'birth_certificate', issuingCountry: 'MA', language: 'ar' }, filePart(minimalPdf(), 'b.pdf'))
    expect(await item(c.id, 'birth_certificate')).toBe('received')
    expectOk(await verdict(region.lead.key, again.id, { verdict: 'accepted', reason: 'Nu met apostille' }))
    expect(await item(c.id, 'birth_certificate')).toBe('accepted')
  })

  it('403 for the member and for the hub’s client key; 404 for another hub’s staff; nothing changes', async () => {
    const c = await submitCase(t.app, member)
    const doc = await uploadOk(t.app, member, c.id)
    const body = { verdict: 'accepted', reason: 'ok' }
    expectProblem(await verdict(member, doc.id, body), 403, 'forbidden')
    expectProblem(await verdict(region.hub.key, doc.id, body), 403, 'forbidden')
    const elsewhere = await newRegion(t.database.db)
    expectProblem(await verdict(elsewhere.specialist.key, doc.id, body), 404, 'not-found')
    expectProblem(await verdict(elsewhere.lead.key, doc.id, body), 404, 'not-found')
    expect(expectOk<DocumentJson>(await send(t.app, 'GET', `/v1/documents/${doc.id}`, member)).verdict).toBeNull()
    expect(await item(c.id, 'passport')).toBe('received')
  })

  it('400 for an unknown property, a verdict outside the enum or no reason', async () => {
    const c = await submitCase(t.app, member)
    const doc = await uploadOk(t.app, member, c.id)
    const names = (p: Record<string, unknown>) => (p.invalidParams as Array<{ name: string }>).map((i) => i.name)
    expect(names(expectProblem(await verdict(region.specialist.key, doc.id, { verdict: 'accepted', reason: 'ok', status: 'passed' }), 400, 'invalid-request'))).toContain('status')
    expect(names(expectProblem(await verdict(region.specialist.key, doc.id, { verdict: 'maybe', reason: 'ok' }), 400, 'invalid-request'))).toContain('verdict')
    expect(names(expectProblem(await verdict(region.specialist.key, doc.id, { verdict: 'accepted' }), 400, 'invalid-request'))).toContain('reason')
    expect(expectOk<DocumentJson>(await send(t.app, 'GET', `/v1/documents/${doc.id}`, member)).verdict).toBeNull()
  })

  it('409 case-closed on a withdrawn case', async () => {
    const c = await submitCase(t.app, member)
    const doc = await uploadOk(t.app, member, c.id)
    expectOk(await act(t.app, member, c.id, 'withdraw', { reason: 'weg' }))
    expectProblem(await verdict(region.specialist.key, doc.id, { verdict: 'accepted', reason: 'ok' }), 409, 'case-closed')
  })

  it('once every required document is uploaded and accepted, the specialist can decide', async () => {
    const c = await submitCase(t.app, member)
    await toIntake(t.database.db, c.hubTenantId, c.id)
    expectOk(await act(t.app, region.lead.key, c.id, 'assign', { staffId: region.specialist.id }))
    const decide = () => act(t.app, region.specialist.key, c.id, 'decide', { outcome: 'advise_grant', note: 'Alles in orde' })
    const uploads: Array<[string, Buffer]> = [
      ['passport', pngOf()],
      ['residence_permit', pngOf()],
      ['birth_certificate', minimalPdf()],
      ['civic_integration_diploma', minimalPdf()],
    ]
    for (const [i, [kind, bytes]] of uploads.entries()) {
      expectProblem(await decide(), 409, 'checklist-incomplete')
      const doc = await uploadOk(t.app, member, c.id, { kind, issuingCountry: 'NL', language: 'nl' }, filePart(bytes, `doc${i}`))
      expectProblem(await decide(), 409, 'checklist-incomplete')
      expectOk(await verdict(region.specialist.key, doc.id, { verdict: 'accepted', reason: 'gecontroleerd' }))
    }
    const before = await getCase(t.app, member, c.id)
    expect(before.checklist.every((i) => i.status === 'accepted')).toBe(true)
    expect(expectOk<CaseJson>(await decide())).toMatchObject({ status: 'decided' })
  })

  it('a requested document that is rejected keeps the case incomplete until a new one is accepted', async () => {
    const c = await submitCase(t.app, member)
    await toIntake(t.database.db, c.hubTenantId, c.id)
    expectOk(await act(t.app, region.lead.key, c.id, 'assign', { staffId: region.specialist.id }))
    await acceptChecklist(t.database.owner, c.id)
    const doc = await uploadOk(t.app, member, c.id, { kind: 'passport', issuingCountry: 'NL', language: 'nl', expiresOn: '2020-01-01' })
    expectOk(await verdict(region.specialist.key, doc.id, { verdict: 'rejected', reason: 'Verlopen' }))
    expectProblem(await act(t.app, region.specialist.key, c.id, 'decide', { outcome: 'advise_grant', note: 'x' }), 409, 'checklist-incomplete')
  })
})
