// The scheduling queue: books one requested appointment (api/appointments/booking.ts). Safe to run
// twice — a booked or unschedulable appointment is skipped, and the database refuses overlaps.
import { bookAppointment, type BookingResult } from '../api/appointments/booking.js'
import type { Db } from '../api/db/database.js'
import type { JobPayload } from '../api/jobs/registry.js'

export const runBooking = (db: Db, payload: JobPayload<'scheduling', 'book'>): Promise<BookingResult> => bookAppointment(db, payload)
