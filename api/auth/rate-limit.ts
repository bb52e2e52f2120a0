import type { Redis } from 'ioredis'
import type { Logger } from 'pino'

export interface RateDecision {
  allowed: boolean
  limit: number
  remaining: number
  /** Seconds until the window resets. */
  resetSeconds: number
}

/**
 * A fixed one-minute window per API key, counted in Redis so every API process shares it. When
 * Redis does not answer the request is let through (logged): the backoffice stays usable and
 * /readyz already reports the outage.
 */
export class RateLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly perMinute: number,
    private readonly logger: Logger,
    private readonly prefix = 'regiobalie:ratelimit',
  ) {}

  async take(keyId: string, now = Date.now()): Promise<RateDecision> {
    const window = Math.floor(now / 60_000)
    const resetSeconds = Math.max(1, Math.ceil(((window + 1) * 60_000 - now) / 1000))
    const counter = `${this.prefix}:${keyId}:${window}`
    try {
      const result = await this.redis.multi().incr(counter).expire(counter, 61).exec()
      const used = Number(result?.[0]?.[1] ?? 0)
      return { allowed: used <= this.perMinute, limit: this.perMinute, remaining: Math.max(0, this.perMinute - used), resetSeconds }
    } catch (err) {
      this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'rate limiter unavailable; request allowed')
      return { allowed: true, limit: this.perMinute, remaining: this.perMinute, resetSeconds }
    }
  }
}
