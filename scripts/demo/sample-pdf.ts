// The sample documents of the README walk: one-page PDFs that say they are a demo (no real
// person's data), built from text so the repository holds no binary file. `npm start` writes them
// to .data/demo/ next to the demo keys.

/** The demo documents of the README walk, by file name: one per kind, so no two have the same bytes. */
export const SAMPLE_DOCUMENTS: Readonly<Record<string, readonly string[]>> = {
  'paspoort.pdf': ['Paspoort (voorbeeld) - Passport (sample)', 'Royaume du Maroc, nr. XY0042000, geldig tot 1 mei 2031'],
  'verblijfsvergunning.pdf': ['Verblijfsvergunning (voorbeeld) - Residence permit (sample)', 'IND, verblijfsdocument type III'],
  'geboorteakte.pdf': ['Geboorteakte (voorbeeld) - Birth certificate (sample)', 'Akte nr. 2025/0042, Rabat, 10 juni 2025'],
}

const DEMO_LINE = 'Regiobalie demo document: no real person, not a real record.'

/** A valid one-page PDF (correct xref table) with a few lines of Helvetica. */
export function samplePdf(lines: readonly string[]): Buffer {
  const text = [...lines, DEMO_LINE].map((line, i) => `BT /F1 12 Tf 72 ${760 - i * 20} Td (${line.replace(/[()\\]/g, '\\$&')}) Tj ET`).join('\n')
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [5 0 R] /Count 1 >>',
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
    `<< /Length ${Buffer.byteLength(text, 'latin1')} >>\nstream\n${text}\nendstream`,
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>',
  ]
  let pdf = '%PDF-1.4\n'
  const offsets: number[] = []
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(pdf, 'latin1'))
    pdf += `${i + 1} 0 obj\n${body}\nendobj\n`
  })
  const xrefAt = Buffer.byteLength(pdf, 'latin1')
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`
  for (const offset of offsets) pdf += `${String(offset).padStart(10, '0')} 00000 n \n`
  pdf += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xrefAt}\n%%EOF\n`
  return Buffer.from(pdf, 'latin1')
}
