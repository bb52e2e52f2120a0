// Rendering a page: the template, the person's menu, a fresh CSRF token for the forms, a one-time
// notice from the previous step, and the Dutch labels.
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../config.js'
import type { CaseDeps } from '../cases/cases.service.js'
import type { Db } from '../db/database.js'
import type { BlobStore } from '../documents/blob-store.js'
import type { DocumentDeps } from '../documents/documents.service.js'
import type { ErrorKind } from '../domain/errors.js'
import { fieldId, type FormState } from './forms.js'
import type { WebRole } from './session.js'
import type { RateLimiter } from '../auth/rate-limit.js'
import type { SignInThrottle } from './throttle.js'
import * as texts from './texts.js'

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

interface MenuItem {
  href: string
  text: string
}

const MENUS: Record<WebRole, MenuItem[]> = {
  specialist: [
    { href: '/app/werkvoorraad', text: 'Mijn werkvoorraad' },
    { href: '/app/zaken', text: 'Alle zaken' },
    { href: '/app/beschikbaarheid', text: 'Mijn beschikbaarheid' },
  ],
  lead: [
    { href: '/app/werkvoorraad', text: 'Mijn werkvoorraad' },
    { href: '/app/toewijzen', text: 'Toewijzen' },
    { href: '/app/team', text: 'Team' },
    { href: '/app/ceremonies', text: 'Ceremonies' },
    { href: '/app/afrekening', text: 'Afrekening' },
    { href: '/app/zaken', text: 'Alle zaken' },
    { href: '/app/webhooks', text: 'Webhooks' },
  ],
  desk: [
    { href: '/app/zaken', text: 'Zaken' },
    { href: '/app/zaken/nieuw', text: 'Nieuwe zaak' },
    { href: '/app/facturen', text: 'Facturen en afdrachten' },
    { href: '/app/webhooks', text: 'Webhooks' },
  ],
  admin: [
    { href: '/app/beheer/regios', text: 'Regio’s' },
    { href: '/app/beheer/gemeenten', text: 'Gemeenten' },
  ],
}

/** The page a role starts on. */
export const HOME: Record<WebRole, string> = {
  specialist: '/app/werkvoorraad',
  lead: '/app/toewijzen',
  desk: '/app/zaken',
  admin: '/app/beheer/gemeenten',
}

/** Leaves a notice for the next page (after a redirect). */
export const notice = (req: FastifyRequest, message: string): void => req.session.set('flash', message)

export async function render(
  req: FastifyRequest,
  reply: FastifyReply,
  template: string,
  data: { title: string; form?: FormState | null; [key: string]: unknown },
  status = 200,
): Promise<FastifyReply> {
  const flash = req.session.get('flash')
  if (flash) req.session.set('flash', '')
  const user = req.web
  const current = req.url.split('?')[0]
  const html = await reply.viewAsync(template, {
    ...data,
    form: data.form ?? null,
    csrfToken: reply.generateCsrf(),
    flash: flash ?? null,
    user: user ? { role: user.role, label: user.label } : null,
    menu: user ? MENUS[user.role].map((m) => ({ ...m, current: m.href === current })) : [],
    t: texts,
    fieldId,
  })
  return reply.code(status).type('text/html; charset=utf-8').send(html)
}

/** POST/redirect/GET: 303 to the next page. */
export const redirect = (reply: FastifyReply, to: string): FastifyReply => reply.redirect(to, 303)
