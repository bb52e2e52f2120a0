import { Redis } from 'ioredis'

/**
 * Workers block on Redis and must wait out a Redis restart instead of failing commands
 * (BullMQ requires maxRetriesPerRequest: null for them).
 */
export const createWorkerRedis = (url: string): Redis =>
  new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true })

/** The API side fails fast: a request must not hang while Redis is away. */
export const createApiRedis = (url: string): Redis =>
  new Redis(url, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2_000,
    lazyConnect: false,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  })

/** Redis may evict BullMQ keys under memory pressure unless the policy is noeviction. */
export async function maxmemoryPolicy(redis: Redis): Promise<string | null> {
  const info = await redis.info('memory')
  const match = /^maxmemory_policy:(\S+)/m.exec(info)
  return match?.[1] ?? null
}
