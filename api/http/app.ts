// The app factory (STYLE.md §1): receives its dependencies, returns a Fastify instance. server.ts
// and the tests call the same function.
import { randomUUID } from 'node:crypto'
import AjvCompiler from '@fastify/ajv-compiler'
import helmet from 'helmet'
import type { IncomingMessage, ServerResponse } from 'node:http'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest, type RawServerDefault } from 'fastify'
import { sql } from 'kysely'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { RateLimiter } from '../auth/rate-limit.js'
import { PrincipalCache } from '../auth/principal-cache.js'
import type { Config } from '../config.js'
import type { Db } from '../db/database.js'
import { DomainError } from '../domain/errors.js'
import type { Queues } from '../jobs/queues.js'
import { AJV_CUSTOM_OPTIONS, componentSchemas, loadSpec, type OpenApiDocument } from './openapi.js'
import { docsPlugin } from './plugins/docs.js'
import { authPlugin } from './plugins/auth.js'
import { errorsPlugin, sendProblem } from './plugins/errors.js'
import { createMetrics, metricsPlugin, type Metrics } from './plugins/metrics.js'
import { declareRoute, type ReplyOf } from './route.js'
import { tenancyRoutes } from './routes/tenancy.routes.js'
import { caseRoutes } from './routes/cases.routes.js'
import { idempotencyPlugin } from './plugins/idempotency.js'
import { blobStoreFrom, type BlobStore } from '../documents/blob-store.js'
import { slowClientsPlugin } from './plugins/slow-clients.js'
import { textSafetyPlugin } from './plugins/text-safety.js'
import { documentRoutes } from './routes/documents.routes.js'
import { workbench } from '../web/workbench.js'
import { STATUS_OF_KIND } from './problem.js'
import { webhookRoutes } from './routes/webhooks.routes.js'
import { secretsKey } from '../webhooks/secrets.js'
import type { Resolver } from '../webhooks/url-guard.js'
import { appointmentRoutes } from './routes/appointments.routes.js'
import { settlementRoutes } from './routes/settlement.routes.js'
import { QUEUE_BOARD_PATH, queueBoard } from './plugins/queue-board.js'

export interface AppDeps {
  config: Config
  db: Db
  redis: Redis
  logger: Logger
  /** BullMQ queues, read for queue-depth metrics only (the API never consumes jobs). */
  queues?: Queues | null
  spec?: OpenApiDocument
  /** Where encrypted document blobs go; the configured store (blobStoreFrom) unless given. */
  blobStore?: BlobStore
  /** DNS for the webhook URL guard; the system resolver unless given (tests pass their own). */
  webhookResolver?: Resolver
}

export interface App {
  app: FastifyInstance
  metrics: Metrics
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

/**
 * Two validators: a JSON body is taken as typed — a number where the contract says string (a BSN
 * sent as 123456782) is a 400, never coerced — while querystring, path and header values, which are
 * text on the wire, are coerced to the contract's types (`?limit=5` is the integer 5).
 */
const validatorFactory = AjvCompiler()
const buildValidator: typeof validatorFactory = (externalSchemas, options) => {
  const plugins = options?.plugins ?? []
  const asTyped = validatorFactory(externalSchemas, { plugins, customOptions: { ...AJV_CUSTOM_OPTIONS, coerceTypes: false } })
  const fromText = validatorFactory(externalSchemas, { plugins, customOptions: { ...AJV_CUSTOM_OPTIONS, coerceTypes: 'array' } })
  return (route) => (route.httpPart === 'body' ? asTyped(route) : fromText(route))
}

const withTimeout = <T>(promise: Promise<T>, ms: number): Promise<T> =>
  Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error('timed out')), ms).unref())])

export async function buildApp(deps: AppDeps): Promise<App> {
  const spec = deps.spec ?? loadSpec()
  const app = Fastify<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger>({
    loggerInstance: deps.logger,
    genReqId: (req) => {
      const given = req.headers['x-request-id']
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID()
    },
    requestIdHeader: false,
    // Logged below with the route path: Fastify's own lines carry the URL with its query string.
    logController: new LogController({ disableRequestLogging: true }),
    // Per route: JSON routes take at most this; the upload route's multipart body is bounded by
    // its own limits (config.upload).
    bodyLimit: deps.config.jsonBodyLimitBytes,
    // The whole request must have arrived by then (the slowest allowed: an upload); JSON bodies
    // are held to their shorter time by the slow-clients plugin.
    requestTimeout: deps.config.timeouts.uploadMs + 5_000,
    trustProxy: deps.config.trustProxy,
    ajv: { customOptions: { ...AJV_CUSTOM_OPTIONS } },
    schemaController: { compilersFactory: { buildValidator } },
  })
  // Headers must arrive quickly; one process holds a bounded number of connections (a flood of
  // stalled uploads cannot hold a temp file each for ever).
  app.server.headersTimeout = deps.config.timeouts.headersMs
  app.server.maxConnections = deps.config.maxConnections

  // Closing waits for every handler still running, also one whose client has gone: for Fastify
  // that request is over, but its transaction is not. The pools close after this (server.ts).
  const running = new Set<Promise<unknown>>()
  app.addHook('onRoute', (options) => {
    const handler = options.handler
    options.handler = function (this: FastifyInstance, request, reply) {
      const result: unknown = handler.call(this, request, reply)
      if (result instanceof Promise) {
        running.add(result)
        const done = () => running.delete(result)
        result.then(done, done)
      }
      return result
    }
  })
  app.addHook('onClose', async () => {
    await Promise.allSettled([...running])
  })

  // JSON only (multipart where a route says so): a text/plain body is refused with 415.
  app.removeContentTypeParser('text/plain')

  app.addHook('onSend', async (request, reply) => {
    void reply.header('X-Request-Id', request.id)
    void reply.header('API-Version', spec.info.version)
  })

  // The request log names the route (`/v1/cases/:caseId`), never the URL: a query string or a path
  // segment can carry a BSN. An unknown path is logged without it.
  const route = (request: FastifyRequest): string | null => (request.is404 ? null : (request.routeOptions.url ?? null))
  app.addHook('onRequest', async (request) => {
    request.log.info({ method: request.method, route: route(request) }, 'incoming request')
  })
  app.addHook('onResponse', async (request, reply) => {
    request.log.info({ method: request.method, route: route(request), statusCode: reply.statusCode, responseTime: reply.elapsedTime }, 'request completed')
  })

  // Security headers on every response (nosniff, frame-ancestors and X-Frame-Options, …). The API
  // serves JSON, no documents: its policy allows nothing and no framing. /docs sets its own policy
  // (plugins/docs.ts), which replaces this one on its pages, and the workbench its own (api/web).
  // Helmet's middleware is made once: @fastify/helmet makes it again for every request, parsing the
  // policy each time (issue 13: ~3 % of the API's CPU per page of the case list).
  const securityHeaders = helmet({
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    frameguard: { action: 'deny' },
  })
  app.addHook('onRequest', (request, reply, done) => {
    securityHeaders(request.raw, reply.raw, (err?: unknown) => done(err instanceof Error ? err : undefined))
  })

  await app.register(errorsPlugin)
  // A trailing slash names no resource: 404 like any unknown path, before a key is even looked at
  // (else `/v1/cases/` would reach `/v1/cases/:caseId` with an empty id). /docs/ is swagger-ui's.
  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0] ?? ''
    if (path.length > 1 && path.endsWith('/') && !path.startsWith('/docs/') && !path.startsWith(`${QUEUE_BOARD_PATH}/`)) {
      return sendProblem(request, reply, 404, 'route-not-found', `no route ${request.method} ${path}`)
    }
  })
  await app.register(slowClientsPlugin, deps.config.timeouts)
  await app.register(textSafetyPlugin)
  const metrics = createMetrics(deps.db, deps.queues ?? null)
  await app.register(metricsPlugin, { metrics })
  // Heard changes empty it in every process; it starts listening before the first request.
  const principalCache = new PrincipalCache(deps.config.appDatabaseUrl, deps.logger)
  await principalCache.start()
  app.addHook('onClose', async () => principalCache.close())
  await app.register(authPlugin, {
    db: deps.db,
    principalCache,
    rateLimiter: new RateLimiter(deps.redis, deps.config.rateLimitPerMinute, deps.logger),
    unknownKeyLimiter: new RateLimiter(deps.redis, deps.config.unknownKeyRateLimitPerMinute, deps.logger, 'regiobalie:ratelimit-unknown'),
    logger: deps.logger,
  })
  await app.register(idempotencyPlugin, { db: deps.db, masterKey: deps.config.blobMasterKey })
  for (const schema of componentSchemas(spec)) app.addSchema(schema)

  await app.register(docsPlugin, { spec })

  const healthy: ReplyOf<'getHealth'> = { status: 'ok' }
  const ready: ReplyOf<'getReadiness'> = { status: 'ready', checks: { postgres: 'ok', redis: 'ok' } }
  declareRoute(app, spec, 'getHealth', 'public', async () => healthy)
  declareRoute(app, spec, 'getReadiness', 'public', async () => {
    const [postgres, redis] = await Promise.allSettled([
      withTimeout(sql`select 1`.execute(deps.db), 2_000),
      withTimeout(deps.redis.ping(), 2_000),
    ])
    if (postgres.status === 'fulfilled' && redis.status === 'fulfilled') return ready
    const down = [postgres.status === 'rejected' ? 'PostgreSQL' : null, redis.status === 'rejected' ? 'Redis' : null].filter(Boolean)
    throw new DomainError('unavailable', 'not-ready', `${down.join(' and ')} did not answer`)
  })
  declareRoute(app, spec, 'getMetrics', 'tenants:admin', async (_request, reply) =>
    reply.type(metrics.registry.contentType).code(200).send(await metrics.registry.metrics()),
  )

  const blobStore = deps.blobStore ?? blobStoreFrom(deps.config)
  await app.register(async (v1) => {
    // Tenant data, often personal (a case's subject, staff names, keys): never kept by a cache.
    v1.addHook('onSend', async (_request, reply) => {
      if (!reply.hasHeader('cache-control')) void reply.header('Cache-Control', 'no-store')
    })
    tenancyRoutes(v1, spec, deps.db)
    caseRoutes(v1, spec, { db: deps.db, bsnHashKey: deps.config.bsnHashKey })
    appointmentRoutes(v1, spec, { db: deps.db })
    settlementRoutes(v1, spec, deps.db)
    await documentRoutes(v1, spec, { db: deps.db, store: blobStore, masterKey: deps.config.blobMasterKey }, deps.config.upload)
    webhookRoutes(v1, spec, {
      db: deps.db,
      secretsKey: secretsKey(deps.config.blobMasterKey),
      allowPrivateNetworks: deps.config.webhooks.allowPrivateNetworks,
      ...(deps.webhookResolver ? { resolve: deps.webhookResolver } : {}),
    })
  })
  // The queue dashboard for platform admins (bull-board), with its own policy, in its own scope.
  await app.register(queueBoard, { queues: deps.queues ?? null, redis: deps.redis, queuePrefix: deps.config.queuePrefix })
  // The workbench for people (api/web), on the same services, in its own scope under /app/.
  await app.register(workbench, { prefix: '/app', statusOf: STATUS_OF_KIND, config: deps.config, db: deps.db, redis: deps.redis, store: blobStore })
  return { app, metrics }
}
