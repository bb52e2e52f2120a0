// Benchmark: the document-review job on one-page PDFs, beside a bare pdf.js parse loop of the same
// file in the same run. Uploads `--documents` PDFs through the compiled API, then runs the review
// job (dist/workers/document-review.js) on every one of them at the queue's concurrency, and
// reports documents per CPU-second (per core) for both.
//   npm run bench:review [-- --documents 300]
// Goal (issue 13): ≥ 50 documents/s per core.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { freshBenchDatabase, ROOT } from './bench-database.mjs'
import { machineLine, startApi } from './bench-process.mjs'

const { values: args } = parseArgs({ options: { documents: { type: 'string', default: '300' } } })
const DOCUMENTS = Number(args.documents)
const PORT = 3933

/** A one-page PDF with a correct cross-reference table. */
function onePagePdf(n) {
  const objects = ['<< /Type /Catalog /Pages 2 0 R >>', '<< /Type /Pages /Kids [3 0 R] /Count 1 >>', `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Rotate 0 /UserUnit 1 >> % ${n}`]
  let out = '%PDF-1.4\n'
  const offsets = []
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(out, 'latin1'))
    out += `${i + 1} 0 obj\n${body}\nendobj\n`
  })
  const xref = Buffer.byteLength(out, 'latin1')
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`
  return Buffer.from(out, 'latin1')
}

const { config, owner, app, db, demo } = await freshBenchDatabase('regiobalie_bench_review')
const blobDir = mkdtempSync(join(tmpdir(), 'regiobalie-bench-review-'))
const api = await startApi({ port: PORT, owner, app, config, extraEnv: { BLOB_DIR: blobDir } })
const key = demo.members[0].key
const call = async (path, init) => {
  const res = await fetch(`http://127.0.0.1:${PORT}${path}`, { ...init, headers: { authorization: `Bearer ${key}`, ...(init.headers ?? {}) } })
  const body = await res.json()
  if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(body)}`)
  return body
}
const created = await call('/v1/cases', {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ caseType: 'naturalisation', subject: { givenNames: 'Bench', surname: 'Mark', dateOfBirth: '1990-01-01' } }),
})
const ids = []
for (let i = 0; i < DOCUMENTS; i += 1) {
  const form = new FormData()
  form.append('kind', 'birth_certificate')
  form.append('issuingCountry', 'DE')
  form.append('language', 'de')
  form.append('file', new Blob([onePagePdf(i)], { type: 'application/pdf' }), 'akte.pdf')
  ids.push((await call(`/v1/cases/${created.id}/documents`, { method: 'POST', body: form })).id)
}
api.kill('SIGTERM')

const { runDocumentReview } = await import(join(ROOT, 'dist/workers/document-review.js'))
const { FilesystemBlobStore } = await import(join(ROOT, 'dist/api/documents/blob-store.js'))
const { QUEUE_POLICIES } = await import(join(ROOT, 'dist/api/jobs/registry.js'))
const deps = { db, store: new FilesystemBlobStore(blobDir), masterKey: config.blobMasterKey }
const concurrency = QUEUE_POLICIES['document-review'].concurrency

const measure = async (label, n, work) => {
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  await work()
  const seconds = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  const cpuSeconds = (cpu.user + cpu.system) / 1e6
  return { label, n, seconds, cpuSeconds, perCore: n / cpuSeconds, perSecond: n / seconds }
}

// Baseline: pdf.js alone, parsing the same kind of file and loading its page, in a loop.
const { getDocument, VerbosityLevel } = await import('pdfjs-dist/legacy/build/pdf.mjs')
const parseOnce = async (bytes) => {
  const task = getDocument({ data: new Uint8Array(bytes), verbosity: VerbosityLevel.ERRORS, isEvalSupported: false, disableFontFace: true, useWasm: false })
  const doc = await task.promise
  await doc.getPage(1)
  await task.destroy()
}
await parseOnce(onePagePdf(0))
const baseline = await measure('pdf.js parse loop', DOCUMENTS, async () => {
  for (let i = 0; i < DOCUMENTS; i += 1) await parseOnce(onePagePdf(i))
})

let next = 0
const outcomes = new Map()
const platform = await measure('review job', DOCUMENTS, async () => {
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < ids.length) {
        const id = ids[next++]
        const status = await runDocumentReview(deps, { tenantId: demo.hub.id, documentId: id, reviewVersion: 1 })
        outcomes.set(status, (outcomes.get(status) ?? 0) + 1)
      }
    }),
  )
})
await db.destroy()

console.log(machineLine())
for (const r of [baseline, platform]) {
  console.log(`${r.label.padEnd(18)} ${r.n} documents in ${r.seconds.toFixed(2)} s (${r.perSecond.toFixed(1)}/s wall), ${r.cpuSeconds.toFixed(2)} CPU-s: ${r.perCore.toFixed(1)} documents/s per core`)
}
console.log(`outcomes           ${[...outcomes].map(([k, v]) => `${k} ${v}`).join(', ')}`)
console.log(`ratio              review ${(platform.perCore / baseline.perCore).toFixed(3)}× the parse loop per core (goal ≥ 50 documents/s per core)`)
process.exit(0)
