// Issue 5, who may see a document (API.md "Documents", "Access log", conventions): every download
// is written to the access log; another tenant's document or case is a 404 on every document route,
// exactly like a missing one; the platform administrator does not read documents; scopes hold.
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { LightMyRequestResponse } from 'fastify'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as tenancy from '../../api/tenancy/tenancy.service.js'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { ADMIN, newAdminKey, newRegion, type RegionFixture } from '../helpers/builders.js'
import { send, submitCase, type CaseJson } from '../helpers/case-builders.js'
import { fieldParts, filePart, listFiles, minimalPdf, pngOf, postMultipart, uploadOk, type DocumentJson } from '../helpers/document-builders.js'
import { expectOk, expectProblem } from '../helpers/tenancy-builders.js'
import type { components } from '../../openapi/types.gen.js'

let t: TestApp
let blobDir: string
let region: RegionFixture
let elsewhere: RegionFixture
let adminKey: string
let member: string
let c: CaseJson
let doc: DocumentJson
let bytes: Buffer

beforeAll(async () => {
  blobDir = await mkdtemp(join(tmpdir(), 'rb-docs-access-'))
  t = await startTestApp({ BLOB_DIR: blobDir })
  region = await newRegion(t.database.db)
  elsewhere = await newRegion(t.database.db)
  adminKey = await newAdminKey(t.database.db)
  member = region.members[0].key
  c = await submitCase(t.app, member)
  bytes = minimalPdf()
  doc = await uploadOk(t.app, member, c.id, { kind: 'birth_certificate', issuingCountry: 'MA', language: 'ar' }, filePart(bytes, 'geboorteakte.pdf', 'application/pdf'))
})
afterAll(async () => {
  await t.close()
  await rm(blobDir, { recursive: true, force: true })
})

type EntryJson = components['schemas']['AccessLogEntry']

const entries = async (key: string, caseId: string): Promise<EntryJson[]> =>
  expectOk<{ items: EntryJson[] }>(await send(t.app, 'POST', '/v1/access-log/search', key, { caseId })).items

const downloads = async (caseId: string): Promise<number> =>
  (await sql<{ n: number }>`select count(*)::int as n from access_log where case_id = ${caseId} and action = 'document.download'`.execute(t.database.owner)).rows[0]!.n

/** Every document route, for one document of one case. */
function routes(caseId: string, documentId: string): Array<[string, (key: string) => Promise<LightMyRequestResponse>]> {
  return [
    ['list', (key) => send(t.app, 'GET', `/v1/cases/${caseId}/documents`, key)],
    ['get', (key) => send(t.app, 'GET', `/v1/documents/${documentId}`, key)],
    ['content', (key) => send(t.app, 'GET', `/v1/documents/${documentId}/content`, key)],
    ['verdict', (key) => send(t.app, 'POST', `/v1/documents/${documentId}/verdict`, key, { verdict: 'accepted', reason: 'ok' })],
    ['upload', (key) => postMultipart(t.app, key, caseId, [...fieldParts(), filePart(pngOf())])],
  ]
}

describe('GET /v1/documents/{id}/content', () => {
  it('gives the member and the hub the original bytes, safely, and writes document.download to the access log for each', async () => {
    const before = await downloads(c.id)
    for (const key of [member, region.specialist.key]) {
      const res = await send(t.app, 'GET', `/v1/documents/${doc.id}/content`, key)
      expect(res.statusCode).toBe(200)
      expect(res.rawPayload.equals(bytes)).toBe(true)
      expect(res.headers).toMatchObject({
        'content-type': 'application/pdf',
        'content-disposition': 'attachment; filename="geboorteakte.pdf"',
        'x-content-type-options': 'nosniff',
      })
      expect(res.headers['cache-control']).toContain('no-store')
    }
    expect(await downloads(c.id)).toBe(before + 2)
    const expected = [
      { caseId: c.id, documentId: doc.id, action: 'document.download', purpose: 'case-handling', actorTenantId: region.hub.id, actor: { kind: 'staff', id: region.specialist.id } },
      { caseId: c.id, documentId: doc.id, action: 'document.download', purpose: 'case-tracking', actorTenantId: region.members[0].id, actor: { kind: 'client' } },
    ]
    for (const key of [member, region.hub.key, region.lead.key]) {
      const found = (await entries(key, c.id)).filter((e) => e.action === 'document.download')
      expect(found.slice(0, 2)).toMatchObject(expected)
    }
  })

  it('reading metadata or the list is not a download', async () => {
    const before = await downloads(c.id)
    expectOk(await send(t.app, 'GET', `/v1/documents/${doc.id}`, member))
    expectOk(await send(t.app, 'GET', `/v1/cases/${c.id}/documents`, member))
    expect(await downloads(c.id)).toBe(before)
  })

  it('410 document-shredded once the wrapped key is gone, without logging a download', async () => {
    const other = await submitCase(t.app, member)
    const d = await uploadOk(t.app, member, other.id)
    await sql`update documents set wrapped_key = null, shredded_at = now() where id = ${d.id}`.execute(t.database.owner)
    expectProblem(await send(t.app, 'GET', `/v1/documents/${d.id}/content`, member), 410, 'document-shredded')
    expect(await downloads(other.id)).toBe(0)
    expect(expectOk<DocumentJson>(await send(t.app, 'GET', `/v1/documents/${d.id}`, member)).shredded).toBe(true)
  })
})

describe('GET /v1/cases/{id}/documents', () => {
  it('lists the case’s documents newest first, for the member and the hub’s client and staff', async () => {
    const fresh = await submitCase(t.app, member)
    const first = await uploadOk(t.app, member, fresh.id, { kind: 'passport' })
    const second = await uploadOk(t.app, member, fresh.id, { kind: 'residence_permit', issuingCountry: 'NL', language: 'nl' })
    for (const key of [member, region.hub.key, region.specialist.key]) {
      const items = expectOk<{ items: DocumentJson[] }>(await send(t.app, 'GET', `/v1/cases/${fresh.id}/documents`, key)).items
      expect(items.map((d) => d.id)).toEqual([second.id, first.id])
      expect(items[1]).toMatchObject({ kind: 'passport', caseId: fresh.id, contentType: 'image/png', sha256: first.sha256 })
    }
  })

  it('an empty list for a case without documents', async () => {
    const fresh = await submitCase(t.app, member)
    expect(expectOk<{ items: DocumentJson[] }>(await send(t.app, 'GET', `/v1/cases/${fresh.id}/documents`, member)).items).toEqual([])
  })
})

describe('tenancy', () => {
  it('404 on every document route for the other member and for another region’s hub — as for a missing one', async () => {
    const downloadsBefore = await downloads(c.id)
    const filesBefore = await listFiles(blobDir)
    const outsiders = [region.members[1].key, elsewhere.hub.key, elsewhere.specialist.key, elsewhere.lead.key, elsewhere.members[0].key]
    for (const [route, call] of routes(c.id, doc.id)) {
      for (const [i, key] of outsiders.entries()) {
        const res = await call(key)
        expect({ route, outsider: i, status: res.statusCode, code: res.json<{ code: string }>().code }).toEqual({ route, outsider: i, status: 404, code: 'not-found' })
      }
    }
    for (const [route, call] of routes(randomUUID(), randomUUID())) {
      const res = await call(member)
      expect({ route, status: res.statusCode }).toEqual({ route, status: 404 })
    }
    expect(await downloads(c.id)).toBe(downloadsBefore)
    expect(await listFiles(blobDir)).toEqual(filesBefore)
    const still = expectOk<DocumentJson>(await send(t.app, 'GET', `/v1/documents/${doc.id}`, member))
    expect(still.verdict).toBeNull()
    expect(expectOk<{ items: DocumentJson[] }>(await send(t.app, 'GET', `/v1/cases/${c.id}/documents`, member)).items).toHaveLength(1)
  })

  it('the other member’s search of the access log shows nothing of this case’s downloads', async () => {
    expect((await send(t.app, 'GET', `/v1/documents/${doc.id}/content`, member)).statusCode).toBe(200)
    expect(await entries(region.members[1].key, c.id)).toEqual([])
    expect(await entries(elsewhere.hub.key, c.id)).toEqual([])
  })

  it('403 for the platform administrator on every document route', async () => {
    for (const [route, call] of routes(c.id, doc.id)) {
      const res = await call(adminKey)
      expect({ route, status: res.statusCode }).toEqual({ route, status: 403 })
      expect(res.json<{ code: string }>().code).toBe('forbidden')
    }
  })

  it('401 on every document route without a key', async () => {
    for (const [route, call] of routes(c.id, doc.id)) {
      const res = await call('not-a-key')
      expect({ route, status: res.statusCode }).toEqual({ route, status: 401 })
    }
    const bare = await t.app.inject({ method: 'GET', url: `/v1/documents/${doc.id}/content` })
    expect(bare.statusCode).toBe(401)
  })

  it('403 insufficient-scope for a key without documents:read or documents:write', async () => {
    const casesOnly = await tenancy.createApiKey(t.database.db, ADMIN, region.members[0].id, { name: 'cases only', scopes: ['cases:read', 'cases:write'] })
    const readOnly = await tenancy.createApiKey(t.database.db, ADMIN, region.members[0].id, { name: 'documents read', scopes: ['cases:read', 'documents:read'] })
    for (const [, call] of routes(c.id, doc.id)) expectProblem(await call(casesOnly.key), 403, 'insufficient-scope')
    expect((await send(t.app, 'GET', `/v1/documents/${doc.id}/content`, readOnly.key)).statusCode).toBe(200)
    expectProblem(await postMultipart(t.app, readOnly.key, c.id, [...fieldParts(), filePart(pngOf())]), 403, 'insufficient-scope')
  })

  it('400 for a document id that is not a UUID', async () => {
    const res = await send(t.app, 'GET', '/v1/documents/not-a-uuid', member)
    expectProblem(res, 400, 'invalid-request')
  })
})
