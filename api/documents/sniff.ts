// What an upload *is* comes from its first bytes, never from the client's Content-Type or file
// extension (STYLE.md, "trusting the client's content type or file name"). Only the allow-list
// below is accepted; anything else is refused with 415 before it reaches the blob store.

export const ALLOWED_CONTENT_TYPES = ['application/pdf', 'image/jpeg', 'image/png'] as const

export type AllowedContentType = (typeof ALLOWED_CONTENT_TYPES)[number]

/** How many leading bytes the upload path must collect before it can call `sniffContentType`. */
export const SNIFF_BYTES = 8

const SIGNATURES: ReadonlyArray<{ contentType: AllowedContentType; magic: Buffer }> = [
  { contentType: 'application/pdf', magic: Buffer.from('%PDF-', 'latin1') },
  { contentType: 'image/jpeg', magic: Buffer.from([0xff, 0xd8, 0xff]) },
  { contentType: 'image/png', magic: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) },
]

/**
 * Magic bytes only: a `%PDF-` header followed by garbage is still `application/pdf`. Whether the
 * file is readable is the review worker's question (`unreadable-file`), not the upload's.
 */
export function sniffContentType(head: Buffer): AllowedContentType | null {
  for (const { contentType, magic } of SIGNATURES) {
    if (head.length >= magic.length && head.subarray(0, magic.length).equals(magic)) return contentType
  }
  return null
}

const MAX_FILENAME_LENGTH = 120
const FALLBACK_FILENAME = 'document'
// An extension longer than this is more likely part of the name than a real extension.
const MAX_KEPT_EXTENSION = 16

/**
 * The client's file name is kept only as a label (shown in lists, used in Content-Disposition);
 * blobs are stored under server ids. Reducing it to [A-Za-z0-9._ -] means it can never carry a
 * path, a header-splitting CR/LF, a quote that breaks out of `filename="…"`, or a right-to-left
 * override that disguises `exe.pdf` as `fdp.exe`.
 */
export function sanitiseFilename(name: string | undefined): string {
  if (name === undefined) return FALLBACK_FILENAME
  // Browsers on Windows have sent full paths (C:\fakepath\…); only the last segment is a name.
  const segments = name.split(/[/\\]/).filter((s) => s.trim() !== '')
  const last = segments.at(-1) ?? ''
  const cleaned = last
    // Decompose so accented letters keep their base letter (één → een) instead of vanishing.
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    // Control and format characters (CR, LF, NUL, bidi overrides) and quotes are dropped outright:
    // replacing them would leave traces such as `a__b` of something that was never a character.
    .replace(/[\p{Cc}\p{Cf}"'`]/gu, '')
    .replace(/[^A-Za-z0-9._ -]/g, '_')
    .replace(/_{2,}/g, '_')
    .replace(/ {2,}/g, ' ')
    // Leading dots would make a hidden file (or `..`) when someone saves it; trailing dots and
    // spaces are silently dropped by Windows, changing the name.
    .replace(/^[. ]+/, '')
    .replace(/[. ]+$/, '')
  const shortened = truncateKeepingExtension(cleaned, MAX_FILENAME_LENGTH).replace(/[. ]+$/, '')
  return shortened === '' ? FALLBACK_FILENAME : shortened
}

function truncateKeepingExtension(name: string, max: number): string {
  if (name.length <= max) return name
  const dot = name.lastIndexOf('.')
  const extension = dot > 0 ? name.slice(dot) : ''
  if (extension.length === 0 || extension.length > MAX_KEPT_EXTENSION) return name.slice(0, max)
  const stem = name.slice(0, max - extension.length).replace(/[. ]+$/, '')
  return stem === '' ? name.slice(0, max) : stem + extension
}

const EXTENSION_OF: Readonly<Record<AllowedContentType, string>> = { 'application/pdf': 'pdf', 'image/jpeg': 'jpg', 'image/png': 'png' }

/**
 * The stored and downloaded name (issue 9): the sanitised client name, its extension replaced by
 * the one of the sniffed type, and no other dot left in the stem — so `invoice.pdf.exe`,
 * `page.html` or `run.bat` can never come back out under an extension a desktop would execute or
 * a browser render: they become `invoice_pdf.pdf`, `page.pdf`, `run.pdf`.
 */
export function downloadFilename(clientName: string | undefined, contentType: AllowedContentType): string {
  const clean = sanitiseFilename(clientName)
  const dot = clean.lastIndexOf('.')
  const stem = (dot > 0 ? clean.slice(0, dot) : clean).replace(/\./g, '_').replace(/[ _]+$/, '')
  const extension = EXTENSION_OF[contentType]
  const max = MAX_FILENAME_LENGTH - extension.length - 1
  return `${(stem === '' ? FALLBACK_FILENAME : stem.slice(0, max).replace(/[ _]+$/, '') || FALLBACK_FILENAME)}.${extension}`
}
