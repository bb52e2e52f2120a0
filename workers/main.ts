// The workers process: the outbox relay and one BullMQ worker per queue. Stopped by SIGTERM/SIGINT:
// takes no new job, finishes the one in flight, then exits.
import { createServer, type Server } from 'node:http'
import { pathToFileURL } from 'node:url'
import { sql } from 'kysely'
import { Worker, UnrecoverableError } from 'bullmq'
import type { Logger } from 'pino'
import { loadConfig, warnOfDevelopmentKeys, type Config } from '../api/config.js'
import { assertUnprivilegedRole, createDb } from '../api/db/database.js'
import { createQueues, closeQueues, type Queues } from '../api/jobs/queues.js'
import { createWorkerRedis, maxmemoryPolicy } from '../api/jobs/redis.js'
import { QUEUE_NAMES, QUEUE_POLICIES, type QueueName } from '../api/jobs/registry.js'
import { createLogger } from '../api/logger.js'
import { closeOnSignals } from '../api/shutdown.js'
import { handlers, type JobContext } from './handlers.js'
import { intakeBatcher } from './case-intake.js'
import { schedulingBatcher } from './scheduling.js'
import { blobStoreFrom } from '../api/documents/blob-store.js'
import { createWorkerMetrics, type WorkerMetrics } from './metrics.js'
import { DEFAULT_RELAY_OPTIONS, FinishedJobs, startRelay, type RelayHandle } from './relay.js'
import { createWebhookMetrics } from '../api/webhooks/webhooks.metrics.js'
import { deliveryDeps, SWEEP_EVERY_MS } from './notifications.js'
import { DeliveryPumps, DEFAULT_PUMP_OPTIONS } from '../api/webhooks/delivery-pump.js'

export interface WorkersHandle {
  close(): Promise<void>
}

type AnyHandler = (payload: unknown, ctx: JobContext) => Promise<unknown>

export interface WorkersOptions {
  /** Only these queues (WORKER_QUEUES); all by default. */
  queues?: readonly QueueName[]
  /** The review's integrity thread entry; next to the compiled module unless given (tests run from sources). */
  integrityThread?: URL
}

export async function startWorkers(config: Config, logger: Logger, options: WorkersOptions = {}): Promise<WorkersHandle> {
  const redis = createWorkerRedis(config.redisUrl)
  // Without a listener a lost connection is an 'error' event nobody handles; ioredis reconnects.
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'))
  const policy = await maxmemoryPolicy(redis)
  if (policy !== 'noeviction') {
    await redis.quit()
    throw new Error(
      `Redis maxmemory-policy is "${policy ?? 'unknown'}"; BullMQ needs "noeviction" or jobs can silently disappear. ` +
        'Fix: redis-cli CONFIG SET maxmemory-policy noeviction (and set it in redis.conf).',
    )
  }
  // Enough connections for every queue's concurrency at once (intake alone runs 16).
  const db = createDb(config.appDatabaseUrl, {
    applicationName: 'regiobalie-workers',
    max: 24,
    connectTimeoutMs: config.database.connectTimeoutMs,
    statementTimeoutMs: config.database.statementTimeoutMs,
    onError: (err) => logger.warn({ err: err.message }, 'database connection lost; the pool reconnects'),
  })
  await assertUnprivilegedRole(db)
  const prefix = config.queuePrefix
  const store = blobStoreFrom(config)
  const queues: Queues = createQueues(redis, prefix)
  if (config.webhooks.allowPrivateNetworks) {
    logger.warn('WEBHOOK_ALLOW_PRIVATE_NETWORKS=true: webhooks may go to plain http and to loopback, private and link-local addresses (development and tests only)')
  }
  const metrics = createWorkerMetrics(db, queues)
  const webhooks = deliveryDeps(db, config, createWebhookMetrics(metrics.registry))
  const pumps = new DeliveryPumps(webhooks, DEFAULT_PUMP_OPTIONS, (err) =>
    logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'a webhook delivery batch failed; its deliveries are taken again'),
  )
  const intake = intakeBatcher(db)
  const scheduling = schedulingBatcher(db)
  const relay: RelayHandle = startRelay(
    db,
    queues,
    logger,
    { ...DEFAULT_RELAY_OPTIONS, maxInFlightPerTenant: config.relayMaxInFlightPerTenant, onDispatched: (queue, waited) => metrics.dispatched(queue, waited) },
  )
  // A finished job frees its tenant's place in the relay's in-flight window: marked in batches,
  // and the relay is woken to fill the freed places.
  const finishedJobs = new FinishedJobs(
    db,
    () => relay.wake(),
    (err) => logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'could not mark jobs finished'),
  )

  const consumed = options.queues ?? QUEUE_NAMES
  // A queue may have several BullMQ workers in one process (QueuePolicy.workers), each with its share of the concurrency.
  const workers = consumed.flatMap((queue) => Array.from({ length: QUEUE_POLICIES[queue].workers ?? 1 }, () => queue)).map((queue) => {
    const byName = handlers[queue] as Record<string, AnyHandler>
    const worker = new Worker(
      queue,
      async (job) => {
        const handler = byName[job.name]
        if (!handler) throw new UnrecoverableError(`no handler for ${queue}/${job.name}`)
        return handler(job.data, {
          db,
          store,
          masterKey: config.blobMasterKey,
          logger: logger.child({ queue, jobId: job.id }),
          job,
          webhooks,
          pumps,
          intake,
          scheduling,
          ...(options.integrityThread ? { integrityThread: options.integrityThread } : {}),
        })
      },
      { connection: createWorkerRedis(config.redisUrl), prefix, concurrency: Math.ceil(QUEUE_POLICIES[queue].concurrency / (QUEUE_POLICIES[queue].workers ?? 1)), lockDuration: QUEUE_POLICIES[queue].lockMs },
    )
    const finished = (jobId: string | undefined) => finishedJobs.add(jobId)
    const took = (job: { processedOn?: number | undefined; finishedOn?: number | undefined }) =>
      job.processedOn && job.finishedOn ? (job.finishedOn - job.processedOn) / 1000 : null
    worker.on('completed', (job) => {
      metrics.jobEnded(queue, 'completed', took(job))
      finished(job.id)
    })
    worker.on('failed', (job, err) => {
      metrics.jobEnded(queue, 'failed', job ? took(job) : null)
      logger.warn({ queue, jobId: job?.id, err: err.message }, 'job failed')
      if (job && (err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1))) finished(job.id)
    })
    worker.on('error', (err) => logger.error({ queue, err: err.message }, 'worker error'))
    return worker
  })

  // Recurring maintenance is a BullMQ job scheduler: one mechanism for recurring work. Redis
  // restarting empty loses the schedulers too, so they are put back on every reconnect.
  const schedule = async () => {
    await queues.maintenance.upsertJobScheduler('purge-dispatched-outbox', { every: 3_600_000 }, { name: 'purge-dispatched-outbox', data: {} })
    await queues.maintenance.upsertJobScheduler('purge-idempotency-keys', { every: 3_600_000 }, { name: 'purge-idempotency-keys', data: {} })
    await queues.maintenance.upsertJobScheduler('purge-finished-deliveries', { every: 86_400_000 }, { name: 'purge-finished-deliveries', data: {} })
    await queues.maintenance.upsertJobScheduler('shred-expired-documents', { every: 86_400_000 }, { name: 'shred-expired-documents', data: {} })
    // A lapse is a matter of the Dutch date: shortly after midnight in Amsterdam, daily.
    await queues.maintenance.upsertJobScheduler(
      'lapse-expired-decrees',
      { pattern: '10 0 * * *', tz: 'Europe/Amsterdam' },
      { name: 'lapse-expired-decrees', data: {} },
    )
    await queues.notifications.upsertJobScheduler('sweep-due-deliveries', { every: SWEEP_EVERY_MS }, { name: 'sweep-due-deliveries', data: {} })
  }
  await schedule()
  redis.on('ready', () => void schedule().catch((err: unknown) => logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'could not restore the job schedulers')))
  const health = config.workersMetricsPort > 0 ? await startHealthServer(config, db, redis, metrics) : null
  logger.info({ queues: consumed, healthPort: config.workersMetricsPort || null }, 'workers started')

  return {
    async close() {
      await new Promise<void>((resolve) => (health ? health.close(() => resolve()) : resolve()))
      await relay.stop()
      await Promise.all(workers.map((w) => w.close()))
      await pumps.close()
      await finishedJobs.close()
      await closeQueues(queues)
      await db.destroy()
      await redis.quit()
    },
  }
}

/**
 * The workers' health on their metrics port (docker-compose health checks, supervisors):
 * `/healthz` 200 while the process runs its loop; `/readyz` 200 only when PostgreSQL and Redis answer;
 * `/metrics` in the Prometheus text format.
 */
async function startHealthServer(
  config: Config,
  db: ReturnType<typeof createDb>,
  redis: ReturnType<typeof createWorkerRedis>,
  metrics: WorkerMetrics,
): Promise<Server> {
  const within = <T>(p: Promise<T>) => Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timed out')), 2_000).unref())])
  const server = createServer((req, res) => {
    const answer = (status: number, body: object) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
    if (req.url === '/healthz') return answer(200, { status: 'ok' })
    // Job durations and failures, relay lag, queue depth, and the webhook deliveries' outcomes,
    // attempt latency and dead letters (workers/metrics.ts, api/webhooks/webhooks.metrics.ts).
    if (req.url === '/metrics') {
      void metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        () => answer(500, { status: 'metrics-unavailable' }),
      )
      return
    }
    if (req.url === '/readyz') {
      void Promise.allSettled([within(sql`select 1`.execute(db)), within(redis.ping())]).then(([pg, rd]) =>
        pg.status === 'fulfilled' && rd.status === 'fulfilled'
          ? answer(200, { status: 'ready', checks: { postgres: 'ok', redis: 'ok' } })
          : answer(503, { status: 'not-ready', checks: { postgres: pg.status === 'fulfilled' ? 'ok' : 'down', redis: rd.status === 'fulfilled' ? 'ok' : 'down' } }),
      )
      return
    }
    answer(404, { status: 'not-found' })
  })
  server.requestTimeout = 5_000
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(config.workersMetricsPort, config.host, () => resolve()))
  return server
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href
if (isMain) {
  const config = loadConfig()
  const logger = createLogger(config.logLevel)
  warnOfDevelopmentKeys(config, logger)
  const only = config.workerQueues
  startWorkers(config, logger, only ? { queues: only } : {})
    .then((handle) => closeOnSignals(logger, 'workers', () => handle.close()))
    .catch((err: unknown) => {
      logger.fatal({ err: err instanceof Error ? err.message : String(err) }, 'workers could not start')
      process.exit(1)
    })
}
