// Appointments of a case: request (202, the scheduling worker books it), read, cancel, record the
// outcome, and the calendar files. Every change is a case event announced through the outbox, and
// booked / cancelled / unschedulable are platform events for the webhooks.
import type { Principal, TenantPrincipal } from '../auth/principal.js'
import { isLeadOf, tenantScope } from '../auth/principal.js'
import * as casesRepo from '../cases/cases.repository.js'
import { applyTransition, recordCaseEvent } from '../cases/lifecycle.js'
import { withTenant, type Db, type Trx } from '../db/database.js'
import { uniqueViolation } from '../db/errors.js'
import { CASE_TYPE_VERSIONS } from '../domain/case-types.js'
import { DomainError, invalidFields, notFound } from '../domain/errors.js'
import { APPOINTMENT_KINDS, MAX_ATTEMPTS, SESSION_KINDS, isAppointmentKind, type AppointmentKind } from '../domain/scheduling.js'
import { emitEvent } from '../webhooks/events.js'
import * as repo from './appointments.repository.js'
import { appointmentIcs, staffFeedIcs } from './appointments.calendar.js'
import { appointmentView } from './appointments.view.js'
import { actorOf, isHubOf, requireTenant } from './access.js'

export interface AppointmentDeps {
  db: Db
  now?: () => Date
}

/** A case that is over: no appointment can be requested for it. */
const FINISHED = ['closed', 'withdrawn', 'rejected_at_intake'] as const

const inTenant = <T>(deps: AppointmentDeps, p: TenantPrincipal, fn: (trx: Trx) => Promise<T>) => withTenant(deps.db, tenantScope(p), fn)

export interface RequestInput {
  kind: string
  earliest?: string
  latest?: string
  locationCode?: string
}

export async function requestAppointment(deps: AppointmentDeps, principal: Principal, caseId: string, input: RequestInput) {
  const p = requireTenant(principal)
  const earliest = input.earliest ? new Date(input.earliest) : null
  const latest = input.latest ? new Date(input.latest) : null
  if (earliest && latest && earliest > latest) throw invalidFields([{ name: 'latest', code: 'inverted-range', reason: 'must not be before earliest' }])
  // One statement, its own transaction (request_appointment, migration 0016).
  const created = await openAppointment(deps.db, p, caseId, {
    kind: input.kind,
    attempt: 1,
    earliest,
    latest,
    requestedLocationCode: input.locationCode ?? null,
    actor: actorOf(p),
  })
  return appointmentView(created)
}

/**
 * Per case type, its versions' first days with whether the version has the kind: what
 * request_appointment needs to apply findCaseType's rule (the newest version not after the case's
 * own) to the case it locks. The first definition of a day wins, as in findCaseType.
 */
const kindVersions = (kind: string): Record<string, [string, boolean][]> => {
  const byType: Record<string, [string, boolean][]> = {}
  if (!isAppointmentKind(kind)) return byType
  for (const def of CASE_TYPE_VERSIONS) {
    const versions = (byType[def.code] ??= [])
    if (!versions.some(([validFrom]) => validFrom === def.validFrom)) versions.push([def.validFrom, def.appointmentKinds.includes(kind)])
  }
  return byType
}
const KIND_VERSIONS = new Map(APPOINTMENT_KINDS.map((k) => [k, kindVersions(k)]))

/**
 * Opens a requested appointment in one statement: the case locked, the refusals checked in the
 * order of API.md, then the appointment, the case event and the scheduling worker's job. `db` is
 * the pool for a request, or the transaction of a no-show that invites again.
 */
async function openAppointment(
  db: Db | Trx,
  p: TenantPrincipal,
  caseId: string,
  input: { kind: string; attempt: number; earliest: Date | null; latest: Date | null; requestedLocationCode: string | null; actor: ReturnType<typeof actorOf> },
): Promise<repo.AppointmentRow> {
  const scope = tenantScope(p)
  const reason = `${input.kind}, attempt ${input.attempt}${input.attempt === MAX_ATTEMPTS ? ', invitation by registered letter' : ''}`
  let answer: Awaited<ReturnType<typeof repo.requestAppointment>>
  try {
    answer = await repo.requestAppointment(db, {
      tenantId: scope.tenantId,
      regionId: scope.regionId,
      requesterHub: p.tenantRole === 'hub' ? p.tenantId : null,
      caseId,
      kind: input.kind,
      kindVersions: KIND_VERSIONS.get(input.kind as AppointmentKind) ?? {},
      finished: FINISHED,
      sessionKind: isAppointmentKind(input.kind) && SESSION_KINDS.has(input.kind),
      attempt: input.attempt,
      registeredLetter: input.attempt === MAX_ATTEMPTS,
      earliest: input.earliest,
      latest: input.latest,
      locationCode: input.requestedLocationCode,
      actor: input.actor,
      reason,
    })
  } catch (err) {
    if (uniqueViolation(err) === 'appointments_one_open_per_kind') {
      throw new DomainError('conflict', 'appointment-already-open', `the case already has an open ${input.kind} appointment`)
    }
    throw err
  }
  if ('appointment' in answer) return answer.appointment
  const status = (answer.detail ?? '').replaceAll('_', ' ')
  switch (answer.refused) {
    case 'case-not-found':
      throw notFound('case')
    case 'not-the-hub':
      throw new DomainError('forbidden', 'forbidden', 'appointments are requested by the hub’s staff')
    case 'unknown-location':
      throw invalidFields([{ name: 'locationCode', code: 'unknown-location', reason: 'is not a location of this hub' }])
    case 'kind-not-needed':
      throw new DomainError('refused', 'kind-not-needed-for-case-type', `a ${answer.detail ?? 'such'} case has no ${input.kind} appointment`)
    case 'case-finished':
      throw new DomainError('conflict', 'case-closed', `the case is ${status}`)
    case 'not-awaiting-ceremony':
      throw new DomainError('conflict', 'not-awaiting-ceremony', `a ${input.kind} is booked once the case awaits its ceremony; it is ${status}`)
  }
}

export async function getAppointment(deps: AppointmentDeps, principal: Principal, appointmentId: string) {
  const p = requireTenant(principal)
  return inTenant(deps, p, async (trx) => {
    const a = await repo.findAppointment(trx, appointmentId)
    if (!a) throw notFound('appointment')
    return appointmentView(a)
  })
}

export async function listCaseAppointments(deps: AppointmentDeps, principal: Principal, caseId: string) {
  const p = requireTenant(principal)
  return inTenant(deps, p, async (trx) => {
    if (!(await casesRepo.findCase(trx, caseId))) throw notFound('case')
    return { items: (await repo.appointmentsOfCase(trx, caseId)).map(appointmentView) }
  })
}

/** Locks the appointment's case, then the appointment (the order every appointment write takes). */
async function lockBoth(trx: Trx, appointmentId: string) {
  const seen = await repo.findAppointment(trx, appointmentId)
  if (!seen) throw notFound('appointment')
  const c = await casesRepo.lockCase(trx, seen.case_id)
  const a = await repo.lockAppointment(trx, appointmentId)
  if (!c || !a) throw notFound('appointment')
  return { c, a }
}

export async function cancelAppointment(deps: AppointmentDeps, principal: Principal, appointmentId: string, input: { reason: string }) {
  const p = requireTenant(principal)
  return inTenant(deps, p, async (trx) => {
    // RLS shows the appointment to its hub and to the member whose case it is: both may cancel.
    const { c, a } = await lockBoth(trx, appointmentId)
    if (a.status === 'attended') throw new DomainError('conflict', 'appointment-attended', 'an attended appointment cannot be cancelled')
    if (a.status === 'cancelled' || a.status === 'no_show') {
      throw new DomainError('conflict', 'appointment-not-open', `the appointment is ${a.status.replace('_', '-')} already`)
    }
    if (a.ceremony_id) await repo.releaseSeat(trx, a.ceremony_id)
    const updated = await repo.updateAppointment(trx, a.id, { status: 'cancelled', reason: input.reason })
    await recordCaseEvent(trx, c, { action: 'appointment_cancelled', actor: actorOf(p), reason: `${a.kind}: ${input.reason}` })
    await emitEvent(trx, {
      type: 'appointment.cancelled',
      hubTenantId: c.hub_tenant_id,
      memberTenantId: c.member_tenant_id,
      objectPath: `/v1/appointments/${a.id}`,
      data: { appointmentId: a.id, caseId: c.id, caseReference: c.reference, kind: a.kind, status: 'cancelled' },
    })
    return appointmentView(updated)
  })
}

export async function recordOutcome(
  deps: AppointmentDeps,
  principal: Principal,
  appointmentId: string,
  input: { attended: boolean; declarationMade?: boolean },
) {
  const p = requireTenant(principal)
  const now = deps.now?.() ?? new Date()
  return inTenant(deps, p, async (trx) => {
    const { c, a } = await lockBoth(trx, appointmentId)
    if (!isHubOf(p, c.hub_tenant_id)) throw new DomainError('forbidden', 'forbidden', 'the outcome is recorded by the hub’s staff')
    if (a.status !== 'booked' || !a.starts_at) {
      throw new DomainError('conflict', 'appointment-not-booked', `the appointment is ${a.status.replace('_', '-')}, not booked`)
    }
    if (now < a.starts_at) throw new DomainError('conflict', 'appointment-not-started', 'the outcome is recorded once the appointment has started')
    const actor = actorOf(p)
    const isSession = SESSION_KINDS.has(a.kind)
    if (input.attended) {
      const declarationMade = isSession ? (input.declarationMade ?? false) : null
      const updated = await repo.updateAppointment(trx, a.id, { status: 'attended', declaration_made: declarationMade })
      const recorded = await recordCaseEvent(trx, c, {
        action: 'appointment_attended',
        actor,
        reason: `${a.kind}${isSession ? (declarationMade ? ', declaration made' : ', declaration not made') : ''}`,
      })
      // The hand-over with the declaration made completes the case (naturalised, or option confirmed).
      if (isSession && declarationMade) {
        await applyTransition(trx, recorded, { action: 'ceremony_attended', actor, reason: `${a.kind} attended, declaration made` })
      }
      return appointmentView(updated)
    }
    const updated = await repo.updateAppointment(trx, a.id, { status: 'no_show' })
    const recorded = await recordCaseEvent(trx, c, { action: 'appointment_no_show', actor, reason: `${a.kind}, attempt ${a.attempt}` })
    if (a.attempt < MAX_ATTEMPTS) {
      // BVVN art. 60b(10): invite again; the last invitation goes by registered letter.
      await openAppointment(trx, p, recorded.id, {
        kind: a.kind,
        attempt: a.attempt + 1,
        earliest: null,
        latest: null,
        requestedLocationCode: a.requested_location_code,
        actor,
      })
    } else {
      // Three invitations, no appearance: the scheduler stops and the case is flagged for the specialist.
      await recordCaseEvent(trx, recorded, {
        action: 'appointment_attempts_exhausted',
        actor: { kind: 'system', id: 'scheduling' },
        reason: `${a.kind}: no-show after ${MAX_ATTEMPTS} invitations; no further appointment is requested`,
      })
    }
    return appointmentView(updated)
  })
}

export async function appointmentCalendar(deps: AppointmentDeps, principal: Principal, appointmentId: string): Promise<string> {
  const p = requireTenant(principal)
  return inTenant(deps, p, async (trx) => {
    const a = await repo.findAppointment(trx, appointmentId)
    if (!a) throw notFound('appointment')
    if (!a.starts_at) throw new DomainError('conflict', 'appointment-not-booked', `the appointment is ${a.status}; it has no time yet`)
    const location = a.location_code ? await repo.findLocation(trx, a.hub_tenant_id, a.location_code) : undefined
    return appointmentIcs({ appointment: a, caseReference: await repo.caseReference(trx, a.case_id), locationName: location?.name ?? null })
  })
}

/** How far back a staff member's feed reaches. */
const FEED_DAYS_BACK = 31

export async function staffCalendar(deps: AppointmentDeps, principal: Principal, staffId: string): Promise<string> {
  const p = requireTenant(principal)
  const now = deps.now?.() ?? new Date()
  return inTenant(deps, p, async (trx) => {
    const staff = await repo.findStaff(trx, staffId)
    if (!staff || staff.hub_tenant_id !== p.tenantId) throw notFound('staff member')
    const self = p.kind === 'staff' && p.staffId === staffId
    if (!self && !isLeadOf(p, staff.hub_tenant_id)) throw new DomainError('forbidden', 'forbidden', 'a calendar feed is for its staff member and the hub lead')
    const rows = await repo.calendarOfStaff(trx, staffId, new Date(now.getTime() - FEED_DAYS_BACK * 86_400_000))
    const names = new Map((await repo.listLocations(trx, staff.hub_tenant_id)).map((l) => [l.code, l.name]))
    return staffFeedIcs(
      rows.map(({ case_reference, ...appointment }) => ({
        appointment,
        caseReference: case_reference,
        locationName: appointment.location_code ? (names.get(appointment.location_code) ?? null) : null,
      })),
    )
  })
}
