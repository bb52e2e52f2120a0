// The API process: create the pools, build the app, listen, close cleanly on SIGTERM/SIGINT.
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

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(`regiobalie api could not start: ${err instanceof Error ? err.message : String(err)}`)
    process.exit(1)
  })
}
