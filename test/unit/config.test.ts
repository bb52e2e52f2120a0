import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../api/config.js'

describe('config', () => {
  it('has defaults that work against the local PostgreSQL and Redis', () => {
    const c = loadConfig({})
    expect(c.port).toBe(3000)
    expect(c.databaseUrl).toBe('postgres://postgres@127.0.0.1:5432/regiobalie')
    expect(new URL(c.appDatabaseUrl).username).toBe('regiobalie_api')
    expect(c.redisUrl).toBe('redis://127.0.0.1:6379')
    expect(c.blobMasterKey).toHaveLength(32)
    expect(c.bootstrapAdminToken).toBeNull()
    expect(c.rateLimitPerMinute).toBe(1200)
    expect(c.upload).toEqual({ maxFileBytes: 20 * 1024 * 1024, maxFields: 10, maxFieldBytes: 1024, maxParts: 20 })
    expect(Object.isFrozen(c)).toBe(true)
  })

  it.each([
    [{ PORT: 'abc' }, /PORT must be a whole number/],
    [{ PORT: '70000' }, /PORT must be between/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL must start with postgres/],
    [{ REDIS_URL: 'not a url' }, /REDIS_URL is not a URL/],
    [{ BLOB_MASTER_KEY: 'c2hvcnQ=' }, /BLOB_MASTER_KEY must be the base64 of exactly 32 bytes/],
    [{ BOOTSTRAP_ADMIN_TOKEN: 'too-short' }, /at least 32 characters/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL must be one of/],
    [{ RATE_LIMIT_PER_MINUTE: '0' }, /RATE_LIMIT_PER_MINUTE must be between/],
    [{ WORKER_QUEUES: 'maintenance,mystery' }, /unknown queue "mystery"/],
  ])('fails fast with a message naming the variable: %o', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError)
    expect(() => loadConfig(env)).toThrow(message)
  })

  it('takes explicit values', () => {
    const key = Buffer.alloc(32, 1).toString('base64')
    const c = loadConfig({ PORT: '8080', BLOB_MASTER_KEY: key, BOOTSTRAP_ADMIN_TOKEN: 'x'.repeat(32), RATE_LIMIT_PER_MINUTE: '60', WORKER_QUEUES: 'maintenance' })
    expect(c.port).toBe(8080)
    expect(c.blobMasterKey.equals(Buffer.alloc(32, 1))).toBe(true)
    expect(c.bootstrapAdminToken).toBe('x'.repeat(32))
    expect(c.rateLimitPerMinute).toBe(60)
    expect(c.workerQueues).toEqual(['maintenance'])
  })
})
