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
}

export const DEFAULT_RELAY_OPTIONS: RelayOptions = { batchSize: 200, idleMs: 250 }

// One relay moves rows at a time across all worker processes; the others wait their turn.
const RELAY_LOCK = 72_616_001

const isQueueName = (name: string): name is QueueName => (QUEUE_NAMES as readonly string[]).includes(name)

/** Pending rows, fair across tenants: the n-th row of every tenant comes before any (n+1)-th. */
export async function pendingRows(trx: Trx, options: RelayOptions): Promise<OutboxRow[]> {
  const { rows } = await sql<OutboxRow>`
    select id, job_key, tenant_id, queue, job_name, payload from (
      select o.id, o.job_key, o.tenant_id, o.queue, o.job_name, o.payload,
             row_number() over (partition by o.tenant_id order by o.id) as turn
      from outbox o
      where o.dispatched_at is null
    ) pending
    order by turn, id
    limit ${options.batchSize}`.execute(trx)
  return rows
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

  const loop = (async () => {
    let failures = 0
    while (running) {
      try {
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
