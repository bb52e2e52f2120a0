// Issue 13: the rate limiter counts the takes of one key that arrive in one turn of the event loop
// with one Redis command (INCRBY by their number). The count in Redis and every decision are those
// of one command per take: each take is told its own place, and the ones past the limit are refused.
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { RateLimiter } from '../../api/auth/rate-limit.js'
import { REDIS_URL } from '../helpers/env.js'

let redis: Redis
const prefix = `regiobalie:test-ratelimit-${randomUUID()}`

beforeAll(() => {
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 })
})
afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`)
  if (keys.length > 0) await redis.del(...keys)
  redis.disconnect()
})

describe('takes that arrive together', () => {
  it('are counted by one command per key, each told its own place; those past the limit are refused', async () => {
    const limiter = new RateLimiter(redis, 5, pino({ level: 'silent' }), prefix)
    const evals = vi.spyOn(redis, 'eval')
    const now = Math.floor(Date.now() / 60_000) * 60_000 + 30_000
    const [a, b] = [randomUUID(), randomUUID()]
    const decisions = await Promise.all([...Array.from({ length: 8 }, () => limiter.take(a, now)), limiter.take(b, now)])
    expect(evals).toHaveBeenCalledTimes(2)
    evals.mockRestore()
    const ofA = decisions.slice(0, 8)
    expect(ofA.map((d) => d.allowed)).toEqual([true, true, true, true, true, false, false, false])
    expect(ofA.map((d) => d.remaining)).toEqual([4, 3, 2, 1, 0, 0, 0, 0])
    expect(decisions[8]).toEqual({ allowed: true, limit: 5, remaining: 4, resetSeconds: 30 })
    expect(await redis.get(`${prefix}:${a}:${Math.floor(now / 60_000)}`)).toBe('8')
    // The next take, in a later turn, continues the count.
    expect(await limiter.take(a, now)).toEqual({ allowed: false, limit: 5, remaining: 0, resetSeconds: 30 })
    expect(await redis.ttl(`${prefix}:${a}:${Math.floor(now / 60_000)}`)).toBeGreaterThan(0)
  })

  it('are all let through when Redis does not answer', async () => {
    const broken = new Redis('redis://127.0.0.1:1', { maxRetriesPerRequest: 0, lazyConnect: true, enableOfflineQueue: false })
    const limiter = new RateLimiter(broken, 1, pino({ level: 'silent' }), prefix)
    const decisions = await Promise.all([limiter.take('k'), limiter.take('k'), limiter.take('k')])
    expect(decisions.map((d) => [d.allowed, d.remaining])).toEqual([[true, 1], [true, 1], [true, 1]])
    broken.disconnect()
  })
})
