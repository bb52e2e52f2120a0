import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { checkIntegrityIsolated, INTEGRITY_THREAD, IntegrityThreadMissingError } from '../../api/documents/integrity-isolated.js'
import { createHash, randomBytes } from 'node:crypto'
import { crc32 } from 'node:zlib'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { encode as encodeJpeg } from 'jpeg-js'
import { PNG } from 'pngjs'
import { checkIntegrity, MAX_IMAGE_PIXELS } from '../../api/documents/integrity.js'
import { buildPdf } from '../helpers/pdf-fixtures.js'

// Every fixture is built here from text and code: no binary test files in the repository.

// ---- PDF builders ------------------------------------------------------------------------------


const stream = (data: Buffer): Buffer =>
  Buffer.concat([Buffer.from(`<< /Length ${data.length} >>\nstream\n`), data, Buffer.from('\nendstream')])

const CONTENT = Buffer.from('BT /F1 12 Tf 72 720 Td (Paspoort) Tj ET')

function pageObjects(pageCount: number, content: Buffer = CONTENT): Array<string | Buffer> {
  // 1 catalog, 2 pages, 3 font, 4 content, 5.. pages
  const kids = Array.from({ length: pageCount }, (_, i) => `${i + 5} 0 R`).join(' ')
  const pages = Array.from(
    { length: pageCount },
    () => '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>',
  )
  return [
    '<< /Type /Catalog /Pages 2 0 R >>',
    `<< /Type /Pages /Kids [${kids}] /Count ${pageCount} >>`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
    stream(content),
    ...pages,
  ]
}

const minimalPdf = (pageCount = 1): Buffer => buildPdf(pageObjects(pageCount))

// Standard security handler, revision 2 (RC4, 40-bit key), per ISO 32000-1 §7.6.3, algorithms
// 2, 3 and 4. RC4 is written out because OpenSSL 3 keeps it in the legacy provider.
const PASSWORD_PAD = Buffer.from('28bf4e5e4e758a4164004e56fffa01082e2e00b6d0683e802f0ca9fe6453697a', 'hex')
const md5 = (...chunks: Buffer[]): Buffer => createHash('md5').update(Buffer.concat(chunks)).digest()
const padPassword = (password: string): Buffer =>
  Buffer.concat([Buffer.from(password, 'latin1'), PASSWORD_PAD]).subarray(0, 32)

function rc4(key: Buffer, data: Buffer): Buffer {
  const s = Array.from({ length: 256 }, (_, i) => i)
  for (let i = 0, j = 0; i < 256; i++) {
    j = (j + s[i]! + key[i % key.length]!) & 0xff
    ;[s[i], s[j]] = [s[j]!, s[i]!]
  }
  const out = Buffer.alloc(data.length)
  for (let n = 0, i = 0, j = 0; n < data.length; n++) {
    i = (i + 1) & 0xff
    j = (j + s[i]!) & 0xff
    ;[s[i], s[j]] = [s[j]!, s[i]!]
    out[n] = data[n]! ^ s[(s[i]! + s[j]!) & 0xff]!
  }
  return out
}

/** A genuinely RC4-encrypted one-page PDF; with an empty user password it opens without one. */
function encryptedPdf(userPassword: string, ownerPassword: string): Buffer {
  const permissions = -44 // printing allowed, modifying not: what owner-only encryption is used for
  const fileId = randomBytes(16)
  const owner = rc4(md5(padPassword(ownerPassword)).subarray(0, 5), padPassword(userPassword))
  const p = Buffer.alloc(4)
  p.writeInt32LE(permissions)
  const fileKey = md5(padPassword(userPassword), owner, p, fileId).subarray(0, 5)
  const user = rc4(fileKey, PASSWORD_PAD)
  const objectKey = md5(fileKey, Buffer.from([4, 0, 0, 0, 0])).subarray(0, 10) // object 4, gen 0
  const objects = pageObjects(1, rc4(objectKey, CONTENT))
  objects.push(`<< /Filter /Standard /V 1 /R 2 /O <${owner.toString('hex')}> /U <${user.toString('hex')}> /P ${permissions} >>`)
  const id = fileId.toString('hex')
  return buildPdf(objects, `/Encrypt ${objects.length} 0 R /ID [<${id}> <${id}>] `)
}

// AES-256 (V5/R6, the handler current tools write), made once with qpdf 11.3 from minimalPdf():
// `qpdf --encrypt geheim eigenaar 256 -- min.pdf out.pdf` and, owner password only,
// `qpdf --encrypt '' eigenaar 256 --print=none -- min.pdf out.pdf`. Embedded so that running the
// tests needs no qpdf.
const QPDF_AES256_USER_PASSWORD = [
  'JVBERi0xLjcKJb/3ov4KMSAwIG9iago8PCAvRXh0ZW5zaW9ucyA8PCAvQURCRSA8PCAvQmFzZVZlcnNpb24gLzEuNyAvRXh0ZW5z',
  'aW9uTGV2ZWwgOCA+PiA+PiAvUGFnZXMgMiAwIFIgL1R5cGUgL0NhdGFsb2cgPj4KZW5kb2JqCjIgMCBvYmoKPDwgL0NvdW50IDEg',
  'L0tpZHMgWyAzIDAgUiBdIC9UeXBlIC9QYWdlcyA+PgplbmRvYmoKMyAwIG9iago8PCAvQ29udGVudHMgNCAwIFIgL01lZGlhQm94',
  'IFsgMCAwIDU5NSA4NDIgXSAvUGFyZW50IDIgMCBSIC9SZXNvdXJjZXMgPDwgL0ZvbnQgPDwgL0YxIDUgMCBSID4+ID4+IC9UeXBl',
  'IC9QYWdlID4+CmVuZG9iago0IDAgb2JqCjw8IC9MZW5ndGggNjQgL0ZpbHRlciAvRmxhdGVEZWNvZGUgPj4Kc3RyZWFtCm0Gdu9R',
  'yJ20VQV4LbU3WReVLvH5/clnMtkPrx7nspBKxlLcNzZzGgjh8xh0ftoxfmStcRKLH/KP3pQBu31RBHZlbmRzdHJlYW0KZW5kb2Jq',
  'CjUgMCBvYmoKPDwgL0Jhc2VGb250IC9IZWx2ZXRpY2EgL1N1YnR5cGUgL1R5cGUxIC9UeXBlIC9Gb250ID4+CmVuZG9iago2IDAg',
  'b2JqCjw8IC9DRiA8PCAvU3RkQ0YgPDwgL0F1dGhFdmVudCAvRG9jT3BlbiAvQ0ZNIC9BRVNWMyAvTGVuZ3RoIDMyID4+ID4+IC9G',
  'aWx0ZXIgL1N0YW5kYXJkIC9MZW5ndGggMjU2IC9PIDw5ZTU1ZTE4YjQ5OThiODNlNDNlODdhMWRkYjdlZTg4ZjIzYTljOTg2ODkz',
  'ZThmODNkMjI0YjczNDhjMzkwMzMzNDU2NjdlNzZlMjMwODQzZWYyNjJkMzIwMWQ2YWIxZmY+IC9PRSA8OWEzOWM1YTFkOGVhNDZk',
  'MThhMGM3OTEwZWE5MjkxNDBiMDU3NTEwYzE4YjBjMmFlYmFmMGE1ZDIwZjBhNjk4MT4gL1AgLTQgL1Blcm1zIDw0MTZhNWVjZTMz',
  'MWU0MjVmZDFkMWUyYWU0ZGEzY2RlNT4gL1IgNiAvU3RtRiAvU3RkQ0YgL1N0ckYgL1N0ZENGIC9VIDw5MzViYmY3ODBjNmUzZDIz',
  'ODZjZTA2ZjQ1YzlmMGVmNDY5YmY4M2M2MTM5NDVlZGUzMGUwODllNGIxYWQ5MTY3NzQxNTIyN2M3MWJiMDQ3NWQzMWM1MmI0ZjNk',
  'Njc5ZDk+IC9VRSA8NzM2ODczZWU3NTg1YWQ0YjZjMDNmOWE0YTYyNTFlYTI3MzEzZDg5ODZiNmFmMTc2MmRhYTdhOWY2OGM1ZjY4',
  'Yj4gL1YgNSA+PgplbmRvYmoKeHJlZgowIDcKMDAwMDAwMDAwMCA2NTUzNSBmIAowMDAwMDAwMDE1IDAwMDAwIG4gCjAwMDAwMDAx',
  'MzAgMDAwMDAgbiAKMDAwMDAwMDE4OSAwMDAwMCBuIAowMDAwMDAwMzE3IDAwMDAwIG4gCjAwMDAwMDA0NTEgMDAwMDAgbiAKMDAw',
  'MDAwMDUyMSAwMDAwMCBuIAp0cmFpbGVyIDw8IC9Sb290IDEgMCBSIC9TaXplIDcgL0lEIFs8ZjAyNzhhZDg0NTlkYmMzMDQ0ZmMy',
  'ZjRiODNjMWY2NmE+PGYwMjc4YWQ4NDU5ZGJjMzA0NGZjMmY0YjgzYzFmNjZhPl0gL0VuY3J5cHQgNiAwIFIgPj4Kc3RhcnR4cmVm',
  'CjEwNjgKJSVFT0YK',
].join('')
const QPDF_AES256_OWNER_ONLY = [
  'JVBERi0xLjcKJb/3ov4KMSAwIG9iago8PCAvRXh0ZW5zaW9ucyA8PCAvQURCRSA8PCAvQmFzZVZlcnNpb24gLzEuNyAvRXh0ZW5z',
  'aW9uTGV2ZWwgOCA+PiA+PiAvUGFnZXMgMiAwIFIgL1R5cGUgL0NhdGFsb2cgPj4KZW5kb2JqCjIgMCBvYmoKPDwgL0NvdW50IDEg',
  'L0tpZHMgWyAzIDAgUiBdIC9UeXBlIC9QYWdlcyA+PgplbmRvYmoKMyAwIG9iago8PCAvQ29udGVudHMgNCAwIFIgL01lZGlhQm94',
  'IFsgMCAwIDU5NSA4NDIgXSAvUGFyZW50IDIgMCBSIC9SZXNvdXJjZXMgPDwgL0ZvbnQgPDwgL0YxIDUgMCBSID4+ID4+IC9UeXBl',
  'IC9QYWdlID4+CmVuZG9iago0IDAgb2JqCjw8IC9MZW5ndGggNjQgL0ZpbHRlciAvRmxhdGVEZWNvZGUgPj4Kc3RyZWFtCg3E6gwJ',
  'quyyVHogOQ17aQ+ZTyI70Dlv5ynV97SIdn3IXdqBkNox3oX8M2nH5w5OkeA3l+VhEJqgaHyeit1J99VlbmRzdHJlYW0KZW5kb2Jq',
  'CjUgMCBvYmoKPDwgL0Jhc2VGb250IC9IZWx2ZXRpY2EgL1N1YnR5cGUgL1R5cGUxIC9UeXBlIC9Gb250ID4+CmVuZG9iago2IDAg',
  'b2JqCjw8IC9DRiA8PCAvU3RkQ0YgPDwgL0F1dGhFdmVudCAvRG9jT3BlbiAvQ0ZNIC9BRVNWMyAvTGVuZ3RoIDMyID4+ID4+IC9G',
  'aWx0ZXIgL1N0YW5kYXJkIC9MZW5ndGggMjU2IC9PIDw1OGNjOWJiOWY4NTc1MzZmNzQxM2YwNTU5MzM1YjFlNGNjNzkwNzIwNGMz',
  'YzI4YmM5NTFlMjQ3YjFhOGI5NDQ4ZTM2M2VkZDlmMjI5MjdkNDNiNzJjZGI5ODhlNTljYWY+IC9PRSA8MzIxMTBhYTdhN2UxNjE4',
  'ZDViNDc4YjI0YTVlNzA4YWU5YTE0ZDUxYjE3NDNmYTM1Mjc1MDc0N2M5Nzg5ZTEzMj4gL1AgLTIwNTYgL1Blcm1zIDw5MGUxMzFj',
  'M2E5OGZlNDFmMTM3ZGZjNGU4YThiMDliOT4gL1IgNiAvU3RtRiAvU3RkQ0YgL1N0ckYgL1N0ZENGIC9VIDxlMTZjNzE3ODFhYzU0',
  'M2JmMzJjMzY1MTBhY2Y3ZjBhMzMxYWE4NDA1YWQ2MmJkM2JiYWJjMDA5N2RjMzE1MDk3MmQ2YWVmMjUxNjFkMDJmY2ZkZTVkMDU0',
  'YmFjZWUzZDI+IC9VRSA8N2NmODM2YzIwNjI1YzRjZDM2YWQ0NmNlYTRmMWZjYmJmN2E4ZTdhMmIxM2MzYWYzNjllNzBlNTQ3ZTNl',
  'ODg4OT4gL1YgNSA+PgplbmRvYmoKeHJlZgowIDcKMDAwMDAwMDAwMCA2NTUzNSBmIAowMDAwMDAwMDE1IDAwMDAwIG4gCjAwMDAw',
  'MDAxMzAgMDAwMDAgbiAKMDAwMDAwMDE4OSAwMDAwMCBuIAowMDAwMDAwMzE3IDAwMDAwIG4gCjAwMDAwMDA0NTEgMDAwMDAgbiAK',
  'MDAwMDAwMDUyMSAwMDAwMCBuIAp0cmFpbGVyIDw8IC9Sb290IDEgMCBSIC9TaXplIDcgL0lEIFs8ODI1OTEwZDgwOTNhNmI2OWMx',
  'YThlOWQ0NmJmNGQ0Y2Q+PDgyNTkxMGQ4MDkzYTZiNjljMWE4ZTlkNDZiZjRkNGNkPl0gL0VuY3J5cHQgNiAwIFIgPj4Kc3RhcnR4',
  'cmVmCjEwNzEKJSVFT0YK',
].join('')

// ---- image builders ----------------------------------------------------------------------------

function pngOf(width: number, height: number): Buffer {
  const png = new PNG({ width, height })
  for (let i = 0; i < png.data.length; i++) png.data[i] = (i * 37) & 0xff
  return PNG.sync.write(png)
}

/** Rewrites the IHDR size and its CRC, so only the claimed size is wrong. */
function withPngSize(png: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(png)
  out.writeUInt32BE(width, 16)
  out.writeUInt32BE(height, 20)
  out.writeUInt32BE(crc32(out.subarray(12, 29)), 29)
  return out
}

function jpegOf(width: number, height: number): Buffer {
  const data = Buffer.alloc(width * height * 4)
  for (let i = 0; i < data.length; i++) data[i] = (i * 13) & 0xff
  return encodeJpeg({ width, height, data }, 80).data
}

/** Rewrites the frame size in the baseline SOF0 header that jpeg-js writes. */
function withJpegSize(jpeg: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(jpeg)
  const sof = out.indexOf(Buffer.from([0xff, 0xc0]))
  out.writeUInt16BE(height, sof + 5)
  out.writeUInt16BE(width, sof + 7)
  return out
}

afterEach(() => {
  vi.restoreAllMocks()
})

// ---- tests -------------------------------------------------------------------------------------

describe('checkIntegrity: PDF', () => {
  it('accepts a minimal valid PDF and counts its pages', async () => {
    expect(await checkIntegrity('application/pdf', minimalPdf())).toEqual({ status: 'ok', pages: 1 })
    expect(await checkIntegrity('application/pdf', minimalPdf(3))).toEqual({ status: 'ok', pages: 3 })
  })

  it('leaves the caller’s bytes untouched', async () => {
    const pdf = minimalPdf()
    const copy = Buffer.from(pdf)
    await checkIntegrity('application/pdf', pdf)
    expect(pdf.equals(copy)).toBe(true)
  })

  it('calls a %PDF-1.4 header followed by random garbage unreadable', async () => {
    const garbage = Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(4096)])
    expect(await checkIntegrity('application/pdf', garbage)).toMatchObject({ status: 'unreadable' })
  })

  it('calls garbage unreadable even when it ends like a PDF (the parser decides, not the tail)', async () => {
    const garbage = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(4096), Buffer.from('\nstartxref\n9\n%%EOF\n')])
    const result = await checkIntegrity('application/pdf', garbage)
    expect(result).toMatchObject({ status: 'unreadable', reason: expect.stringMatching(/could not be parsed/) as unknown })
  })

  it.each([0.25, 0.5, 0.9, 0.99])('calls a valid PDF truncated to %s of its length unreadable', async (fraction) => {
    const pdf = minimalPdf(2)
    const result = await checkIntegrity('application/pdf', pdf.subarray(0, Math.floor(pdf.length * fraction)))
    expect(result).toMatchObject({ status: 'unreadable' })
  })

  it('calls a PDF whose page tree points at a missing page unreadable', async () => {
    const objects = pageObjects(1)
    objects[1] = '<< /Type /Pages /Kids [5 0 R 99 0 R] /Count 2 >>'
    expect(await checkIntegrity('application/pdf', buildPdf(objects))).toMatchObject({ status: 'unreadable' })
  })

  it('never puts document bytes in the reason', async () => {
    const marker = 'BSN999999990'
    const pdf = Buffer.from(`%PDF-1.4\n1 0 obj << /Type /${marker} >> endobj\ntrailer << /Root 1 0 R >>\nstartxref\n9\n%%EOF\n`)
    const result = await checkIntegrity('application/pdf', pdf)
    expect(result.status).toBe('unreadable')
    expect(JSON.stringify(result)).not.toContain(marker)
  })

  it('flags a PDF that needs a user password as encrypted', async () => {
    expect(await checkIntegrity('application/pdf', encryptedPdf('geheim', 'eigenaar'))).toEqual({ status: 'encrypted' })
  })

  it('flags an owner-password-only PDF (opens without a password) as encrypted', async () => {
    expect(await checkIntegrity('application/pdf', encryptedPdf('', 'eigenaar'))).toEqual({ status: 'encrypted' })
  })

  it.each([
    ['with a user password', QPDF_AES256_USER_PASSWORD],
    ['with an owner password only', QPDF_AES256_OWNER_ONLY],
  ])('flags an AES-256 PDF made by qpdf %s as encrypted', async (_label, base64) => {
    expect(await checkIntegrity('application/pdf', Buffer.from(base64, 'base64'))).toEqual({ status: 'encrypted' })
  })

  it('flags an unsupported security handler as encrypted, not corrupt', async () => {
    const objects = pageObjects(1)
    objects.push('<< /Filter /Adobe.PubSec /SubFilter /adbe.pkcs7.s5 /V 4 /R 4 >>')
    const pdf = buildPdf(objects, `/Encrypt ${objects.length} 0 R /ID [<00> <00>] `)
    expect(await checkIntegrity('application/pdf', pdf)).toEqual({ status: 'encrypted' })
  })

  it('writes nothing to the console', async () => {
    const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((m) => vi.spyOn(console, m))
    await checkIntegrity('application/pdf', Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(512), Buffer.from('startxref\n9\n%%EOF')]))
    await checkIntegrity('application/pdf', encryptedPdf('geheim', 'eigenaar'))
    await checkIntegrity('application/pdf', minimalPdf())
    for (const spy of spies) expect(spy).not.toHaveBeenCalled()
  })
})

describe('checkIntegrity: PNG', () => {
  it('accepts a valid PNG and reports its size', async () => {
    expect(await checkIntegrity('image/png', pngOf(7, 5))).toEqual({ status: 'ok', width: 7, height: 5 })
  })

  it('calls a truncated PNG unreadable', async () => {
    const png = pngOf(64, 64)
    for (const cut of [12, 30, Math.floor(png.length / 2), png.length - 4]) {
      expect(await checkIntegrity('image/png', png.subarray(0, cut))).toMatchObject({ status: 'unreadable' })
    }
  })

  it('calls a PNG with a flipped bit in its image data unreadable (CRC)', async () => {
    const png = Buffer.from(pngOf(16, 16))
    const idat = png.indexOf('IDAT')
    png[idat + 10] = png[idat + 10]! ^ 0x01
    expect(await checkIntegrity('image/png', png)).toMatchObject({ status: 'unreadable' })
  })

  it('refuses a PNG whose header claims 100000x100000 quickly, without decoding it', async () => {
    const read = vi.spyOn(PNG.sync, 'read')
    const huge = withPngSize(pngOf(4, 4), 100_000, 100_000)
    const started = performance.now()
    const result = await checkIntegrity('image/png', huge)
    expect(performance.now() - started).toBeLessThan(1_000)
    expect(result).toEqual({ status: 'unreadable', reason: `image is 100000x100000 pixels, over the cap of ${MAX_IMAGE_PIXELS} pixels` })
    expect(read).not.toHaveBeenCalled()
  })

  it('applies a lowered pixel cap, inclusive at the limit', async () => {
    const png = pngOf(10, 10)
    expect(await checkIntegrity('image/png', png, { maxPixels: 100 })).toMatchObject({ status: 'ok' })
    expect(await checkIntegrity('image/png', png, { maxPixels: 99 })).toMatchObject({ status: 'unreadable', reason: expect.stringContaining('cap') as unknown })
  })
})

describe('checkIntegrity: JPEG', () => {
  it('accepts a valid JPEG and reports its size', async () => {
    expect(await checkIntegrity('image/jpeg', jpegOf(33, 17))).toEqual({ status: 'ok', width: 33, height: 17 })
  })

  it('calls a JPEG header followed by garbage unreadable', async () => {
    const corrupt = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(2048)])
    expect(await checkIntegrity('image/jpeg', corrupt)).toMatchObject({ status: 'unreadable' })
  })

  it('calls a truncated JPEG unreadable', async () => {
    const jpeg = jpegOf(64, 64)
    for (const cut of [3, 40, Math.floor(jpeg.length / 2), jpeg.length - 2]) {
      expect(await checkIntegrity('image/jpeg', jpeg.subarray(0, cut))).toMatchObject({ status: 'unreadable' })
    }
  })

  it('refuses a JPEG over a lowered cap, mentioning the cap', async () => {
    const jpeg = jpegOf(20, 10)
    expect(await checkIntegrity('image/jpeg', jpeg, { maxPixels: 200 })).toMatchObject({ status: 'ok' })
    expect(await checkIntegrity('image/jpeg', jpeg, { maxPixels: 199 })).toEqual({
      status: 'unreadable',
      reason: expect.stringContaining('cap of 199 pixels') as unknown,
    })
  })

  it('decodes a full-colour JPEG right at the cap: the decoder’s memory limit never binds first', async () => {
    const jpeg = jpegOf(1024, 1024)
    expect(await checkIntegrity('image/jpeg', jpeg, { maxPixels: 1024 * 1024 })).toEqual({ status: 'ok', width: 1024, height: 1024 })
  })

  it('refuses a JPEG whose frame header claims 60000x60000 quickly', async () => {
    const huge = withJpegSize(jpegOf(8, 8), 60_000, 60_000)
    const started = performance.now()
    const result = await checkIntegrity('image/jpeg', huge)
    expect(performance.now() - started).toBeLessThan(1_000)
    expect(result).toEqual({ status: 'unreadable', reason: `image is 60000x60000 pixels, over the cap of ${MAX_IMAGE_PIXELS} pixels` })
  })
})

describe('checkIntegrity: limits', () => {
  it('exports the explicit default cap', () => {
    expect(MAX_IMAGE_PIXELS).toBe(50_000_000)
  })

  it.each([0, -1, 1.5, Number.NaN])('refuses a nonsensical maxPixels (%s)', async (maxPixels) => {
    await expect(checkIntegrity('image/png', pngOf(1, 1), { maxPixels })).rejects.toThrow(RangeError)
  })
})

describe('checkIntegrityIsolated without its worker thread', () => {
  it('refuses to run rather than decode on the main thread', async () => {
    // From the TypeScript sources there is no compiled thread entry next to the module.
    expect(existsSync(fileURLToPath(INTEGRITY_THREAD))).toBe(false)
    await expect(checkIntegrityIsolated('application/pdf', minimalPdf())).rejects.toThrow(IntegrityThreadMissingError)
    await expect(checkIntegrityIsolated('application/pdf', minimalPdf())).rejects.toThrow(/worker thread .*integrity-thread\.js is missing/)
  })
})
