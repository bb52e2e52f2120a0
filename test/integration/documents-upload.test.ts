// Issue 5, uploading a document (API.md "Documents"): the streamed multipart upload into encrypted
// storage, the type sniffed from the bytes, the checklist following the upload, and every refusal —
// each of which, like an aborted upload, must leave no row, no blob and no temporary file.
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import type { ClientRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { newRegion, type RegionFixture } from '../helpers/builders.js'
import { acceptChecklist, act, getCase, send, submitCase, toIntake, type CaseJson } from '../helpers/case-builders.js'
import {
  documentRows,
  eventually,
  expectNothingStored,
  fieldParts,
  filePart,
  gifBytes,
  jpegOf,
  listFiles,
  multipartBody,
  multipartHeaders,
  overHttp,
  pngOf,
  postMultipart,
  sha256Hex,
  uploadOk,
  zipBytes,
  type DocumentJson,
  type Part,
} from '../helpers/document-builders.js'
import { expectOk, expectProblem } from '../helpers/tenancy-builders.js'

let t: TestApp
let blobDir: string
let region: RegionFixture
let member: string

beforeAll(async () => {
  blobDir = await mkdtemp(join(tmpdir(), 'rb-docs-upload-'))
  t = await startTestApp({ BLOB_DIR: blobDir })
  region = await newRegion(t.database.db)
  member = region.members[0].key
})
afterAll(async () => {
  await t.close()
  await rm(blobDir, { recursive: true, force: true })
})

describe('a successful upload', () => {
  it('201 with Location; the type is sniffed from the bytes, the name sanitised, the hash and size those of the bytes', async () => {
    const c = await submitCase(t.app, member)
    const png = pngOf(16, 16)
    const res = await postMultipart(t.app, member, c.id, [
      ...fieldParts({ kind: 'passport', issuingCountry: 'MA', language: 'ar', issuedOn: '2020-05-01', expiresOn: '2030-05-01' }),
      filePart(png, '../../etc/passwd.pdf', 'application/pdf'),
    ])
    const doc = expectOk<DocumentJson>(res, 201)
    expect(res.headers.location).toBe(`/v1/documents/${doc.id}`)
    expect(doc).toMatchObject({
      caseId: c.id,
      kind: 'passport',
      issuingCountry: 'MA',
      language: 'ar',
      issuedOn: '2020-05-01',
      expiresOn: '2030-05-01',
      contentType: 'image/png',
      sizeBytes: png.length,
      sha256: sha256Hex(png),
      review: { status: 'pending' },
      verdict: null,
    })
    // The extension is the sniffed type's (issue 9): a PNG sent as passwd.pdf is passwd.png.
    expect(doc.filename).toBe('passwd.png')
    expect(doc.filename).not.toMatch(/[/\\]|\.\./)
    expect(Date.parse(doc.uploadedAt)).not.toBeNaN()
    expect(expectOk<DocumentJson>(await send(t.app, 'GET', `/v1/documents/${doc.id}`, member))).toMatchObject({ id: doc.id, sha256: sha256Hex(png) })
  })

  it('stores the blob encrypted under BLOB_DIR, and GET content gives back exactly the original bytes as an attachment', async () => {
    const c = await submitCase(t.app, member)
    const before = await listFiles(blobDir)
    const png = pngOf(32, 32)
    const doc = await uploadOk(t.app, member, c.id, {}, filePart(png, 'paspoort scan.png'))
    const added = (await listFiles(blobDir)).filter((f) => !before.includes(f))
    expect(added).toHaveLength(1)
    expect(added[0]).not.toMatch(/paspoort|\.png|\.tmp-/)
    const onDisk = await readFile(join(blobDir, added[0]!))
    expect(onDisk.equals(png)).toBe(false)
    expect(onDisk.includes(png)).toBe(false)
    expect(onDisk.includes(png.subarray(0, 8))).toBe(false)
    expect(onDisk.includes(png.subarray(png.length - 64))).toBe(false)

    const res = await send(t.app, 'GET', `/v1/documents/${doc.id}/content`, member)
    expect(res.statusCode).toBe(200)
    expect(res.rawPayload.equals(png)).toBe(true)
    expect(res.headers['content-type']).toBe('image/png')
    expect(res.headers['content-disposition']).toMatch(/^attachment/)
    expect(res.headers['content-disposition']).toContain('paspoort scan.png')
    expect(res.headers['x-content-type-options']).toBe('nosniff')
  })

  it('marks the checklist item of that kind received; an identity card satisfies the passport item', async () => {
    const c = await submitCase(t.app, member)
    expect(c.checklist).toContainEqual({ documentKind: 'passport', status: 'missing' })
    await uploadOk(t.app, member, c.id, { kind: 'id_card', issuingCountry: 'NL', language: 'nl' })
    let after = await getCase(t.app, member, c.id)
    expect(after.checklist).toContainEqual({ documentKind: 'passport', status: 'received' })
    expect(after.checklist).toContainEqual({ documentKind: 'birth_certificate', status: 'missing' })
    await uploadOk(t.app, member, c.id, { kind: 'birth_certificate', issuingCountry: 'MA', language: 'ar' })
    after = await getCase(t.app, member, c.id)
    expect(after.checklist).toContainEqual({ documentKind: 'birth_certificate', status: 'received' })
    expect(after.checklist).toContainEqual({ documentKind: 'residence_permit', status: 'missing' })
  })

  it('a JPEG is sniffed as image/jpeg, whatever it claims', async () => {
    const c = await submitCase(t.app, member)
    const doc = await uploadOk(t.app, member, c.id, {}, filePart(jpegOf(), 'x.png', 'image/png'))
    expect(doc.contentType).toBe('image/jpeg')
  })
})

describe('awaiting_information → in_review', () => {
  /** A naturalisation case assigned by the lead to the specialist, who asks for a birth certificate. */
  async function awaitingBirthCertificate(acceptRest: boolean): Promise<CaseJson> {
    const c = await submitCase(t.app, member)
    await toIntake(t.database.db, c.hubTenantId, c.id)
    expectOk(await act(t.app, region.lead.key, c.id, 'assign', { staffId: region.specialist.id }))
    if (acceptRest) await acceptChecklist(t.database.owner, c.id)
    const asked = expectOk<CaseJson>(await act(t.app, region.specialist.key, c.id, 'request-information', { message: 'Stuur de geboorteakte', documentKinds: ['birth_certificate'] }))
    expect(asked.status).toBe('awaiting_information')
    return asked
  }

  it('the requested birth certificate arrives: the case is back in review, by the system, though other items are still missing', async () => {
    const c = await awaitingBirthCertificate(false)
    await uploadOk(t.app, member, c.id, { kind: 'birth_certificate', issuingCountry: 'MA', language: 'ar' }, filePart(pngOf()))
    const after = await getCase(t.app, member, c.id)
    expect(after.status).toBe('in_review')
    expect(after.checklist).toContainEqual({ documentKind: 'birth_certificate', status: 'received' })
    expect(after.checklist).toContainEqual({ documentKind: 'passport', status: 'missing' })
    const events = expectOk<{ items: Array<{ action: string; actor: { kind: string }; from: string; to: string }> }>(
      await send(t.app, 'GET', `/v1/cases/${c.id}/events`, member),
    ).items
    expect(events.at(-1)).toMatchObject({ action: 'information_received', actor: { kind: 'system' }, from: 'awaiting_information', to: 'in_review' })
  })

  it('a document of another kind does not end the wait', async () => {
    const c = await awaitingBirthCertificate(true)
    await uploadOk(t.app, member, c.id, { kind: 'other', issuingCountry: 'NL', language: 'nl' })
    expect((await getCase(t.app, member, c.id)).status).toBe('awaiting_information')
  })
})

describe('refusals leave no row, no blob and no temporary file', () => {
  /** Sends the parts, asserts the problem and that nothing was stored; returns the problem. */
  async function refused(parts: Part[], status: number, code: string, options: { closing?: true | false | 'bad'; app?: TestApp; dir?: string } = {}) {
    const app = options.app ?? t
    const dir = options.dir ?? blobDir
    const c = await submitCase(t.app, member)
    const before = await listFiles(dir)
    const res = await postMultipart(app.app, member, c.id, parts, { closing: options.closing ?? true })
    const problem = expectProblem(res, status, code)
    await expectNothingStored(t.database.owner, dir, c.id, before)
    return problem
  }
  const names = (p: Record<string, unknown>) => (p.invalidParams as Array<{ name: string; code: string }>).map((i) => [i.name, i.code])

  it('413 file-too-large when the file passes UPLOAD_MAX_FILE_BYTES', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rb-docs-small-'))
    const small = await startTestApp({ BLOB_DIR: dir, UPLOAD_MAX_FILE_BYTES: '1024' }, { database: t.database })
    try {
      const big = Buffer.concat([pngOf(), Buffer.alloc(5 * 1024, 7)])
      await refused([...fieldParts(), filePart(big)], 413, 'file-too-large', { app: small, dir })
      expect(await listFiles(dir)).toEqual([])
    } finally {
      await small.close()
      await rm(dir, { recursive: true, force: true })
    }
  })

  it.each([
    ['a GIF', gifBytes(), 'image/png'],
    ['a ZIP', zipBytes(), 'application/pdf'],
    ['an empty file', Buffer.alloc(0), 'application/pdf'],
    ['plain text', Buffer.from('Dit is geen paspoort, maar het zegt van wel.\n'.repeat(20)), 'image/jpeg'],
    ['a file shorter than any signature', Buffer.from('%PD'), 'application/pdf'],
  ])('415 unsupported-media-type for %s, whatever it claims', async (_what, bytes, claimed) => {
    await refused([...fieldParts(), filePart(bytes, 'scan.pdf', claimed)], 415, 'unsupported-media-type')
  })

  it.each([
    ['kind', { kind: undefined }, 'required'],
    ['issuingCountry', { issuingCountry: undefined }, 'required'],
    ['language', { language: undefined }, 'required'],
    ['kind', { kind: 'selfie' }, 'not-allowed'],
    ['issuingCountry', { issuingCountry: 'XX' }, 'unknown-country'],
    ['issuingCountry', { issuingCountry: 'ma' }, 'unknown-country'],
    ['language', { language: 'arabic' }, 'invalid-format'],
    ['issuedOn', { issuedOn: '2999-01-01' }, 'date-in-future'],
    ['issuedOn', { issuedOn: '2024-02-30' }, 'invalid-date'],
    ['expiresOn', { expiresOn: 'soon' }, 'invalid-date'],
  ])('400 for a bad or missing %s (%j)', async (name, fields, code) => {
    const p = await refused([...fieldParts(fields), filePart(pngOf())], 400, 'invalid-request')
    expect(names(p)).toContainEqual([name, code])
  })

  it('400 naming every missing field when all are absent', async () => {
    const p = await refused([filePart(pngOf())], 400, 'invalid-request')
    expect(names(p)).toEqual([
      ['kind', 'required'],
      ['issuingCountry', 'required'],
      ['language', 'required'],
    ])
  })

  it('400 without a file part', async () => {
    const p = await refused(fieldParts(), 400, 'invalid-request')
    expect(names(p)).toEqual([['file', 'required']])
  })

  it('400 for two file parts', async () => {
    await refused([...fieldParts(), filePart(pngOf()), filePart(pngOf())], 400, 'too-many-parts')
  })

  it('400 for a file part under another name', async () => {
    await refused([...fieldParts(), { ...filePart(pngOf()), name: 'upload' }], 400, 'too-many-parts')
  })

  it('400 for 11 fields', async () => {
    const extra = Array.from({ length: 6 }, (_, i) => ({ name: `note${i}`, value: 'x' }))
    const p = await refused([...fieldParts({ issuedOn: '2020-01-01', expiresOn: '2030-01-01' }), ...extra, filePart(pngOf())], 400, 'invalid-request')
    expect(names(p)).toEqual([['note0', 'unknown-property']])
  })

  it('400 for a file part before the fields, saying the fields must come first', async () => {
    const reason = 'is required, in a part before the file (the fields must come first)'
    const p = await refused([filePart(pngOf()), ...fieldParts()], 400, 'invalid-request')
    expect(p.invalidParams).toEqual(['kind', 'issuingCountry', 'language'].map((name) => ({ name, code: 'required', reason })))
    expect(p.detail).toMatch(/the fields must come first/)
    const some = await refused([{ name: 'kind', value: 'passport' }, filePart(pngOf())], 400, 'invalid-request')
    expect(some.invalidParams).toEqual(['issuingCountry', 'language'].map((name) => ({ name, code: 'required', reason })))
  })

  it('400 for a field given twice, or after the file', async () => {
    expect(names(await refused([...fieldParts(), { name: 'kind', value: 'id_card' }, filePart(pngOf())], 400, 'invalid-request'))).toEqual([['kind', 'duplicate']])
    expect(names(await refused([...fieldParts(), filePart(pngOf()), { name: 'issuedOn', value: '2020-01-01' }], 400, 'invalid-request'))).toEqual([
      ['issuedOn', 'field-after-file'],
    ])
  })

  it('400 too-many-parts past UPLOAD_MAX_FIELDS and past UPLOAD_MAX_PARTS', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rb-docs-limits-'))
    const fewFields = await startTestApp({ BLOB_DIR: dir, UPLOAD_MAX_FIELDS: '3' }, { database: t.database })
    const fewParts = await startTestApp({ BLOB_DIR: dir, UPLOAD_MAX_PARTS: '3' }, { database: t.database })
    try {
      await refused([...fieldParts({ issuedOn: '2020-01-01' }), filePart(pngOf())], 400, 'too-many-parts', { app: fewFields, dir })
      await refused([...fieldParts(), filePart(pngOf())], 400, 'too-many-parts', { app: fewParts, dir })
      expect(await listFiles(dir)).toEqual([])
    } finally {
      await fewFields.close()
      await fewParts.close()
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('400 for 21 parts (UPLOAD_MAX_PARTS is 20)', async () => {
    const parts = [...fieldParts(), ...Array.from({ length: 18 }, () => filePart(pngOf()))]
    expect(parts).toHaveLength(21)
    await refused(parts, 400, 'too-many-parts')
  })

  it('400 for a field longer than 1 KiB', async () => {
    const p = await refused([...fieldParts({ language: 'a'.repeat(1025) }), filePart(pngOf())], 400, 'invalid-request')
    expect(names(p)).toEqual([['language', 'too-long']])
  })

  it('400 for a field named __proto__', async () => {
    const p = await refused([{ name: '__proto__', value: '{"polluted":true}' }, ...fieldParts(), filePart(pngOf())], 400, 'invalid-request')
    expect(names(p)).toEqual([['__proto__', 'not-allowed']])
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('400 malformed-multipart without the closing boundary, or with a wrong one', async () => {
    await refused([...fieldParts(), filePart(pngOf())], 400, 'malformed-multipart', { closing: false })
    await refused([...fieldParts(), filePart(pngOf())], 400, 'malformed-multipart', { closing: 'bad' })
  })

  it('400 for a JSON body, and for a multipart body whose boundary is not the announced one or not announced at all', async () => {
    const c = await submitCase(t.app, member)
    const before = await listFiles(blobDir)
    expectProblem(await send(t.app, 'POST', `/v1/cases/${c.id}/documents`, member, { kind: 'passport', issuingCountry: 'MA', language: 'ar', file: 'iVBORw0KGgo=' }), 400, 'multipart-required')
    const res = await t.app.inject({
      method: 'POST',
      url: `/v1/cases/${c.id}/documents`,
      headers: { authorization: `Bearer ${member}`, ...multipartHeaders('another-boundary') },
      payload: multipartBody([...fieldParts(), filePart(pngOf())]),
    })
    expectProblem(res, 400, 'malformed-multipart')
    const noBoundary = await t.app.inject({
      method: 'POST',
      url: `/v1/cases/${c.id}/documents`,
      headers: { authorization: `Bearer ${member}`, 'content-type': 'multipart/form-data' },
      payload: multipartBody([...fieldParts(), filePart(pngOf())]),
    })
    expectProblem(noBoundary, 400, 'malformed-multipart')
    await expectNothingStored(t.database.owner, blobDir, c.id, before)
  })

  it('answers a refusal only once the temporary file is gone (no clean-up racing the response)', async () => {
    const c = await submitCase(t.app, member)
    const left: string[] = []
    for (let i = 0; i < 10; i += 1) {
      for (const [bytes, closing, status] of [
        [gifBytes(), true, 415],
        [pngOf(), false, 400],
      ] as const) {
        const before = await listFiles(blobDir)
        const res = await postMultipart(t.app, member, c.id, [...fieldParts(), filePart(bytes)], { closing })
        expect(res.statusCode).toBe(status)
        left.push(...(await listFiles(blobDir)).filter((f) => !before.includes(f)))
        await eventually(async () => (await listFiles(blobDir)).length === before.length)
      }
    }
    expect(left).toEqual([])
  })

  it('409 case-closed for a withdrawn case', async () => {
    const c = await submitCase(t.app, member)
    expectOk(await act(t.app, member, c.id, 'withdraw', { reason: 'verhuisd' }))
    const before = await listFiles(blobDir)
    expectProblem(await postMultipart(t.app, member, c.id, [...fieldParts(), filePart(pngOf())]), 409, 'case-closed')
    await expectNothingStored(t.database.owner, blobDir, c.id, before)
  })

  it('404 for a case of another tenant, 401 without a key', async () => {
    const c = await submitCase(t.app, member)
    const elsewhere = await newRegion(t.database.db)
    const before = await listFiles(blobDir)
    for (const key of [region.members[1].key, elsewhere.hub.key, elsewhere.specialist.key]) {
      expectProblem(await postMultipart(t.app, key, c.id, [...fieldParts(), filePart(pngOf())]), 404, 'not-found')
    }
    expect((await postMultipart(t.app, null, c.id, [...fieldParts(), filePart(pngOf())])).statusCode).toBe(401)
    await expectNothingStored(t.database.owner, blobDir, c.id, before)
  })
})

describe('over a real socket', () => {
  let port: number
  beforeAll(async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' })
    port = (t.app.server.address() as AddressInfo).port
  })
  const upload = (caseId: string, body: Buffer, write: (req: ClientRequest) => void = (req) => req.end(body)) =>
    overHttp(port, 'POST', `/v1/cases/${caseId}/documents`, { authorization: `Bearer ${member}`, ...multipartHeaders(), 'content-length': body.length }, write)
  const httpGet = (path: string) => overHttp(port, 'GET', path, {})

  it('an upload aborted half way leaves no row, no blob and no temporary file, and the app carries on', async () => {
    const c = await submitCase(t.app, member)
    const before = await listFiles(blobDir)
    const file = Buffer.concat([pngOf(), Buffer.alloc(4 * 1024 * 1024, 0x5a)])
    const body = multipartBody([...fieldParts(), filePart(file)])
    const half = body.subarray(0, Math.floor(body.length / 2))
    const aborted = upload(c.id, body, (req) => {
      req.write(half, () => {
        // Wait until the server streams the file into the store, then cut the line.
        void eventually(async () => (await listFiles(blobDir)).some((f) => f.includes('.tmp-')), 2_000).then(() => req.destroy())
      })
    })
    await expect(aborted).rejects.toThrow()
    await expectNothingStored(t.database.owner, blobDir, c.id, before)

    expect((await httpGet('/healthz')).status).toBe(200)
    const res = await upload(c.id, multipartBody([...fieldParts(), filePart(pngOf())]))
    expect(res.status, res.body).toBe(201)
    expect(await documentRows(t.database.owner, c.id)).toBe(1)
  })

  it('a case withdrawn while its file is still streaming: 409 case-closed, and the stored blob is removed again', async () => {
    const c = await submitCase(t.app, member)
    const before = await listFiles(blobDir)
    const body = multipartBody([...fieldParts(), filePart(Buffer.concat([pngOf(), Buffer.alloc(1024 * 1024, 0x33)]))])
    const half = Math.floor(body.length / 2)
    const res = await upload(c.id, body, (req) => {
      req.write(body.subarray(0, half), () => {
        void (async () => {
          await eventually(async () => (await listFiles(blobDir)).some((f) => f.includes('.tmp-')), 2_000)
          expectOk(await act(t.app, member, c.id, 'withdraw', { reason: 'tijdens het uploaden' }))
          req.end(body.subarray(half))
        })().catch((error: Error) => req.destroy(error))
      })
    })
    expect(res.status, res.body).toBe(409)
    expect((JSON.parse(res.body) as { code: string }).code).toBe('case-closed')
    await expectNothingStored(t.database.owner, blobDir, c.id, before)
  })

  it('a flood of 5,000 tiny parts is refused with 400 and the process stays healthy', async () => {
    const c = await submitCase(t.app, member)
    const before = await listFiles(blobDir)
    const flood = Array.from({ length: 5_000 }, (_, i): Part => ({ name: 'file', value: Buffer.from([i & 0xff]), filename: `p${i}.png`, contentType: 'image/png' }))
    const body = multipartBody([...fieldParts(), filePart(pngOf()), ...flood])
    const res = await upload(c.id, body)
    expect(res.status, res.body).toBe(400)
    expect((JSON.parse(res.body) as { code: string }).code).toBe('too-many-parts')
    await expectNothingStored(t.database.owner, blobDir, c.id, before)
    expect((await httpGet('/healthz')).status).toBe(200)
    expect((await httpGet('/readyz')).status).toBe(200)
    const fields = Array.from({ length: 5_000 }, (_, i): Part => ({ name: `f${i}`, value: 'x' }))
    const res2 = await upload(c.id, multipartBody(fields))
    expect(res2.status, res2.body).toBe(400)
    expect(JSON.parse(res2.body)).toMatchObject({ code: 'invalid-request', invalidParams: [{ name: 'f0', code: 'unknown-property' }] })
    expect(await documentRows(t.database.owner, c.id)).toBe(0)
    expect(await eventually(async () => (await listFiles(blobDir)).length === before.length)).toBe(true)
  })
})
