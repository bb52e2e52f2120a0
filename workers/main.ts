// The workers process: the outbox relay and one BullMQ worker per queue. Stopped by SIGTERM/SIGINT:
// takes no new job, finishes the one in flight, then exits.
import { pathToFileURL } from 'node:url'
import { Worker, UnrecoverableError } from 'bullmq'
import type { Logger } from 'pino'
import { loadConfig, type Config } from '../api/config.js'
import { assertUnprivilegedRole, createDb } from '../api/db/database.js'
import { createQueues, closeQueues, type Queues } from '../api/jobs/queues.js'
import { createWorkerRedis, maxmemoryPolicy } from '../api/jobs/redis.js'
import { QUEUE_NAMES, QUEUE_POLICIES, type QueueName } from '../api/jobs/registry.js'
import { createLogger } from '../api/logger.js'
import { closeOnSignals } from '../api/shutdown.js'
import { handlers, type JobContext } from './handlers.js'
import { FilesystemBlobStore } from '../api/documents/blob-store.js'
import { DEFAULT_RELAY_OPTIONS, FinishedJobs, startRelay, type RelayHandle } from './relay.js'
import { createServer, type Server } from 'node:http'
import { Registry, collectDefaultMetrics } from 'prom-client'
import { createWebhookMetrics } from '../api/webhooks/webhooks.metrics.js'
import { deliveryDeps, SWEEP_EVERY_MS } from './notifications.js'

export interface WorkersHandle {
  close(): Promise<void>
}

type AnyHandler = (payload: unknown, ctx: JobContext) => Promise<unknown>

export async function startWorkers(config: Config, logger: Logger, options: { queues?: readonly QueueName[] } = {}): Promise<WorkersHandle> {
  const redis = createWorkerRedis(config.redisUrl)
  const policy = await maxmemoryPolicy(redis)
  if (policy !== 'noeviction') {
    await redis.quit()
    throw new Error(
      `Redis maxmemory-policy is "${policy ?? 'unknown'}"; BullMQ needs "noeviction" or jobs can silently disappear. ` +
        'Fix: redis-cli CONFIG SET maxmemory-policy noeviction (and set it in redis.conf).',
    )
  }
  // Enough connections for every queue's concurrency at once (intake alone runs 16).
  const db = createDb(config.appDatabaseUrl, { applicationName: 'regiobalie-workers', max: 24 })
  await assertUnprivilegedRole(db)
  const prefix = config.queuePrefix
  const store = new FilesystemBlobStore(config.blobDir)
  const queues: Queues = createQueues(redis, prefix)
  if (config.webhooks.allowPrivateNetworks) {
    logger.warn('WEBHOOK_ALLOW_PRIVATE_NETWORKS=true: webhooks may go to plain http and to loopback, private and link-local addresses (development and tests only)')
  }
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'regiobalie_workers_' })
  const webhooks = deliveryDeps(db, config, createWebhookMetrics(registry))
  const metricsServer: Server | null = config.workerMetricsPort > 0 ? await serveMetrics(registry, config) : null
  const relay: RelayHandle = startRelay(
    db,
    queues,
    logger,
    { ...DEFAULT_RELAY_OPTIONS, maxInFlightPerTenant: config.relayMaxInFlightPerTenant },
    config.appDatabaseUrl,
  )
  // A finished job frees its tenant's place in the relay's in-flight window: marked in batches,
  // and the relay is woken to fill the freed places.
  const finishedJobs = new FinishedJobs(
    db,
    () => relay.wake(),
    (err) => logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'could not mark jobs finished'),
  )

  const consumed = options.queues ?? QUEUE_NAMES
  const workers = consumed.map((queue) => {
    const byName = handlers[queue] as Record<string, AnyHandler>
    const worker = new Worker(
      queue,
      async (job) => {
        const handler = byName[job.name]
        if (!handler) throw new UnrecoverableError(`no handler for ${queue}/${job.name}`)
        return handler(job.data, { db, store, masterKey: config.blobMasterKey, logger: logger.child({ queue, jobId: job.id }), job, webhooks })
      },
      { connection: createWorkerRedis(config.redisUrl), prefix, concurrency: QUEUE_POLICIES[queue].concurrency, lockDuration: QUEUE_POLICIES[queue].lockMs },
    )
    const finished = (jobId: string | undefined) => finishedJobs.add(jobId)
    worker.on('completed', (job) => finished(job.id))
    worker.on('failed', (job, err) => {
      logger.warn({ queue, jobId: job?.id, err: err.message }, 'job failed')
      if (job && (err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1))) finished(job.id)
    })
    worker.on('error', (err) => logger.error({ queue, err: err.message }, 'worker error'))
    return worker
  })

  // Recurring maintenance is a BullMQ job scheduler: one mechanism for recurring work.
  await queues.maintenance.upsertJobScheduler('purge-dispatched-outbox', { every: 3_600_000 }, { name: 'purge-dispatched-outbox', data: {} })
  await queues.maintenance.upsertJobScheduler('purge-idempotency-keys', { every: 3_600_000 }, { name: 'purge-idempotency-keys', data: {} })
  await queues.maintenance.upsertJobScheduler('shred-expired-documents', { every: 86_400_000 }, { name: 'shred-expired-documents', data: {} })
  await queues.notifications.upsertJobScheduler('sweep-due-deliveries', { every: SWEEP_EVERY_MS }, { name: 'sweep-due-deliveries', data: {} })
  logger.info({ queues: consumed }, 'workers started')

  return {
    async close() {
      await relay.stop()
      await Promise.all(workers.map((w) => w.close()))
      await finishedJobs.close()
      await new Promise<void>((resolve) => (metricsServer ? metricsServer.close(() => resolve()) : resolve()))
      await closeQueues(queues)
      await db.destroy()
      await redis.quit()
    },
  }
}

/** GET /metrics of the workers process (delivery outcomes, attempt latency, dead letters). */
async function serveMetrics(registry: Registry, config: Config): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/metrics') {
      res.writeHead(404).end()
      return
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    )
  })
  await new Promise<void>((resolve) => server.listen(config.workerMetricsPort, config.host, resolve))
  return server
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href
if (isMain) {
  const config = loadConfig()
  const logger = createLogger(config.logLevel)
  const only = config.workerQueues
  startWorkers(config, logger, only ? { queues: only } : {})
    .then((handle) => closeOnSignals(logger, 'workers', () => handle.close()))
    .catch((err: unknown) => {
      logger.fatal({ err: err instanceof Error ? err.message : String(err) }, 'workers could not start')
      process.exit(1)
    })
}
