// The workbench (ARCHITECTURE.md "Workbench"): server-rendered Dutch pages under /app/ for people,
// on the same feature services as the JSON API. Its own encapsulated scope: security headers with a
// strict CSP, an encrypted session cookie, CSRF tokens, form bodies, static assets and templates
// apply here only; the API's bearer-key hook lets these routes through, the session stands in for it.
import type { ErrorKind } from '../domain/errors.js'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import csrf from '@fastify/csrf-protection'
import formbody from '@fastify/formbody'
import helmet from '@fastify/helmet'
import secureSession from '@fastify/secure-session'
import fastifyStatic from '@fastify/static'
import view from '@fastify/view'
import { Eta } from 'eta'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { RateLimiter } from '../auth/rate-limit.js'
import type { Config } from '../config.js'
import type { Db } from '../db/database.js'
import type { BlobStore } from '../documents/blob-store.js'
import { DomainError } from '../domain/errors.js'
import { adminPages } from './pages/admin.pages.js'
import { appointmentPages } from './pages/appointments.pages.js'
import { casePages } from './pages/case.pages.js'
import { leadPages } from './pages/lead.pages.js'
import { memberPages } from './pages/member.pages.js'
import { settlementPages } from './pages/settlement.pages.js'
import { signInPages } from './pages/sign-in.pages.js'
import { webhookPages } from './pages/webhooks.pages.js'
import { worklistPages } from './pages/worklist.pages.js'
import { render, type WebContext } from './render.js'
import { loadSignedIn, SESSION_COOKIE, SignInRequired, TooManyRequests } from './session.js'
import { refusalText } from './texts.js'
import { SignInThrottle } from './throttle.js'

export interface WorkbenchOptions {
  /** The HTTP status of each kind of domain error (the JSON API's table). */
  statusOf: Readonly<Record<ErrorKind, number>>
  config: Config
  db: Db
  redis: Redis
  store: BlobStore
}

const here = dirname(fileURLToPath(import.meta.url))
const require = createRequire(import.meta.url)
const packageDir = (name: string): string => dirname(require.resolve(`${name}/package.json`))

/** Vendor files served from the installed packages (no CDN): URL name → file. */
const VENDOR: Record<string, { dir: string; file: string }> = {
  'design-tokens.css': { dir: join(packageDir('@utrecht/design-tokens'), 'dist'), file: 'theme.css' },
  'component-library.css': { dir: join(packageDir('@utrecht/component-library-css'), 'dist'), file: 'index.css' },
  'htmx.min.js': { dir: join(packageDir('htmx.org'), 'dist'), file: 'htmx.min.js' },
}

export async function workbench(app: FastifyInstance, opts: WorkbenchOptions): Promise<void> {
  // The API's auth hook asks every route for a bearer key unless it is public; here the session does.
  app.addHook('onRoute', (route) => {
    route.config = { ...(route.config ?? {}), scope: 'public' }
  })

  await app.register(helmet, {
    global: true,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        objectSrc: ["'none'"],
      },
    },
    referrerPolicy: { policy: 'no-referrer' },
  })
  await app.register(secureSession, {
    key: opts.config.web.sessionKey,
    cookieName: SESSION_COOKIE,
    // A session not touched for this long cannot be decrypted into a live one any more.
    expiry: opts.config.web.idleTimeoutSeconds,
    cookie: { path: '/app', httpOnly: true, sameSite: 'strict', secure: 'auto' },
  })
  await app.register(csrf, {
    sessionPlugin: '@fastify/secure-session',
    // From the form body, or from the first part of a multipart upload (see the upload page).
    getToken: (req: FastifyRequest) => (req.body as Record<string, unknown> | undefined)?._csrf as string | undefined ?? req.multipartCsrf ?? undefined,
  })
  await app.register(formbody, { bodyLimit: 64 * 1024 })
  await app.register(fastifyStatic, { root: join(here, 'static'), prefix: '/static/', index: false, maxAge: '1h' })
  await app.register(view, {
    engine: { eta: new Eta({ autoEscape: true, autoTrim: false, cache: true, views: join(here, 'templates') }) },
    root: join(here, 'templates'),
    production: true,
  })
  app.get<{ Params: { name: string } }>('/static/vendor/:name', async (req, reply) => {
    const asset = VENDOR[req.params.name]
    if (!asset) throw new DomainError('not-found', 'not-found', 'no such asset')
    return reply.header('Cache-Control', 'public, max-age=3600').sendFile(asset.file, asset.dir)
  })

  const ctx: WebContext = {
    statusOf: opts.statusOf,
    config: opts.config,
    db: opts.db,
    store: opts.store,
    cases: { db: opts.db, bsnHashKey: opts.config.bsnHashKey },
    documents: { db: opts.db, store: opts.store, masterKey: opts.config.blobMasterKey },
    throttle: new SignInThrottle(opts.redis, `${opts.config.queuePrefix}:web-signin`, opts.config.web.signInFailuresPerMinute),
    csrf: (req, reply, done) => app.csrfProtection(req, reply, done),
    rateLimiter: new RateLimiter(opts.redis, opts.config.rateLimitPerMinute, app.log as unknown as Logger),
  }

  app.decorateRequest('web', null)
  app.decorateRequest('multipartCsrf', null)
  app.addHook('onRequest', async (req, reply) => {
    void reply.header('Cache-Control', 'no-store')
    if (req.url.startsWith('/app/static/')) return
    await loadSignedIn(ctx, req)
  })

  app.setErrorHandler(async (error: Error & { statusCode?: number; code?: string }, req, reply) => {
    if (error instanceof TooManyRequests) {
      void reply.header('Retry-After', String(error.retryAfterSeconds))
      return render(req, reply, 'error', { title: 'Even geduld', message: `Te veel verzoeken in korte tijd. Probeer het over ${error.retryAfterSeconds} seconden opnieuw.` }, 429)
    }
    if (error instanceof SignInRequired) {
      return reply.redirect(`/app/inloggen${error.reason ? `?reden=${error.reason}` : ''}`, 303)
    }
    if (error instanceof DomainError) {
      const status = opts.statusOf[error.kind]
      if (status === 404) return render(req, reply, 'not-found', { title: 'Niet gevonden' }, 404)
      return render(req, reply, 'error', { title: 'Dit is niet gelukt', message: refusalText(error) }, status)
    }
    if (error.code === 'FST_CSRF_INVALID_TOKEN' || error.code === 'FST_CSRF_MISSING_SECRET') {
      return render(req, reply, 'error', { title: 'Formulier verlopen', message: 'Het formulier is verlopen of ongeldig. Laad de pagina opnieuw en probeer het nog eens.' }, 403)
    }
    const status = error.statusCode ?? 500
    if (status >= 400 && status < 500) {
      return render(req, reply, 'error', { title: 'Dit is niet gelukt', message: 'Het verzoek kon niet worden gelezen. Probeer het opnieuw.' }, status)
    }
    req.log.error({ err: error }, 'unexpected error in the workbench')
    return render(req, reply, 'error', { title: 'Er ging iets mis', message: `Er ging aan onze kant iets mis. Noem bij een melding de code ${req.id}.` }, 500)
  })
  app.setNotFoundHandler(async (req, reply) => render(req, reply, 'not-found', { title: 'Niet gevonden' }, 404))

  signInPages(app, ctx)
  worklistPages(app, ctx)
  casePages(app, ctx)
  memberPages(app, ctx)
  leadPages(app, ctx)
  settlementPages(app, ctx)
  appointmentPages(app, ctx)
  webhookPages(app, ctx)
  adminPages(app, ctx)
}
