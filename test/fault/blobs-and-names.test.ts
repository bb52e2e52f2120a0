// A missing or corrupt blob never crashes a process (issue 9): the download answers 500
// blob-unavailable and the API keeps serving; the review job records the finding blob-unavailable
// and fails alone while the other reviews in flight pass. Download names take the sniffed extension.
import { mkdtemp, rm, truncate, unlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { UnrecoverableError } from 'bullmq'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FilesystemBlobStore } from '../../api/documents/blob-store.js'
import { downloadFilename } from '../../api/documents/sniff.js'
import { runDocumentReview, type ReviewDeps } from '../../workers/document-review.js'
import { COMPILED_INTEGRITY_THREAD } from '../e2e/helpers.js'
import { bearer, startTestApp, type TestApp } from '../helpers/app.js'
import { newRegion, type RegionFixture } from '../helpers/builders.js'
import { submitCase } from '../helpers/case-builders.js'
import { filePart, jpegOf, minimalPdf, pngOf, uploadOk, type DocumentJson } from '../helpers/document-builders.js'
import { expectProblem } from '../helpers/tenancy-builders.js'

let t: TestApp
let blobDir: string
let region: RegionFixture
// The integrity check runs on its thread, compiled by the test set-up (it refuses to run without it).
let deps: ReviewDeps
let caseId: string

beforeAll(async () => {
  blobDir = await mkdtemp(join(tmpdir(), 'rb-fault-blobs-'))
  t = await startTestApp({ BLOB_DIR: blobDir })
  region = await newRegion(t.database.db)
  deps = { db: t.database.db, store: new FilesystemBlobStore(blobDir), masterKey: t.config.blobMasterKey, integrityThread: COMPILED_INTEGRITY_THREAD }
  caseId = (await submitCase(t.app, region.members[0].key)).id
})
afterAll(async () => {
  await t.close()
  await rm(blobDir, { recursive: true, force: true })
})

const blobPath = async (documentId: string): Promise<string> => {
  const { rows } = await sql<{ blob_name: string }>`select blob_name from documents where id = ${documentId}`.execute(t.database.owner)
  const name = rows[0]!.blob_name
  return join(blobDir, name.slice(0, 2), name)
}
const upload = (bytes = minimalPdf(), name = 'akte.pdf', type = 'application/pdf') =>
  uploadOk(t.app, region.members[0].key, caseId, { kind: 'birth_certificate', issuingCountry: 'BE', language: 'nl' }, filePart(bytes, name, type))
const download = (id: string) => t.app.inject({ method: 'GET', url: `/v1/documents/${id}/content`, headers: bearer(region.specialist.key) })

describe('a missing blob', () => {
  it('answers 500 blob-unavailable on download, and the API keeps serving other documents', async () => {
    const lost = await upload()
    const fine = await upload()
    await unlink(await blobPath(lost.id))
    const res = await download(lost.id)
    const p = expectProblem(res, 500, 'blob-unavailable')
    expect(JSON.stringify(p)).not.toContain(blobDir)
    const ok = await download(fine.id)
    expect(ok.statusCode).toBe(200)
    expect(ok.rawPayload.subarray(0, 5).toString('latin1')).toBe('%PDF-')
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200)
  })
})

describe('the review job of a missing or corrupt blob', () => {
  it('records blob-unavailable and fails alone; the reviews in flight beside it pass, each exactly once', async () => {
    const missing = await upload()
    const corrupt = await upload()
    const fine = [await upload(), await upload()]
    await unlink(await blobPath(missing.id))
    await truncate(await blobPath(corrupt.id), 40)
    const all = [missing, corrupt, ...fine]
    const results = await Promise.allSettled(all.map((d) => runDocumentReview(deps, { tenantId: region.hub.id, documentId: d.id, reviewVersion: 1 })))
    expect(results[0]).toMatchObject({ status: 'rejected', reason: expect.any(UnrecoverableError) as unknown })
    expect(results[1]).toMatchObject({ status: 'rejected', reason: expect.any(UnrecoverableError) as unknown })
    expect(results.slice(2).map((r) => r.status)).toEqual(['fulfilled', 'fulfilled'])
    // Run everything again (BullMQ delivers at least once): nothing doubles.
    await Promise.allSettled(all.map((d) => runDocumentReview(deps, { tenantId: region.hub.id, documentId: d.id, reviewVersion: 1 })))
    const { rows } = await sql<{ document_id: string; status: string; codes: string[] }>`
      select document_id, status, array(select jsonb_array_elements(findings)->>'code') as codes
      from document_reviews where document_id in (${sql.join(all.map((d) => d.id))})`.execute(t.database.owner)
    expect(rows).toHaveLength(4)
    for (const d of [missing, corrupt]) {
      const r = rows.find((x) => x.document_id === d.id)!
      expect(r.status).toBe('needs_attention')
      expect(r.codes).toEqual(['blob-unavailable'])
    }
    for (const d of fine) expect(rows.find((x) => x.document_id === d.id)!.codes).not.toContain('blob-unavailable')
  })
})

describe('download names', () => {
  it.each([
    ['scan.exe', pngOf(), 'image/png', 'scan.png'],
    ['page.html', minimalPdf(), 'application/pdf', 'page.pdf'],
    ['run.bat', jpegOf(), 'image/jpeg', 'run.jpg'],
    ['invoice.pdf.exe', minimalPdf(), 'application/pdf', 'invoice_pdf.pdf'],
    ['photo.png', minimalPdf(), 'image/png', 'photo.pdf'],
    ['\u202Egpj.exe', pngOf(), 'image/png', 'gpj.png'],
    ['bad\u0007name\u200f.pdf', minimalPdf(), 'application/pdf', 'badname.pdf'],
    ['noextension', jpegOf(), 'image/jpeg', 'noextension.jpg'],
  ])('the client name %j is stored and downloaded with the sniffed extension', async (name, bytes, type, expected) => {
    void type
    const doc: DocumentJson = await upload(bytes, name, 'application/octet-stream')
    expect(doc.filename).toBe(expected)
    const res = await download(doc.id)
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-disposition']).toBe(`attachment; filename="${expected}"`)
  })

  it('never ends in an extension other than the sniffed one, whatever the client sends', () => {
    for (const name of ['a.exe', 'b.html.', '.bat', 'c.HTM', 'd.js', 'e.pdf.scr', '..', '', 'f. exe']) {
      expect(downloadFilename(name, 'application/pdf')).toMatch(/^[A-Za-z0-9_ -]+\.pdf$/)
    }
  })
})
