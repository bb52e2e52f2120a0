// A short-lived, per-process cache of the principal of an API key (issue 13: the key lookup was a
// round trip on every request). A cached principal is dropped, in every API process, as soon as
// anything it is made of changes: migration 0015's triggers NOTIFY `regiobalie_auth` when a key is
// revoked or changed, a tenant is suspended or changed, or a staff member changes, and each process
// LISTENs on a connection of its own. The process that made the change drops its cache itself
// before it answers (invalidatePrincipals), so its own next request never sees the old principal.
// While the listening connection is down nothing is cached (every request looks its key up), and a
// cached entry lives at most `ttlMs` in any case. Only successful lookups are cached: an unknown or
// revoked key is always looked up again.
import pg from 'pg'
import type { Logger } from 'pino'
import type { Principal } from './principal.js'

export const AUTH_CHANNEL = 'regiobalie_auth'

const live = new Set<PrincipalCache>()

/** Drops every cached principal in this process (after a change to keys, tenants or staff commits). */
export function invalidatePrincipals(): void {
  for (const cache of live) cache.invalidate()
}

export interface PrincipalCacheOptions {
  ttlMs?: number
  maxEntries?: number
  /** Wait this long before listening again after the connection was lost. */
  reconnectMs?: number
}

export class PrincipalCache {
  private readonly entries = new Map<string, { principal: Principal; expiresAt: number }>()
  private generation = 0
  private client: pg.Client | null = null
  private listening = false
  private closed = false
  private retry: NodeJS.Timeout | null = null
  private readonly ttlMs: number
  private readonly maxEntries: number
  private readonly reconnectMs: number

  constructor(
    private readonly connectionString: string,
    private readonly logger: Logger,
    options: PrincipalCacheOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 60_000
    this.maxEntries = options.maxEntries ?? 10_000
    this.reconnectMs = options.reconnectMs ?? 1_000
    live.add(this)
  }

  /** True while changes are heard: only then is anything cached. */
  get active(): boolean {
    return this.listening
  }

  /** Connects and LISTENs; a failure is logged and retried, the cache stays off meanwhile. */
  async start(): Promise<void> {
    if (this.closed || this.client) return
    const client = new pg.Client({ connectionString: this.connectionString, application_name: 'regiobalie-api-auth', connectionTimeoutMillis: 3_000, keepAlive: true })
    this.client = client
    const lost = (why: string) => {
      if (this.client !== client) return
      this.client = null
      this.listening = false
      this.invalidate()
      client.removeAllListeners('notification')
      void client.end().catch(() => undefined)
      if (this.closed) return
      this.logger.warn({ why }, 'principal cache: not listening for key changes; keys are looked up on every request until it listens again')
      this.retry = setTimeout(() => {
        this.retry = null
        void this.start()
      }, this.reconnectMs)
      this.retry.unref()
    }
    client.on('error', (err) => lost(err.message))
    client.on('end', () => lost('connection ended'))
    client.on('notification', (msg) => {
      if (msg.channel === AUTH_CHANNEL) this.invalidate()
    })
    try {
      await client.connect()
      await client.query(`listen ${AUTH_CHANNEL}`)
      if (this.client !== client) return
      // Changes made before this moment were not heard: start empty.
      this.invalidate()
      this.listening = true
    } catch (err) {
      lost(err instanceof Error ? err.message : String(err))
    }
  }

  /** The generation to pass to `set` for a lookup that starts now. */
  get current(): number {
    return this.generation
  }

  get(keyHash: string, now = Date.now()): Principal | undefined {
    if (!this.listening) return undefined
    const entry = this.entries.get(keyHash)
    if (!entry) return undefined
    if (entry.expiresAt <= now) {
      this.entries.delete(keyHash)
      return undefined
    }
    return entry.principal
  }

  /**
   * Keeps a principal looked up while the cache was at `generation`; a change heard during the
   * lookup (the generation moved on) means the lookup may have read the old rows: not kept.
   */
  set(keyHash: string, principal: Principal, generation: number, now = Date.now()): void {
    if (!this.listening || generation !== this.generation) return
    if (this.entries.size >= this.maxEntries) this.entries.clear()
    this.entries.set(keyHash, { principal, expiresAt: now + this.ttlMs })
  }

  invalidate(): void {
    this.generation += 1
    this.entries.clear()
  }

  async close(): Promise<void> {
    this.closed = true
    live.delete(this)
    if (this.retry) clearTimeout(this.retry)
    this.listening = false
    this.invalidate()
    const client = this.client
    this.client = null
    if (client) await client.end().catch(() => undefined)
  }
}
