// Redis restarting empty loses no job (issue 9): jobs dispatched to a throwaway Redis that is then
// killed and started again without its data are dispatched again from the outbox by the relay's
// reconciliation (same job id, so nothing doubles). Every uploaded document is reviewed exactly
// once and every case's intake runs exactly once; the workers and the API stay up throughout.
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { withAdmin } from '../../api/db/database.js'
import { run, until, type Proc } from '../e2e/helpers.js'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { newRegion, type RegionFixture } from '../helpers/builders.js'
import { submitCase } from '../helpers/case-builders.js'
import { filePart, pngOf, uploadOk } from '../helpers/document-builders.js'
import { TEST_KEYS } from '../helpers/env.js'
import { freePort, startRedis, type RedisServer } from './servers.js'

let redis: RedisServer
let t: TestApp
let blobDir: string
let region: RegionFixture
const procs: Proc[] = []

beforeAll(async () => {
  redis = await startRedis()
  blobDir = await mkdtemp(join(tmpdir(), 'rb-fault-redis-'))
  t = await startTestApp({ REDIS_URL: redis.url, BLOB_DIR: blobDir })
  region = await newRegion(t.database.db)
})
afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL')
  await Promise.all(procs.map((p) => p.exited))
  await t.close()
  await redis.stop()
  await rm(blobDir, { recursive: true, force: true })
})

const owner = () => t.database.owner
const scalar = async (query: ReturnType<typeof sql<{ n: number }>>) => (await query.execute(owner())).rows[0]!.n
const pendingOutbox = () => withAdmin(t.database.db, async (trx) => (await sql<{ n: number }>`select count(*)::int as n from outbox where dispatched_at is null`.execute(trx)).rows[0]!.n)

async function workers(queues: string | null, port: number): Promise<Proc> {
  const env: Record<string, string> = {
    DATABASE_URL: t.database.ownerUrl,
    APP_DATABASE_URL: t.database.appUrl,
    REDIS_URL: redis.url,
    QUEUE_PREFIX: prefix,
    BLOB_DIR: blobDir,
    WORKERS_METRICS_PORT: String(port),
    LOG_LEVEL: 'warn',
    ...TEST_KEYS,
  }
  if (queues !== null) env.WORKER_QUEUES = queues
  const p = run('workers/main.js', env)
  procs.push(p)
  await until('the workers to answer their health endpoint', async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok)
  return p
}
const prefix = `{rbfault-${randomUUID()}}`

describe('Redis restarted empty with jobs in flight', () => {
  it('loses no job and doubles none: every document reviewed once, every intake run once, processes up', async () => {
    const member = region.members[0].key
    const relayPort = await freePort()
    // First only the relay: the jobs are dispatched into Redis and wait there, nobody consumes them.
    const relayOnly = await workers('', relayPort)
    const caseIds: string[] = []
    const docIds: string[] = []
    const upload = async (caseId: string) => {
      const d = await uploadOk(t.app, member, caseId, { kind: 'passport', issuingCountry: 'NL', language: 'nl', expiresOn: '2035-01-01' }, filePart(pngOf(4, 3, docIds.length + 1)))
      docIds.push(d.id)
    }
    for (let i = 0; i < 8; i += 1) {
      const c = await submitCase(t.app, member)
      caseIds.push(c.id)
      for (let j = 0; j < 3; j += 1) await upload(c.id)
    }
    await until('every outbox row to be dispatched into Redis', async () => (await pendingOutbox()) === 0, 30_000)

    // Redis dies and comes back with nothing: 24 reviews and 8 intakes are gone from it.
    await redis.restartEmpty()
    const consumerPort = await freePort()
    const consumers = await workers(null, consumerPort)

    // A second restart while the consumers are busy: some jobs active, some waiting, some done.
    await until('some reviews to be done', async () => (await scalar(sql`select count(*)::int as n from document_reviews`)) >= 4, 60_000)
    await redis.restartEmpty(300)
    for (let i = 0; i < 2; i += 1) {
      const c = await submitCase(t.app, member)
      caseIds.push(c.id)
      await upload(c.id)
      await upload(c.id)
    }

    const docs = sql.join(docIds)
    await until(
      'every document to be reviewed',
      async () => (await scalar(sql`select count(*)::int as n from documents where id in (${docs}) and review_status <> 'pending'`)) === docIds.length,
      90_000,
    )
    await until('every case to be through intake', async () => (await scalar(sql`select count(*)::int as n from cases where id in (${sql.join(caseIds)}) and status = 'submitted'`)) === 0, 60_000)
    await until('every outbox row to be finished', async () => (await scalar(sql`select count(*)::int as n from outbox where finished_at is null`)) === 0, 60_000)

    // Nothing lost, nothing doubled.
    expect(await scalar(sql`select count(*)::int as n from document_reviews where document_id in (${docs})`)).toBe(docIds.length)
    expect(await scalar(sql`select count(distinct document_id)::int as n from document_reviews where document_id in (${docs})`)).toBe(docIds.length)
    const intakes = (await sql<{ case_id: string; n: number }>`
      select c.id as case_id, (select count(*)::int from case_events e where e.case_id = c.id and e.action in ('route', 'reject_at_intake')) as n
      from cases c where c.id in (${sql.join(caseIds)})`.execute(owner())).rows
    expect(intakes).toHaveLength(caseIds.length)
    expect(intakes.filter((r) => r.n !== 1)).toEqual([])
    // One submission event per case, not two.
    expect(await scalar(sql`select count(*)::int as n from case_events where case_id in (${sql.join(caseIds)}) and action = 'submit'`)).toBe(caseIds.length)

    // Both workers processes and the API are still up and ready.
    expect(relayOnly.child.exitCode).toBeNull()
    expect(consumers.child.exitCode).toBeNull()
    for (const port of [relayPort, consumerPort]) {
      await until('the workers to be ready', async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok, 15_000)
    }
    expect((await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200)
    expect(relayOnly.output() + consumers.output()).toMatch(/enqueued again from the outbox/)

    const reviews = await scalar(sql`select count(*)::int as n from document_reviews where document_id in (${docs})`)
    console.info(`[fault] redis: ${JSON.stringify({ restarts: 2, documents: docIds.length, reviews, cases: caseIds.length, intakes: intakes.length, lost: docIds.length - reviews, doubled: intakes.filter((r) => r.n > 1).length })}`)
    for (const p of [relayOnly, consumers]) p.child.kill('SIGTERM')
    expect(await relayOnly.exited).toBe(0)
    expect(await consumers.exited).toBe(0)
  }, 240_000)
})
