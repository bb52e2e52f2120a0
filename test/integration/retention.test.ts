// Crypto-shredding after the retention period (workers/retention.ts): a closed option case's
// documents lose their data key once 12 years have passed since closing; a naturalisation case,
// whose retention period is not established, keeps them.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FilesystemBlobStore } from '../../api/documents/blob-store.js'
import { shredExpiredDocuments } from '../../workers/retention.js'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { newRegion, type RegionFixture } from '../helpers/builders.js'
import { acceptChecklist, act, caseBody, send, submitCase, toIntake } from '../helpers/case-builders.js'
import { listFiles, uploadOk } from '../helpers/document-builders.js'
import { expectOk, expectProblem } from '../helpers/tenancy-builders.js'

let t: TestApp
let blobDir: string
let region: RegionFixture

beforeAll(async () => {
  blobDir = await mkdtemp(join(tmpdir(), 'rb-retention-'))
  t = await startTestApp({ BLOB_DIR: blobDir })
  region = await newRegion(t.database.db)
})
afterAll(async () => {
  await t.close()
  await rm(blobDir, { recursive: true, force: true })
})

const closedAgo = (caseId: string, years: number) =>
  sql`update case_events set created_at = now() - make_interval(years => ${years}) where case_id = ${caseId} and to_status = 'closed'`.execute(t.database.owner)

const shred = () => shredExpiredDocuments(t.database.db, new FilesystemBlobStore(blobDir))

describe('retention', () => {
  it('shreds the documents of a closed option case 12 years after closing, once', async () => {
    const member = region.members[0].key
    const c = await submitCase(t.app, member, caseBody({ caseType: 'option' }))
    const doc = await uploadOk(t.app, member, c.id, { kind: 'passport', issuingCountry: 'NL', language: 'nl' })
    await toIntake(t.database.db, c.hubTenantId, c.id)
    expectOk(await act(t.app, region.lead.key, c.id, 'assign', { staffId: region.specialist.id }))
    await acceptChecklist(t.database.owner, c.id)
    expectOk(await act(t.app, region.specialist.key, c.id, 'decide', { outcome: 'refuse', note: 'voldoet' }))
    expectOk(await act(t.app, region.hub.key, c.id, 'close'))

    const blobsBefore = (await listFiles(blobDir)).length
    await closedAgo(c.id, 11)
    expect(await shred()).toBe(0)
    expect((await send(t.app, 'GET', `/v1/documents/${doc.id}/content`, member)).statusCode).toBe(200)

    await closedAgo(c.id, 13)
    expect(await shred()).toBe(1)
    expect(await shred()).toBe(0)
    expect(expectOk<{ shredded: boolean }>(await send(t.app, 'GET', `/v1/documents/${doc.id}`, member)).shredded).toBe(true)
    expectProblem(await send(t.app, 'GET', `/v1/documents/${doc.id}/content`, member), 410, 'document-shredded')
    expect((await listFiles(blobDir)).length).toBe(blobsBefore - 1)
  })

  it('keeps the documents of a case type without an established retention period', async () => {
    const member = region.members[1].key
    const c = await submitCase(t.app, member, caseBody({ caseType: 'naturalisation' }))
    const doc = await uploadOk(t.app, member, c.id, { kind: 'passport', issuingCountry: 'NL', language: 'nl' })
    expectOk(await act(t.app, member, c.id, 'withdraw', { reason: 'verhuisd' }))
    expectOk(await act(t.app, region.hub.key, c.id, 'close'))
    await closedAgo(c.id, 200)
    expect(await shred()).toBe(0)
    expect((await send(t.app, 'GET', `/v1/documents/${doc.id}/content`, member)).statusCode).toBe(200)
  })
})
