// The hub lead: the cases nobody has yet, assigned by skill with each specialist's load; the team.
import type { FastifyInstance } from 'fastify'
import * as cases from '../../cases/cases.service.js'
import { listStaff } from '../../tenancy/tenancy.service.js'
import * as resources from '../../appointments/resources.service.js'
import { dutchDate } from '../../time.js'
import { emptyForm, isDomainError, refusedForm, text, validateAgainstContract, type FormState } from '../forms.js'
import { notice, redirect } from '../render.js'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { render, type WebContext } from '../render.js'
import { requireUser } from '../session.js'

export function leadPages(app: FastifyInstance, ctx: WebContext): void {
  const team = async (principal: Parameters<typeof cases.staffLoad>[1], hubTenantId: string) => {
    const [staff, load] = await Promise.all([listStaff(ctx.db, principal, hubTenantId, { limit: 100 }), cases.staffLoad(ctx.cases, principal)])
    return staff.items.map((s) => ({ ...s, load: load.get(s.id) ?? 0 }))
  }

  app.get('/toewijzen', async (req, reply) => {
    const user = requireUser(req, ['lead'])
    const p = user.principal as { tenantId: string } & typeof user.principal
    const [queue, members] = await Promise.all([
      cases.listCases(ctx.cases, user.principal, { limit: 100, unassigned: true }),
      team(user.principal, p.tenantId),
    ])
    const assignable = ['intake', 'in_review', 'awaiting_information']
    const items = queue.items
      .filter((c) => assignable.includes(c.status) || c.status === 'submitted')
      .map((c) => ({
        ...c,
        canAssign: assignable.includes(c.status),
        candidates: members.filter((s) => s.status === 'active' && s.skills.includes(c.caseType)).sort((a, b) => a.load - b.load),
      }))
    return render(req, reply, 'assign', { title: 'Toewijzen', items })
  })

  app.get('/team', async (req, reply) => {
    const user = requireUser(req, ['lead'])
    const p = user.principal as { tenantId: string } & typeof user.principal
    return render(req, reply, 'team', { title: 'Team', members: await team(user.principal, p.tenantId) })
  })

  const LABELS = { date: 'Datum', start: 'Begintijd', end: 'Eindtijd', locationCode: 'Locatie', capacity: 'Aantal plaatsen' }
  const ceremoniesPage = async (req: FastifyRequest, reply: FastifyReply, form: FormState, status = 200) => {
    const user = requireUser(req, ['lead'])
    const hubId = (user.principal as { tenantId: string }).tenantId
    const [sessions, locations] = await Promise.all([
      resources.listCeremonies({ db: ctx.db }, user.principal, hubId, { from: dutchDate() }),
      resources.listLocations({ db: ctx.db }, user.principal, hubId),
    ])
    return render(
      req,
      reply,
      'ceremonies',
      { title: 'Ceremonies', sessions: sessions.items, locationOptions: locations.items.map((l) => ({ value: l.code, text: l.name })), form },
      status,
    )
  }
  app.get('/ceremonies', async (req, reply) => ceremoniesPage(req, reply, emptyForm('ceremonie')))
  app.post('/ceremonies', { preHandler: ctx.csrf }, async (req, reply) => {
    const user = requireUser(req, ['lead'])
    const body = (req.body ?? {}) as Record<string, unknown>
    const values = { date: text(body, 'date'), start: text(body, 'start'), end: text(body, 'end'), locationCode: text(body, 'locationCode'), capacity: text(body, 'capacity') }
    const input = { ...values, capacity: /^\d{1,4}$/.test(values.capacity) ? Number(values.capacity) : values.capacity }
    try {
      validateAgainstContract(req, 'regiobalie:CeremonyCreate', input)
      await resources.createCeremony({ db: ctx.db }, user.principal, (user.principal as { tenantId: string }).tenantId, input)
      notice(req, `De ceremonie op ${values.date} is ingepland.`)
      return redirect(reply, '/app/ceremonies')
    } catch (err) {
      if (!isDomainError(err)) throw err
      return ceremoniesPage(req, reply, refusedForm('ceremonie', values, err, LABELS), ctx.statusOf[err.kind])
    }
  })
}
