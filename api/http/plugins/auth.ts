// Every route is authenticated unless it is declared 'public'. Authentication runs on request
// (before the body is read), then the scope, then the per-key rate limit shared through Redis.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Logger } from 'pino'
import { authenticate, LastUsedRecorder } from '../../auth/authenticate.js'
import type { Principal } from '../../auth/principal.js'
import type { RateLimiter } from '../../auth/rate-limit.js'
import type { PrincipalCache } from '../../auth/principal-cache.js'
import type { Db } from '../../db/database.js'
import { DomainError } from '../../domain/errors.js'
import { Problem } from '../problem.js'

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal
  }
}

export interface AuthOptions {
  db: Db
  rateLimiter: RateLimiter
  /** Requests with a missing, unknown or revoked key, counted per client address (guessing keys). */
  unknownKeyLimiter?: RateLimiter
  logger: Logger
  /** Principals of recently used keys, emptied on every change to keys, tenants or staff. */
  principalCache?: PrincipalCache
}

export const authPlugin = fp(
  async (app: FastifyInstance, opts: AuthOptions) => {
    const lastUsed = new LastUsedRecorder(opts.db, opts.logger)
    app.decorateRequest<Principal | null>('principal', null)
    app.addHook('onClose', async () => lastUsed.flush())
    app.addHook('onRequest', async (request, reply) => {
      const scope = request.routeOptions.config.scope
      if (scope === 'public' || request.is404) return
      let principal: Principal
      try {
        principal = await authenticate(opts.db, request.headers.authorization, opts.principalCache)
      } catch (err) {
        if (opts.unknownKeyLimiter && err instanceof DomainError && err.kind === 'unauthenticated') {
          // No key to count against: the client's address is, so guessing keys is slowed down.
          const rate = await opts.unknownKeyLimiter.take(`addr:${request.ip}`)
          if (!rate.allowed) {
            throw new Problem(429, 'rate-limited', `at most ${rate.limit} requests per minute without a valid key`, {
              headers: { 'Retry-After': String(rate.resetSeconds) },
            })
          }
        }
        throw err
      }
      const rate = await opts.rateLimiter.take(principal.keyId)
      void reply.headers({
        'RateLimit-Limit': String(rate.limit),
        'RateLimit-Remaining': String(rate.remaining),
        'RateLimit-Reset': String(rate.resetSeconds),
      })
      if (!rate.allowed) {
        throw new Problem(429, 'rate-limited', `at most ${rate.limit} requests per minute per key`, {
          headers: { 'Retry-After': String(rate.resetSeconds) },
        })
      }
      if (scope && !principal.scopes.has(scope)) {
        throw new Problem(403, 'insufficient-scope', `this key lacks the scope ${scope}`)
      }
      lastUsed.record(principal.keyId)
      request.principal = principal
    })
  },
  { name: 'auth', dependencies: ['errors'] },
)
