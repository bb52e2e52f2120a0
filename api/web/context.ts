// What every workbench page gets from the app factory: configuration, pools and the services'
// dependencies. Its own module, so the session and the rendering both take it without a circle.
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { RateLimiter } from '../auth/rate-limit.js'
import type { CaseDeps } from '../cases/cases.service.js'
import type { Config } from '../config.js'
import type { Db } from '../db/database.js'
import type { BlobStore } from '../documents/blob-store.js'
import type { DocumentDeps } from '../documents/documents.service.js'
import type { ErrorKind } from '../domain/errors.js'
import type { SignInThrottle } from './throttle.js'

export interface WebContext {
  config: Config
  db: Db
  store: BlobStore
  cases: CaseDeps
  documents: DocumentDeps
  throttle: SignInThrottle
  /** The API's per-key limit, shared through Redis: a session spends from its key's budget. */
  rateLimiter: RateLimiter
  /** Checks the form's CSRF token (a preHandler). */
  csrf: (req: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => void
  /**
   * The status of a page that shows a refusal: the JSON API's own table (api/http/problem.ts),
   * handed over by the app factory, so both faces answer a domain error alike.
   */
  statusOf: Readonly<Record<ErrorKind, number>>
}
