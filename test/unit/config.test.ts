import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig, startEnvironment, warnOfDevelopmentKeys } from '../../api/config.js'

const KEYS = { BLOB_MASTER_KEY: Buffer.alloc(32, 1).toString('base64'), BSN_HASH_KEY: Buffer.alloc(32, 2).toString('base64') }

describe('config', () => {
  it('has defaults that work against the local PostgreSQL and Redis', () => {
    const c = loadConfig(KEYS)
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
    expect(() => loadConfig({ ...KEYS, ...env })).toThrow(ConfigError)
    expect(() => loadConfig({ ...KEYS, ...env })).toThrow(message)
  })

  it.each(['BLOB_MASTER_KEY', 'BSN_HASH_KEY'] as const)('stops without %s, naming it, unless DEMO_KEYS=on', (name) => {
    const env = { ...KEYS, [name]: '' }
    expect(() => loadConfig(env)).toThrow(ConfigError)
    expect(() => loadConfig(env)).toThrow(new RegExp(`^${name} is not set: set it to the base64 of 32 random bytes`))
    expect(() => loadConfig({ ...env, DEMO_KEYS: 'off' })).toThrow(`${name} is not set`)
    const demo = loadConfig({ ...env, DEMO_KEYS: 'on' })
    expect(demo.developmentKeys).toEqual([name])
    expect(loadConfig({ ...KEYS, DEMO_KEYS: 'on' }).developmentKeys).toEqual([])
  })

  it('uses distinct fixed development keys under DEMO_KEYS=on, and says so in the log', () => {
    const c = loadConfig({ DEMO_KEYS: 'on' })
    expect(c.developmentKeys).toEqual(['BLOB_MASTER_KEY', 'BSN_HASH_KEY'])
    expect(c.blobMasterKey).toHaveLength(32)
    expect(c.bsnHashKey.equals(c.blobMasterKey)).toBe(false)
    const lines: string[] = []
    warnOfDevelopmentKeys(c, { warn: (_obj, msg) => lines.push(msg) })
    expect(lines).toEqual([expect.stringMatching(/BLOB_MASTER_KEY and BSN_HASH_KEY use the fixed development keys, for a demo database only/)])
    const quiet: string[] = []
    warnOfDevelopmentKeys(loadConfig(KEYS), { warn: (_obj, msg) => quiet.push(msg) })
    expect(quiet).toEqual([])
    expect(() => loadConfig({ DEMO_KEYS: 'yes' })).toThrow('DEMO_KEYS must be on or off')
  })

  it('lets npm start switch the development keys on only when keys are missing and no admin token is set', () => {
    expect(startEnvironment({}).DEMO_KEYS).toBe('on')
    expect(startEnvironment({ BLOB_MASTER_KEY: KEYS.BLOB_MASTER_KEY }).DEMO_KEYS).toBe('on')
    expect(startEnvironment(KEYS).DEMO_KEYS).toBeUndefined()
    expect(startEnvironment({ BOOTSTRAP_ADMIN_TOKEN: 'x'.repeat(32) }).DEMO_KEYS).toBeUndefined()
    expect(startEnvironment({ DEMO_KEYS: 'off' }).DEMO_KEYS).toBe('off')
  })

  it('takes explicit values', () => {
    const c = loadConfig({ ...KEYS, PORT: '8080', BOOTSTRAP_ADMIN_TOKEN: 'x'.repeat(32), RATE_LIMIT_PER_MINUTE: '60', WORKER_QUEUES: 'maintenance' })
    expect(c.port).toBe(8080)
    expect(c.blobMasterKey.equals(Buffer.alloc(32, 1))).toBe(true)
    expect(c.bootstrapAdminToken).toBe('x'.repeat(32))
    expect(c.rateLimitPerMinute).toBe(60)
    expect(c.workerQueues).toEqual(['maintenance'])
  })
})
