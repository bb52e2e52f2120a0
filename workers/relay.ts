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
  /** How long the row waited since its transaction wrote it (for the relay-lag metric). */
  waited_seconds?: number
}

export interface RelayOptions {
  /** Rows per round, taken round-robin across tenants. */
  batchSize: number
  /** Pause between rounds once the backlog is empty: the longest a committed row waits to be seen. */
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
  /** Told of every row moved, with its queue and how long it waited (the relay-lag metric). */
  onDispatched?: (queue: string, waitedSeconds: number) => void
}

export const DEFAULT_RELAY_OPTIONS: RelayOptions = { batchSize: 200, idleMs: 50, maxInFlightPerTenant: 200, inFlightExpirySeconds: 900, reconcileEveryMs: 5_000 }

// One relay moves rows at a time across all worker processes; the others wait their turn.
const RELAY_LOCK = 72_616_001

const isQueueName = (name: string): name is QueueName => (QUEUE_NAMES as readonly string[]).includes(name)

/**
 * The fair pick, as SQL: pending rows, fair across tenants. Per queue, the n-th row of every
 * tenant comes before any (n+1)-th, and no tenant gets more than its cap of jobs in flight. The cost
 * grows with the batch and the number of (tenant, queue) pairs with work, never with the backlog
 * (issue 13): a loose index scan walks the distinct pairs of `outbox_pending_fair`, and each pair
 * gives at most its free places from the head of its own queue. Every condition is on plain columns
 * (`fair_key`, not `coalesce(tenant_id, …)`), so PostgreSQL keeps them as index conditions under
 * the outbox's row-level security (migration 0014). Rows come with their `turn`, the order to
 * enqueue them in.
 */
export const fairPick = (options: Pick<RelayOptions, 'batchSize' | 'maxInFlightPerTenant' | 'inFlightExpirySeconds'>) => sql<OutboxRow & { turn: number }>`
    with recursive pairs (t, queue) as (
      (select fair_key, queue from outbox
       where dispatched_at is null
       order by fair_key, queue limit 1)
      union all
      select n.t, n.queue from pairs p cross join lateral (
        select o.fair_key as t, o.queue from outbox o
        where o.dispatched_at is null and (o.fair_key, o.queue) > (p.t, p.queue)
        order by o.fair_key, o.queue limit 1) n
    ),
    picked as (
      select r.id, r.job_key, r.tenant_id, r.queue, r.job_name, r.payload, r.waited_seconds,
             row_number() over (partition by p.t, p.queue order by r.id) as turn
      from pairs p
      -- Per pair, from the index of the jobs in flight (outbox_in_flight_fair on the stored
      -- in_flight, migration 0028): written as "dispatched_at is not null and finished_at is
      -- null", PostgreSQL took the dispatch-time index and read every row dispatched within the
      -- expiry, finished or not.
      cross join lateral (
        select count(*) as n from outbox f
        where f.fair_key = p.t and f.queue = p.queue and f.in_flight
          and f.dispatched_at > now() - make_interval(secs => ${options.inFlightExpirySeconds})
      ) f
      cross join lateral (
        select o.id, o.job_key, o.tenant_id, o.queue, o.job_name, o.payload,
               extract(epoch from clock_timestamp() - o.created_at)::float8 as waited_seconds
        from outbox o
        -- The pair as a range of the index, read in the index's order (the same as by id within
        -- one pair). Written as equalities the planner may rather walk the primary key in id order
        -- and filter the other pairs' rows out (it underestimates the rows RLS lets through),
        -- which is O(backlog) again.
        where (o.fair_key, o.queue) >= (p.t, p.queue) and (o.fair_key, o.queue) <= (p.t, p.queue)
          and o.dispatched_at is null
        order by o.fair_key, o.queue, o.id
        limit greatest(0, least(${options.batchSize}::bigint, ${options.maxInFlightPerTenant}::bigint - f.n))
      ) r
    )
    select id, job_key, tenant_id, queue, job_name, payload, waited_seconds, turn from picked
    order by turn, id
    limit ${options.batchSize}`

const withoutTurn = ({ turn: _turn, ...row }: OutboxRow & { turn: number }): OutboxRow => row

/** The fair batch without taking it (a crashed relay's view; tests). */
export async function pendingRows(trx: Trx, options: RelayOptions): Promise<OutboxRow[]> {
  const { rows } = await fairPick(options).execute(trx)
  return rows.map(withoutTurn)
}

/**
 * Picks the fair batch and marks it dispatched in one statement, in fair order. The mark commits
 * with the caller's transaction, which the relay commits only after BullMQ took the jobs: a
 * failure or a crash before that leaves the rows pending.
 */
export async function claimRows(trx: Trx, options: RelayOptions): Promise<OutboxRow[]> {
  const { rows } = await sql<OutboxRow & { turn: number }>`
    with picked as (${fairPick(options)}),
    -- The picked ids as one array, found through the primary key: joined to the CTE, PostgreSQL
    -- (which expects one picked row) walked every pending row and compared it with every picked
    -- one, 435,000 comparisons and 164 ms for a round of 128 behind 3,400 pending.
    claimed as (
      update outbox o set dispatched_at = now()
      where o.id = any (array(select id from picked)) and o.dispatched_at is null
      returning o.id)
    select p.* from picked p join claimed c on c.id = p.id
    order by p.turn, p.id`.execute(trx)
  return rows.map(withoutTurn)
}

/** The worker's side: the job of this outbox row is finished for good. */
export async function markFinished(db: Db, jobId: string | undefined): Promise<void> {
  await markAllFinished(db, jobId === undefined ? [] : [jobId])
}

/** One statement for many finished jobs (ids of other jobs than outbox rows are ignored): outbox_finish, migration 0022. */
export async function markAllFinished(db: Db, jobIds: readonly string[]): Promise<void> {
  const keys = jobIds.filter((id) => id.startsWith('outbox-')).map((id) => id.slice('outbox-'.length))
  if (keys.length === 0) return
  await sql`select outbox_finish(${keys}::uuid[])`.execute(db)
}

/**
 * Collects finished jobs and marks them in one statement every `intervalMs` (or at `maxBatch`), so
 * a busy queue costs one UPDATE per batch instead of one transaction per job. A failed write keeps
 * the ids for the next flush; a crash loses only the marks, which the in-flight expiry recovers.
 */
export class FinishedJobs {
  private pending: string[] = []
  private timer: NodeJS.Timeout | null = null
  private flushing: Promise<void> = Promise.resolve()

  constructor(
    private readonly db: Db,
    private readonly onFlushed: () => void,
    private readonly onError: (err: unknown) => void,
    private readonly intervalMs = 20,
    private readonly maxBatch = 500,
  ) {}

  add(jobId: string | undefined): void {
    if (!jobId?.startsWith('outbox-')) return
    this.pending.push(jobId)
    if (this.pending.length >= this.maxBatch) void this.flush()
    else this.timer ??= setTimeout(() => void this.flush(), this.intervalMs)
  }

  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    const ids = this.pending
    this.pending = []
    this.flushing = this.flushing.then(async () => {
      if (ids.length === 0) return
      try {
        await markAllFinished(this.db, ids)
        this.onFlushed()
      } catch (err) {
        this.pending.push(...ids)
        this.onError(err)
        this.timer ??= setTimeout(() => void this.flush(), 1_000)
      }
    })
    return this.flushing
  }

  async close(): Promise<void> {
    await this.flush()
  }
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
 * One round: lock, claim a fair batch, enqueue, commit — four round trips to PostgreSQL and one
 * pipeline per queue to Redis. Returns how many rows moved (0 when another relay holds the lock or
 * nothing is pending). If enqueueing fails the transaction rolls back and the rows stay pending.
 */
export async function relayOnce(db: Db, queues: Queues, options: RelayOptions = DEFAULT_RELAY_OPTIONS): Promise<number> {
  return db.transaction().execute(async (trx) => {
    // The admin setting (the outbox's RLS), no JIT (the pick's estimates grow with the backlog and
    // would buy seconds of compilation for a millisecond's work), no bitmap scans (a queue table's
    // statistics lag behind its rows: thinking the outbox small, PostgreSQL read every pending row
    // of a tenant three times and sorted them, where the index gives the head of each queue in
    // order), and the relay lock: one statement.
    const { rows: lock } = await sql<{ ok: boolean }>`
      select set_config('app.admin', 'on', true), set_config('jit', 'off', true), set_config('enable_bitmapscan', 'off', true), pg_try_advisory_xact_lock(${RELAY_LOCK}) as ok`.execute(trx)
    if (!lock[0]?.ok) return 0
    const rows = await claimRows(trx, options)
    if (rows.length === 0) return 0
    await enqueueRows(queues, rows)
    for (const r of rows) options.onDispatched?.(r.queue, r.waited_seconds ?? 0)
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
        // The stored in_flight (migration 0028), not its two conditions: on those PostgreSQL walked the
        // whole outbox by id.
        .where('in_flight', '=', true)
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
  /** Starts a round now (rows were committed, or jobs finished and freed places). */
  wake(): void
  stop(): Promise<void>
}

/**
 * Runs rounds until stopped; errors (Redis or PostgreSQL away) are logged and retried. A round runs
 * at once when jobs finish (wake), otherwise after `idleMs`; a full batch goes straight on to the
 * next round. The relay polls rather than LISTENs: a NOTIFY in every transaction that writes an
 * outbox row would make all those transactions commit one at a time (migration 0021).
 */
export function startRelay(
  db: Db,
  queues: Queues,
  logger: Logger,
  options: RelayOptions = DEFAULT_RELAY_OPTIONS,
): RelayHandle {
  let running = true
  let woken = false
  let wakeSleep: (() => void) | null = null
  const wake = () => {
    woken = true
    wakeSleep?.()
  }
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (woken) return resolve()
      const timer = setTimeout(done, ms)
      function done() {
        clearTimeout(timer)
        wakeSleep = null
        resolve()
      }
      wakeSleep = done
    })

  let lastReconcile = 0
  const loop = (async () => {
    let failures = 0
    while (running) {
      woken = false
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
        woken = false
        await sleep(Math.min(options.idleMs * 2 ** failures, 10_000))
      }
    }
  })()

  return {
    wake,
    async stop() {
      running = false
      wake()
      await loop
    },
  }
}
