// The outbox relay: moves committed outbox rows into BullMQ. The job id is the row's own key, so a
// row enqueued twice (a crash between enqueue and marking it dispatched) is still one job.
import { sql } from 'kysely'
import type { Logger } from 'pino'
import { withAdmin, type Db, type Trx } from '../api/db/database.js'
import type { Queues } from '../api/jobs/queues.js'
import { outboxJobId, QUEUE_NAMES, type QueueName } from '../api/jobs/registry.js'

export interface OutboxRow {
  id: number
  job_key: string
  tenant_id: string | null
  queue: string
  job_name: string
  payload: unknown
}

export interface RelayOptions {
  /** Rows per round, taken round-robin across tenants. */
  batchSize: number
  /** Pause between rounds once the backlog is empty. */
  idleMs: number
  /**
   * At most this many jobs of one tenant in flight per queue (dispatched, not finished): the rest of
   * a large tenant's backlog waits in PostgreSQL, so BullMQ holds a short, fair window.
   */
  maxInFlightPerTenant: number
  /** A job dispatched longer ago than this no longer counts as in flight (its worker may have died). */
  inFlightExpirySeconds: number
  /** How often the relay looks for dispatched jobs that Redis lost (reconcileLostJobs); 0 = never. */
  reconcileEveryMs?: number
}

export const DEFAULT_RELAY_OPTIONS: RelayOptions = { batchSize: 200, idleMs: 250, maxInFlightPerTenant: 50, inFlightExpirySeconds: 900, reconcileEveryMs: 5_000 }

// One relay moves rows at a time across all worker processes; the others wait their turn.
const RELAY_LOCK = 72_616_001

const isQueueName = (name: string): name is QueueName => (QUEUE_NAMES as readonly string[]).includes(name)

/**
 * Pending rows, fair across tenants: per queue, the n-th row of every tenant comes before any
 * (n+1)-th, and no tenant gets more than its cap of jobs in flight.
 */
export async function pendingRows(trx: Trx, options: RelayOptions): Promise<OutboxRow[]> {
  const { rows } = await sql<OutboxRow>`
    with in_flight as (
      select tenant_id, queue, count(*) as n from outbox
      where dispatched_at is not null and finished_at is null
        and dispatched_at > now() - make_interval(secs => ${options.inFlightExpirySeconds})
      group by tenant_id, queue
    )
    select p.id, p.job_key, p.tenant_id, p.queue, p.job_name, p.payload from (
      select o.id, o.job_key, o.tenant_id, o.queue, o.job_name, o.payload,
             row_number() over (partition by o.tenant_id, o.queue order by o.id) as turn
      from outbox o
      where o.dispatched_at is null
    ) p
    left join in_flight f on f.tenant_id is not distinct from p.tenant_id and f.queue = p.queue
    where p.turn + coalesce(f.n, 0) <= ${options.maxInFlightPerTenant}
    order by p.turn, p.id
    limit ${options.batchSize}`.execute(trx)
  return rows
}

/** The worker's side: the job of this outbox row is finished for good. */
export async function markFinished(db: Db, jobId: string | undefined): Promise<void> {
  if (!jobId?.startsWith('outbox-')) return
  const jobKey = jobId.slice('outbox-'.length)
  await withAdmin(db, (trx) =>
    trx.updateTable('outbox').set({ finished_at: sql`now()` }).where('job_key', '=', jobKey).where('finished_at', 'is', null).execute(),
  )
}

/** Adds the rows to their queues; adding the same row again is a no-op in BullMQ (same job id). */
export async function enqueueRows(queues: Queues, rows: OutboxRow[]): Promise<void> {
  const byQueue = new Map<QueueName, OutboxRow[]>()
  for (const row of rows) {
    if (!isQueueName(row.queue)) throw new Error(`outbox row ${row.id} names an unknown queue`)
    const list = byQueue.get(row.queue) ?? []
    list.push(row)
    byQueue.set(row.queue, list)
  }
  await Promise.all(
    [...byQueue].map(([queue, list]) =>
      queues[queue].addBulk(
        list.map((row) => ({ name: row.job_name, data: row.payload, opts: { jobId: outboxJobId(row.job_key) } })),
      ),
    ),
  )
}

export async function markDispatched(trx: Trx, ids: number[]): Promise<void> {
  if (ids.length === 0) return
  await trx.updateTable('outbox').set({ dispatched_at: sql`now()` }).where('id', 'in', ids).execute()
}

/**
 * One round: lock, read a fair batch, enqueue, mark. Returns how many rows moved (0 when another
 * relay holds the lock or nothing is pending). If enqueueing fails the transaction rolls back and
 * the rows stay pending for the next round.
 */
export async function relayOnce(db: Db, queues: Queues, options: RelayOptions = DEFAULT_RELAY_OPTIONS): Promise<number> {
  return withAdmin(db, async (trx) => {
    const { rows: lock } = await sql<{ ok: boolean }>`select pg_try_advisory_xact_lock(${RELAY_LOCK}) as ok`.execute(trx)
    if (!lock[0]?.ok) return 0
    const rows = await pendingRows(trx, options)
    if (rows.length === 0) return 0
    await enqueueRows(queues, rows)
    await markDispatched(
      trx,
      rows.map((r) => r.id),
    )
    return rows.length
  })
}

/**
 * Redis restarted without its data (or lost keys any other way): outbox rows that were dispatched
 * but never finished, and whose job no longer exists in Redis, are enqueued again (ARCHITECTURE.md:
 * "losing Redis loses no data"). The job id is still the row's key, so a job that does exist is
 * never doubled — BullMQ ignores an add under an id it holds — and a job that runs again is
 * harmless because every job is idempotent in PostgreSQL. Returns how many rows were re-enqueued.
 */
export async function reconcileLostJobs(db: Db, queues: Queues, pageSize = 1_000): Promise<number> {
  let after = 0
  let requeued = 0
  for (;;) {
    const rows = await withAdmin(db, (trx) =>
      trx
        .selectFrom('outbox')
        .select(['id', 'job_key', 'tenant_id', 'queue', 'job_name', 'payload'])
        .where('dispatched_at', 'is not', null)
        .where('finished_at', 'is', null)
        .where('id', '>', after)
        .orderBy('id')
        .limit(pageSize)
        .execute(),
    )
    if (rows.length === 0) return requeued
    after = rows[rows.length - 1]!.id
    const lost = await missingInRedis(queues, rows)
    if (lost.length > 0) {
      await enqueueRows(queues, lost)
      // A fresh dispatch time: the row counts as in flight again from now on.
      await withAdmin(db, (trx) => markDispatched(trx, lost.map((r) => r.id)))
      requeued += lost.length
    }
    if (rows.length < pageSize) return requeued
  }
}

/** The rows whose BullMQ job hash (in any state: waiting, active, completed, failed…) is gone. */
async function missingInRedis(queues: Queues, rows: OutboxRow[]): Promise<OutboxRow[]> {
  const byQueue = new Map<QueueName, OutboxRow[]>()
  for (const row of rows) {
    if (!isQueueName(row.queue)) continue
    byQueue.set(row.queue, [...(byQueue.get(row.queue) ?? []), row])
  }
  const lost: OutboxRow[] = []
  for (const [name, list] of byQueue) {
    const queue = queues[name]
    // BullMQ's client type names only what BullMQ uses; the connection is an ioredis client.
    const client = (await queue.client) as unknown as { exists(key: string): Promise<number> }
    // Sent together on the one connection; each answers 1 (the job exists) or 0 (it is gone).
    const exists = await Promise.all(list.map((row) => client.exists(queue.toKey(outboxJobId(row.job_key)))))
    list.forEach((row, i) => {
      if (exists[i] === 0) lost.push(row)
    })
  }
  return lost
}

export interface RelayHandle {
  stop(): Promise<void>
}

/** Runs rounds until stopped; errors (Redis or PostgreSQL away) are logged and retried. */
export function startRelay(db: Db, queues: Queues, logger: Logger, options: RelayOptions = DEFAULT_RELAY_OPTIONS): RelayHandle {
  let running = true
  let wake: (() => void) | null = null
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms)
      wake = () => {
        clearTimeout(timer)
        resolve()
      }
    })

  let lastReconcile = 0
  const loop = (async () => {
    let failures = 0
    while (running) {
      try {
        const every = options.reconcileEveryMs ?? 0
        if (every > 0 && Date.now() - lastReconcile >= every) {
          lastReconcile = Date.now()
          const requeued = await reconcileLostJobs(db, queues)
          if (requeued > 0) logger.warn({ requeued }, 'jobs lost by Redis were enqueued again from the outbox')
        }
        const moved = await relayOnce(db, queues, options)
        failures = 0
        if (moved > 0) logger.debug({ moved }, 'outbox rows dispatched')
        if (moved < options.batchSize) await sleep(options.idleMs)
      } catch (err) {
        failures += 1
        logger.error({ err }, 'outbox relay round failed; rows stay pending')
        await sleep(Math.min(options.idleMs * 2 ** failures, 10_000))
      }
    }
  })()

  return {
    async stop() {
      running = false
      wake?.()
      await loop
    },
  }
}
