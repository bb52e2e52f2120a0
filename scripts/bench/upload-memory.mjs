// Benchmark: memory and throughput of the API process while 50 clients upload 8 MiB documents at
// once, beside `dd` writing the same number of bytes with fdatasync to the same disk in the same run.
// The upload streams (sniff → hash → encrypt → disk), so the API's resident memory should grow by
// far less than the 160 MiB in flight. Runs the compiled API as its own process on a fresh
// database (regiobalie_bench) and samples its RSS from /proc every 20 ms.
//   npm run bench:upload [-- --clients 50 --mib 8]
// Goals (issue 13): ≤ 64 MiB RSS growth, ≥ 0.5× the dd rate.   (PostgreSQL and Redis running; builds first)
// The database server and Redis are those of the platform's configuration (api/config.ts).
import { spawn, spawnSync } from 'node:child_process'
import { readFileSync, mkdtempSync, rmSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { freshBenchDatabase, ROOT } from './bench-database.mjs'
import { machineLine } from './bench-process.mjs'

const { values: args } = parseArgs({ options: { clients: { type: 'string', default: '50' }, mib: { type: 'string', default: '8' } } })
const CLIENTS = Number(args.clients)
const FILE_BYTES = Number(args.mib) * 1024 * 1024
const PORT = 3917

const { config, owner, app, db, demo } = await freshBenchDatabase('regiobalie_bench')
await db.destroy()
const member = demo.members[0]

const blobDir = mkdtempSync(join(tmpdir(), 'regiobalie-bench-'))

// Baseline: dd writes the same bytes to the same filesystem and waits for them to reach the disk.
const ddOut = spawnSync('dd', ['if=/dev/zero', `of=${join(blobDir, 'dd.bin')}`, 'bs=1M', `count=${Math.round((CLIENTS * FILE_BYTES) / 2 ** 20)}`, 'conv=fdatasync'], {
  encoding: 'utf8',
}).stderr
const ddMatch = /copied, ([\d.]+) s/.exec(ddOut)
const ddMiBps = (CLIENTS * FILE_BYTES) / 2 ** 20 / Number(ddMatch?.[1])
rmSync(join(blobDir, 'dd.bin'))
const api = spawn(process.execPath, [join(ROOT, 'dist/api/http/server.js')], {
  env: { DEMO_KEYS: 'on', PORT: String(PORT), DATABASE_URL: owner, APP_DATABASE_URL: app, REDIS_URL: config.redisUrl, BLOB_DIR: blobDir, LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '100000' },
  stdio: ['ignore', 'inherit', 'inherit'],
})
const rssMiB = () => {
  const status = readFileSync(`/proc/${api.pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024
}
const call = (method, path, body, headers = {}) =>
  new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: PORT, method, path, headers: { authorization: `Bearer ${member.key}`, ...headers } }, (res) => {
      let text = ''
      res.on('data', (d) => (text += d))
      res.on('end', () => resolve({ status: res.statusCode, body: text }))
    })
    req.on('error', reject)
    if (typeof body === 'function') body(req)
    else req.end(body)
  })

for (let i = 0; i < 100; i += 1) {
  try {
    if ((await call('GET', '/healthz')).status === 200) break
  } catch {
    await new Promise((r) => setTimeout(r, 100))
  }
}
const created = await call(
  'POST',
  '/v1/cases',
  JSON.stringify({ caseType: 'naturalisation', subject: { givenNames: 'Bench', surname: 'Mark', dateOfBirth: '1990-01-01' } }),
  { 'content-type': 'application/json' },
)
const caseId = JSON.parse(created.body).id

/** Streams a multipart body whose file is FILE_BYTES of a valid PNG signature plus filler. */
const upload = () => {
  const boundary = `bench${Math.random().toString(16).slice(2)}`
  const head =
    ['kind', 'issuingCountry', 'language'].map((f, i) => `--${boundary}\r\nContent-Disposition: form-data; name="${f}"\r\n\r\n${['passport', 'NL', 'nl'][i]}\r\n`).join('') +
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="scan.png"\r\nContent-Type: image/png\r\n\r\n`
  const tail = `\r\n--${boundary}--\r\n`
  const chunk = Buffer.alloc(64 * 1024, 7)
  return call('POST', `/v1/cases/${caseId}/documents`, (req) => {
    req.setHeader('content-type', `multipart/form-data; boundary=${boundary}`)
    req.write(head)
    req.write(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
    let sent = 8
    const pump = () => {
      while (sent < FILE_BYTES) {
        const n = Math.min(chunk.length, FILE_BYTES - sent)
        sent += n
        if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return req.once('drain', pump)
      }
      req.end(tail)
    }
    pump()
  })
}

await upload() // warm-up: code paths loaded, pools connected
const baseline = rssMiB()
let peak = baseline
const sampler = setInterval(() => (peak = Math.max(peak, rssMiB())), 20)
const started = Date.now()
const results = await Promise.all(Array.from({ length: CLIENTS }, upload))
const seconds = (Date.now() - started) / 1000
clearInterval(sampler)
const after = rssMiB()
api.kill('SIGTERM')
rmSync(blobDir, { recursive: true, force: true })

const ok = results.filter((r) => r.status === 201).length
console.log(machineLine())
console.log(`baseline: dd with fdatasync ${ddMiBps.toFixed(0)} MiB/s`)
console.log(`uploads: ${ok}/${CLIENTS} × ${(FILE_BYTES / 2 ** 20).toFixed(0)} MiB accepted in ${seconds.toFixed(2)} s (${((CLIENTS * FILE_BYTES) / 2 ** 20 / seconds).toFixed(0)} MiB/s)`)
console.log(`api RSS: baseline ${baseline.toFixed(0)} MiB, peak ${peak.toFixed(0)} MiB (+${(peak - baseline).toFixed(0)} MiB for ${((CLIENTS * FILE_BYTES) / 2 ** 20).toFixed(0)} MiB in flight), after ${after.toFixed(0)} MiB`)
console.log(`ratio: ${(((CLIENTS * FILE_BYTES) / 2 ** 20 / seconds) / ddMiBps).toFixed(3)}× dd (goal ≥ 0.5×), RSS growth ${(peak - baseline).toFixed(0)} MiB (goal ≤ 64 MiB)`)
if (ok !== CLIENTS) process.exitCode = 1
