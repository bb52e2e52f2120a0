// Response shapes of appointments, locations, availability and ceremony sessions.
import { formatClock } from '../domain/scheduling.js'
import type { AbsenceRow, AppointmentRow, AvailabilityRow, LocationRow, SessionRow } from './appointments.repository.js'

export const locationView = (l: LocationRow) => ({
  hubTenantId: l.hub_tenant_id,
  code: l.code,
  name: l.name,
  municipalityCode: l.municipality_code,
  address: l.address,
  updatedAt: l.updated_at.toISOString(),
})

export const availabilityView = (staffId: string, weekly: AvailabilityRow[], absences: AbsenceRow[]) => ({
  staffId,
  weekly: weekly.map((w) => ({ weekday: w.weekday, start: formatClock(w.start_minute), end: formatClock(w.end_minute), locationCode: w.location_code })),
  absences: absences.map((a) => ({ from: a.from_date, until: a.until_date })),
})

export const sessionView = (s: SessionRow) => ({
  id: s.id,
  hubTenantId: s.hub_tenant_id,
  date: s.session_date,
  start: formatClock(s.start_minute),
  end: formatClock(s.end_minute),
  startsAt: s.starts_at.toISOString(),
  endsAt: s.ends_at.toISOString(),
  locationCode: s.location_code,
  capacity: s.capacity,
  seatsTaken: s.seats_taken,
})

export const appointmentView = (a: AppointmentRow) => ({
  id: a.id,
  caseId: a.case_id,
  kind: a.kind,
  status: a.status,
  start: a.starts_at?.toISOString() ?? null,
  end: a.ends_at?.toISOString() ?? null,
  staffId: a.staff_id,
  locationCode: a.location_code,
  ceremonyId: a.ceremony_id,
  attempt: a.attempt,
  registeredLetter: a.registered_letter,
  reason: a.reason,
  earliest: a.earliest?.toISOString() ?? null,
  latest: a.latest?.toISOString() ?? null,
  version: a.version,
  requestedAt: a.requested_at.toISOString(),
  bookedAt: a.booked_at?.toISOString() ?? null,
})

export type AppointmentView = ReturnType<typeof appointmentView>
