// The charge ranges of a settlement (api/settlement/charge-ranges.ts, migration 0023): the steps
// reproduce the rule "a charge belongs to the first settlement, by cutoff, whose cutoff is above its
// number and whose period is at or after its period", so settlements in any order never share a
// charge and leave none behind that a later settlement could take.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { chargeRanges, type ChargeRanges } from '../../api/settlement/charge-ranges.js'
import { nextPeriod } from '../../api/domain/money.js'

/** What charges_in_range selects, for one charge: the first step by number, the others by period. */
const covers = (r: ChargeRanges, charge: { period: string; seq: number }): boolean => {
  if (charge.seq >= r.below) return false
  for (let k = 0; k < r.upto.length; k++) {
    const after = k === 0 ? null : r.upto[k - 1]!
    if ((after === null || charge.period > after) && charge.period <= r.upto[k]!) return charge.seq >= r.from[k]!
  }
  return false
}

describe('charge ranges', () => {
  it('the first settlement of a hub takes everything numbered below its cutoff, up to its month', () => {
    expect(chargeRanges('2026-10', 100, [])).toEqual({ below: 100, upto: ['2026-10'], from: [0] })
  })

  it('the next month: the old months after the previous cutoff, its own month from the start', () => {
    const r = chargeRanges('2026-11', 250, [{ period: '2026-10', below: 100 }])
    expect(r).toEqual({ below: 250, upto: ['2026-10', '2026-11'], from: [100, 0] })
    // A late October charge (posted after October's cutoff) is November's; an early November charge
    // (posted before October's cutoff) too; October's own charges are not.
    expect(covers(r, { period: '2026-10', seq: 120 })).toBe(true)
    expect(covers(r, { period: '2026-11', seq: 50 })).toBe(true)
    expect(covers(r, { period: '2026-10', seq: 99 })).toBe(false)
    expect(covers(r, { period: '2026-12', seq: 200 })).toBe(false)
    expect(covers(r, { period: '2026-11', seq: 250 })).toBe(false)
  })

  it('a month settled after a later one takes only what the later one left (its own month, posted after that cutoff)', () => {
    const r = chargeRanges('2026-10', 300, [{ period: '2026-11', below: 200 }])
    expect(r).toEqual({ below: 300, upto: ['2026-10'], from: [200] })
    // And the month after both: each of the older months from the latest cutoff that covers it.
    expect(chargeRanges('2026-12', 400, [{ period: '2026-11', below: 200 }, { period: '2026-10', below: 300 }])).toEqual({
      below: 400,
      upto: ['2026-10', '2026-11', '2026-12'],
      from: [300, 200, 0],
    })
  })

  it('settlements of later cutoffs do not bound an earlier one', () => {
    expect(chargeRanges('2026-10', 100, [{ period: '2026-09', below: 50 }, { period: '2026-11', below: 150 }])).toEqual({
      below: 100,
      upto: ['2026-09', '2026-10'],
      from: [50, 0],
    })
  })

  it('any sequence of settlements: every charge is covered by exactly the first eligible one, by cutoff', () => {
    const settlement = fc.record({ month: fc.integer({ min: 0, max: 5 }), gap: fc.integer({ min: 1, max: 20 }) })
    const charge = fc.record({ month: fc.integer({ min: 0, max: 6 }), seq: fc.integer({ min: 0, max: 140 }) })
    fc.assert(
      fc.property(fc.array(settlement, { minLength: 1, maxLength: 7 }), fc.array(charge, { maxLength: 60 }), (plan, charges) => {
        // Cutoffs rise in the order the settlements are created, as the sequence gives them.
        let below = 0
        const settlements = plan.map((s) => ({ period: nextPeriod('2026-01', s.month), below: (below += s.gap) }))
        const ranges = settlements.map((s) => chargeRanges(s.period, s.below, settlements))
        for (const c of charges) {
          const period = nextPeriod('2026-01', c.month)
          const owner = settlements.findIndex((s) => s.below > c.seq && s.period >= period)
          const covering = ranges.flatMap((r, i) => (covers(r, { period, seq: c.seq }) ? [i] : []))
          expect(covering).toEqual(owner === -1 ? [] : [owner])
        }
      }),
      { numRuns: 500 },
    )
  })
})
