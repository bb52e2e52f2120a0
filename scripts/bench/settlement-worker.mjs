// The settlement worker of bench:settlement, as its own process so its resident memory is its own:
// runs one settlement job as the settlement worker does (SETTLE_LANES batches at once) and prints
// {ms, baselineRssMiB, peakRssMiB} as JSON.
//   node scripts/bench/settlement-worker.mjs <app database url> <hub tenant id> <settlement id> [members per transaction] [lanes]
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { ROOT } from './bench-database.mjs'

const [appUrl, tenantId, settlementId, batch, lanes] = process.argv.slice(2)
const { createDb } = await import(join(ROOT, 'dist/api/db/database.js'))
const { runSettlement, SETTLE_LANES } = await import(join(ROOT, 'dist/api/settlement/settlement.service.js'))
const laneCount = lanes ? Number(lanes) : SETTLE_LANES
const db = createDb(appUrl, { max: Math.max(2, laneCount) })
const mib = (b) => b / 2 ** 20
const baseline = process.memoryUsage().rss
let peak = baseline
const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20)
const t0 = performance.now()
const result = await runSettlement(db, { tenantId, settlementId }, { lanes: laneCount, ...(batch ? { batchSize: Number(batch) } : {}) })
const ms = performance.now() - t0
clearInterval(timer)
peak = Math.max(peak, process.memoryUsage().rss)
await db.destroy()
console.log(JSON.stringify({ ms, settled: result.settled, baselineRssMiB: mib(baseline), peakRssMiB: mib(peak) }))
