// The README walk's sample document is a real PDF by the same checks the upload and review apply.
import { describe, expect, it } from 'vitest'
import { checkIntegrity } from '../../api/documents/integrity.js'
import { sniffContentType } from '../../api/documents/sniff.js'
import { SAMPLE_DOCUMENTS, samplePdf } from '../../scripts/demo/sample-pdf.js'

describe('the demo sample PDFs', () => {
  it('are each sniffed as a PDF and read as one intact page, and differ from each other', async () => {
    const pdfs = Object.values(SAMPLE_DOCUMENTS).map((lines) => samplePdf(lines))
    expect(pdfs).toHaveLength(3)
    for (const pdf of pdfs) {
      expect(pdf.length).toBeLessThan(2048)
      expect(sniffContentType(pdf.subarray(0, 8))).toBe('application/pdf')
      expect(await checkIntegrity('application/pdf', pdf)).toEqual({ status: 'ok', pages: 1 })
    }
    expect(new Set(pdfs.map((pdf) => pdf.toString('latin1'))).size).toBe(3)
  })

  it('stays intact with text that needs escaping', async () => {
    expect(await checkIntegrity('application/pdf', samplePdf(['Akte (kopie) \\ 2025']))).toEqual({ status: 'ok', pages: 1 })
  })
})
