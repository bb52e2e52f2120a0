// What the scheduler books into: a hub's locations, its staff's availability, its ceremony sessions.
import { inScope, isAdmin, isLeadOf, type Principal } from '../auth/principal.js'
import type { Db } from '../db/database.js'
import type { LocationAddressJson } from '../db/schema.js'
import { isValidIsoDate } from '../domain/calendar.js'
import { DomainError, invalidFields, notFound, type InvalidField } from '../domain/errors.js'
import { amsterdamToUtc, availabilityProblems, isCeremonyDate, parseClock, type WeeklyWindow } from '../domain/scheduling.js'
import * as repo from './appointments.repository.js'
import { isHubOf } from './access.js'
import { appointmentView, availabilityView, locationView, sessionView } from './appointments.view.js'

export interface ResourceDeps {
  db: Db
}

/** The hub tenant, as the principal may see it; a member or another region sees nothing (404). */
async function requireHub(trx: Parameters<Parameters<typeof inScope>[2]>[0], hubTenantId: string) {
  const hub = await repo.findTenant(trx, hubTenantId)
  if (!hub || hub.role !== 'hub') throw notFound('tenant')
  return hub
}

export async function putLocation(
  deps: ResourceDeps,
  principal: Principal,
  hubTenantId: string,
  code: string,
  input: { name: string; municipalityCode: string; address: LocationAddressJson },
) {
  if (!isAdmin(principal) && !isHubOf(principal, hubTenantId)) throw notFound('tenant')
  if (!isAdmin(principal) && !isLeadOf(principal, hubTenantId)) {
    throw new DomainError('forbidden', 'forbidden', 'locations are managed by the platform administrator or a lead of the hub')
  }
  return inScope(deps.db, principal, async (trx) => {
    const hub = await requireHub(trx, hubTenantId)
    const tenant = await repo.tenantInRegion(trx, hub.region_id, input.municipalityCode)
    if (!tenant) {
      throw new DomainError('refused', 'municipality-not-in-region', `${input.municipalityCode} is neither the hub nor a member of its region`)
    }
    const row = await repo.upsertLocation(trx, {
      hub_tenant_id: hub.id,
      code,
      name: input.name,
      municipality_code: input.municipalityCode,
      address: { ...input.address, postalCode: normalisePostalCode(input.address.postalCode) },
    })
    return locationView(row)
  })
}

/** "1234ab" and "1234 AB" are one postal code; stored as "1234 AB" (API.md conventions). */
const normalisePostalCode = (value: string): string => {
  const compact = value.replace(/\s+/g, '').toUpperCase()
  return /^\d{4}[A-Z]{2}$/.test(compact) ? `${compact.slice(0, 4)} ${compact.slice(4)}` : value.trim()
}

export async function listLocations(deps: ResourceDeps, principal: Principal, hubTenantId: string) {
  return inScope(deps.db, principal, async (trx) => {
    // RLS shows a tenant the hub of its own region only; anything else is a 404.
    const hub = await requireHub(trx, hubTenantId)
    if (!isAdmin(principal) && principal.regionId !== hub.region_id) throw notFound('tenant')
    return { items: (await repo.listLocations(trx, hub.id)).map(locationView) }
  })
}

export interface AvailabilityInput {
  weekly: { weekday: number; start: string; end: string; locationCode: string }[]
  absences: { from: string; until: string }[]
}

export async function putAvailability(deps: ResourceDeps, principal: Principal, staffId: string, input: AvailabilityInput) {
  if (isAdmin(principal) || principal.tenantRole !== 'hub') throw notFound('staff member')
  return inScope(deps.db, principal, async (trx) => {
    const staff = await repo.findStaff(trx, staffId)
    if (!staff || staff.hub_tenant_id !== principal.tenantId) throw notFound('staff member')
    const self = principal.kind === 'staff' && principal.staffId === staffId
    if (!self && !isLeadOf(principal, staff.hub_tenant_id)) {
      throw new DomainError('forbidden', 'forbidden', 'availability is set by a lead of the hub, or by a specialist for himself')
    }
    const problems: InvalidField[] = []
    const known = await repo.locationCodes(trx, staff.hub_tenant_id)
    const weekly: WeeklyWindow[] = input.weekly.map((w, i) => {
      const startMinute = parseClock(w.start)
      const endMinute = parseClock(w.end)
      if (startMinute === null) problems.push({ name: `weekly[${i}].start`, code: 'invalid-time', reason: 'must be HH:MM' })
      if (endMinute === null) problems.push({ name: `weekly[${i}].end`, code: 'invalid-time', reason: 'must be HH:MM' })
      if (!known.has(w.locationCode)) problems.push({ name: `weekly[${i}].locationCode`, code: 'unknown-location', reason: 'is not a location of this hub' })
      return { weekday: w.weekday, startMinute: startMinute ?? 0, endMinute: endMinute ?? 0, locationCode: w.locationCode }
    })
    input.absences.forEach((a, i) => {
      if (!isValidIsoDate(a.from)) problems.push({ name: `absences[${i}].from`, code: 'invalid-date', reason: 'is not a calendar date' })
      if (!isValidIsoDate(a.until)) problems.push({ name: `absences[${i}].until`, code: 'invalid-date', reason: 'is not a calendar date' })
    })
    if (problems.length === 0) problems.push(...availabilityProblems(weekly, input.absences))
    if (problems.length > 0) throw invalidFields(problems)
    await repo.replaceAvailability(
      trx,
      staff.hub_tenant_id,
      staff.id,
      weekly.map((w) => ({ weekday: w.weekday, start_minute: w.startMinute, end_minute: w.endMinute, location_code: w.locationCode })),
      input.absences.map((a) => ({ from_date: a.from, until_date: a.until })),
    )
    return availabilityView(staff.id, await repo.availabilityOf(trx, [staff.id]), await repo.absencesOf(trx, [staff.id]))
  })
}

/** A staff member's weekly pattern and absences, read by whoever may set them (the hub lead, or the specialist himself). */
export async function getAvailability(deps: ResourceDeps, principal: Principal, staffId: string) {
  if (isAdmin(principal) || principal.tenantRole !== 'hub') throw notFound('staff member')
  return inScope(deps.db, principal, async (trx) => {
    const staff = await repo.findStaff(trx, staffId)
    if (!staff || staff.hub_tenant_id !== principal.tenantId) throw notFound('staff member')
    const self = principal.kind === 'staff' && principal.staffId === staffId
    if (!self && !isLeadOf(principal, staff.hub_tenant_id)) {
      throw new DomainError('forbidden', 'forbidden', 'availability is read by a lead of the hub, or by a specialist for himself')
    }
    return availabilityView(staff.id, await repo.availabilityOf(trx, [staff.id]), await repo.absencesOf(trx, [staff.id]))
  })
}

export interface CeremonyInput {
  date: string
  start: string
  end: string
  locationCode: string
  capacity: number
}

export async function createCeremony(deps: ResourceDeps, principal: Principal, hubTenantId: string, input: CeremonyInput) {
  if (!isHubOf(principal, hubTenantId)) throw notFound('tenant')
  if (!isLeadOf(principal, hubTenantId)) throw new DomainError('forbidden', 'forbidden', 'ceremony sessions are planned by a lead of the hub')
  return inScope(deps.db, principal, async (trx) => {
    const problems: InvalidField[] = []
    const startMinute = parseClock(input.start)
    const endMinute = parseClock(input.end)
    if (!isValidIsoDate(input.date)) {
      problems.push({ name: 'date', code: 'invalid-date', reason: 'is not a calendar date' })
    } else if (!isCeremonyDate(input.date)) {
      problems.push({ name: 'date', code: 'not-a-working-day', reason: 'is a weekend day or a public holiday (15 December excepted)' })
    }
    if (startMinute === null) problems.push({ name: 'start', code: 'invalid-time', reason: 'must be HH:MM' })
    if (endMinute === null) problems.push({ name: 'end', code: 'invalid-time', reason: 'must be HH:MM' })
    if (startMinute !== null && endMinute !== null && startMinute >= endMinute) {
      problems.push({ name: 'end', code: 'inverted-range', reason: 'must be after start' })
    }
    if (!(await repo.findLocation(trx, hubTenantId, input.locationCode))) {
      problems.push({ name: 'locationCode', code: 'unknown-location', reason: 'is not a location of this hub' })
    }
    if (problems.length > 0 || startMinute === null || endMinute === null) throw invalidFields(problems)
    const row = await repo.insertSession(trx, {
      hub_tenant_id: hubTenantId,
      session_date: input.date,
      start_minute: startMinute,
      end_minute: endMinute,
      starts_at: amsterdamToUtc(input.date, startMinute),
      ends_at: amsterdamToUtc(input.date, endMinute),
      location_code: input.locationCode,
      capacity: input.capacity,
    })
    return sessionView(row)
  })
}

export async function listCeremonies(deps: ResourceDeps, principal: Principal, hubTenantId: string, query: { from?: string; to?: string }) {
  if (!isHubOf(principal, hubTenantId)) throw notFound('tenant')
  const problems: InvalidField[] = []
  for (const field of ['from', 'to'] as const) {
    const value = query[field]
    if (value !== undefined && !isValidIsoDate(value)) problems.push({ name: `query.${field}`, code: 'invalid-date', reason: 'is not a calendar date' })
  }
  if (problems.length === 0 && query.from && query.to && query.from > query.to) {
    problems.push({ name: 'query.to', code: 'inverted-range', reason: 'must be on or after from' })
  }
  if (problems.length > 0) throw invalidFields(problems)
  return inScope(deps.db, principal, async (trx) => ({
    items: (await repo.listSessions(trx, hubTenantId, query.from ?? null, query.to ?? null)).map(sessionView),
  }))
}

/** One ceremony session with the appointments that hold (or held) a seat in it: for the hub lead. */
export async function ceremonySeats(deps: ResourceDeps, principal: Principal, hubTenantId: string, sessionId: string) {
  if (!isHubOf(principal, hubTenantId)) throw notFound('tenant')
  if (!isLeadOf(principal, hubTenantId)) throw new DomainError('forbidden', 'forbidden', 'the seat holders of a session are for a lead of the hub')
  return inScope(deps.db, principal, async (trx) => {
    const session = await repo.findSession(trx, sessionId)
    if (!session || session.hub_tenant_id !== hubTenantId) throw notFound('ceremony session')
    const rows = await repo.appointmentsOfSession(trx, session.id)
    return {
      session: sessionView(session),
      appointments: rows.map(({ case_reference, case_type, ...a }) => ({ ...appointmentView(a), caseReference: case_reference, caseType: case_type })),
    }
  })
}
