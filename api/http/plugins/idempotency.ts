// Idempotency-Key on POST (API.md conventions): same key and same body → the stored status and
// body again with Idempotent-Replayed: true; same key, other body → 422; still in flight → 409.
// Scoped per tenant and, within it, per API key (issue 9): a stored response is replayed only to the
// principal that made the request; anyone else with the same Idempotency-Key is processed afresh and
// gets the normal authorisation result. Stored responses are encrypted (AES-256-GCM under a key
// derived from the master key) and the request fingerprint is keyed (HMAC): a response carrying a
// one-time secret (a new API key, a staff key) or personal data (a case's BSN and names) is never
// kept in clear text. Kept at least 24 h (purged after 48 h).
import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { inScope, isAdmin, type Principal } from '../../auth/principal.js'
import type { Db } from '../../db/database.js'
import { invalidFields } from '../../domain/errors.js'
import { Problem } from '../problem.js'
import * as repo from '../../idempotency/idempotency.repository.js'

declare module 'fastify' {
  interface FastifyRequest {
    idempotency: (repo.Owner & { key: string }) | null
  }
  interface FastifyInstance {
    idempotencySecrets: IdempotencySecrets
  }
  interface FastifyContextConfig {
    /** false for routes whose body is streamed (multipart): they claim the key themselves once the body is read. */
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

const ownerOf = (p: Principal): repo.Owner => ({ ownerId: isAdmin(p) ? p.keyId : p.tenantId, principalId: p.keyId })

export interface IdempotencySecrets {
  sealKey: Buffer
  hashKey: Buffer
}

const derive = (masterKey: Buffer, purpose: string): Buffer => Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), `regiobalie:idempotency:${purpose}:v1`, 32))

export const idempotencySecrets = (masterKey: Buffer): IdempotencySecrets => ({ sealKey: derive(masterKey, 'response'), hashKey: derive(masterKey, 'request-hash') })

const SEALED = 'v1'
const aadOf = (owner: repo.Owner, key: string): Buffer => Buffer.from(JSON.stringify([owner.ownerId, owner.principalId, key]))

/** `v1.<iv>.<tag>.<ciphertext>`: the stored body, bound to its owner, principal and key. */
export function sealResponse(secrets: IdempotencySecrets, owner: repo.Owner, key: string, body: string): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', secrets.sealKey, iv)
  cipher.setAAD(aadOf(owner, key))
  const ciphertext = Buffer.concat([cipher.update(body, 'utf8'), cipher.final()])
  return [SEALED, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ciphertext.toString('base64url')].join('.')
}

export function openResponse(secrets: IdempotencySecrets, owner: repo.Owner, key: string, sealed: string): string {
  const [version, iv, tag, ciphertext] = sealed.split('.')
  if (version !== SEALED || iv === undefined || tag === undefined || ciphertext === undefined) throw new Error('stored response has an unknown format')
  const decipher = createDecipheriv('aes-256-gcm', secrets.sealKey, Buffer.from(iv, 'base64url'))
  decipher.setAAD(aadOf(owner, key))
  decipher.setAuthTag(Buffer.from(tag, 'base64url'))
  return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8')
}

export interface Replay {
  status: number
  body: string
  headers: Record<string, string>
}

/** Thrown where a request turns out to repeat a completed one; the route answers with the replay. */
export class IdempotentReplay extends Error {
  constructor(readonly replay: Replay) {
    super('idempotent replay')
  }
}

/** The Idempotency-Key of a POST, validated; null when none was sent. */
export function idempotencyKeyOf(request: FastifyRequest): string | null {
  const header = request.headers['idempotency-key']
  if (request.method !== 'POST' || header === undefined) return null
  const key = Array.isArray(header) ? header[0] : header
  if (!key || key.length > 255) {
    throw invalidFields([{ name: 'header.Idempotency-Key', code: 'invalid-length', reason: 'must be 1 to 255 characters' }])
  }
  return key
}

const keyScopeOf = (p: Principal): repo.KeyScope => (isAdmin(p) ? { admin: true } : { admin: false, tenantId: p.tenantId, regionId: p.regionId })

/** A key another request holds: its stored answer, a take-over of a claim gone stale, or 409/422. */
async function answerTo(
  db: Db,
  principal: Principal,
  secrets: IdempotencySecrets,
  owner: repo.Owner,
  key: string,
  hash: Buffer,
  stored: repo.StoredResponse | undefined,
): Promise<Replay | null> {
  if (!stored) throw new Problem(409, 'idempotency-key-in-flight', 'a request with this Idempotency-Key is still being processed')
  if (!stored.request_hash.equals(hash)) throw new Problem(422, 'idempotency-key-reused', 'this Idempotency-Key was used with another request')
  if (stored.status === 'in_flight') {
    if (stored.stale && (await inScope(db, principal, (trx) => repo.takeOver(trx, owner, key, IN_FLIGHT_STALE_SECONDS)))) return null
    throw new Problem(409, 'idempotency-key-in-flight', 'a request with this Idempotency-Key is still being processed')
  }
  const body = stored.response_body ? openResponse(secrets, owner, key, stored.response_body) : ''
  return { status: stored.response_status ?? 200, body, headers: stored.response_headers ?? {} }
}

/**
 * Claims the request's key for a request with this hash: null when it may proceed (the response
 * is stored when it is sent), the stored answer when it repeats a completed request; 422 for the
 * same key with another request, 409 while the first is still in flight.
 */
export async function claimIdempotencyKey(db: Db, request: FastifyRequest, key: string, requestDigest: Buffer): Promise<Replay | null> {
  const owner = ownerOf(request.principal)
  const secrets = request.server.idempotencySecrets
  // Keyed: the fingerprint of a body with a BSN and names cannot be tested against guesses.
  const hash = createHmac('sha256', secrets.hashKey).update(requestDigest).digest()
  // The claim, or what is stored under the key, in one statement (issue 13: was a transaction of four).
  const claimed = await repo.claimOrFind(db, keyScopeOf(request.principal), owner, key, hash, IN_FLIGHT_STALE_SECONDS)
  const outcome = claimed === 'claimed' ? null : await answerTo(db, request.principal, secrets, owner, key, hash, claimed)
  if (!outcome) request.idempotency = { ...owner, key }
  return outcome
}

export const sendReplay = (reply: FastifyReply, replay: Replay): FastifyReply =>
  reply
    .code(replay.status)
    .headers({ ...replay.headers, 'Idempotent-Replayed': 'true' })
    .serializer((payload: unknown) => payload as string)
    .send(replay.body)

/** The hash of a request whose body is known up front (JSON): method, URL and canonical body. */
export const requestHash = (request: FastifyRequest, body: unknown = request.body): Buffer =>
  createHash('sha256')
    .update(`${request.method} ${request.url}\n${JSON.stringify(canonical(body ?? null))}`)
    .digest()

export const idempotencyPlugin = fp(
  async (app: FastifyInstance, opts: { db: Db; masterKey: Buffer }) => {
    app.decorateRequest('idempotency', null)
    app.decorate('idempotencySecrets', idempotencySecrets(opts.masterKey))

    app.addHook('preHandler', async (request, reply) => {
      if (request.routeOptions.config.idempotent === false || !request.principal) return
      const key = idempotencyKeyOf(request)
      if (!key) return
      const replay = await claimIdempotencyKey(opts.db, request, key, requestHash(request))
      if (replay) return sendReplay(reply, replay)
    })

    app.addHook('onSend', async (request, reply, payload) => {
      const claim = request.idempotency
      if (!claim || !request.principal) return payload
      request.idempotency = null
      if (reply.statusCode >= 500) {
        // A failure on our side is not an answer to keep: the client may retry with the same key.
        await inScope(opts.db, request.principal, (trx) => repo.release(trx, claim, claim.key))
        return payload
      }
      const headers: Record<string, string> = {}
      for (const name of KEPT_HEADERS) {
        const value = reply.getHeader(name)
        if (typeof value === 'string') headers[name] = value
      }
      const body = typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : ''
      const sealed = sealResponse(app.idempotencySecrets, claim, claim.key, body)
      await repo.completeIn(opts.db, keyScopeOf(request.principal), claim, claim.key, { status: reply.statusCode, body: sealed, headers })
      return payload
    })
  },
  { name: 'idempotency', dependencies: ['auth'] },
)
