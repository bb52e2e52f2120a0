// Issue 10: the ledger through which the booking batches in flight in one process see each other's
// slots (api/appointments/slot-ledger.ts).
import { describe, expect, it } from 'vitest'
import { SlotLedger } from '../../api/appointments/slot-ledger.js'

const slot = (staffId: string, hour: number) => ({
  staffId,
  start: new Date(Date.UTC(2027, 0, 4, hour)),
  end: new Date(Date.UTC(2027, 0, 4, hour, 30)),
  locationCode: 'stadhuis',
})
const hours = (intervals: { start: Date }[]) => intervals.map((i) => i.start.getUTCHours()).sort()

describe('SlotLedger', () => {
  it('shows a chosen slot to every other booking, never to the one that chose it, until it is released', () => {
    const ledger = new SlotLedger()
    const a = ledger.begin()
    const b = ledger.begin()
    a.choose(slot('s1', 9), 'appointment-1')
    expect(hours(a.visible('s1', 'appointment-1'))).toEqual([])
    expect(hours(a.visible('s1', 'appointment-2'))).toEqual([9])
    expect(hours(b.visible('s1', 'appointment-3'))).toEqual([9])
    expect(b.visible('s2', 'appointment-3')).toEqual([])
    a.release(slot('s1', 9), 'appointment-1', false)
    expect(b.visible('s1', 'appointment-3')).toEqual([])
    a.end()
    b.end()
    expect(ledger.size).toBe(0)
  })

  it('shows a booked slot to the batches begun before it was booked, and forgets it once they end', () => {
    const ledger = new SlotLedger()
    const early = ledger.begin()
    const writer = ledger.begin()
    writer.choose(slot('s1', 10), 'appointment-1')
    writer.release(slot('s1', 10), 'appointment-1', true)
    // Begun after the booking: its own reading shows it.
    const late = ledger.begin()
    expect(hours(early.visible('s1', 'appointment-2'))).toEqual([10])
    expect(late.visible('s1', 'appointment-2')).toEqual([])
    writer.end()
    expect(hours(early.visible('s1', 'appointment-2'))).toEqual([10])
    early.end()
    expect(ledger.size).toBe(0)
    late.end()
  })

  it('remembers nothing when no other batch is under way', () => {
    const ledger = new SlotLedger()
    const only = ledger.begin()
    only.choose(slot('s1', 11), 'appointment-1')
    only.release(slot('s1', 11), 'appointment-1', true)
    expect(ledger.size).toBe(0)
    only.end()
  })
})
