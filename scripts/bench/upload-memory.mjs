// Benchmark: memory and throughput of the API process while 50 clients upload 8 MiB documents at
// once, beside `dd` writing the same number of bytes with fdatasync to the same disk in the same run.
// The upload streams (sniff → hash → encrypt → disk), so the API's resident memory should grow by
// far less than the 160 MiB in flight. Runs the compiled API as its own process on a fresh
// database (regiobalie_bench) and samples its RSS from /proc every 20 ms.
//   npm run bench:upload [-- --clients 50 --mib 8] [--processes 2] [--warmup 1] [--profile DIR] [--perf FILE]
//   --processes N: N API processes sharing the port (API_PROCESSES, node:cluster); RSS and CPU are
//   then summed over all of them and their primary
//   --api-node-args '--trace-gc …': extra node flags for the API process
//   --profile: node --cpu-prof of the API into DIR; --perf: `perf record -g` of the API during the
//   measured uploads only, into FILE (set NODE_OPTIONS=--perf-basic-prof for JavaScript names)
// Goals (issue 13): ≤ 64 MiB RSS growth, ≥ 0.5× the dd rate.   (PostgreSQL and Redis running; builds first)
// The database server and Redis are those of the platform's configuration (api/config.ts).
import { spawn, spawnSync } from 'node:child_process'
import { readFileSync, mkdtempSync, rmSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { parseArgs } from 'node:util'
import { freshBenchDatabase, ROOT } from './bench-database.mjs'
import { cpuProfileArgs, machineLine, procCpuMs, startApi } from './bench-process.mjs'

const { values: args } = parseArgs({
  options: {
    clients: { type: 'string', default: '50' },
    mib: { type: 'string', default: '8' },
    processes: { type: 'string', default: '1' },
    warmup: { type: 'string', default: '1' },
    profile: { type: 'string' },
    perf: { type: 'string' },
    'api-node-args': { type: 'string', default: '' },
  },
})
const CLIENTS = Number(args.clients)
const PROCESSES = Number(args.processes)
const FILE_BYTES = Number(args.mib) * 1024 * 1024
const PORT = 3917

const { config, owner, app, db, demo } = await freshBenchDatabase('regiobalie_bench')
await db.destroy()
const member = demo.members[0]

const blobDir = mkdtempSync(join(tmpdir(), 'regiobalie-bench-'))

const TOTAL_MIB = (CLIENTS * FILE_BYTES) / 2 ** 20
const seconds = (hr) => Number(process.hrtime.bigint() - hr) / 1e9
const ddSeconds = (out) => Number(/copied, ([\d.]+) s/.exec(out)?.[1])

// Baseline (the goal's): dd writes the same bytes to the same filesystem, 1 MiB blocks, and waits
// for them to reach the disk (one fdatasync at the end, as each upload does for its blob).
const ddMiBps = TOTAL_MIB / ddSeconds(spawnSync('dd', ['if=/dev/zero', `of=${join(blobDir, 'dd.bin')}`, 'bs=1M', `count=${Math.round(TOTAL_MIB)}`, 'conv=fdatasync'], { encoding: 'utf8' }).stderr)
rmSync(join(blobDir, 'dd.bin'))
// For comparison, shaped like the uploads: one dd per client at once, each its own file of the
// upload's size in 64 KiB blocks, each with its own fdatasync.
const ddFiles = async () => {
  const started = process.hrtime.bigint()
  await Promise.all(
    Array.from({ length: CLIENTS }, (_, i) => new Promise((resolve) => {
      const dd = spawn('dd', ['if=/dev/zero', `of=${join(blobDir, `dd-${i}.bin`)}`, 'bs=64K', `count=${FILE_BYTES / 65536}`, 'conv=fdatasync'], { stdio: 'ignore' })
      dd.once('exit', resolve)
    })),
  )
  const s = seconds(started)
  for (let i = 0; i < CLIENTS; i += 1) rmSync(join(blobDir, `dd-${i}.bin`))
  return TOTAL_MIB / s
}
const ddFilesMiBps = await ddFiles()

// The upload pipeline alone (sniff, hash, encrypt, blob store with its fdatasync), in this process,
// the same files at the same concurrency: what the HTTP and multipart handling add comes on top.
const pipelineAlone = async () => {
  const { storeEncrypted } = await import(join(ROOT, 'dist/api/documents/upload-pipeline.js'))
  const { FilesystemBlobStore } = await import(join(ROOT, 'dist/api/documents/blob-store.js'))
  const store = new FilesystemBlobStore(join(blobDir, 'pipeline-alone'))
  const chunk = Buffer.alloc(64 * 1024, 7)
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(chunk)
  const file = () => Readable.from((function* () {
    for (let sent = 0; sent < FILE_BYTES; sent += chunk.length) yield Buffer.from(chunk.subarray(0, Math.min(chunk.length, FILE_BYTES - sent)))
  })(), { objectMode: false })
  const started = process.hrtime.bigint()
  const cpu = process.cpuUsage()
  await Promise.all(Array.from({ length: CLIENTS }, () => storeEncrypted(store, file(), config.blobMasterKey)))
  const s = seconds(started)
  const used = process.cpuUsage(cpu)
  rmSync(join(blobDir, 'pipeline-alone'), { recursive: true, force: true })
  return { MiBps: TOTAL_MIB / s, cpuMsPerMiB: (used.user + used.system) / 1000 / TOTAL_MIB }
}
const alone = await pipelineAlone()

const api = await startApi({
  port: PORT,
  owner,
  app,
  config,
  extraEnv: { BLOB_DIR: blobDir, API_PROCESSES: String(PROCESSES) },
  nodeArgs: [...(args.profile ? ['--cpu-prof', `--cpu-prof-dir=${args.profile}`] : cpuProfileArgs()), ...args['api-node-args'].split(' ').filter(Boolean)],
})
// However the run ends, the API does not outlive it (it shares our stdout).
process.on('exit', () => api.kill('SIGKILL'))
// With --processes > 1 the API is a primary and its forked processes: every figure is their sum.
const apiPids = () => {
  const children = readFileSync(`/proc/${api.pid}/task/${api.pid}/children`, 'utf8').trim()
  return [api.pid, ...(children ? children.split(' ').map(Number) : [])]
}
const rssOf = (pid) => {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024
  } catch {
    return 0
  }
}
const rssMiB = () => apiPids().reduce((sum, pid) => sum + rssOf(pid), 0)
// CPU seconds (user + system) of the whole API process and of its main thread (the event loop):
// unlike wall time, these hold on a loaded machine.
const cpuSeconds = (statPath) => (procCpuMs(statPath) ?? 0) / 1000
const apiCpu = () => {
  const pids = apiPids()
  return {
    all: pids.reduce((sum, pid) => sum + cpuSeconds(`/proc/${pid}/stat`), 0),
    main: pids.reduce((sum, pid) => sum + cpuSeconds(`/proc/${pid}/task/${pid}/stat`), 0),
  }
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
    // A form's length is known up front: browsers and curl send Content-Length, not chunks.
    req.setHeader('content-length', Buffer.byteLength(head) + FILE_BYTES + Buffer.byteLength(tail))
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

// Warm-up: code paths loaded, pools connected (with several processes, one upload each at least).
// The primary hands connections out round-robin, so a round of PROCESSES uploads reaches each one.
for (let i = 0; i < Number(args.warmup); i += 1) await Promise.all(Array.from({ length: PROCESSES }, upload))
if (PROCESSES > 1 && apiPids().length !== PROCESSES + 1) throw new Error(`expected ${PROCESSES} API processes, found ${apiPids().length - 1}`)
const baseline = rssMiB()
let peak = baseline
const sampler = setInterval(() => (peak = Math.max(peak, rssMiB())), 20)
const perf = args.perf ? spawn('perf', ['record', '-g', '-F', '999', '-p', apiPids().join(','), '-o', args.perf], { stdio: 'ignore' }) : null
if (perf) await new Promise((r) => setTimeout(r, 500))
const started = process.hrtime.bigint()
const cpuBefore = apiCpu()
const clientBefore = process.cpuUsage()
const results = await Promise.all(Array.from({ length: CLIENTS }, upload))
const uploadSeconds = seconds(started)
clearInterval(sampler)
const cpuAfter = apiCpu()
if (perf) {
  perf.kill('SIGINT')
  await new Promise((r) => perf.once('exit', r))
}
const client = process.cpuUsage(clientBefore)
const after = rssMiB()
// SIGTERM: a clean exit, so that --cpu-prof writes its profile.
api.kill('SIGTERM')
await new Promise((r) => api.once('exit', r))
rmSync(blobDir, { recursive: true, force: true })

const perMiB = (secondsOfCpu) => ((secondsOfCpu * 1000) / TOTAL_MIB).toFixed(2)
const uploadMiBps = TOTAL_MIB / uploadSeconds
const ok = results.filter((r) => r.status === 201).length
console.log(machineLine())
console.log(`baseline: dd with fdatasync ${ddMiBps.toFixed(0)} MiB/s (one ${TOTAL_MIB.toFixed(0)} MiB file, bs=1M); for comparison ${CLIENTS} dd at once, a ${(FILE_BYTES / 2 ** 20).toFixed(0)} MiB file each: ${ddFilesMiBps.toFixed(0)} MiB/s`)
console.log(`pipeline alone (no HTTP, ${CLIENTS} at once, in the bench process): ${alone.MiBps.toFixed(0)} MiB/s, ${alone.cpuMsPerMiB.toFixed(2)} ms CPU per MiB`)
console.log(`uploads (${PROCESSES} API process${PROCESSES > 1 ? 'es' : ''}): ${ok}/${CLIENTS} × ${(FILE_BYTES / 2 ** 20).toFixed(0)} MiB accepted in ${uploadSeconds.toFixed(2)} s (${uploadMiBps.toFixed(0)} MiB/s)`)
console.log(`api RSS${PROCESSES > 1 ? ` (summed over the primary and ${PROCESSES} processes)` : ''}: baseline ${baseline.toFixed(0)} MiB, peak ${peak.toFixed(0)} MiB (+${(peak - baseline).toFixed(0)} MiB for ${TOTAL_MIB.toFixed(0)} MiB in flight), after ${after.toFixed(0)} MiB`)
console.log(
  `cpu per MiB: api${PROCESSES > 1 ? ` (${PROCESSES} processes)` : ''} ${perMiB(cpuAfter.all - cpuBefore.all)} ms (event loop thread ${perMiB(cpuAfter.main - cpuBefore.main)} ms, other threads ${perMiB(cpuAfter.all - cpuBefore.all - (cpuAfter.main - cpuBefore.main))} ms), bench client ${perMiB((client.user + client.system) / 1e6)} ms`,
)
console.log(`ratio: ${(uploadMiBps / ddMiBps).toFixed(3)}× dd (goal ≥ 0.5×), RSS growth ${(peak - baseline).toFixed(0)} MiB (goal ≤ 64 MiB)`)
if (ok !== CLIENTS) {
  // Which refusals (status and problem code), never the bodies' other content.
  const refused = new Map()
  for (const r of results.filter((x) => x.status !== 201)) {
    let code = ''
    try {
      code = JSON.parse(r.body).code ?? ''
    } catch {
      // not JSON
    }
    const key = `${r.status} ${code}`.trim()
    refused.set(key, (refused.get(key) ?? 0) + 1)
  }
  console.log(`refused: ${[...refused].map(([k, n]) => `${n}× ${k}`).join(', ')}`)
  process.exitCode = 1
}
