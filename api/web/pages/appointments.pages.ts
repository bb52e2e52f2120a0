// Scheduling resources in the workbench (API.md "Appointments and scheduling"): a staff member's
// weekly availability and absences — set by the hub lead, or by a specialist for himself, exactly as
// PUT /v1/staff/{id}/availability allows — and the seat holders of a ceremony session for the lead.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import * as resources from '../../appointments/resources.service.js'
import type { InvalidField } from '../../domain/errors.js'
import { DomainError } from '../../domain/errors.js'
import { listStaff } from '../../tenancy/tenancy.service.js'
import { isDomainError, refusedForm, text, validateAgainstContract, type FormState } from '../forms.js'
import { notice, redirect, render, type WebContext } from '../render.js'
import { requireUser, type WebUser } from '../session.js'
import { weekdayLabel } from '../texts.js'
import { idParam } from './case.pages.js'

const HUB: WebUser['role'][] = ['specialist', 'lead']
/** Empty rows offered beside the filled ones. */
const SPARE_WEEKLY = 3
const SPARE_ABSENCES = 2

const WEEKLY_FIELDS = ['weekday', 'start', 'end', 'locationCode'] as const
const ABSENCE_FIELDS = ['from', 'until'] as const

/** `weekly.0.start` (the contract's validator) and `weekly[0]` (a whole row) as the form's field names. */
function formFieldName(name: string): string {
  const dotted = name.replace(/^body\./, '').replace(/^(weekly|absences)\.(\d+)/, '$1[$2]')
  if (/^weekly\[\d+\]$/.test(dotted)) return `${dotted}.end`
  if (/^absences\[\d+\]$/.test(dotted)) return `${dotted}.until`
  return dotted
}

export function appointmentPages(app: FastifyInstance, ctx: WebContext): void {
  const deps = { db: ctx.db }

  const availabilityPage = async (req: FastifyRequest, reply: FastifyReply, staffId: string, form: FormState | null, status = 200) => {
    const user = requireUser(req, HUB)
    const p = user.principal as { tenantId: string } & typeof user.principal
    const [current, locations] = await Promise.all([resources.getAvailability(deps, p, staffId), resources.listLocations(deps, p, p.tenantId)])
    const self = p.kind === 'staff' && p.staffId === staffId
    const name = self ? null : ((await listStaff(ctx.db, p, p.tenantId, { limit: 100 })).items.find((s) => s.id === staffId)?.name ?? null)
    const values: FormState['values'] = form?.values ?? {}
    let weeklyRows = 0
    let absenceRows = 0
    if (form) {
      weeklyRows = Number(text(values, 'weeklyRows')) || 0
      absenceRows = Number(text(values, 'absenceRows')) || 0
    } else {
      current.weekly.forEach((w, i) => {
        values[`weekly[${i}].weekday`] = String(w.weekday)
        values[`weekly[${i}].start`] = w.start
        values[`weekly[${i}].end`] = w.end
        values[`weekly[${i}].locationCode`] = w.locationCode
      })
      current.absences.forEach((a, i) => {
        values[`absences[${i}].from`] = a.from
        values[`absences[${i}].until`] = a.until
      })
      weeklyRows = current.weekly.length + SPARE_WEEKLY
      absenceRows = current.absences.length + SPARE_ABSENCES
    }
    return render(
      req,
      reply,
      'availability',
      {
        title: self ? 'Mijn beschikbaarheid' : 'Beschikbaarheid van een medewerker',
        staffId,
        name,
        self,
        current,
        weeklyRows: Math.min(weeklyRows, 40),
        absenceRows: Math.min(absenceRows, 40),
        weekdayOptions: [1, 2, 3, 4, 5, 6, 7].map((d) => ({ value: String(d), text: weekdayLabel(String(d)) })),
        locationOptions: locations.items.map((l) => ({ value: l.code, text: l.name })),
        form: form ?? { form: 'beschikbaarheid', values, errors: {}, summary: [] },
      },
      status,
    )
  }

  app.get('/beschikbaarheid', async (req, reply) => {
    const user = requireUser(req, HUB)
    if (user.principal.kind !== 'staff') throw new DomainError('not-found', 'not-found', 'no staff member')
    return redirect(reply, `/app/team/${user.principal.staffId}/beschikbaarheid`)
  })
  app.get<{ Params: { staffId: string } }>('/team/:staffId/beschikbaarheid', async (req, reply) => availabilityPage(req, reply, idParam(req.params.staffId), null))
  app.post<{ Params: { staffId: string } }>('/team/:staffId/beschikbaarheid', { preHandler: ctx.csrf }, async (req, reply) => {
    const user = requireUser(req, HUB)
    const staffId = idParam(req.params.staffId)
    const body = (req.body ?? {}) as Record<string, unknown>
    const values: FormState['values'] = { weeklyRows: text(body, 'weeklyRows'), absenceRows: text(body, 'absenceRows') }
    const weeklyRows = Math.min(Number(values.weeklyRows) || 0, 40)
    const absenceRows = Math.min(Number(values.absenceRows) || 0, 40)
    // Rows left empty are not part of the pattern; `rowOf` leads a problem back to the row on screen.
    const weekly: Array<Record<string, string | number>> = []
    const weeklyRowOf: number[] = []
    for (let i = 0; i < weeklyRows; i += 1) {
      const row = Object.fromEntries(WEEKLY_FIELDS.map((f) => [f, text(body, `weekly[${i}].${f}`)]))
      for (const f of WEEKLY_FIELDS) values[`weekly[${i}].${f}`] = row[f]!
      if (WEEKLY_FIELDS.every((f) => row[f] === '')) continue
      weekly.push({ ...row, weekday: /^\d$/.test(row.weekday!) ? Number(row.weekday) : row.weekday! })
      weeklyRowOf.push(i)
    }
    const absences: Array<Record<string, string>> = []
    const absenceRowOf: number[] = []
    for (let i = 0; i < absenceRows; i += 1) {
      const row = Object.fromEntries(ABSENCE_FIELDS.map((f) => [f, text(body, `absences[${i}].${f}`)]))
      for (const f of ABSENCE_FIELDS) values[`absences[${i}].${f}`] = row[f]!
      if (ABSENCE_FIELDS.every((f) => row[f] === '')) continue
      absences.push(row)
      absenceRowOf.push(i)
    }
    const input = { weekly, absences }
    try {
      validateAgainstContract(req, 'regiobalie:Availability', input)
      await resources.putAvailability(deps, user.principal, staffId, input)
      notice(req, 'De beschikbaarheid is opgeslagen.')
      return redirect(reply, `/app/team/${staffId}/beschikbaarheid`)
    } catch (err) {
      if (!isDomainError(err) || err.kind === 'not-found') throw err
      const onScreen = (f: InvalidField): InvalidField => {
        const name = formFieldName(f.name).replace(/^(weekly|absences)\[(\d+)\]/, (_, list: string, n: string) => {
          const row = (list === 'weekly' ? weeklyRowOf : absenceRowOf)[Number(n)]
          return `${list}[${row ?? n}]`
        })
        return { ...f, name }
      }
      const mapped = err.invalidFields ? new DomainError(err.kind, err.code, err.message, err.invalidFields.map(onScreen)) : err
      const labels: Record<string, string> = {}
      for (let i = 0; i < weeklyRows; i += 1) {
        labels[`weekly[${i}].weekday`] = `Tijdvak ${i + 1}, dag`
        labels[`weekly[${i}].start`] = `Tijdvak ${i + 1}, van`
        labels[`weekly[${i}].end`] = `Tijdvak ${i + 1}, tot`
        labels[`weekly[${i}].locationCode`] = `Tijdvak ${i + 1}, locatie`
      }
      for (let i = 0; i < absenceRows; i += 1) {
        labels[`absences[${i}].from`] = `Afwezigheid ${i + 1}, van`
        labels[`absences[${i}].until`] = `Afwezigheid ${i + 1}, tot en met`
      }
      return availabilityPage(req, reply, staffId, refusedForm('beschikbaarheid', values, mapped, labels), ctx.statusOf[err.kind])
    }
  })

  app.get<{ Params: { sessionId: string } }>('/ceremonies/:sessionId', async (req, reply) => {
    const user = requireUser(req, ['lead'])
    const hubId = (user.principal as { tenantId: string }).tenantId
    const { session, appointments } = await resources.ceremonySeats(deps, user.principal, hubId, idParam(req.params.sessionId))
    const holding = appointments.filter((a) => a.status === 'booked' || a.status === 'attended')
    return render(req, reply, 'ceremony', { title: `Ceremonie op ${session.date}`, session, holding, released: appointments.filter((a) => !holding.includes(a)) })
  })
}
