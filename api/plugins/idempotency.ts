// Idempotency-Key on POST (API.md conventions): same key and same body → the stored status and
// body again with Idempotent-Replayed: true; same key, other body → 422; still in flight → 409.
// Scoped per tenant (per key for the platform admin); kept at least 24 h (purged after 48 h).
import { createHash } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { inScope, isAdmin, type Principal } from '../auth/principal.js'
import type { Db } from '../db/database.js'
import { invalidParams, Problem } from '../errors.js'
import * as repo from '../idempotency/idempotency.repository.js'

declare module 'fastify' {
  interface FastifyRequest {
    idempotency: { ownerId: string; key: string } | null
  }
  interface FastifyContextConfig {
    /** false for routes whose body is streamed (multipart): they cannot be hashed before the handler. */
    idempotent?: boolean
  }
}

/** A claim older than this belongs to a request that died; a retry may take it over. */
export const IN_FLIGHT_STALE_SECONDS = 120
const KEPT_HEADERS = ['location', 'etag', 'content-type']

const canonical = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(canonical)
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    )
  }
  return value
}

const requestHash = (request: FastifyRequest): Buffer =>
  createHash('sha256')
    .update(`${request.method} ${request.url}\n${JSON.stringify(canonical(request.body ?? null))}`)
    .digest()

const ownerOf = (p: Principal): string => (isAdmin(p) ? p.keyId : p.tenantId)

export const idempotencyPlugin = fp(
  async (app: FastifyInstance, opts: { db: Db }) => {
    app.decorateRequest('idempotency', null)

    app.addHook('preHandler', async (request, reply) => {
      const header = request.headers['idempotency-key']
      if (request.method !== 'POST' || header === undefined || request.routeOptions.config.idempotent === false || !request.principal) return
      const key = Array.isArray(header) ? header[0] : header
      if (!key || key.length > 255) {
        throw invalidParams([{ name: 'header.Idempotency-Key', code: 'invalid-length', reason: 'must be 1 to 255 characters' }])
      }
      const ownerId = ownerOf(request.principal)
      const hash = requestHash(request)
      const outcome = await inScope(opts.db, request.principal, async (trx) => {
        if (await repo.claim(trx, ownerId, key, hash)) return { claimed: true as const }
        const stored = await repo.find(trx, ownerId, key, IN_FLIGHT_STALE_SECONDS)
        if (!stored) return { claimed: false as const, retry: true }
        if (!stored.request_hash.equals(hash)) throw new Problem(422, 'idempotency-key-reused', 'this Idempotency-Key was used with another request')
        if (stored.status === 'in_flight') {
          if (stored.stale && (await repo.takeOver(trx, ownerId, key, IN_FLIGHT_STALE_SECONDS))) return { claimed: true as const }
          throw new Problem(409, 'idempotency-key-in-flight', 'a request with this Idempotency-Key is still being processed')
        }
        return { claimed: false as const, stored }
      })
      if (outcome.claimed) {
        request.idempotency = { ownerId, key }
        return
      }
      if ('retry' in outcome) throw new Problem(409, 'idempotency-key-in-flight', 'a request with this Idempotency-Key is still being processed')
      const { stored } = outcome
      return reply
        .code(stored.response_status ?? 200)
        .headers({ ...(stored.response_headers ?? {}), 'Idempotent-Replayed': 'true' })
        .serializer((payload: unknown) => payload as string)
        .send(stored.response_body ?? '')
    })

    app.addHook('onSend', async (request, reply, payload) => {
      const claim = request.idempotency
      if (!claim || !request.principal) return payload
      request.idempotency = null
      if (reply.statusCode >= 500) {
        // A failure on our side is not an answer to keep: the client may retry with the same key.
        await inScope(opts.db, request.principal, (trx) => repo.release(trx, claim.ownerId, claim.key))
        return payload
      }
      const headers: Record<string, string> = {}
      for (const name of KEPT_HEADERS) {
        const value = reply.getHeader(name)
        if (typeof value === 'string') headers[name] = value
      }
      const body = typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : ''
      await inScope(opts.db, request.principal, (trx) => repo.complete(trx, claim.ownerId, claim.key, { status: reply.statusCode, body, headers }))
      return payload
    })
  },
  { name: 'idempotency', dependencies: ['auth'] },
)
