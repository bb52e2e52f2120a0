// Settlement in the workbench (API.md "Fees and settlement"): the hub lead settles a month and follows
// the run, its invoices per member and their downloads (UBL, CSV); the member's desk sees its
// invoices and its IND remittances, reads the name list (settlement.remittanceNameList writes the
// access log, exactly as GET /v1/remittances/{id}/name-list does) and records the transfer.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { periodOf } from '../../domain/money.js'
import * as settlement from '../../settlement/settlement.service.js'
import { dutchDate } from '../../time.js'
import { emptyForm, isDomainError, refusedForm, text, validateAgainstContract, type FormState } from '../forms.js'
import { notice, redirect, render, type WebContext } from '../render.js'
import { requireUser, type WebUser } from '../session.js'
import { idParam } from './case.pages.js'

const LABELS: Record<string, Record<string, string>> = {
  afrekenen: { period: 'Maand', closeEarly: 'Lopende maand nu afrekenen' },
  overgemaakt: { remittedOn: 'Datum van de overboeking', bankReference: 'Kenmerk van de bank' },
}

/** The month before `today` ("2026-11" on any day of December 2026). */
const previousPeriod = (today: string): string => {
  const [y, m] = periodOf(today).split('-').map(Number) as [number, number]
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`
}

const LEAD: WebUser['role'][] = ['lead']
const DESK: WebUser['role'][] = ['desk']
/** Who sees invoices and remittances: the hub's lead and the member's desk (the service narrows it to their own). */
const FINANCE: WebUser['role'][] = ['lead', 'desk']

export function settlementPages(app: FastifyInstance, ctx: WebContext): void {
  const names = async (user: WebUser, ids: string[]) => {
    const map = await settlement.tenantNames(ctx.db, user.principal, ids.filter(Boolean))
    return (id: string): string => map.get(id)?.name ?? id
  }

  // ---- the hub lead -----------------------------------------------------------------------------
  const overview = async (req: FastifyRequest, reply: FastifyReply, form: FormState, status = 200) => {
    const user = requireUser(req, LEAD)
    const [invoices, remittances] = await Promise.all([
      settlement.listInvoices(ctx.db, user.principal, { limit: 100 }),
      settlement.listRemittances(ctx.db, user.principal, { limit: 100 }),
    ])
    const memberName = await names(user, [...invoices.items.map((i) => i.memberTenantId), ...remittances.items.map((r) => r.memberTenantId)])
    // One row per settled month: its run (the invoices carry its id) and what it produced.
    const runs = new Map<string, { settlementId: string; period: string; invoices: number; totalCents: number }>()
    for (const i of invoices.items) {
      if (!i.settlementId) continue
      const run = runs.get(i.settlementId) ?? { settlementId: i.settlementId, period: i.period, invoices: 0, totalCents: 0 }
      run.invoices += 1
      run.totalCents += i.totalCents
      runs.set(i.settlementId, run)
    }
    return render(
      req,
      reply,
      'settlement',
      {
        title: 'Afrekening',
        runs: [...runs.values()].sort((a, b) => b.period.localeCompare(a.period)),
        invoices: invoices.items,
        memberName,
        form: form.values.period ? form : { ...form, values: { period: previousPeriod(dutchDate()) } },
      },
      status,
    )
  }
  app.get('/afrekening', async (req, reply) => overview(req, reply, emptyForm('afrekenen')))
  app.post('/afrekening', { preHandler: ctx.csrf }, async (req, reply) => {
    const user = requireUser(req, LEAD)
    const body = (req.body ?? {}) as Record<string, unknown>
    const values = { period: text(body, 'period'), closeEarly: text(body, 'closeEarly') }
    const input = { period: values.period, ...(values.closeEarly === 'true' ? { closeEarly: true } : {}) }
    try {
      validateAgainstContract(req, 'regiobalie:SettlementCreate', input)
      const run = await settlement.startSettlement(ctx.db, user.principal, input)
      notice(req, `De afrekening van ${run.period} is gestart.`)
      return redirect(reply, `/app/afrekening/${run.id}`)
    } catch (err) {
      if (!isDomainError(err)) throw err
      return overview(req, reply, refusedForm('afrekenen', values, err, LABELS.afrekenen!), ctx.statusOf[err.kind])
    }
  })

  app.get<{ Params: { settlementId: string } }>('/afrekening/:settlementId', async (req, reply) => {
    const user = requireUser(req, LEAD)
    const run = await settlement.getSettlement(ctx.db, user.principal, idParam(req.params.settlementId))
    const invoices = run.invoices ?? []
    const memberName = await names(user, invoices.map((i) => i.memberTenantId ?? ''))
    const remitOf = new Map((run.remittances ?? []).map((r) => [r.memberTenantId ?? '', r]))
    const rows = invoices.map((i) => ({ ...i, memberName: memberName(i.memberTenantId ?? ''), remittance: remitOf.get(i.memberTenantId ?? '') ?? null }))
    return render(req, reply, 'settlement-run', { title: `Afrekening ${run.period}`, run, rows })
  })

  // ---- invoices: the lead's and the desk's downloads --------------------------------------------
  app.get<{ Params: { invoiceId: string; format: string } }>('/facturen/:invoiceId/:format', async (req, reply) => {
    const user = requireUser(req, FINANCE)
    const format = req.params.format === 'ubl.xml' ? 'ubl' : req.params.format === 'regels.csv' ? 'csv' : null
    if (!format) return reply.callNotFound()
    const id = idParam(req.params.invoiceId)
    const invoice = await settlement.getInvoice(ctx.db, user.principal, id)
    const stream = await settlement.exportInvoice(ctx.db, user.principal, id, format)
    return reply
      .type(format === 'ubl' ? 'application/xml; charset=utf-8' : 'text/csv; charset=utf-8')
      .headers({ 'Content-Disposition': `attachment; filename="${invoice.number}.${format === 'ubl' ? 'xml' : 'csv'}"`, 'X-Content-Type-Options': 'nosniff' })
      .send(stream)
  })

  // ---- the member's desk --------------------------------------------------------------------------
  app.get('/facturen', async (req, reply) => {
    const user = requireUser(req, DESK)
    const [invoices, remittances] = await Promise.all([
      settlement.listInvoices(ctx.db, user.principal, { limit: 100 }),
      settlement.listRemittances(ctx.db, user.principal, { limit: 100 }),
    ])
    return render(req, reply, 'finance', { title: 'Facturen en afdrachten', invoices: invoices.items, remittances: remittances.items })
  })

  const remittancePage = async (req: FastifyRequest, reply: FastifyReply, id: string, form: FormState | null, status = 200) => {
    const user = requireUser(req, FINANCE)
    const r = await settlement.getRemittance(ctx.db, user.principal, id)
    const memberName = await names(user, [r.memberTenantId])
    return render(
      req,
      reply,
      'remittance',
      {
        title: `Afdracht aan de IND, ${r.period}`,
        r,
        memberName: memberName(r.memberTenantId),
        isDesk: user.role === 'desk',
        form: form ?? { ...emptyForm('overgemaakt'), values: { remittedOn: dutchDate() } },
      },
      status,
    )
  }
  app.get<{ Params: { remittanceId: string } }>('/afdrachten/:remittanceId', async (req, reply) => remittancePage(req, reply, idParam(req.params.remittanceId), null))

  app.get<{ Params: { remittanceId: string } }>('/afdrachten/:remittanceId/namenlijst.csv', async (req, reply) => {
    const user = requireUser(req, FINANCE)
    const id = idParam(req.params.remittanceId)
    const r = await settlement.getRemittance(ctx.db, user.principal, id)
    // Every case on the list is a read in the access log (purpose ind-remittance), as in the API.
    const csv = await settlement.remittanceNameList(ctx.db, user.principal, id)
    return reply
      .type('text/csv; charset=utf-8')
      .headers({ 'Content-Disposition': `attachment; filename="namenlijst-ind-${r.period}.csv"`, 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'private, no-store' })
      .send(csv)
  })

  app.post<{ Params: { remittanceId: string } }>('/afdrachten/:remittanceId/overgemaakt', { preHandler: ctx.csrf }, async (req, reply) => {
    const user = requireUser(req, DESK)
    const id = idParam(req.params.remittanceId)
    const body = (req.body ?? {}) as Record<string, unknown>
    const input = { remittedOn: text(body, 'remittedOn'), bankReference: text(body, 'bankReference') }
    try {
      validateAgainstContract(req, 'regiobalie:RemittedBody', input)
      const r = await settlement.markRemitted(ctx.db, user.principal, id, input)
      notice(req, `De overboeking van de afdracht over ${r.period} is vastgelegd.`)
      return redirect(reply, `/app/afdrachten/${id}`)
    } catch (err) {
      if (!isDomainError(err) || err.kind === 'not-found') throw err
      return remittancePage(req, reply, id, refusedForm('overgemaakt', input, err, LABELS.overgemaakt!), ctx.statusOf[err.kind])
    }
  })
}
