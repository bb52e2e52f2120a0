// Slow clients are cut off (issue 9): uploads whose body stalls are dropped after the upload time,
// JSON bodies after theirs, and one process holds a bounded number of connections, so a crowd of
// stalled uploads cannot hold a temporary file each for ever. Nothing is stored, the API serves on.
import { mkdtemp, rm } from 'node:fs/promises'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { newRegion, type RegionFixture } from '../helpers/builders.js'
import { submitCase } from '../helpers/case-builders.js'
import { BOUNDARY, documentRows, eventually, fieldParts, listFiles, multipartBody, pngOf } from '../helpers/document-builders.js'

const MAX_CONNECTIONS = 20
let t: TestApp
let blobDir: string
let region: RegionFixture
let port: number
let caseId: string

beforeAll(async () => {
  blobDir = await mkdtemp(join(tmpdir(), 'rb-fault-slow-'))
  t = await startTestApp({
    BLOB_DIR: blobDir,
    UPLOAD_REQUEST_TIMEOUT_MS: '1500',
    JSON_REQUEST_TIMEOUT_MS: '800',
    MAX_CONNECTIONS: String(MAX_CONNECTIONS),
  })
  await t.app.listen({ port: 0, host: '127.0.0.1' })
  port = (t.app.server.address() as { port: number }).port
  region = await newRegion(t.database.db)
  caseId = (await submitCase(t.app, region.members[0].key)).id
})
afterAll(async () => {
  await t.close()
  await rm(blobDir, { recursive: true, force: true })
})

interface Stalled {
  socket: Socket
  closed: Promise<number>
}

/** Sends the request head and the start of the body, then nothing more. */
function stall(head: string, bodyStart: Buffer): Stalled {
  const socket = connect(port, '127.0.0.1')
  const opened = Date.now()
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - opened)))
  socket.on('error', () => undefined)
  socket.on('connect', () => socket.write(Buffer.concat([Buffer.from(head), bodyStart])))
  return { socket, closed }
}

const uploadStart = (): { head: string; start: Buffer } => {
  // A whole valid body, of which only the fields and the first bytes of the file are ever sent.
  const png = Buffer.concat([pngOf(64, 64), Buffer.alloc(200_000, 7)])
  const full = multipartBody([...fieldParts(), { name: 'file', value: png, filename: 'scan.png', contentType: 'image/png' }])
  const head =
    `POST /v1/cases/${caseId}/documents HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${region.members[0].key}\r\n` +
    `Content-Type: multipart/form-data; boundary=${BOUNDARY}\r\nContent-Length: ${full.length}\r\n\r\n`
  return { head, start: full.subarray(0, full.indexOf(Buffer.from('\r\n\r\n', 'latin1'), full.indexOf(Buffer.from('name="file"'))) + 4 + 64_000) }
}

const temporaryFiles = async () => (await listFiles(blobDir)).filter((f) => f.includes('.tmp-'))

describe('stalled uploads', () => {
  it('are dropped after the upload time, never hold more than the connection cap of temp files, and leave nothing behind', async () => {
    const { head, start } = uploadStart()
    const crowd = Array.from({ length: 100 }, () => stall(head, start))
    let mostTemporary = 0
    const watching = (async () => {
      const until = Date.now() + 1_400
      while (Date.now() < until) {
        mostTemporary = Math.max(mostTemporary, (await temporaryFiles()).length)
        await new Promise((r) => setTimeout(r, 50))
      }
    })()
    await watching
    const lifetimes = await Promise.all(crowd.map((s) => s.closed))
    // Over the cap: refused at once. Within it: held no longer than the upload time (+ slack).
    expect(lifetimes.filter((ms) => ms < 500).length).toBeGreaterThanOrEqual(100 - MAX_CONNECTIONS)
    expect(Math.max(...lifetimes)).toBeLessThan(5_000)
    expect(mostTemporary).toBeGreaterThan(0)
    expect(mostTemporary).toBeLessThanOrEqual(MAX_CONNECTIONS)
    expect(await eventually(async () => (await temporaryFiles()).length === 0, 3_000)).toBe(true)
    expect(await listFiles(blobDir)).toEqual([])
    expect(await documentRows(t.database.owner, caseId)).toBe(0)
    const health = await fetch(`http://127.0.0.1:${port}/healthz`)
    expect(health.status).toBe(200)
  }, 30_000)
})

describe('a stalled JSON body', () => {
  it('is dropped after the JSON time, and stores nothing', async () => {
    const before = (await t.database.owner.selectFrom('cases' as never).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst()) as { n: number | string }
    const head =
      `POST /v1/cases HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${region.members[0].key}\r\n` +
      'Content-Type: application/json\r\nContent-Length: 400\r\n\r\n'
    const s = stall(head, Buffer.from('{"caseType":"option",'))
    const lived = await s.closed
    expect(lived).toBeGreaterThanOrEqual(700)
    expect(lived).toBeLessThan(4_000)
    const after = (await t.database.owner.selectFrom('cases' as never).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst()) as { n: number | string }
    expect(Number(after.n)).toBe(Number(before.n))
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200)
  })
})
