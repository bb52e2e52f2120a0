// The workers process refuses a Redis that may evict keys (BullMQ would lose jobs silently), and
// says how to fix it. Tested against a second, real redis-server started with another policy.
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../api/config.js'
import { createLogger } from '../../api/logger.js'
import { startWorkers } from '../../workers/main.js'
import { createTestDatabase, type TestDatabase } from '../helpers/db.js'
import { TEST_KEYS } from '../helpers/env.js'

let database: TestDatabase
let redis: ChildProcess
let port: number

const freePort = async (): Promise<number> => {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const p = (s.address() as { port: number }).port
  await new Promise<void>((r) => s.close(() => r()))
  return p
}

beforeAll(async () => {
  database = await createTestDatabase()
  port = await freePort()
  redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'allkeys-lru'], {
    stdio: 'ignore',
  })
  const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => 50, maxRetriesPerRequest: null })
  probe.on('error', () => undefined)
  for (let i = 0; i < 100; i += 1) {
    try {
      await probe.connect()
      break
    } catch {
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  probe.disconnect()
})
afterAll(async () => {
  redis.kill('SIGTERM')
  await database.drop()
})

describe('workers start-up', () => {
  it('refuses a Redis whose maxmemory-policy is not noeviction, naming the fix', async () => {
    const config = loadConfig({ ...TEST_KEYS, DATABASE_URL: database.ownerUrl, APP_DATABASE_URL: database.appUrl, REDIS_URL: `redis://127.0.0.1:${port}`, LOG_LEVEL: 'silent' })
    await expect(startWorkers(config, createLogger('silent'))).rejects.toThrow(/maxmemory-policy is "allkeys-lru".*CONFIG SET maxmemory-policy noeviction/s)
  })

  it('starts and closes cleanly once the policy is noeviction', async () => {
    const admin = new Redis({ port, host: '127.0.0.1' })
    await admin.config('SET', 'maxmemory-policy', 'noeviction')
    admin.disconnect()
    const config = loadConfig({
      ...TEST_KEYS,
      DATABASE_URL: database.ownerUrl,
      APP_DATABASE_URL: database.appUrl,
      REDIS_URL: `redis://127.0.0.1:${port}`,
      LOG_LEVEL: 'silent',
    })
    const handle = await startWorkers(config, createLogger('silent'))
    await expect(handle.close()).resolves.toBeUndefined()
  })
})
