import type { Redis } from 'ioredis'
import type { Logger } from 'pino'

export interface RateDecision {
  allowed: boolean
  limit: number
  remaining: number
  /** Seconds until the window resets. */
  resetSeconds: number
}

// INCRBY then EXPIRE, atomically: the takes of one key that arrive together count in one command.
const TAKE_SCRIPT = "local n = redis.call('INCRBY', KEYS[1], ARGV[2]) redis.call('EXPIRE', KEYS[1], ARGV[1]) return n"

interface Waiting {
  now: number
  resolve: (decision: RateDecision) => void
}

/**
 * A fixed one-minute window per API key, counted in Redis so every API process shares it. When
 * Redis does not answer the request is let through (logged): the backoffice stays usable and
 * /readyz already reports the outage. The takes of one key within one turn of the event loop are
 * counted by one command (issue 13: a command's socket write cost more than the rest of a take):
 * the counter moves by their number and each take is told its own place in it, so the count and
 * every decision are the same as one command per take.
 */
export class RateLimiter {
  private readonly waiting = new Map<string, Waiting[]>()
  private scheduled = false

  constructor(
    private readonly redis: Redis,
    private readonly perMinute: number,
    private readonly logger: Logger,
    private readonly prefix = 'regiobalie:ratelimit',
  ) {}

  take(keyId: string, now = Date.now()): Promise<RateDecision> {
    const counter = `${this.prefix}:${keyId}:${Math.floor(now / 60_000)}`
    return new Promise<RateDecision>((resolve) => {
      const takes = this.waiting.get(counter)
      if (takes) takes.push({ now, resolve })
      else this.waiting.set(counter, [{ now, resolve }])
      if (!this.scheduled) {
        this.scheduled = true
        setImmediate(() => this.flush())
      }
    })
  }

  private flush(): void {
    this.scheduled = false
    const counters = [...this.waiting]
    this.waiting.clear()
    for (const [counter, takes] of counters) void this.count(counter, takes)
  }

  private decision(used: number, now: number): RateDecision {
    const resetSeconds = Math.max(1, Math.ceil(((Math.floor(now / 60_000) + 1) * 60_000 - now) / 1000))
    return { allowed: used <= this.perMinute, limit: this.perMinute, remaining: Math.max(0, this.perMinute - used), resetSeconds }
  }

  private async count(counter: string, takes: Waiting[]): Promise<void> {
    let before: number
    try {
      before = Number(await this.redis.eval(TAKE_SCRIPT, 1, counter, 61, takes.length)) - takes.length
    } catch (err) {
      this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'rate limiter unavailable; request allowed')
      for (const t of takes) t.resolve(this.decision(0, t.now))
      return
    }
    takes.forEach((t, i) => t.resolve(this.decision(before + i + 1, t.now)))
  }
}
