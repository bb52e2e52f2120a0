import { createServer, type Server } from 'node:net'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../api/http/app.js'
import { loadConfig } from '../../api/config.js'
import { createApiRedis } from '../../api/jobs/redis.js'
import { createLogger } from '../../api/logger.js'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { TEST_KEYS } from '../helpers/env.js'

let t: TestApp
beforeAll(async () => {
  t = await startTestApp()
})
afterAll(async () => t.close())

/** A port on which nothing listens: bound, then closed again. */
const closedPort = async (): Promise<number> => {
  const server: Server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (typeof address !== 'object' || address === null) throw new Error('no port')
  return address.port
}

describe('/readyz', () => {
  it('answers 200 when PostgreSQL and Redis answer', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/readyz' })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ status: 'ready', checks: { postgres: 'ok', redis: 'ok' } })
  })

  it('answers 503 problem+json when Redis is unreachable (an instance pointed at a closed port)', async () => {
    const port = await closedPort()
    const config = loadConfig({ ...TEST_KEYS, DATABASE_URL: t.database.ownerUrl, APP_DATABASE_URL: t.database.appUrl, REDIS_URL: `redis://127.0.0.1:${port}`, LOG_LEVEL: 'silent' })
    const redis: Redis = createApiRedis(config.redisUrl)
    redis.on('error', () => undefined)
    const { app } = await buildApp({ config, db: t.database.db, redis, logger: createLogger('silent') })
    try {
      const res = await app.inject({ method: 'GET', url: '/readyz' })
      expect(res.statusCode).toBe(503)
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
      expect(res.json()).toMatchObject({ code: 'not-ready', detail: 'Redis did not answer' })
      // Liveness is not readiness: the process itself is up.
      expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200)
    } finally {
      await app.close()
      redis.disconnect()
    }
  })
})
