import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { sql } from 'kysely'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { withAdmin, withTenant } from '../../api/db/database.js'
import { enqueueInTransaction } from '../../api/jobs/outbox.js'
import { closeQueues, createQueues, type Queues } from '../../api/jobs/queues.js'
import { outboxJobId } from '../../api/jobs/registry.js'
import { enqueueRows, fairPick, markFinished, pendingRows, relayOnce, DEFAULT_RELAY_OPTIONS } from '../../workers/relay.js'
import { createTestDatabase, type TestDatabase } from '../helpers/db.js'
import { REDIS_URL } from '../helpers/env.js'
import { newRegion } from '../helpers/builders.js'

let database: TestDatabase
let redis: Redis
let queues: Queues
let prefix: string

beforeAll(async () => {
  database = await createTestDatabase()
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null })
})
afterAll(async () => {
  await database.drop()
  redis.disconnect()
})
afterEach(async () => {
  await Promise.all(Object.values(queues).map((q) => q.obliterate({ force: true })))
  await closeQueues(queues)
})
beforeEach(async () => {
  // Every test gets its own queue namespace in the shared Redis.
  prefix = `{rbtest-${randomUUID()}}`
  queues = createQueues(redis, prefix)
  await withAdmin(database.db, (trx) => sql`delete from outbox`.execute(trx))
})

const announce = (n: number) =>
  withAdmin(database.db, async (trx) => {
    for (let i = 0; i < n; i += 1) await enqueueInTransaction(trx, 'maintenance', 'purge-dispatched-outbox', {})
  })

const jobIds = async (): Promise<string[]> => {
  const jobs = await queues.maintenance.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed'])
  return jobs.map((j) => j.id!).sort()
}

const pending = () =>
  withAdmin(database.db, (trx) => trx.selectFrom('outbox').select('id').where('dispatched_at', 'is', null).execute()).then((r) => r.length)

describe('the outbox', () => {
  it('is written in the same transaction as the change: a rollback leaves no row', async () => {
    await expect(
      withAdmin(database.db, async (trx) => {
        await enqueueInTransaction(trx, 'maintenance', 'purge-dispatched-outbox', {})
        throw new Error('the change failed')
      }),
    ).rejects.toThrow('the change failed')
    expect(await pending()).toBe(0)
  })

  it('belongs to the tenant whose transaction wrote it, and is invisible to tenants', async () => {
    const region = await newRegion(database.db)
    const scope = { tenantId: region.members[0].id, regionId: region.regionId }
    await withTenant(database.db, scope, (trx) => enqueueInTransaction(trx, 'maintenance', 'purge-dispatched-outbox', {}))
    const seen = await withTenant(database.db, scope, (trx) => trx.selectFrom('outbox').selectAll().execute())
    expect(seen).toEqual([])
    const rows = await withAdmin(database.db, (trx) => trx.selectFrom('outbox').select('tenant_id').execute())
    expect(rows).toEqual([{ tenant_id: region.members[0].id }])
  })

  it('cannot be written by a tenant for another tenant', async () => {
    const region = await newRegion(database.db)
    const scope = { tenantId: region.members[0].id, regionId: region.regionId }
    await expect(
      withTenant(database.db, scope, (trx) =>
        trx.insertInto('outbox').values({ tenant_id: region.members[1].id, queue: 'maintenance', job_name: 'purge-dispatched-outbox', payload: '{}' }).execute(),
      ),
    ).rejects.toThrow(/row-level security/)
  })
})

describe('the relay', () => {
  it('moves every pending row into BullMQ with the row job key as job id and marks it dispatched', async () => {
    await announce(5)
    const keys = await withAdmin(database.db, (trx) => trx.selectFrom('outbox').select('job_key').orderBy('id').execute())
    expect(await relayOnce(database.db, queues)).toBe(5)
    expect(await pending()).toBe(0)
    expect(await jobIds()).toEqual(keys.map((r) => outboxJobId(r.job_key)).sort())
    expect(await relayOnce(database.db, queues)).toBe(0)
  })

  it('loses nothing and duplicates nothing when it crashed between enqueue and marking', async () => {
    await announce(7)
    // The crash: rows reached Redis, the transaction that marks them never committed.
    const rows = await withAdmin(database.db, (trx) => pendingRows(trx, DEFAULT_RELAY_OPTIONS))
    await enqueueRows(queues, rows)
    expect(await pending()).toBe(7)
    // After restart the relay sends them again; BullMQ keeps one job per outbox id.
    expect(await relayOnce(database.db, queues)).toBe(7)
    expect(await pending()).toBe(0)
    const ids = await jobIds()
    expect(ids).toHaveLength(7)
    expect(new Set(ids).size).toBe(7)
  })

  it('relays the rows of a rebuilt database whose outbox ids start over (no clash with kept jobs)', async () => {
    await sql`alter table outbox alter column id restart with 1`.execute(database.owner)
    await announce(3)
    expect(await relayOnce(database.db, queues)).toBe(3)
    const rebuilt = await createTestDatabase(2)
    try {
      await withAdmin(rebuilt.db, async (trx) => {
        for (let i = 0; i < 3; i += 1) await enqueueInTransaction(trx, 'maintenance', 'purge-dispatched-outbox', {})
      })
      expect(await relayOnce(rebuilt.db, queues)).toBe(3)
    } finally {
      await rebuilt.drop()
    }
    // Same outbox ids 1..3 in both databases, yet six jobs: none was taken for an earlier one.
    expect(await jobIds()).toHaveLength(6)
  })

  it('keeps rows pending when Redis refuses them', async () => {
    await announce(3)
    const broken = createQueues(new Redis('redis://127.0.0.1:1', { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true }), prefix)
    await expect(relayOnce(database.db, broken)).rejects.toThrow()
    expect(await pending()).toBe(3)
    expect(await relayOnce(database.db, queues)).toBe(3)
  })

  it('takes rows round-robin across tenants so one large tenant cannot starve a small one', async () => {
    const region = await newRegion(database.db)
    const [big, small] = region.members
    const write = (tenantId: string, n: number) =>
      withTenant(database.db, { tenantId, regionId: region.regionId }, async (trx) => {
        for (let i = 0; i < n; i += 1) await enqueueInTransaction(trx, 'maintenance', 'purge-dispatched-outbox', {})
      })
    await write(big.id, 50)
    await write(small.id, 2)
    const batch = await withAdmin(database.db, (trx) => pendingRows(trx, { ...DEFAULT_RELAY_OPTIONS, batchSize: 10 }))
    expect(batch).toHaveLength(10)
    // The small tenant's rows come in the first turns, interleaved, not after the big backlog.
    expect(batch.slice(0, 4).filter((r) => r.tenant_id === small.id)).toHaveLength(2)
    expect(batch.filter((r) => r.tenant_id === small.id)).toHaveLength(2)
    expect(batch.slice(4).every((r) => r.tenant_id === big.id)).toBe(true)
  })

  it('holds a tenant back at its cap of jobs in flight per queue, and lets more through as they finish', async () => {
    const region = await newRegion(database.db)
    const [big, small] = region.members
    const write = (tenantId: string, n: number) =>
      withTenant(database.db, { tenantId, regionId: region.regionId }, async (trx) => {
        for (let i = 0; i < n; i += 1) await enqueueInTransaction(trx, 'maintenance', 'purge-dispatched-outbox', {})
      })
    await write(big.id, 30)
    await write(small.id, 3)
    const options = { ...DEFAULT_RELAY_OPTIONS, maxInFlightPerTenant: 10 }
    expect(await relayOnce(database.db, queues, options)).toBe(13)
    // The big tenant has 10 in flight: its backlog waits in PostgreSQL.
    expect(await relayOnce(database.db, queues, options)).toBe(0)
    const inFlight = await withAdmin(database.db, (trx) =>
      trx.selectFrom('outbox').select('job_key').where('tenant_id', '=', big.id).where('dispatched_at', 'is not', null).orderBy('id').execute(),
    )
    for (const row of inFlight.slice(0, 4)) await markFinished(database.db, outboxJobId(row.job_key))
    expect(await relayOnce(database.db, queues, options)).toBe(4)
    // A job dispatched long ago no longer holds its place (its worker may have died).
    await sql`update outbox set dispatched_at = now() - interval '1 hour' where finished_at is null and dispatched_at is not null`.execute(database.owner)
    expect(await relayOnce(database.db, queues, options)).toBe(10)
    expect(await pending()).toBe(6)
  })

  it('picks fairly by reading about a batch of rows, not the backlog, under row-level security', async () => {
    const region = await newRegion(database.db)
    const [big, small] = region.members
    const BACKLOG = 20_000
    await sql`insert into outbox (tenant_id, queue, job_name, payload)
              select ${big.id}::uuid, 'maintenance', 'purge-dispatched-outbox', '{}'::jsonb from generate_series(1, ${BACKLOG}::int)`.execute(database.owner)
    await sql`insert into outbox (tenant_id, queue, job_name, payload)
              select ${small.id}::uuid, 'maintenance', 'purge-dispatched-outbox', '{}'::jsonb from generate_series(1, 3)`.execute(database.owner)
    await sql`analyze outbox`.execute(database.owner)
    const options = { ...DEFAULT_RELAY_OPTIONS, batchSize: 20 }
    // The plan as the relay runs it: the application role, the admin setting, the outbox's RLS.
    const plan = await withAdmin(database.db, async (trx) => {
      await sql`select set_config('jit', 'off', true)`.execute(trx)
      const { rows } = await sql<{ 'QUERY PLAN': unknown }>`explain (analyze, format json) ${fairPick(options)}`.execute(trx)
      return rows[0]!['QUERY PLAN']
    })
    // Every row an outbox scan produced or threw away, over all its loops.
    let touched = 0
    const walk = (node: Record<string, unknown>) => {
      if (node['Relation Name'] === 'outbox') {
        const loops = Number(node['Actual Loops'] ?? 1)
        touched += (Number(node['Actual Rows'] ?? 0) + Number(node['Rows Removed by Filter'] ?? 0)) * loops
      }
      for (const child of (node['Plans'] as Record<string, unknown>[] | undefined) ?? []) walk(child)
    }
    walk((plan as Array<{ Plan: Record<string, unknown> }>)[0]!.Plan)
    expect(touched).toBeGreaterThan(0)
    expect(touched).toBeLessThan(200)
    const batch = await withAdmin(database.db, (trx) => pendingRows(trx, options))
    expect(batch.filter((r) => r.tenant_id === small.id)).toHaveLength(3)
  })

  it('moves each row once when two relays run at the same time', async () => {
    await announce(120)
    const other = createQueues(redis, prefix)
    const options = { ...DEFAULT_RELAY_OPTIONS, batchSize: 25, maxInFlightPerTenant: 1_000 }
    let moved = 0
    for (let round = 0; round < 20 && (await pending()) > 0; round += 1) {
      const [a, b] = await Promise.all([relayOnce(database.db, queues, options), relayOnce(database.db, other, options)])
      moved += a + b
    }
    await closeQueues(other)
    expect(moved).toBe(120)
    expect(await jobIds()).toHaveLength(120)
  })
})

describe('a tenant announcing through the outbox', () => {
  it('can be relayed by the admin-scoped relay', async () => {
    const region = await newRegion(database.db)
    await withTenant(database.db, { tenantId: region.hub.id, regionId: region.regionId }, (trx) =>
      enqueueInTransaction(trx, 'maintenance', 'purge-dispatched-outbox', {}),
    )
    expect(await relayOnce(database.db, queues)).toBe(1)
  })
})
