// PostgreSQL restarting is survived (issue 9). A throwaway cluster (initdb on a free port, migrated
// with the project's migrate) is restarted under load and then frozen with SIGSTOP, while the API
// and the workers run as real processes against it. Neither exits; requests answer 201 or a clean
// 503, never a 500 or a dropped connection; /readyz is 503 during the outage and 200 within 10 s
// after; the relay and the workers resume by themselves; nothing is lost or doubled.
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDb, type Db } from '../../api/db/database.js'
import { migrate } from '../../scripts/migrate.js'
import { run, until, type Proc } from '../e2e/helpers.js'
import { newAdminKey, newRegion, type RegionFixture } from '../helpers/builders.js'
import { caseBody } from '../helpers/case-builders.js'
import { APP_PASSWORD, APP_USER, REDIS_URL, TEST_KEYS } from '../helpers/env.js'
import { freePort, startPostgres, type PostgresServer } from './servers.js'

let pg: PostgresServer
let db: Db
let owner: Db
let region: RegionFixture
let blobDir: string
let api: Proc
let workers: Proc
let apiUrl: string
let workersHealth: string
const prefix = `{rbfault-pg-${randomUUID()}}`

beforeAll(async () => {
  pg = await startPostgres()
  const ownerUrl = pg.url('regiobalie')
  const appUrl = pg.url('regiobalie', APP_USER, APP_PASSWORD)
  await migrate(ownerUrl, appUrl)
  db = createDb(appUrl, { max: 3 })
  owner = createDb(ownerUrl, { max: 2 })
  await newAdminKey(db)
  region = await newRegion(db)
  blobDir = await mkdtemp(join(tmpdir(), 'rb-fault-pg-blobs-'))
  const [port, metricsPort] = [await freePort(), await freePort()]
  const env = {
    DATABASE_URL: ownerUrl,
    APP_DATABASE_URL: appUrl,
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    BLOB_DIR: blobDir,
    PORT: String(port),
    LOG_LEVEL: 'warn',
    RATE_LIMIT_PER_MINUTE: '1000000',
    DB_CONNECT_TIMEOUT_MS: '1000',
    DB_STATEMENT_TIMEOUT_MS: '2000',
    ...TEST_KEYS,
  }
  apiUrl = `http://127.0.0.1:${port}`
  workersHealth = `http://127.0.0.1:${metricsPort}`
  api = run('api/http/server.js', env)
  workers = run('workers/main.js', { ...env, WORKERS_METRICS_PORT: String(metricsPort), PORT: '0' })
  await until('the API to be ready', async () => (await fetch(`${apiUrl}/readyz`)).ok)
  await until('the workers to be up', async () => (await fetch(`${workersHealth}/healthz`)).ok)
}, 120_000)

afterAll(async () => {
  for (const p of [api, workers]) if (p && p.child.exitCode === null) p.child.kill('SIGKILL')
  await Promise.all([api?.exited, workers?.exited])
  await db?.destroy()
  await owner?.destroy()
  await pg?.stop()
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null })
  for (const name of ['case-intake', 'document-review', 'notifications', 'maintenance']) {
    const q = new Queue(name, { connection: redis, prefix })
    await q.obliterate({ force: true }).catch(() => undefined)
    await q.close()
  }
  redis.disconnect()
  if (blobDir) await rm(blobDir, { recursive: true, force: true })
}, 60_000)

interface Outcome {
  status: number | 'network-error'
  code?: string
  caseId?: string
  ms: number
}

/** Submits cases from `lanes` loops until stopped; every answer is kept. */
function load(lanes: number) {
  const outcomes: Outcome[] = []
  let running = true
  const lane = async () => {
    while (running) {
      const started = performance.now()
      try {
        const res = await fetch(`${apiUrl}/v1/cases`, {
          method: 'POST',
          headers: { authorization: `Bearer ${region.members[0].key}`, 'content-type': 'application/json' },
          body: JSON.stringify(caseBody()),
          signal: AbortSignal.timeout(20_000),
        })
        const body = (await res.json()) as { id?: string; code?: string }
        outcomes.push({ status: res.status, code: body.code, caseId: res.status === 201 ? body.id : undefined, ms: performance.now() - started })
      } catch {
        outcomes.push({ status: 'network-error', ms: performance.now() - started })
      }
      await new Promise((r) => setTimeout(r, 20))
    }
  }
  const done = Promise.all(Array.from({ length: lanes }, lane))
  return {
    outcomes,
    async stop() {
      running = false
      await done
    },
  }
}

/** Polls /readyz every 100 ms and keeps the answers with their time. */
function watchReadiness() {
  const seen: Array<{ at: number; status: number }> = []
  let running = true
  const done = (async () => {
    while (running) {
      const at = performance.now()
      const status = await fetch(`${apiUrl}/readyz`, { signal: AbortSignal.timeout(5_000) }).then((r) => r.status, () => 0)
      seen.push({ at, status })
      await new Promise((r) => setTimeout(r, 100))
    }
  })()
  return {
    seen,
    async stop() {
      running = false
      await done
    },
  }
}

const scalar = async (q: ReturnType<typeof sql<{ n: number }>>) => (await q.execute(owner)).rows[0]!.n

export const faultFigures: Record<string, number> = {}

describe('a throwaway PostgreSQL restarted under load, then frozen with SIGSTOP', () => {
  it('is survived: 201 or 503 only, readiness back within 10 s, workers resume, nothing lost or doubled', async () => {
    const traffic = load(4)
    const readiness = watchReadiness()
    await until('some cases to be accepted', async () => traffic.outcomes.filter((o) => o.status === 201).length >= 10, 30_000)

    // 1. A fast restart under load.
    await pg.restart()
    const upAt = performance.now()
    await until('the API to be ready again', async () => readiness.seen.some((s) => s.at > upAt && s.status === 200), 15_000).catch((err: unknown) => {
      console.error('the API did not become ready again; exit code, readiness, last answers, output:', api.child.exitCode, JSON.stringify(readiness.seen.slice(-20)), JSON.stringify(traffic.outcomes.slice(-10)), api.output().slice(-3000))
      throw err
    })
    const readyAt = readiness.seen.find((s) => s.at > upAt && s.status === 200)!.at
    const restartRecoveryMs = readyAt - upAt
    await until('cases to be accepted again', async () => traffic.outcomes.filter((o) => o.status === 201).length >= 20, 20_000)

    // 2. A hung PostgreSQL: every process of the cluster stopped.
    const frozenFrom = traffic.outcomes.length
    pg.freeze(true)
    const frozenAt = performance.now()
    await until('requests to fail cleanly while PostgreSQL hangs', async () => traffic.outcomes.slice(frozenFrom).filter((o) => o.status === 503).length >= 4, 30_000)
    await until('readiness to say so', async () => readiness.seen.some((s) => s.at > frozenAt && s.status === 503), 10_000)
    pg.freeze(false)
    const thawedAt = performance.now()
    await until('the API to be ready after the freeze', async () => readiness.seen.some((s) => s.at > thawedAt && s.status === 200), 15_000)
    const freezeRecoveryMs = readiness.seen.find((s) => s.at > thawedAt && s.status === 200)!.at - thawedAt
    const acceptedBefore = traffic.outcomes.filter((o) => o.status === 201).length
    await until('cases to be accepted after the freeze', async () => traffic.outcomes.filter((o) => o.status === 201).length >= acceptedBefore + 5, 20_000)
    await traffic.stop()
    await readiness.stop()

    const outcomes = traffic.outcomes
    const accepted = outcomes.filter((o) => o.status === 201)
    const unavailable = outcomes.filter((o) => o.status === 503)
    // Only 201 or a clean 503 database-unavailable; no 500, no dropped connection.
    expect(outcomes.filter((o) => o.status !== 201 && o.status !== 503)).toEqual([])
    expect(unavailable.length).toBeGreaterThan(0)
    expect(new Set(unavailable.map((o) => o.code))).toEqual(new Set(['database-unavailable']))
    // While hung, a request fails after the bounded timeouts instead of hanging (well under 20 s).
    expect(Math.max(...outcomes.slice(frozenFrom).map((o) => o.ms))).toBeLessThan(12_000)
    // Readiness: 503 during the outages, 200 within 10 s after PostgreSQL is back.
    expect(readiness.seen.some((s) => s.status === 503)).toBe(true)
    expect(restartRecoveryMs).toBeLessThanOrEqual(10_000)
    expect(freezeRecoveryMs).toBeLessThanOrEqual(10_000)

    // Nothing lost: every accepted case is stored once; nothing stored that was not answered.
    const ids = accepted.map((o) => o.caseId!)
    expect(new Set(ids).size).toBe(ids.length)
    const stored = await scalar(sql`select count(*)::int as n from cases where member_tenant_id = ${region.members[0].id}`)
    expect(await scalar(sql`select count(*)::int as n from cases where id in (${sql.join(ids)})`)).toBe(ids.length)
    expect(stored - ids.length).toBeGreaterThanOrEqual(0)
    expect(stored - ids.length).toBeLessThanOrEqual(unavailable.length)

    // The relay and the workers resumed by themselves: every case through intake exactly once.
    await until('every case to be through intake', async () => (await scalar(sql`select count(*)::int as n from cases where status = 'submitted'`)) === 0, 90_000)
    const doubled = await scalar(sql`
      select count(*)::int as n from (select case_id from case_events where action in ('route', 'reject_at_intake') group by case_id having count(*) > 1) d`)
    const intakes = await scalar(sql`select count(distinct case_id)::int as n from case_events where action in ('route', 'reject_at_intake')`)
    expect(doubled).toBe(0)
    expect(intakes).toBe(stored)
    expect(await scalar(sql`select count(*)::int as n from case_events where action = 'submit'`)).toBe(stored)

    // Both processes are still up and ready.
    expect(api.child.exitCode).toBeNull()
    expect(workers.child.exitCode).toBeNull()
    await until('the workers to be ready', async () => (await fetch(`${workersHealth}/readyz`)).ok, 15_000)
    expect(api.output() + workers.output()).not.toMatch(/uncaught|unhandled/i)

    Object.assign(faultFigures, { restartRecoveryMs, freezeRecoveryMs, accepted: ids.length, unavailable: unavailable.length, stored, doubled })
    console.info(`[fault] postgres: ${JSON.stringify(faultFigures)}`)
  }, 240_000)
})
