// The API process: create the pools, build the app, listen, close cleanly on SIGTERM/SIGINT.
import cluster from 'node:cluster'
import { pathToFileURL } from 'node:url'
import Fastify from 'fastify'
import { buildApp } from './app.js'
import { loadConfig, warnOfDevelopmentKeys } from '../config.js'
import { assertUnprivilegedRole, createDb } from '../db/database.js'
import { closeQueues, createQueues } from '../jobs/queues.js'
import { createApiRedis } from '../jobs/redis.js'
import { createLogger } from '../logger.js'
import { closeOnSignals } from '../shutdown.js'

export async function main(): Promise<void> {
  const config = loadConfig()
  const logger = createLogger(config.logLevel)
  warnOfDevelopmentKeys(config, logger)
  const db = createDb(config.appDatabaseUrl, {
    applicationName: 'regiobalie-api',
    connectTimeoutMs: config.database.connectTimeoutMs,
    statementTimeoutMs: config.database.statementTimeoutMs,
    onError: (err) => logger.warn({ err: err.message }, 'database connection lost; the pool reconnects'),
  })
  await assertUnprivilegedRole(db)
  const redis = createApiRedis(config.redisUrl)
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'))
  const queues = createQueues(redis, config.queuePrefix)
  if (config.webhooks.allowPrivateNetworks) {
    logger.warn('WEBHOOK_ALLOW_PRIVATE_NETWORKS=true: webhook URLs may be plain http and point at loopback, private and link-local addresses (development and tests only)')
  }
  const { app, metrics } = await buildApp({ config, db, redis, logger, queues })
  await app.listen({ port: config.port, host: config.host })

  // The metrics port answers without a key, for a Prometheus scraper inside the network.
  const metricsServer = config.metricsPort > 0 ? Fastify() : null
  if (metricsServer) {
    metricsServer.get('/metrics', async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()))
    await metricsServer.listen({ port: config.metricsPort, host: config.host })
  }

  closeOnSignals(logger, 'api', async () => {
    await Promise.all([app.close(), metricsServer?.close()])
    await closeQueues(queues)
    await Promise.all([db.destroy(), redis.quit()])
  })
}

/**
 * API_PROCESSES > 1: this process forks that many API processes that share the port (node:cluster)
 * and watches them. SIGTERM/SIGINT are passed on and it exits when they all have; one that dies
 * unasked takes the others down and this process exits 1, so its supervisor (scripts/start.ts, a
 * container runtime) restarts the whole set. Everything the API keeps per process is safe to have
 * twice: reference blocks, principal caches (emptied through NOTIFY), lastUsedAt batches.
 */
function runProcesses(count: number): void {
  let stopping = false
  const stop = (signal: NodeJS.Signals) => {
    stopping = true
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill(signal)
  }
  cluster.on('exit', (worker, code, signal) => {
    if (!stopping) {
      console.error(`regiobalie api process ${worker.process.pid ?? '?'} stopped unexpectedly (${signal ? `signal ${signal}` : `exit ${code}`}); stopping the others`)
      process.exitCode = 1
      stop('SIGTERM')
    }
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit()
  })
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGTERM'))
  for (let i = 0; i < count; i += 1) cluster.fork()
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const fail = (err: unknown) => {
    console.error(`regiobalie api could not start: ${err instanceof Error ? err.message : String(err)}`)
    process.exit(1)
  }
  try {
    const processes = cluster.isPrimary ? loadConfig().apiProcesses : 1
    if (processes > 1) runProcesses(processes)
    else main().catch(fail)
  } catch (err) {
    fail(err)
  }
}
