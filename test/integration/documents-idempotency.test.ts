// Idempotency-Key on the multipart upload (API.md: honoured on any POST). The body is streamed, so
// the key is claimed once the file is stored, with the fields and the file's SHA-256: a retry with
// the same key and document gets the first answer and leaves no second row or blob behind.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bearer, startTestApp, type TestApp } from '../helpers/app.js'
import { newRegion, type RegionFixture } from '../helpers/builders.js'
import { submitCase } from '../helpers/case-builders.js'
import { documentRows, fieldParts, filePart, listFiles, multipartBody, multipartHeaders, pngOf, type Part } from '../helpers/document-builders.js'
import { expectProblem } from '../helpers/tenancy-builders.js'

let t: TestApp
let blobDir: string
let region: RegionFixture

beforeAll(async () => {
  blobDir = await mkdtemp(join(tmpdir(), 'rb-docs-idem-'))
  t = await startTestApp({ BLOB_DIR: blobDir })
  region = await newRegion(t.database.db)
})
afterAll(async () => {
  await t.close()
  await rm(blobDir, { recursive: true, force: true })
})

const upload = (key: string, caseId: string, parts: Part[], idempotencyKey: string) =>
  t.app.inject({
    method: 'POST',
    url: `/v1/cases/${caseId}/documents`,
    headers: { ...bearer(key), ...multipartHeaders(), 'idempotency-key': idempotencyKey },
    payload: multipartBody(parts),
  })

describe('Idempotency-Key on a document upload', () => {
  it('replays the first answer for the same key and document, storing nothing twice', async () => {
    const member = region.members[0].key
    const c = await submitCase(t.app, member)
    const parts = [...fieldParts({ kind: 'passport', issuingCountry: 'NL', language: 'nl' }), filePart(pngOf(5, 5, 11))]
    const first = await upload(member, c.id, parts, 'upload-1')
    expect(first.statusCode).toBe(201)
    const blobs = (await listFiles(blobDir)).length
    const again = await upload(member, c.id, parts, 'upload-1')
    expect(again.statusCode).toBe(201)
    expect(again.headers['idempotent-replayed']).toBe('true')
    expect(again.json()).toEqual(first.json())
    expect(again.headers.location).toBe(first.headers.location)
    expect(await documentRows(t.database.owner, c.id)).toBe(1)
    expect((await listFiles(blobDir)).length).toBe(blobs)
  })

  it('refuses the same key with another document (422) and removes what was streamed', async () => {
    const member = region.members[0].key
    const c = await submitCase(t.app, member)
    expect((await upload(member, c.id, [...fieldParts({ kind: 'passport' }), filePart(pngOf(6, 6, 1))], 'upload-2')).statusCode).toBe(201)
    const blobs = (await listFiles(blobDir)).length
    const other = await upload(member, c.id, [...fieldParts({ kind: 'passport' }), filePart(pngOf(6, 6, 2))], 'upload-2')
    expectProblem(other, 422, 'idempotency-key-reused')
    expect(await documentRows(t.database.owner, c.id)).toBe(1)
    expect((await listFiles(blobDir)).length).toBe(blobs)
  })

  it('is scoped per tenant: the other member may use the same key', async () => {
    const [a, b] = region.members
    const ca = await submitCase(t.app, a.key)
    const cb = await submitCase(t.app, b.key)
    const parts = [...fieldParts({ kind: 'passport' }), filePart(pngOf(7, 7, 3))]
    expect((await upload(a.key, ca.id, parts, 'shared-key')).statusCode).toBe(201)
    const res = await upload(b.key, cb.id, parts, 'shared-key')
    expect(res.statusCode).toBe(201)
    expect(res.headers['idempotent-replayed']).toBeUndefined()
  })
})
