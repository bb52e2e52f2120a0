import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { ALLOWED_CONTENT_TYPES, SNIFF_BYTES, sanitiseFilename, sniffContentType } from '../../api/documents/sniff.js'

const bytes = (...values: number[]): Buffer => Buffer.from(values)

describe('sniffContentType', () => {
  it('recognises the three allowed types by their magic bytes', () => {
    expect(sniffContentType(Buffer.from('%PDF-1.7\n'))).toBe('application/pdf')
    expect(sniffContentType(bytes(0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46))).toBe('image/jpeg')
    expect(sniffContentType(bytes(0xff, 0xd8, 0xff))).toBe('image/jpeg')
    expect(sniffContentType(bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a))).toBe('image/png')
  })

  it('looks at magic bytes only: a PDF header followed by garbage is still a PDF', () => {
    const garbage = Buffer.concat([Buffer.from('%PDF-'), bytes(0x00, 0xff, 0x13, 0x37, 0xde, 0xad)])
    expect(sniffContentType(garbage)).toBe('application/pdf')
  })

  it('needs no more than SNIFF_BYTES to decide', () => {
    expect(SNIFF_BYTES).toBe(8)
    const png = bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d)
    expect(sniffContentType(png.subarray(0, SNIFF_BYTES))).toBe('image/png')
  })

  it.each([
    ['GIF', Buffer.from('GIF89a\x01\x00', 'latin1')],
    ['ZIP (and so docx)', bytes(0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00)],
    ['HTML', Buffer.from('<!doctype html><script>')],
    ['empty', Buffer.alloc(0)],
    ['a PDF magic that is cut short', Buffer.from('%PDF')],
    ['a PNG magic that is cut short', bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a)],
    ['lower-case %pdf-', Buffer.from('%pdf-1.4')],
    ['leading whitespace before %PDF-', Buffer.from(' %PDF-1.4')],
    ['two JPEG bytes', bytes(0xff, 0xd8)],
  ])('refuses %s', (_label, head) => {
    expect(sniffContentType(head)).toBeNull()
  })

  it('only ever answers with an allowed type or null', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 16 }), (head) => {
        const type = sniffContentType(Buffer.from(head))
        expect(type === null || ALLOWED_CONTENT_TYPES.includes(type)).toBe(true)
      }),
    )
  })
})

describe('sanitiseFilename', () => {
  it.each([
    [undefined, 'document'],
    ['', 'document'],
    ['paspoort.pdf', 'paspoort.pdf'],
    ['scan 2024-01-05_v2.PNG', 'scan 2024-01-05_v2.PNG'],
    ['../../etc/passwd', 'passwd'],
    ['..\\..\\windows\\system.ini', 'system.ini'],
    ['C:\\fakepath\\akte.pdf', 'akte.pdf'],
    ['/etc/', 'etc'],
    ['..', 'document'],
    ['...', 'document'],
    ['"a\r\nb".pdf', 'ab.pdf'],
    ['a"; filename*=evil.exe', 'a_ filename_evil.exe'],
    ['.hidden', 'hidden'],
    ['..hidden.pdf', 'hidden.pdf'],
    ['report.pdf.', 'report.pdf'],
    ['één akte.pdf', 'een akte.pdf'],
    ['Ærø façade naïve.jpg', '_r_ facade naive.jpg'],
    ['日本語.pdf', '_.pdf'],
    ['\u202Egpj.exe', 'gpj.exe'],
    ['nul\u0000byte.pdf', 'nulbyte.pdf'],
    ['a    b.pdf', 'a b.pdf'],
  ])('%j becomes %j', (input, expected) => {
    expect(sanitiseFilename(input)).toBe(expected)
  })

  it('caps very long names at 120 characters and keeps the extension', () => {
    const name = sanitiseFilename(`${'a'.repeat(500)}.pdf`)
    expect(name).toHaveLength(120)
    expect(name.endsWith('.pdf')).toBe(true)
    expect(sanitiseFilename('b'.repeat(500))).toBe('b'.repeat(120))
  })

  it('always yields a short, non-empty name in the safe alphabet without a leading dot', () => {
    fc.assert(
      fc.property(fc.option(fc.string({ unit: 'binary', maxLength: 300 }), { nil: undefined }), (input) => {
        const name = sanitiseFilename(input)
        expect(name).toMatch(/^[A-Za-z0-9._ -]{1,120}$/)
        expect(name.startsWith('.')).toBe(false)
        expect(name).not.toMatch(/[. ]$/)
        expect(sanitiseFilename(name)).toBe(name)
      }),
      { numRuns: 500 },
    )
  })
})
