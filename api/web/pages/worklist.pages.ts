// Worklists: a specialist's own cases, all cases of the hub or of the member, with filters by status
// and case type. A list shows no personal data (no subject), so reading it is not access-logged.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import * as cases from '../../cases/cases.service.js'
import { CASE_STATUSES } from '../../domain/case-state.js'
import { CASE_TYPE_CODES } from '../../domain/case-types.js'
import { CLOCK_FILTERS } from '../../domain/clocks.js'
import { render, type WebContext } from '../render.js'
import { requireUser } from '../session.js'
import { caseTypeLabel, clockFilterLabel, statusLabel } from '../texts.js'

interface ListQuery {
  termijn?: string
  status?: string
  zaaktype?: string
  cursor?: string
}

const known = <T extends string>(value: unknown, allowed: readonly T[]): T | undefined =>
  allowed.find((a) => a === value)

export const statusOptions = CASE_STATUSES.map((s) => ({ value: s, text: statusLabel(s) }))
const clockOptions = CLOCK_FILTERS.map((c) => ({ value: c, text: clockFilterLabel(c) }))
export const caseTypeOptions = CASE_TYPE_CODES.map((c) => ({ value: c, text: caseTypeLabel(c) }))

export function worklistPages(app: FastifyInstance, ctx: WebContext): void {
  const list = (mine: boolean) => async (req: FastifyRequest<{ Querystring: ListQuery }>, reply: FastifyReply) => {
    const user = requireUser(req, mine ? ['specialist', 'lead'] : ['specialist', 'lead', 'desk'])
    const status = known(req.query.status, CASE_STATUSES)
    const caseType = known(req.query.zaaktype, CASE_TYPE_CODES)
    const clock = known(req.query.termijn, CLOCK_FILTERS)
    const cursor = typeof req.query.cursor === 'string' && /^[A-Za-z0-9_-]{1,400}$/.test(req.query.cursor) ? req.query.cursor : undefined
    const page = await cases.listCases(ctx.cases, user.principal, {
      limit: 50,
      ...(status ? { status } : {}),
      ...(caseType ? { caseType } : {}),
      ...(clock ? { clock } : {}),
      ...(mine ? { assignedTo: 'me' } : {}),
      ...(cursor ? { cursor } : {}),
    })
    const params = new URLSearchParams({ ...(status ? { status } : {}), ...(caseType ? { zaaktype: caseType } : {}), ...(clock ? { termijn: clock } : {}) })
    // Overdue and due soon first (within the page): by the earliest last day of a running clock.
    const nextDue = (c: (typeof page.items)[number]) =>
      c.clocks.filter((k) => (k.status === 'running' || k.status === 'overdue') && k.dueOn).map((k) => k.dueOn!).sort()[0] ?? null
    const items = page.items
      .map((c) => ({ ...c, nextDue: nextDue(c), overdue: c.clocks.some((k) => k.status === 'overdue') }))
      .sort((a, b) => (a.nextDue ?? '9999') .localeCompare(b.nextDue ?? '9999'))
    const next = page.nextCursor ? `?${new URLSearchParams({ ...Object.fromEntries(params), cursor: page.nextCursor }).toString()}` : null
    return render(req, reply, 'worklist', {
      title: mine ? 'Mijn werkvoorraad' : 'Zaken',
      action: mine ? '/app/werkvoorraad' : '/app/zaken',
      items,
      filters: { status: status ?? '', zaaktype: caseType ?? '', termijn: clock ?? '' },
      statusOptions,
      clockOptions,
      caseTypeOptions,
      next,
      isDesk: user.role === 'desk',
    })
  }
  app.get('/werkvoorraad', list(true))
  app.get('/zaken', list(false))
}
