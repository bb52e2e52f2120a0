// Helpers for the document tests (issue 5): multipart bodies built by hand, so a test controls part
// order, names and sizes exactly; small valid PDF, PNG and JPEG files made in code (no binary
// fixtures in the repository); and looks at what an upload left behind in BLOB_DIR and the database.
import { createHash, randomBytes } from 'node:crypto'
import { readdir } from 'node:fs/promises'
import { request, type ClientRequest } from 'node:http'
import { join } from 'node:path'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { encode as encodeJpeg } from 'jpeg-js'
import { sql, type Kysely } from 'kysely'
import { PNG } from 'pngjs'
import { expect } from 'vitest'
import type { components } from '../../openapi/types.gen.js'
import { bearer } from './app.js'
import { buildPdf } from './pdf-fixtures.js'

export type DocumentJson = components['schemas']['Document']

// ---- multipart -------------------------------------------------------------------------------

export interface Part {
  name: string
  /** A field's value or a file's bytes. */
  value: string | Buffer
  /** Makes the part a file part. */
  filename?: string
  contentType?: string
}

export const BOUNDARY = '----regiobalie-test-boundary-7MA4YWxkTrZu0gW'

/**
 * A multipart/form-data body. `closing: false` leaves out the closing boundary; `closing: 'bad'`
 * writes a wrong one.
 */
export function multipartBody(parts: Part[], options: { boundary?: string; closing?: true | false | 'bad' } = {}): Buffer {
  const boundary = options.boundary ?? BOUNDARY
  const chunks: Buffer[] = []
  for (const part of parts) {
    const disposition =
      part.filename === undefined ? `form-data; name="${part.name}"` : `form-data; name="${part.name}"; filename="${part.filename}"`
    const headers = [`--${boundary}`, `Content-Disposition: ${disposition}`]
    if (part.filename !== undefined || part.contentType !== undefined) headers.push(`Content-Type: ${part.contentType ?? 'application/octet-stream'}`)
    chunks.push(Buffer.from(`${headers.join('\r\n')}\r\n\r\n`, 'latin1'), Buffer.isBuffer(part.value) ? part.value : Buffer.from(part.value, 'utf8'), Buffer.from('\r\n'))
  }
  const closing = options.closing ?? true
  if (closing === true) chunks.push(Buffer.from(`--${boundary}--\r\n`))
  if (closing === 'bad') chunks.push(Buffer.from(`--${boundary}-not-the-end\r\n`))
  return Buffer.concat(chunks)
}

export const multipartHeaders = (boundary = BOUNDARY) => ({ 'content-type': `multipart/form-data; boundary=${boundary}` })

/** The metadata fields of an upload, in the order API.md gives them; `undefined` leaves one out. */
export function fieldParts(overrides: Record<string, string | undefined> = {}): Part[] {
  const values: Record<string, string | undefined> = { kind: 'passport', issuingCountry: 'MA', language: 'ar', ...overrides }
  return Object.entries(values)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([name, value]) => ({ name, value }))
}

export const filePart = (bytes: Buffer, filename = 'scan.png', contentType = 'image/png'): Part => ({ name: 'file', value: bytes, filename, contentType })

/** POST /v1/cases/{caseId}/documents with a hand-built body (a null key sends no Authorization). */
export const postMultipart = (
  app: FastifyInstance,
  key: string | null,
  caseId: string,
  parts: Part[],
  options: { boundary?: string; closing?: true | false | 'bad' } = {},
): Promise<LightMyRequestResponse> =>
  app.inject({
    method: 'POST',
    url: `/v1/cases/${caseId}/documents`,
    headers: { ...(key ? bearer(key) : {}), ...multipartHeaders(options.boundary) },
    payload: multipartBody(parts, options),
  })

/** Uploads `file` with the given fields and asserts 201; returns the document. */
export async function uploadOk(
  app: FastifyInstance,
  key: string,
  caseId: string,
  fields: Record<string, string | undefined> = {},
  file: Part = filePart(pngOf()),
): Promise<DocumentJson> {
  const res = await postMultipart(app, key, caseId, [...fieldParts(fields), file])
  expect(res.statusCode, res.body).toBe(201)
  return res.json<DocumentJson>()
}

/**
 * One request over a real socket to `port` on 127.0.0.1; `write` sends the body (default: none).
 * Resolves with the status and body of the response.
 */
export const overHttp = (
  port: number,
  method: string,
  path: string,
  headers: Record<string, string | number>,
  write: (req: ClientRequest) => void = (req) => req.end(),
): Promise<{ status: number; body: string }> =>
  new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }))
    })
    req.on('error', reject)
    write(req)
  })

// ---- fixtures --------------------------------------------------------------------------------

let seed = 0

/** A small valid PNG; every call gives different bytes unless a seed is passed. */
export function pngOf(width = 4, height = 3, fixedSeed?: number): Buffer {
  const s = fixedSeed ?? (seed += 1)
  const png = new PNG({ width, height })
  for (let i = 0; i < png.data.length; i++) png.data[i] = (i * 37 + s * 101) & 0xff
  return PNG.sync.write(png)
}

export function jpegOf(width = 8, height = 8): Buffer {
  const s = (seed += 1)
  const data = Buffer.alloc(width * height * 4)
  for (let i = 0; i < data.length; i++) data[i] = (i * 13 + s * 7) & 0xff
  return encodeJpeg({ width, height, data }, 80).data
}


/** A valid one-page PDF; the text varies per call so two calls never give the same bytes. */
export function minimalPdf(text = `Geboorteakte ${(seed += 1)}`): Buffer {
  const content = Buffer.from(`BT /F1 12 Tf 72 720 Td (${text}) Tj ET`)
  return buildPdf([
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [5 0 R] /Count 1 >>',
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
    Buffer.concat([Buffer.from(`<< /Length ${content.length} >>\nstream\n`), content, Buffer.from('\nendstream')]),
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>',
  ])
}

/** Passes the magic-byte sniff as a PDF but cannot be parsed. */
export const garbagePdf = (): Buffer => Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(4096)])

export const gifBytes = (): Buffer =>
  Buffer.from('47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b', 'hex')

/** An empty ZIP archive (end-of-central-directory record only), preceded by a local header magic. */
export const zipBytes = (): Buffer => Buffer.concat([Buffer.from('504b0304', 'hex'), Buffer.alloc(26), Buffer.from('504b0506', 'hex'), Buffer.alloc(18)])

export const sha256Hex = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex')

// ---- what an upload left behind --------------------------------------------------------------

/** Every file under `dir`, recursively, as paths relative to it. */
export async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = []
  let entries
  try {
    entries = await readdir(join(dir, prefix), { withFileTypes: true })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return out
    throw error
  }
  for (const entry of entries) {
    const path = prefix ? join(prefix, entry.name) : entry.name
    if (entry.isDirectory()) out.push(...(await listFiles(dir, path)))
    else out.push(path)
  }
  return out.sort()
}

/** Document rows of a case, counted behind RLS. */
export async function documentRows(owner: Kysely<unknown>, caseId: string): Promise<number> {
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from documents where case_id = ${caseId}`.execute(owner)
  return rows[0]!.n
}

/** Polls `check` until it returns true or `timeoutMs` passes; returns the last answer. */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 3_000): Promise<boolean> {
  const until = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return true
    if (Date.now() > until) return false
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/**
 * Asserts that a refused upload left nothing: no documents row for the case, and no file in
 * BLOB_DIR besides those that were there before (`before`) — neither a blob nor a `.tmp-*`.
 * Polls briefly, since a stream's clean-up may finish just after the response went out.
 */
export async function expectNothingStored(owner: Kysely<unknown>, blobDir: string, caseId: string, before: string[] = []): Promise<void> {
  const known = new Set(before)
  const leftovers = async (): Promise<string[]> => (await listFiles(blobDir)).filter((f) => !known.has(f))
  await eventually(async () => (await leftovers()).length === 0, 2_000)
  expect(await leftovers()).toEqual([])
  expect(await documentRows(owner, caseId)).toBe(0)
}
