// Worklists: a specialist's own cases, all cases of the hub or of the member, with filters by status
// and case type. A list shows no personal data (no subject), so reading it is not access-logged.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import * as cases from '../../cases/cases.service.js'
import { CASE_STATUSES } from '../../domain/case-state.js'
import { CASE_TYPE_CODES } from '../../domain/case-types.js'
import { render, type WebContext } from '../render.js'
import { requireUser } from '../session.js'
import { caseTypeLabel, statusLabel } from '../texts.js'

interface ListQuery {
  status?: string
  zaaktype?: string
  cursor?: string
}

const known = (value: string | undefined, allowed: readonly string[]): string | undefined =>
  value && allowed.includes(value) ? value : undefined

export const statusOptions = CASE_STATUSES.map((s) => ({ value: s, text: statusLabel(s) }))
export const caseTypeOptions = CASE_TYPE_CODES.map((c) => ({ value: c, text: caseTypeLabel(c) }))

export function worklistPages(app: FastifyInstance, ctx: WebContext): void {
  const list = (mine: boolean) => async (req: FastifyRequest<{ Querystring: ListQuery }>, reply: FastifyReply) => {
    const user = requireUser(req, mine ? ['specialist', 'lead'] : ['specialist', 'lead', 'desk'])
    const status = known(req.query.status, CASE_STATUSES)
    const caseType = known(req.query.zaaktype, CASE_TYPE_CODES)
    const cursor = typeof req.query.cursor === 'string' && /^[A-Za-z0-9_-]{1,400}$/.test(req.query.cursor) ? req.query.cursor : undefined
    const page = await cases.listCases(ctx.cases, user.principal, {
      limit: 50,
      ...(status ? { status } : {}),
      ...(caseType ? { caseType } : {}),
      ...(mine ? { assignedTo: 'me' } : {}),
      ...(cursor ? { cursor } : {}),
    })
    const params = new URLSearchParams({ ...(status ? { status } : {}), ...(caseType ? { zaaktype: caseType } : {}) })
    const next = page.nextCursor ? `?${new URLSearchParams({ ...Object.fromEntries(params), cursor: page.nextCursor }).toString()}` : null
    return render(req, reply, 'worklist', {
      title: mine ? 'Mijn werkvoorraad' : 'Zaken',
      action: mine ? '/app/werkvoorraad' : '/app/zaken',
      items: page.items,
      filters: { status: status ?? '', zaaktype: caseType ?? '' },
      statusOptions,
      caseTypeOptions,
      next,
      isDesk: user.role === 'desk',
    })
  }
  app.get('/werkvoorraad', list(true))
  app.get('/zaken', list(false))
}
