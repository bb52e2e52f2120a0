// The hub lead: the cases nobody has yet, assigned by skill with each specialist's load; the team.
import type { FastifyInstance } from 'fastify'
import * as cases from '../../cases/cases.service.js'
import { listStaff } from '../../tenancy/tenancy.service.js'
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
}
