// Wrong keys at sign-in are counted per client address in a one-minute window in Redis (shared by
// every API process); past the limit, sign-in from that address is refused until the window ends.
// When Redis does not answer, sign-in stays possible (the key check itself is not weakened).
import type { Redis } from 'ioredis'

export class SignInThrottle {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    readonly failuresPerMinute: number,
  ) {}

  private counter(address: string, now: number): string {
    return `${this.prefix}:${address}:${Math.floor(now / 60_000)}`
  }

  /** Seconds until sign-in is possible again from this address, or 0 when it is now. */
  async blockedFor(address: string, now = Date.now()): Promise<number> {
    try {
      const used = Number((await this.redis.get(this.counter(address, now))) ?? 0)
      return used >= this.failuresPerMinute ? Math.max(1, Math.ceil((Math.floor(now / 60_000) + 1) * 60 - now / 1000)) : 0
    } catch {
      return 0
    }
  }

  async recordFailure(address: string, now = Date.now()): Promise<void> {
    const counter = this.counter(address, now)
    try {
      await this.redis.multi().incr(counter).expire(counter, 61).exec()
    } catch {
      // best effort, see above
    }
  }
}
