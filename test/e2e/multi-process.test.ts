// Issue 13, "more than one process": two API processes and two workers processes on one database
// and one Redis. Every submission gets its own reference, every intake job runs once (the relay
// lock holds across processes), and both APIs list the same cases.
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { newRegion, type RegionFixture } from '../helpers/builders.js'
import { createTestDatabase, type TestDatabase } from '../helpers/db.js'
import { REDIS_URL, TEST_KEYS } from '../helpers/env.js'
import { freePort, run, until, type Proc } from './helpers.js'

let database: TestDatabase
let region: RegionFixture
const prefix = `{rbmulti-${randomUUID()}}`
const blobDir = mkdtempSync(join(tmpdir(), 'regiobalie-multi-'))
const procs: Proc[] = []
const ports: number[] = []
const metricsPorts: number[] = []

beforeAll(async () => {
  database = await createTestDatabase()
  region = await newRegion(database.db)
  const env = {
    ...TEST_KEYS,
    DATABASE_URL: database.ownerUrl,
    APP_DATABASE_URL: database.appUrl,
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    BLOB_DIR: blobDir,
    LOG_LEVEL: 'warn',
    RATE_LIMIT_PER_MINUTE: '100000',
    WORKER_QUEUES: 'case-intake',
  }
  for (let i = 0; i < 2; i += 1) {
    const port = await freePort()
    ports.push(port)
    procs.push(run('api/http/server.js', { ...env, PORT: String(port) }))
    const metricsPort = await freePort()
    metricsPorts.push(metricsPort)
    procs.push(run('workers/main.js', { ...env, WORKERS_METRICS_PORT: String(metricsPort) }))
  }
  for (const port of ports) {
    // Starting compiles the contract's schemas: on a loaded 2-core machine that can take a minute.
    await until(`the API on ${port}`, async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null))?.ok, 120_000)
  }
}, 150_000)

afterAll(async () => {
  for (const p of procs) p.child.kill('SIGKILL')
  await Promise.all(procs.map((p) => p.exited))
  const redis = new Redis(REDIS_URL)
  const keys = await redis.keys(`${prefix}*`)
  if (keys.length > 0) await redis.del(...keys)
  redis.disconnect()
  rmSync(blobDir, { recursive: true, force: true })
  await database.drop()
})

const submit = async (port: number, key: string, i: number) => {
  const res = await fetch(`http://127.0.0.1:${port}/v1/cases`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ caseType: 'option', subject: { givenNames: `Multi ${i}`, surname: 'Proces', dateOfBirth: '1990-01-01' } }),
  })
  expect(res.status).toBe(201)
  return (await res.json()) as { id: string; reference: string }
}

describe('two API and two workers processes on one database and Redis', () => {
  it('give every case one reference, run every intake once, and list the same cases', async () => {
    const N = 120
    const created = await Promise.all(Array.from({ length: N }, (_, i) => submit(ports[i % 2]!, region.members[i % 2]!.key, i)))
    expect(new Set(created.map((c) => c.reference)).size).toBe(N)

    await until(
      'every case to have passed intake',
      async () => {
        const { rows } = await sql<{ n: number }>`select count(*)::int as n from cases where status = 'intake' and hub_tenant_id = ${region.hub.id}`.execute(database.owner)
        return rows[0]!.n === N
      },
      60_000,
    )
    const { rows: routes } = await sql<{ case_id: string; n: number }>`
      select case_id, count(*)::int as n from case_events where action = 'route' group by case_id`.execute(database.owner)
    expect(routes).toHaveLength(N)
    expect(routes.every((r) => r.n === 1)).toBe(true)
    // Finished jobs are marked in batches a moment after they complete.
    await until('every intake job to be marked finished', async () => {
      const { rows: jobs } = await sql<{ n: number; finished: number }>`
        select count(*)::int as n, count(finished_at)::int as finished from outbox where queue = 'case-intake'`.execute(database.owner)
      return jobs[0]?.n === N && jobs[0].finished === N
    })

    // The workers' metrics count every intake job once between them, and the relay's lag.
    const scrape = async (port: number) => (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
    const texts = await Promise.all(metricsPorts.map(scrape))
    const count = (text: string, metric: string) =>
      Number(new RegExp(`^${metric}\\{[^}]*queue="case-intake"[^}]*\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0)
    expect(texts.reduce((n, t) => n + count(t, 'regiobalie_job_duration_seconds_count'), 0)).toBe(N)
    expect(texts.reduce((n, t) => n + count(t, 'regiobalie_relay_lag_seconds_count'), 0)).toBe(N)
    expect(texts[0]).toMatch(/^# TYPE regiobalie_outbox_pending gauge$/m)
    expect(texts[0]).toMatch(/^# TYPE regiobalie_webhook_deliveries gauge$/m)

    // Both APIs list the hub's cases alike, page by page.
    const listAll = async (port: number) => {
      const ids: string[] = []
      let cursor: string | null = null
      do {
        const url: string = `http://127.0.0.1:${port}/v1/cases?limit=50${cursor ? `&cursor=${cursor}` : ''}`
        const res = await fetch(url, { headers: { authorization: `Bearer ${region.lead.key}` } })
        expect(res.status).toBe(200)
        const page = (await res.json()) as { items: Array<{ id: string }>; nextCursor: string | null }
        ids.push(...page.items.map((c) => c.id))
        cursor = page.nextCursor
      } while (cursor)
      return ids
    }
    const [a, b] = await Promise.all(ports.map(listAll))
    expect(a).toEqual(b)
    expect(new Set(a)).toEqual(new Set(created.map((c) => c.id)))
    for (const p of procs) expect(p.child.exitCode).toBeNull()
  }, 120_000)
})
