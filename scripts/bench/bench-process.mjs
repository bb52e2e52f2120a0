// Pieces the benchmarks share: the machine line, percentiles, the compiled API as its own process,
// and pgbench as the baseline that runs on the same PostgreSQL in the same run.
import { spawn, execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { ROOT } from './bench-database.mjs'

export const machineLine = () =>
  `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`

export const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** BENCH_CPU_PROF=<dir>: where the benchmarks write CPU profiles; null when unset. */
export const cpuProfileDir = () => process.env.BENCH_CPU_PROF || null

/** node's arguments that make each API process write a CPU profile to cpuProfileDir(). */
export const cpuProfileArgs = () => {
  const dir = cpuProfileDir()
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : []
}

/** Starts the compiled API on `port` and waits until /healthz answers. */
export async function startApi({ port, owner, app, config, extraEnv = {}, nodeArgs = [], startTimeoutMs = 180_000 }) {
  const child = spawn(process.execPath, [...nodeArgs, join(ROOT, 'dist/api/http/server.js')], {
    env: {
      // A benchmark database is a demo database: the fixed development keys unless set.
      DEMO_KEYS: 'on',
      ...process.env,
      PORT: String(port),
      DATABASE_URL: owner,
      APP_DATABASE_URL: app,
      REDIS_URL: config.redisUrl,
      BLOB_DIR: mkdtempSync(join(tmpdir(), 'regiobalie-bench-')),
      LOG_LEVEL: 'warn',
      RATE_LIMIT_PER_MINUTE: '1000000',
      ...extraEnv,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  // Startup compiles every route's schemas: on a loaded machine that takes tens of seconds.
  const deadline = Date.now() + startTimeoutMs
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`)
      if (res.ok) return child
    } catch {
      // not listening yet
    }
    await sleep(50)
  }
  child.kill('SIGKILL')
  throw new Error('the API did not start')
}

/**
 * pgbench on `url` with a custom script: `clients` connections for `seconds`. Returns transactions
 * per second and the average latency in ms, as pgbench reports them.
 */
export function pgbench(url, script, { clients = 32, seconds = 10, threads = 2 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'regiobalie-pgbench-'))
  const file = join(dir, 'script.sql')
  writeFileSync(file, script)
  const out = execFileSync('pgbench', ['-n', '-c', String(clients), '-j', String(threads), '-T', String(seconds), '-f', file, url], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const tps = Number(/tps = ([\d.]+)/.exec(out)?.[1])
  const latency = Number(/latency average = ([\d.]+) ms/.exec(out)?.[1])
  return { tps, latencyMs: latency, raw: out }
}

/**
 * The CPU times in ms in a /proc stat file (`/proc/<pid>/stat`, or a thread's
 * `/proc/<pid>/task/<tid>/stat`): user and system (fields 14 and 15) and those of its waited-for
 * children (16 and 17), in clock ticks of 10 ms. Unlike rates, CPU time holds on a loaded machine.
 * Null once the process is gone (or not on this machine).
 */
function procTimesMs(statPath) {
  try {
    const fields = readFileSync(statPath, 'utf8').split(') ')[1].split(' ')
    const [user, system, childrenUser, childrenSystem] = fields.slice(11, 15).map((ticks) => Number(ticks) * 10)
    return { user, system, childrenUser, childrenSystem }
  } catch {
    return null
  }
}

/** CPU time (user + system) in ms from a /proc stat file; null once the process is gone. */
export function procCpuMs(statPath) {
  const t = procTimesMs(statPath)
  return t && t.user + t.system
}

/** The kernel's part (system time) in ms of a process's CPU time, by pid; 0 once it is gone. */
export const pidSystemCpuMs = (pid) => procTimesMs(`/proc/${pid}/stat`)?.system ?? 0

/** CPU time in ms of this process's waited-for children (a load generator it ran, such as wrk). */
export function childrenCpuMs() {
  const t = procTimesMs('/proc/self/stat')
  return t ? t.childrenUser + t.childrenSystem : 0
}

/** CPU time in ms of a process by pid; 0 once it is gone. */
export const pidCpuMs = (pid) => procCpuMs(`/proc/${pid}/stat`) ?? 0

/**
 * CPU time in ms of the PostgreSQL backends of `client`'s database (but the client's own), by pid,
 * or of those whose application_name is `applicationName`. A backend that ends between two
 * readings is missed.
 */
export async function backendCpuMs(client, applicationName = null) {
  const { rows } = await client.query(
    `select pid, application_name from pg_stat_activity
     where datname = current_database() and pid <> pg_backend_pid() and ($1::text is null or application_name = $1)`,
    [applicationName],
  )
  const out = new Map()
  for (const { pid, application_name } of rows) {
    const ms = procCpuMs(`/proc/${pid}/stat`)
    if (ms !== null) out.set(pid, { ms, applicationName: application_name })
  }
  return out
}

/** The CPU time spent between two backendCpuMs readings, summed over the backends. */
export function cpuSpent(before, after) {
  let ms = 0
  for (const [pid, now] of after) ms += now.ms - (before.get(pid)?.ms ?? 0)
  return ms
}

/** The CPU time spent since `before` (a backendCpuMs reading), summed. */
export const backendCpuSince = async (client, before, applicationName = null) => cpuSpent(before, await backendCpuMs(client, applicationName))

/**
 * CPU time in ms of the database's PostgreSQL backends (backendCpuMs) and of the Redis server
 * (INFO cpu). `since(mark)` gives the time spent from the mark on.
 */
export function serverCpu(client, redis) {
  const redisMs = async () => {
    const info = await redis.info('cpu')
    const field = (name) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0)
    return (field('used_cpu_sys') + field('used_cpu_user')) * 1000
  }
  return {
    mark: async () => ({ pg: await backendCpuMs(client), redis: await redisMs() }),
    since: async (before) => ({ pgMs: await backendCpuSince(client, before.pg), redisMs: (await redisMs()) - before.redis }),
  }
}
