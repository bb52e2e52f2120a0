// The workers process: the outbox relay and one BullMQ worker per queue. Stopped by SIGTERM/SIGINT:
// takes no new job, finishes the one in flight, then exits.
import { pathToFileURL } from 'node:url'
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
import { blobStoreFrom } from '../api/documents/blob-store.js'
import { DEFAULT_RELAY_OPTIONS, markFinished, startRelay, type RelayHandle } from './relay.js'

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
  const db = createDb(config.appDatabaseUrl, { applicationName: 'regiobalie-workers' })
  await assertUnprivilegedRole(db)
  const prefix = config.queuePrefix
  const store = blobStoreFrom(config)
  const queues: Queues = createQueues(redis, prefix)
  const relay: RelayHandle = startRelay(db, queues, logger, { ...DEFAULT_RELAY_OPTIONS, maxInFlightPerTenant: config.relayMaxInFlightPerTenant })

  const consumed = options.queues ?? QUEUE_NAMES
  const workers = consumed.map((queue) => {
    const byName = handlers[queue] as Record<string, AnyHandler>
    const worker = new Worker(
      queue,
      async (job) => {
        const handler = byName[job.name]
        if (!handler) throw new UnrecoverableError(`no handler for ${queue}/${job.name}`)
        return handler(job.data, { db, store, masterKey: config.blobMasterKey, logger: logger.child({ queue, jobId: job.id }), job })
      },
      { connection: createWorkerRedis(config.redisUrl), prefix, concurrency: QUEUE_POLICIES[queue].concurrency, lockDuration: QUEUE_POLICIES[queue].lockMs },
    )
    // A finished job frees its tenant's place in the relay's in-flight window.
    const finished = (jobId: string | undefined) =>
      markFinished(db, jobId).catch((err: unknown) => logger.warn({ queue, jobId, err: err instanceof Error ? err.message : String(err) }, 'could not mark job finished'))
    worker.on('completed', (job) => void finished(job.id))
    worker.on('failed', (job, err) => {
      logger.warn({ queue, jobId: job?.id, err: err.message }, 'job failed')
      if (job && (err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1))) void finished(job.id)
    })
    worker.on('error', (err) => logger.error({ queue, err: err.message }, 'worker error'))
    return worker
  })

  // Recurring maintenance is a BullMQ job scheduler: one mechanism for recurring work.
  await queues.maintenance.upsertJobScheduler('purge-dispatched-outbox', { every: 3_600_000 }, { name: 'purge-dispatched-outbox', data: {} })
  await queues.maintenance.upsertJobScheduler('purge-idempotency-keys', { every: 3_600_000 }, { name: 'purge-idempotency-keys', data: {} })
  await queues.maintenance.upsertJobScheduler('shred-expired-documents', { every: 86_400_000 }, { name: 'shred-expired-documents', data: {} })
  logger.info({ queues: consumed }, 'workers started')

  return {
    async close() {
      await relay.stop()
      await Promise.all(workers.map((w) => w.close()))
      await closeQueues(queues)
      await db.destroy()
      await redis.quit()
    },
  }
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
