// The case page and its actions, for hub staff and the member's desk: subject, checklist, documents
// with their review findings and verdicts, timeline and who read the file. Opening it is a
// `case.read` in the access log (cases.getCase writes it), exactly like GET /v1/cases/{id}.
import multipart from '@fastify/multipart'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { searchAccessLog } from '../../access-log/access-log.service.js'
import * as cases from '../../cases/cases.service.js'
import * as documents from '../../documents/documents.service.js'
import { findCaseType } from '../../domain/case-types.js'
import { COUNTRIES } from '../../domain/countries.js'
import { DOCUMENT_KINDS } from '../../domain/document-kinds.js'
import { invalidFields, notFound } from '../../domain/errors.js'
import { recordFee, type FeeBody } from '../../cases/case-fee.service.js'
import { TARIFF_CODES } from '../../domain/money.js'
import { SESSION_KINDS } from '../../domain/scheduling.js'
import { listStaff } from '../../tenancy/tenancy.service.js'
import { dutchDate } from '../../time.js'
import { isDomainError, list, refusedForm, text, validateAgainstContract, versionOf, type FormState } from '../forms.js'
import { notice, redirect, render, type WebContext } from '../render.js'
import { requireUser, type WebUser } from '../session.js'
import { appointmentKindLabel, documentKindLabel, outcomeText } from '../texts.js'
import * as appointmentsService from '../../appointments/appointments.service.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
/** An id from the URL; anything else is a page that does not exist. */
export const idParam = (value: string): string => {
  if (!UUID.test(value)) throw notFound('page')
  return value.toLowerCase()
}

export const documentKindOptions = DOCUMENT_KINDS.map((k) => ({ value: k, text: documentKindLabel(k) }))
export const countryOptions = [...COUNTRIES].sort((a, b) => a.nameNl.localeCompare(b.nameNl, 'nl')).map((c) => ({ value: c.alpha2, text: c.nameNl }))

/** The outcomes `decide` takes for this case type: the catalogue's when it lists them, else the contract's. */
function outcomesOf(caseType: string): string[] {
  const def = findCaseType(caseType, dutchDate()) as { outcomes?: readonly string[] } | undefined
  return [...(def?.outcomes ?? ['granted', 'refused'])]
}

const LABELS: Record<string, Record<string, string>> = {
  upload: { kind: 'Soort document', issuingCountry: 'Land van afgifte', language: 'Taal', issuedOn: 'Datum van afgifte', expiresOn: 'Geldig tot', file: 'Bestand' },
  informatie: { documentKinds: 'Gevraagde documenten', message: 'Bericht aan de gemeente' },
  besluit: { outcome: 'Besluit', note: 'Toelichting' },
  kb: { decision: 'Beslissing', decreeDate: 'Datum van het besluit', decreeNumber: 'Nummer van het besluit' },
  toewijzen: { staffId: 'Medewerker' },
  intrekken: { reason: 'Reden' },
  oordeel: { verdict: 'Oordeel', reason: 'Toelichting' },
  afspraak: { kind: 'Soort afspraak' },
  leges: { tariffCode: 'Tariefcode', minors: 'Aantal meegenaturaliseerde minderjarige kinderen', paidOn: 'Betaald op', exemptionReason: 'Reden van vrijstelling' },
}

/**
 * The fee form as the contract's FeeCreate: a paid tariff, or an exemption with its reason when
 * one is given. FeeCreate is a oneOf, whose validator reports both branches; the errors shown are
 * those of the branch the form was filled in for, under the form's own field names.
 */
function feeBodyOf(req: FastifyRequest, body: Record<string, unknown>): FeeBody {
  const reason = text(body, 'exemptionReason')
  const minors = text(body, 'minors')
  const input = reason
    ? { exemption: { reason } }
    : { tariffCode: text(body, 'tariffCode'), paidOn: text(body, 'paidOn'), ...(minors ? { minors: /^\d+$/.test(minors) ? Number(minors) : minors } : {}) }
  try {
    validateAgainstContract(req, 'regiobalie:FeeCreate', input)
    return input
  } catch (err) {
    if (!isDomainError(err) || !err.invalidFields) throw err
    const ofBranch = err.invalidFields
      .filter((f) => f.name !== 'body' && f.code !== 'unknown-property')
      .filter((f) => (reason ? f.name.startsWith('exemption') : !f.name.startsWith('exemption')))
      .map((f) => (f.name.startsWith('exemption') ? { ...f, name: 'exemptionReason' } : f))
    throw ofBranch.length > 0 ? invalidFields(ofBranch) : err
  }
}

const HUB: WebUser['role'][] = ['specialist', 'lead']
const ANYONE: WebUser['role'][] = ['specialist', 'lead', 'desk']

export async function renderCase(ctx: WebContext, req: FastifyRequest, reply: FastifyReply, user: WebUser, caseId: string, form: FormState | null, status = 200) {
  const p = user.principal
  const c = await cases.getCase(ctx.cases, p, caseId)
  const [docs, events, log, appointments] = await Promise.all([
    documents.listDocuments(ctx.documents, p, caseId),
    cases.caseEvents(ctx.cases, p, caseId),
    searchAccessLog(ctx.db, ctx.config.bsnHashKey, p, { caseId, limit: 50 }),
    appointmentsService.listCaseAppointments({ db: ctx.db }, p, caseId),
  ])
  const def = findCaseType(c.caseType, dutchDate())
  const isHub = user.role !== 'desk'
  const staffId = p.kind === 'staff' ? p.staffId : null
  let staff: Array<{ id: string; name: string; skills: string[]; load: number; status: string }> = []
  if (user.role === 'lead') {
    const [all, load] = await Promise.all([listStaff(ctx.db, p, c.hubTenantId, { limit: 100 }), cases.staffLoad(ctx.cases, p)])
    staff = all.items.filter((s) => s.status === 'active').map((s) => ({ id: s.id, name: s.name, skills: s.skills, load: load.get(s.id) ?? 0, status: s.status }))
  }
  const names = new Map(staff.map((s) => [s.id, s.name]))
  const who = (kind: string, id: string): string => {
    if (staffId && id === staffId) return 'U'
    return names.get(id) ?? ''
  }
  const lastRequest = [...events.items].reverse().find((e) => e.action === 'request_information')
  return render(
    req,
    reply,
    'case',
    {
      title: `Zaak ${c.reference}`,
      c,
      docs: docs.items,
      appointments: appointments.items.map((a) => ({
        ...a,
        started: a.start !== null && new Date(a.start).getTime() <= Date.now(),
        isSession: SESSION_KINDS.has(a.kind),
        cancellable: ['requested', 'booked', 'unschedulable'].includes(a.status),
      })),
      appointmentKindOptions: (def?.appointmentKinds ?? []).map((k) => ({ value: k, text: appointmentKindLabel(k) })),
      events: events.items,
      log: log.items,
      isHub,
      // The desk records the fee while its statutory clock runs (the API refuses a second one).
      feeOpen: !isHub && c.clocks.some((k) => k.code === 'fee_payment' && k.status === 'running'),
      tariffOptions: TARIFF_CODES.map((code) => ({ value: code, text: `Tarief ${code}` })),
      isAssigned: staffId !== null && c.assignedStaffId === staffId,
      isLead: user.role === 'lead',
      staff: staff.filter((s) => s.skills.includes(c.caseType)),
      assignedName: c.assignedStaffId ? (who('hub', c.assignedStaffId) || 'een specialist') : null,
      who,
      outcomes: outcomesOf(c.caseType).map((o) => ({ value: o, text: outcomeText(c.caseType, o) })),
      awaitsDecree: c.caseType === 'naturalisation' && c.status === 'decided' && c.decision?.outcome === 'advise_grant' && !c.royalDecree,
      documentKindOptions,
      countryOptions,
      lastRequest: c.status === 'awaiting_information' ? lastRequest : null,
      form,
      formName: form?.form ?? null,
      maxUploadMiB: Math.floor(ctx.config.upload.maxFileBytes / (1024 * 1024)),
    },
    status,
  )
}

type Params = { Params: { caseId: string } }

export function casePages(app: FastifyInstance, ctx: WebContext): void {
  app.get<Params>('/zaken/:caseId', async (req, reply) => {
    const user = requireUser(req, ANYONE)
    return renderCase(ctx, req, reply, user, idParam(req.params.caseId), null)
  })

  /** One action form of the case page: validated against the contract, run, then back to the case. */
  const action = (
    path: string,
    form: string,
    roles: WebUser['role'][],
    run: (user: WebUser, caseId: string, body: Record<string, unknown>, req: FastifyRequest) => Promise<string>,
  ) =>
    app.post<Params>(`/zaken/:caseId/${path}`, { preHandler: ctx.csrf }, async (req, reply) => {
      const user = requireUser(req, roles)
      const caseId = idParam(req.params.caseId)
      const body = (req.body ?? {}) as Record<string, unknown>
      try {
        notice(req, await run(user, caseId, body, req))
        // The lead's assignment queue sends its forms back to itself.
        return redirect(reply, text(body, 'terug') === 'toewijzen' ? '/app/toewijzen' : `/app/zaken/${caseId}`)
      } catch (err) {
        if (!isDomainError(err) || err.kind === 'not-found') throw err
        const values = Object.fromEntries(Object.entries(body).filter(([k]) => k !== '_csrf')) as FormState['values']
        return renderCase(ctx, req, reply, user, caseId, refusedForm(form, values, err, LABELS[form] ?? {}), ctx.statusOf[err.kind])
      }
    })

  action('toewijzen', 'toewijzen', HUB, async (user, caseId, body, req) => {
    const input = { staffId: user.role === 'lead' ? text(body, 'staffId') : (user.principal as { staffId: string }).staffId }
    validateAgainstContract(req, 'regiobalie:AssignBody', input)
    const c = await cases.assignCase(ctx.cases, user.principal, caseId, input, versionOf(body))
    return `Zaak ${c.reference} is toegewezen.`
  })
  action('informatie', 'informatie', HUB, async (user, caseId, body, req) => {
    const input = { message: text(body, 'message'), documentKinds: list(body, 'documentKinds') }
    validateAgainstContract(req, 'regiobalie:RequestInformationBody', input)
    const c = await cases.requestInformation(ctx.cases, user.principal, caseId, input, versionOf(body))
    return `De informatie is opgevraagd bij de gemeente (zaak ${c.reference}).`
  })
  action('besluit', 'besluit', HUB, async (user, caseId, body, req) => {
    const input = { outcome: text(body, 'outcome'), note: text(body, 'note') }
    validateAgainstContract(req, 'regiobalie:DecideBody', input)
    const c = await cases.decideCase(ctx.cases, user.principal, caseId, input, versionOf(body))
    return `Het besluit over zaak ${c.reference} is vastgelegd.`
  })
  action('koninklijk-besluit', 'kb', HUB, async (user, caseId, body, req) => {
    const number = text(body, 'decreeNumber')
    const input = { decision: text(body, 'decision'), decreeDate: text(body, 'decreeDate'), ...(number ? { decreeNumber: number } : {}) }
    validateAgainstContract(req, 'regiobalie:RoyalDecreeBody', input)
    const c = await cases.recordRoyalDecree(ctx.cases, user.principal, caseId, input, versionOf(body))
    return `Het Koninklijk Besluit over zaak ${c.reference} is vastgelegd.`
  })
  action('afspraken', 'afspraak', HUB, async (user, caseId, body, req) => {
    const input = { kind: text(body, 'kind') }
    validateAgainstContract(req, 'regiobalie:AppointmentRequest', input)
    await appointmentsService.requestAppointment({ db: ctx.db }, user.principal, caseId, input)
    return `De afspraak (${appointmentKindLabel(input.kind).toLowerCase()}) is aangevraagd; het systeem plant hem in.`
  })
  action('sluiten', 'sluiten', HUB, async (user, caseId, body) => {
    const c = await cases.closeCase(ctx.cases, user.principal, caseId, versionOf(body))
    return `Zaak ${c.reference} is afgesloten.`
  })
  action('leges', 'leges', ['desk'], async (user, caseId, body, req) => {
    const fee = await recordFee(ctx.db, user.principal, caseId, feeBodyOf(req, body))
    return fee.exemption ? 'De vrijstelling van leges is vastgelegd.' : 'De betaalde leges zijn vastgelegd.'
  })
  action('intrekken', 'intrekken', ['desk'], async (user, caseId, body, req) => {
    const input = { reason: text(body, 'reason') }
    validateAgainstContract(req, 'regiobalie:WithdrawBody', input)
    const c = await cases.withdrawCase(ctx.cases, user.principal, caseId, input, versionOf(body))
    return `Zaak ${c.reference} is ingetrokken.`
  })

  app.post<{ Params: { documentId: string } }>('/documenten/:documentId/oordeel', { preHandler: ctx.csrf }, async (req, reply) => {
    const user = requireUser(req, HUB)
    const documentId = idParam(req.params.documentId)
    const body = (req.body ?? {}) as Record<string, unknown>
    const doc = await documents.getDocument(ctx.documents, user.principal, documentId)
    const input = { verdict: text(body, 'verdict'), reason: text(body, 'reason') || (text(body, 'verdict') === 'accepted' ? 'Akkoord na beoordeling' : '') }
    try {
      validateAgainstContract(req, 'regiobalie:VerdictBody', input)
      await documents.recordVerdict(ctx.documents, user.principal, documentId, input)
      notice(req, `${documentKindLabel(doc.kind)}: ${input.verdict === 'accepted' ? 'geaccepteerd' : 'afgekeurd'}.`)
      return redirect(reply, `/app/zaken/${doc.caseId}#documenten`)
    } catch (err) {
      if (!isDomainError(err) || err.kind === 'not-found') throw err
      const form = refusedForm('oordeel', { documentId, ...input }, err, {})
      return renderCase(ctx, req, reply, user, doc.caseId, form, ctx.statusOf[err.kind])
    }
  })

  app.get<{ Params: { documentId: string } }>('/documenten/:documentId/inhoud', async (req, reply) => {
    const user = requireUser(req, ANYONE)
    const content = await documents.openDocumentContent(ctx.documents, user.principal, idParam(req.params.documentId))
    return reply
      .type(content.contentType)
      .headers({
        'Content-Disposition': `attachment; filename="${content.filename}"`,
        'X-Content-Type-Options': 'nosniff',
        'Cache-Control': 'private, no-store',
        'Content-Security-Policy': "default-src 'none'; sandbox",
      })
      .send(content.stream)
  })

  // An appointment's outcome (hub staff, once it has started) and its cancellation (hub staff, or the
  // member for its own case): the appointment service decides, as for POST /v1/appointments/{id}/….
  const appointmentAction = (
    path: string,
    form: string,
    roles: WebUser['role'][],
    run: (user: WebUser, appointmentId: string, body: Record<string, unknown>, req: FastifyRequest) => Promise<string>,
  ) =>
    app.post<{ Params: { appointmentId: string } }>(`/afspraken/:appointmentId/${path}`, { preHandler: ctx.csrf }, async (req, reply) => {
      const user = requireUser(req, roles)
      const appointmentId = idParam(req.params.appointmentId)
      const body = (req.body ?? {}) as Record<string, unknown>
      // Another tenant's appointment is not found here (RLS), so a 404 page.
      const { caseId } = await appointmentsService.getAppointment({ db: ctx.db }, user.principal, appointmentId)
      try {
        notice(req, await run(user, appointmentId, body, req))
        return redirect(reply, `/app/zaken/${caseId}#afspraken-kop`)
      } catch (err) {
        if (!isDomainError(err) || err.kind === 'not-found') throw err
        const values = Object.fromEntries(Object.entries(body).filter(([k]) => k !== '_csrf')) as FormState['values']
        return renderCase(ctx, req, reply, user, caseId, refusedForm(`${form}-${appointmentId}`, values, err, {}), ctx.statusOf[err.kind])
      }
    })

  appointmentAction('uitkomst', 'uitkomst', HUB, async (user, appointmentId, body, req) => {
    const attended = text(body, 'attended')
    const input = {
      attended: attended === 'true' ? true : attended === 'false' ? false : attended,
      ...(attended === 'true' && text(body, 'declarationMade') === 'true' ? { declarationMade: true } : {}),
    }
    validateAgainstContract(req, 'regiobalie:AppointmentOutcome', input)
    const a = await appointmentsService.recordOutcome({ db: ctx.db }, user.principal, appointmentId, input)
    return `${appointmentKindLabel(a.kind)}: ${a.status === 'attended' ? 'verschenen' : 'niet verschenen'} is vastgelegd.`
  })
  appointmentAction('annuleren', 'annuleren', ANYONE, async (user, appointmentId, body, req) => {
    const input = { reason: text(body, 'reason') }
    validateAgainstContract(req, 'regiobalie:AppointmentCancel', input)
    const a = await appointmentsService.cancelAppointment({ db: ctx.db }, user.principal, appointmentId, input)
    return `${appointmentKindLabel(a.kind)} is geannuleerd.`
  })

  app.get<{ Params: { appointmentId: string } }>('/afspraken/:appointmentId/agenda.ics', async (req, reply) => {
    const user = requireUser(req, ANYONE)
    const ics = await appointmentsService.appointmentCalendar({ db: ctx.db }, user.principal, idParam(req.params.appointmentId))
    return reply.type('text/calendar; charset=utf-8').header('Content-Disposition', 'attachment; filename="afspraak.ics"').send(ics)
  })

  // The upload: a multipart form, streamed into the same upload pipeline as the API's. The CSRF token
  // is the form's first part; it is checked before a byte of the file is read.
  void app.register(async (upload) => {
    await upload.register(multipart, {
      throwFileSizeLimit: true,
      limits: {
        fileSize: ctx.config.upload.maxFileBytes,
        files: 1,
        fields: ctx.config.upload.maxFields + 2,
        fieldSize: ctx.config.upload.maxFieldBytes,
        fieldNameSize: 100,
        parts: ctx.config.upload.maxParts,
        headerPairs: 50,
      },
    })
    upload.post<Params>('/zaken/:caseId/documenten', async (req, reply) => {
      const user = requireUser(req, ANYONE)
      const caseId = idParam(req.params.caseId)
      const values: FormState['values'] = {}
      const parts = req.parts() as AsyncIterableIterator<documents.UploadPart>
      const first = await parts.next()
      if (first.done || first.value.type !== 'field' || first.value.fieldname !== '_csrf') throw Object.assign(new Error('csrf'), { code: 'FST_CSRF_MISSING_SECRET' })
      req.multipartCsrf = typeof first.value.value === 'string' ? first.value.value : ''
      await new Promise<void>((resolve, reject) => ctx.csrf(req, reply, (err?: Error) => (err ? reject(err) : resolve())))
      if (reply.sent) return reply
      // Empty optional fields of a browser form are absent, not invalid; an empty file input is no file.
      async function* formParts(): AsyncGenerator<documents.UploadPart> {
        for await (const part of { [Symbol.asyncIterator]: () => parts }) {
          if (part.type === 'field') {
            if (typeof part.value === 'string') values[part.fieldname] = part.value
            if (part.value === '' || part.fieldname === 'version') continue
          } else if (part.filename === '') {
            part.file.resume()
            continue
          }
          yield part
        }
      }
      try {
        const doc = await documents.uploadDocument(ctx.documents, user.principal, caseId, formParts())
        notice(req, `${documentKindLabel(doc.kind)} (${doc.filename}) is ontvangen en wordt automatisch gecontroleerd.`)
        return redirect(reply, `/app/zaken/${caseId}#documenten`)
      } catch (err) {
        if (!isDomainError(err) || err.kind === 'not-found') throw err
        return renderCase(ctx, req, reply, user, caseId, refusedForm('upload', values, err, LABELS.upload!), ctx.statusOf[err.kind])
      }
    })
  })
}
