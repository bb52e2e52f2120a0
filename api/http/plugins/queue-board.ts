// The queue dashboard (issue 13, "Observability"): bull-board at /admin/queues, for platform admins.
// - Who: every route of it (the page, its assets, its JSON calls) asks for the platform admin's key,
//   `tenants:admin`, like GET /metrics: no key → 401, another key → 403 `insufficient-scope`
//   (API.md names no other rule for operations endpoints). The workbench session does not reach
//   here: its cookie is scoped to /app.
// - What: read-only (no retry, clean, add or edit of jobs), and of a job's data only its ids — the
//   payloads are ids by rule (api/jobs/registry.ts), the formatter holds to that whatever comes;
//   return values are not shown.
// - Headers: the board's page is its own single-page app (scripts and styles from its package, a
//   <base> element, inline style attributes), so its scope replaces the JSON API's `default-src
//   'none'` with a policy of its own: same-origin only, no third party (its web font link is refused
//   and the system font used), no framing.
// - Errors: bull-board's own error handler passes everything on to the API's, so refusals are the
//   usual problem+json.
// The queues are the API's (server.ts); an app built without them (tests) opens its own on the
// first admin request.
import { createBullBoard } from '@bull-board/api'
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter'
import { FastifyAdapter } from '@bull-board/fastify'
import type { FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import { closeQueues, createQueues, type Queues } from '../../jobs/queues.js'

export interface QueueBoardOptions {
  /** The API's queues; null → opened from `redis` when an admin first asks. */
  queues: Queues | null
  redis: Redis
  queuePrefix: string
}

export const QUEUE_BOARD_PATH = '/admin/queues'

export const QUEUE_BOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'self'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ')

const ID = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d{1,15})$/i

/** A job's data as the board shows it: ids and numbers; any other value is withheld. */
export function idsOnly(data: unknown): Record<string, unknown> {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return {}
  return Object.fromEntries(
    Object.entries(data as Record<string, unknown>).map(([key, value]) => [
      key,
      (typeof value === 'string' && ID.test(value)) || (typeof value === 'number' && Number.isFinite(value)) ? value : '[withheld]',
    ]),
  )
}

const adaptersOf = (queues: Queues) =>
  Object.values(queues).map((queue) => {
    const adapter = new BullMQAdapter(queue, { readOnlyMode: true })
    adapter.setFormatter('data', idsOnly)
    adapter.setFormatter('returnValue', () => null)
    return adapter
  })

export async function queueBoard(app: FastifyInstance, opts: QueueBoardOptions): Promise<void> {
  // Before bull-board's routes exist: each is for the platform admin (plugins/auth.ts checks it).
  app.addHook('onRoute', (route) => {
    route.config = { ...(route.config ?? {}), scope: 'tenants:admin' }
  })
  // After authentication (the auth hook is the app's, so it runs first): the board's own headers.
  app.addHook('onRequest', async (request, reply) => {
    void reply.header('Content-Security-Policy', QUEUE_BOARD_CSP)
    if (!request.url.startsWith(`${QUEUE_BOARD_PATH}/static/`)) void reply.header('Cache-Control', 'no-store')
  })

  const serverAdapter = new FastifyAdapter()
  const board = createBullBoard({ queues: opts.queues ? adaptersOf(opts.queues) : [], serverAdapter, options: { uiConfig: { boardTitle: 'Regiobalie queues' } } })
  serverAdapter.setErrorHandler((error) => {
    throw error
  })

  let own: Queues | null = null
  if (!opts.queues) {
    app.addHook('preHandler', async () => {
      if (own) return
      own = createQueues(opts.redis, opts.queuePrefix)
      board.replaceQueues(adaptersOf(own))
    })
    app.addHook('onClose', async () => {
      if (own) await closeQueues(own)
    })
  }
  await app.register(serverAdapter.registerPlugin(), { prefix: QUEUE_BOARD_PATH })
}
