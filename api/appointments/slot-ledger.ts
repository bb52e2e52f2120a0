// The slots the booking batches of one process are about to book, and the ones they booked while
// another batch was under way (issue 10). Two batches in flight read their calendars at about the
// same time, and without this both would pick every staff member's earliest free slot: the one
// writing second waits for the first's staff locks, then loses nearly every slot and searches
// again. With it, a batch's search also sees what the other batches chose and booked since it
// began — what its own reading could not show yet. Only a hint: the database still decides (the
// staff lock and the exclusion constraint), and a booking made by another process is still found
// the hard way (answered `taken`).
import type { Interval, Slot } from '../domain/scheduling.js'

interface Held {
  interval: Interval
  /** The ledger's count when the slot was booked: batches that began later have read it themselves. */
  seq: number
}

export class SlotLedger {
  private seq = 0
  /** Per staff member, per appointment: the slot a batch chose and is writing. */
  private readonly chosen = new Map<string, Map<string, Interval>>()
  /** Per staff member: slots booked while some batch that began earlier was under way. */
  private readonly held = new Map<string, Held[]>()
  /** The open batches, by the count they began at. */
  private readonly open = new Map<LedgerBatch, number>()

  /** A batch begins: it sees what is chosen from now on and what is booked after this moment. */
  begin(): LedgerBatch {
    const batch = new LedgerBatch(this, this.seq)
    this.open.set(batch, this.seq)
    return batch
  }

  /** @internal */
  end(batch: LedgerBatch): void {
    this.open.delete(batch)
    this.prune()
  }

  /** @internal */
  choose(slot: Slot, appointmentId: string): void {
    const byAppointment = this.chosen.get(slot.staffId) ?? new Map<string, Interval>()
    this.chosen.set(slot.staffId, byAppointment)
    byAppointment.set(appointmentId, { start: slot.start, end: slot.end })
  }

  /** @internal */
  release(slot: Slot, appointmentId: string, held: boolean): void {
    const byAppointment = this.chosen.get(slot.staffId)
    byAppointment?.delete(appointmentId)
    if (byAppointment?.size === 0) this.chosen.delete(slot.staffId)
    if (!held || this.open.size <= 1) return
    this.seq += 1
    const list = this.held.get(slot.staffId) ?? []
    this.held.set(slot.staffId, list)
    list.push({ interval: { start: slot.start, end: slot.end }, seq: this.seq })
  }

  /** @internal */
  visible(staffId: string, appointmentId: string, since: number): Interval[] {
    const out: Interval[] = []
    for (const [id, interval] of this.chosen.get(staffId) ?? []) if (id !== appointmentId) out.push(interval)
    for (const h of this.held.get(staffId) ?? []) if (h.seq > since) out.push(h.interval)
    return out
  }

  /** Booked slots every open batch began after are in their readings: forgotten. */
  private prune(): void {
    const oldest = Math.min(...this.open.values())
    for (const [staffId, list] of this.held) {
      const kept = list.filter((h) => h.seq > oldest)
      if (kept.length === 0) this.held.delete(staffId)
      else this.held.set(staffId, kept)
    }
  }

  /** How many slots the ledger remembers (tests). */
  get size(): number {
    let n = 0
    for (const m of this.chosen.values()) n += m.size
    for (const l of this.held.values()) n += l.length
    return n
  }
}

/** One batch's view of the ledger. */
export class LedgerBatch {
  constructor(
    private readonly ledger: SlotLedger,
    private readonly since: number,
  ) {}

  /** The batch is about to book this slot for this appointment. */
  choose(slot: Slot, appointmentId: string): void {
    this.ledger.choose(slot, appointmentId)
  }

  /** The write answered: the slot is held (booked, or taken by someone else) or free again. */
  release(slot: Slot, appointmentId: string, held: boolean): void {
    this.ledger.release(slot, appointmentId, held)
  }

  /** The time of a staff member that the batch's readings may not show: chosen by other bookings, or booked since the batch began. */
  visible(staffId: string, appointmentId: string): Interval[] {
    return this.ledger.visible(staffId, appointmentId, this.since)
  }

  end(): void {
    this.ledger.end(this)
  }
}
