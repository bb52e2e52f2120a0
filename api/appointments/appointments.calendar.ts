// Calendar files (RFC 5545) written by ical-generator: one VEVENT per appointment with a stable
// UID, SEQUENCE raised on every change (the appointment's version), METHOD:CANCEL once cancelled,
// and DTSTART/DTEND in TZID=Europe/Amsterdam with its VTIMEZONE, so a calendar application shows
// the town hall's wall-clock time across daylight-saving changes. The summary names the kind and
// the case reference only — calendars sync to phones, so never a citizen's name or BSN.
import ical, { ICalCalendarMethod, ICalEventStatus } from 'ical-generator'
import { DateTime } from 'luxon'
import type { AppointmentRow } from './appointments.repository.js'

export const CALENDAR_TIME_ZONE = 'Europe/Amsterdam'

// The EU summer-time rule in force since 1996 (see api/domain/scheduling.ts), as RFC 5545 rules.
const AMSTERDAM_VTIMEZONE = [
  'BEGIN:VTIMEZONE',
  'TZID:Europe/Amsterdam',
  'X-LIC-LOCATION:Europe/Amsterdam',
  'BEGIN:DAYLIGHT',
  'TZOFFSETFROM:+0100',
  'TZOFFSETTO:+0200',
  'TZNAME:CEST',
  'DTSTART:19700329T020000',
  'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU',
  'END:DAYLIGHT',
  'BEGIN:STANDARD',
  'TZOFFSETFROM:+0200',
  'TZOFFSETTO:+0100',
  'TZNAME:CET',
  'DTSTART:19701025T030000',
  'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU',
  'END:STANDARD',
  'END:VTIMEZONE',
].join('\r\n')

const KIND_LABEL: Readonly<Record<string, string>> = {
  intake_interview: 'Intake interview',
  registration_appearance: 'Registration appearance',
  ceremony: 'Naturalisation ceremony',
  option_confirmation: 'Option confirmation',
}

export interface CalendarEntry {
  appointment: AppointmentRow
  caseReference: string
  locationName: string | null
}

export const appointmentUid = (appointmentId: string): string => `${appointmentId}@regiobalie`

/** The summary of an appointment: its kind and case reference, nothing personal. */
export const calendarSummary = (kind: string, caseReference: string): string => `${KIND_LABEL[kind] ?? kind} ${caseReference}`

function newCalendar(method: ICalCalendarMethod, name: string) {
  const calendar = ical({ prodId: { company: 'Regiobalie', product: 'appointments', language: 'EN' }, method, name })
  // No calendar-wide zone (DTSTAMP stays UTC, as RFC 5545 requires); each event names its zone and
  // the generator adds the VTIMEZONE for it.
  calendar.timezone({ name: null, generator: (zone) => (zone === CALENDAR_TIME_ZONE ? AMSTERDAM_VTIMEZONE : null) })
  return calendar
}

function addEvent(calendar: ReturnType<typeof newCalendar>, entry: CalendarEntry): void {
  const a = entry.appointment
  if (!a.starts_at || !a.ends_at) return
  calendar.createEvent({
    id: appointmentUid(a.id),
    sequence: a.version - 1,
    stamp: a.updated_at,
    start: DateTime.fromJSDate(a.starts_at),
    end: DateTime.fromJSDate(a.ends_at),
    timezone: CALENDAR_TIME_ZONE,
    summary: calendarSummary(a.kind, entry.caseReference),
    ...(entry.locationName ? { location: entry.locationName } : {}),
    status: a.status === 'cancelled' ? ICalEventStatus.CANCELLED : ICalEventStatus.CONFIRMED,
  })
}

/** The file of one appointment: PUBLISH while it stands, CANCEL once cancelled. */
export function appointmentIcs(entry: CalendarEntry): string {
  const method = entry.appointment.status === 'cancelled' ? ICalCalendarMethod.CANCEL : ICalCalendarMethod.PUBLISH
  const calendar = newCalendar(method, calendarSummary(entry.appointment.kind, entry.caseReference))
  addEvent(calendar, entry)
  return calendar.toString()
}

/** A staff member's feed: every appointment of theirs, cancelled ones marked STATUS:CANCELLED. */
export function staffFeedIcs(entries: readonly CalendarEntry[]): string {
  const calendar = newCalendar(ICalCalendarMethod.PUBLISH, 'Regiobalie appointments')
  for (const entry of entries) addEvent(calendar, entry)
  return calendar.toString()
}
