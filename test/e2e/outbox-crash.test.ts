// kill -9 the workers while the relay has pending rows, restart them: every row arrives once.
import { randomUUID } from 'node:crypto'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { withAdmin } from '../../api/db/database.js'
import { createTestDatabase, type TestDatabase } from '../helpers/db.js'
import { REDIS_URL, TEST_KEYS } from '../helpers/env.js'
import { run, until } from './helpers.js'

let database: TestDatabase
let redis: Redis
const prefix = `{rbe2e-${randomUUID()}}`

beforeAll(async () => {
  database = await createTestDatabase()
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null })
})
afterAll(async () => {
  const q = new Queue('maintenance', { connection: redis, prefix })
  await q.obliterate({ force: true })
  await q.close()
  redis.disconnect()
  await database.drop()
})

const ROWS = 6_000
const pending = async () =>
  (await withAdmin(database.db, (trx) => sql<{ n: number }>`select count(*)::int as n from outbox where dispatched_at is null`.execute(trx))).rows[0]!.n

describe('workers killed with SIGKILL mid-relay', () => {
  it('deliver every outbox row exactly once after a restart', async () => {
    await withAdmin(database.db, (trx) =>
      sql`insert into outbox (tenant_id, queue, job_name, payload)
          select null, 'maintenance', 'purge-dispatched-outbox', '{}'::jsonb from generate_series(1, ${ROWS})`.execute(trx),
    )
    const env = {
      ...TEST_KEYS,
      DATABASE_URL: database.ownerUrl,
      APP_DATABASE_URL: database.appUrl,
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      WORKER_QUEUES: '', // relay only: the jobs stay in Redis where the test can count them
      RELAY_MAX_IN_FLIGHT_PER_TENANT: String(ROWS), // nothing consumes them, so nothing would free a place
      LOG_LEVEL: 'warn',
    }
    const first = run('workers/main.js', env)
    await until('the relay to have moved some rows', async () => (await pending()) < ROWS)
    first.child.kill('SIGKILL')
    await first.exited
    const left = await pending()
    expect(left).toBeGreaterThan(0)

    const second = run('workers/main.js', env)
    await until('every row to be dispatched', async () => (await pending()) === 0, 60_000)
    second.child.kill('SIGTERM')
    expect(await second.exited).toBe(0)

    const queue = new Queue('maintenance', { connection: redis, prefix })
    const jobs = await queue.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized'], 0, ROWS * 2)
    const relayed = jobs.map((j) => j.id!).filter((id) => id.startsWith('outbox-'))
    expect(relayed).toHaveLength(ROWS)
    expect(new Set(relayed).size).toBe(ROWS)
    // Besides the relayed rows there are only the hourly purges of the job schedulers.
    expect(jobs.filter((j) => !j.id!.startsWith('outbox-') && !j.id!.startsWith('repeat:'))).toEqual([])
    await queue.close()
  }, 120_000)
})
