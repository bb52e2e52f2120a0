// Is an uploaded document what its magic bytes claim, and can it be opened? The review worker
// calls this with the decrypted bytes and maps `unreadable` to `unreadable-file` (review
// `rejected`) and `encrypted` to `encrypted-pdf` (API.md, "Documents"). Upload only sniffs the
// first bytes (sniff.ts), so a `%PDF-` header followed by garbage reaches this point.
//
// Everything here decodes hostile input: decoders are pure JS (no native parser exposed to
// uploads), sizes are checked against the pixel cap before any bitmap is allocated, and no
// reason string ever carries document bytes, since reasons end up in findings and logs.
import type * as PdfJs from 'pdfjs-dist/legacy/build/pdf.mjs'
import { decode as decodeJpeg } from 'jpeg-js'
import { PNG } from 'pngjs'
import type { AllowedContentType } from './sniff.js'

export type IntegrityResult =
  | { status: 'ok'; pages?: number; width?: number; height?: number }
  | { status: 'encrypted' }
  | { status: 'unreadable'; reason: string }

/** A 50 MP image is far beyond any scanner or phone camera used for a passport. */
export const MAX_IMAGE_PIXELS = 50_000_000

// Each page dictionary is fetched so a broken page tree is caught; past this many pages a
// civil-status document is implausible and checking them all would only cost time.
const MAX_PDF_PAGES_CHECKED = 1_000
// Acrobat looks for %%EOF within the last 1024 bytes; doing the same catches truncated uploads
// that pdf.js would otherwise silently rebuild by scanning for objects.
const PDF_TAIL_BYTES = 1_024
// jpeg-js accounts ~21 bytes per pixel for a 4:4:4 colour JPEG and ~27 for CMYK (coefficient
// blocks, component planes, output). Its memory limit is sized from the pixel cap so that the cap,
// not a hidden second limit, decides which images are refused.
const JPEG_BYTES_PER_PIXEL_BUDGET = 32

export async function checkIntegrity(
  contentType: AllowedContentType,
  bytes: Buffer,
  limits: { maxPixels?: number } = {},
): Promise<IntegrityResult> {
  const maxPixels = limits.maxPixels ?? MAX_IMAGE_PIXELS
  if (!Number.isSafeInteger(maxPixels) || maxPixels <= 0) {
    throw new RangeError('maxPixels must be a positive integer')
  }
  switch (contentType) {
    case 'application/pdf':
      return checkPdf(bytes)
    case 'image/png':
      return checkPng(bytes, maxPixels)
    case 'image/jpeg':
      return checkJpeg(bytes, maxPixels)
  }
}

const unreadable = (reason: string): IntegrityResult => ({ status: 'unreadable', reason })

const overCap = (width: number, height: number, maxPixels: number): IntegrityResult =>
  unreadable(`image is ${width}x${height} pixels, over the cap of ${maxPixels} pixels`)

// ---- PDF -------------------------------------------------------------------------------------

// Loaded on first use: pdf.js is large and only the review worker needs it.
let pdfJs: Promise<typeof PdfJs> | undefined
const loadPdfJs = (): Promise<typeof PdfJs> => (pdfJs ??= import('pdfjs-dist/legacy/build/pdf.mjs'))

async function checkPdf(bytes: Buffer): Promise<IntegrityResult> {
  if (!hasPdfTrailer(bytes)) return unreadable('PDF is truncated: no startxref and %%EOF at the end')
  const { getDocument, VerbosityLevel } = await loadPdfJs()
  // In Node pdf.js runs its "fake worker" on this thread: the worker module is imported from
  // node_modules, no Worker is spawned and nothing is fetched.
  // Everything that could reach outside the bytes is off: no fonts, no wasm, no eval, no XFA.
  const task = getDocument({
    // A copy: pdf.js refuses Buffers and may take ownership of (detach) a Uint8Array it is given.
    data: new Uint8Array(bytes),
    verbosity: VerbosityLevel.ERRORS,
    stopAtErrors: true,
    isEvalSupported: false,
    disableFontFace: true,
    useSystemFonts: false,
    useWorkerFetch: false,
    useWasm: false,
    enableXfa: false,
    isOffscreenCanvasSupported: false,
    isImageDecoderSupported: false,
  })
  try {
    const doc = await task.promise
    const { info } = await doc.getMetadata()
    // An owner-password-only PDF opens without a password but is still encrypted.
    if ((info as { EncryptFilterName?: unknown }).EncryptFilterName != null) return { status: 'encrypted' }
    const pages = doc.numPages
    if (pages < 1) return unreadable('PDF has no pages')
    for (let n = 1; n <= Math.min(pages, MAX_PDF_PAGES_CHECKED); n++) await doc.getPage(n)
    return { status: 'ok', pages }
  } catch (error) {
    // An unsupported security handler (e.g. public-key) fails as a format error, not a password
    // request; it is still an encrypted PDF, not a corrupt one.
    if (errorName(error) === 'PasswordException' || hasEncryptEntry(bytes)) return { status: 'encrypted' }
    return unreadable(`PDF could not be parsed (${errorName(error)})`)
  } finally {
    await task.destroy()
  }
}

function hasPdfTrailer(bytes: Buffer): boolean {
  const tail = bytes.subarray(Math.max(0, bytes.length - PDF_TAIL_BYTES)).toString('latin1')
  const eof = tail.lastIndexOf('%%EOF')
  if (eof < 0) return false
  const match = /startxref\s+(\d+)\s*$/.exec(tail.slice(0, eof))
  return match !== null && Number(match[1]) < bytes.length
}

// Only consulted after pdf.js failed, so a stray match in a content stream cannot turn a good PDF
// into an encrypted one.
const hasEncryptEntry = (bytes: Buffer): boolean =>
  /\/Encrypt\s*(?:\d+\s+\d+\s+R|<<)/.test(bytes.toString('latin1'))

// pdf.js errors carry text from the file in their messages; only the class name is kept, and
// only if it looks like one.
function errorName(error: unknown): string {
  const name = error instanceof Error ? error.name : ''
  return /^[A-Za-z]{1,40}$/.test(name) ? name : 'Error'
}

// ---- PNG -------------------------------------------------------------------------------------

const PNG_SIGNATURE_BYTES = 8

function checkPng(bytes: Buffer, maxPixels: number): IntegrityResult {
  // The IHDR chunk must come first; reading it here refuses an oversized image before pngjs
  // allocates width*height*4 bytes for it.
  const ihdr = PNG_SIGNATURE_BYTES
  const hasIhdr =
    bytes.length >= ihdr + 8 + 13 &&
    bytes.readUInt32BE(ihdr) === 13 &&
    bytes.toString('latin1', ihdr + 4, ihdr + 8) === 'IHDR'
  if (!hasIhdr) return unreadable('PNG has no valid IHDR header')
  const width = bytes.readUInt32BE(ihdr + 8)
  const height = bytes.readUInt32BE(ihdr + 12)
  if (width === 0 || height === 0) return unreadable('PNG has a zero width or height')
  if (width * height > maxPixels) return overCap(width, height, maxPixels)
  try {
    // checkCRC catches bit flips that would otherwise decode to a subtly wrong scan.
    const png = PNG.sync.read(bytes, { checkCRC: true })
    return { status: 'ok', width: png.width, height: png.height }
  } catch {
    return unreadable('PNG could not be decoded')
  }
}

// ---- JPEG ------------------------------------------------------------------------------------

function checkJpeg(bytes: Buffer, maxPixels: number): IntegrityResult {
  const size = jpegFrameSize(bytes)
  if (size !== null && size.width * size.height > maxPixels) return overCap(size.width, size.height, maxPixels)
  try {
    const image = decodeJpeg(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      // Tolerant mode silently skips scan data that falls outside the declared frame: a malformed
      // file, which is exactly what this check exists to report.
      tolerantDecoding: false,
      maxResolutionInMP: maxPixels / 1_000_000,
      maxMemoryUsageInMB: Math.ceil((maxPixels * JPEG_BYTES_PER_PIXEL_BUDGET) / 2 ** 20),
    })
    return { status: 'ok', width: image.width, height: image.height }
  } catch {
    return unreadable('JPEG could not be decoded')
  }
}

/**
 * Width and height from the first SOFn segment, or null if none precedes the scan. Read here so an
 * oversized image is refused with a reason naming the cap before jpeg-js allocates anything; its
 * own resolution limit stays on as a backstop but fails with a generic decoder error.
 */
function jpegFrameSize(bytes: Buffer): { width: number; height: number } | null {
  let offset = 2 // after SOI
  while (offset + 4 <= bytes.length) {
    if (bytes[offset] !== 0xff) return null
    const marker = bytes[offset + 1] ?? 0
    if (marker === 0xff) {
      offset += 1 // fill byte
      continue
    }
    if (marker === 0xda || marker === 0xd9) return null // start of scan, end of image
    const length = bytes.readUInt16BE(offset + 2)
    // SOF0..SOF15, except DHT (C4), JPG (C8) and DAC (CC), which share the range.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (offset + 9 > bytes.length) return null
      return { height: bytes.readUInt16BE(offset + 5), width: bytes.readUInt16BE(offset + 7) }
    }
    offset += 2 + length
  }
  return null
}
