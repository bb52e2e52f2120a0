// Rendering a page: the template, the person's menu, a fresh CSRF token for the forms, a one-time
// notice from the previous step, and the Dutch labels.
import type { FastifyReply, FastifyRequest } from 'fastify'
import { fieldId, type FormState } from './forms.js'
import type { WebRole } from './session.js'
import * as texts from './texts.js'

export type { WebContext } from './context.js'

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
