// HTTP only: parse, call one service function, shape the reply (STYLE.md §6).
import type { FastifyInstance } from 'fastify'
import * as appointments from '../../appointments/appointments.service.js'
import * as resources from '../../appointments/resources.service.js'
import type { OpenApiDocument } from '../openapi.js'
import { declareRoute } from '../route.js'

const CALENDAR = 'text/calendar; charset=utf-8'

export function appointmentRoutes(app: FastifyInstance, spec: OpenApiDocument, deps: appointments.AppointmentDeps): void {
  // The platform administrator holds tenants:admin, a lead appointments:write: the service decides.
  declareRoute(app, spec, 'putLocation', null, async (req) =>
    resources.putLocation(deps, req.principal, req.params.hubTenantId, req.params.code, req.body),
  )
  declareRoute(app, spec, 'listLocations', null, async (req) => resources.listLocations(deps, req.principal, req.params.hubTenantId))
  declareRoute(app, spec, 'putAvailability', 'appointments:write', async (req) =>
    resources.putAvailability(deps, req.principal, req.params.staffId, req.body),
  )
  declareRoute(app, spec, 'createCeremony', 'appointments:write', async (req, reply) => {
    const session = await resources.createCeremony(deps, req.principal, req.params.hubTenantId, req.body)
    const location = `/v1/tenants/${session.hubTenantId}/ceremonies?from=${session.date}&to=${session.date}`
    return reply.header('Location', location).code(201).send(session)
  })
  declareRoute(app, spec, 'listCeremonies', 'appointments:read', async (req) =>
    resources.listCeremonies(deps, req.principal, req.params.hubTenantId, req.query),
  )

  declareRoute(app, spec, 'requestAppointment', 'appointments:write', async (req, reply) => {
    const created = await appointments.requestAppointment(deps, req.principal, req.params.caseId, req.body)
    return reply.header('Location', `/v1/appointments/${created.id}`).code(202).send(created)
  })
  declareRoute(app, spec, 'listCaseAppointments', 'appointments:read', async (req) =>
    appointments.listCaseAppointments(deps, req.principal, req.params.caseId),
  )
  declareRoute(app, spec, 'getAppointment', 'appointments:read', async (req) =>
    appointments.getAppointment(deps, req.principal, req.params.appointmentId),
  )
  declareRoute(app, spec, 'cancelAppointment', 'appointments:write', async (req) =>
    appointments.cancelAppointment(deps, req.principal, req.params.appointmentId, req.body),
  )
  declareRoute(app, spec, 'recordAppointmentOutcome', 'appointments:write', async (req) =>
    appointments.recordOutcome(deps, req.principal, req.params.appointmentId, req.body),
  )
  declareRoute(app, spec, 'getAppointmentCalendar', 'appointments:read', async (req, reply) =>
    reply.type(CALENDAR).code(200).send(await appointments.appointmentCalendar(deps, req.principal, req.params.appointmentId)),
  )
  declareRoute(app, spec, 'getStaffCalendar', 'appointments:read', async (req, reply) =>
    reply.type(CALENDAR).code(200).send(await appointments.staffCalendar(deps, req.principal, req.params.staffId)),
  )
}
