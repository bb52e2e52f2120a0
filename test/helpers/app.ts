import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { Redis } from 'ioredis'
import { buildApp } from '../../api/http/app.js'
import { loadConfig, type Config } from '../../api/config.js'
import { createLogger } from '../../api/logger.js'
import { createTestDatabase, type TestDatabase } from './db.js'
import { REDIS_URL, TEST_KEYS } from './env.js'

export interface TestApp {
  app: FastifyInstance
  config: Config
  database: TestDatabase
  redis: Redis
  close(): Promise<void>
}

export async function startTestApp(env: Record<string, string> = {}, options: { database?: TestDatabase; extraRoutes?: (app: FastifyInstance) => void } = {}): Promise<TestApp> {
  const database = options.database ?? (await createTestDatabase())
  const config = loadConfig({
    ...TEST_KEYS,
    DATABASE_URL: database.ownerUrl,
    APP_DATABASE_URL: database.appUrl,
    REDIS_URL,
    LOG_LEVEL: 'silent',
    RATE_LIMIT_PER_MINUTE: '100000',
    UNKNOWN_KEY_RATE_LIMIT_PER_MINUTE: '100000',
    ...env,
  })
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: true })
  redis.on('error', () => undefined)
  const { app } = await buildApp({ config, db: database.db, redis, logger: createLogger('silent') })
  options.extraRoutes?.(app)
  await app.ready()
  return {
    app,
    config,
    database,
    redis,
    async close() {
      await app.close()
      redis.disconnect()
      if (!options.database) await database.drop()
    },
  }
}

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` })

/** The parsed JSON body of a response. */
export const body = <T = Record<string, unknown>>(res: LightMyRequestResponse): T => res.json<T>()
