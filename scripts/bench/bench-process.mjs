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

/** BENCH_CPU_PROF=<dir>: node's arguments that make each API process write a CPU profile there. */
export const cpuProfileArgs = () => (process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [])

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
 * CPU time in ms, which holds under load where rates do not: the PostgreSQL backends of `client`'s
 * database (from /proc; a backend that ends between two readings is missed) and the Redis server
 * (INFO cpu). `since(mark)` gives the time spent from the mark on.
 */
export function serverCpu(client, redis) {
  const backends = async () => {
    const { rows } = await client.query('select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()')
    const out = new Map()
    for (const { pid } of rows) {
      try {
        const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
        out.set(pid, ((Number(f[11]) + Number(f[12])) * 1000) / 100)
      } catch {
        // ended, or not on this machine
      }
    }
    return out
  }
  const redisMs = async () => {
    const info = await redis.info('cpu')
    const field = (name) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0)
    return (field('used_cpu_sys') + field('used_cpu_user')) * 1000
  }
  return {
    mark: async () => ({ pg: await backends(), redis: await redisMs() }),
    since: async (before) => {
      let pg = 0
      for (const [pid, ms] of await backends()) pg += ms - (before.pg.get(pid) ?? 0)
      return { pgMs: pg, redisMs: (await redisMs()) - before.redis }
    },
  }
}
