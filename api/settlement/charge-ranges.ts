// Which charges a settlement's invoices cover (migration 0023): a charge (period p, number q)
// belongs to the first settlement of its hub — lowest cutoff — whose cutoff is above q and whose
// period is ≥ p. For a settlement S that is, per period p up to S's period, the charges with
// L(p) ≤ q < S's cutoff, where L(p) is the highest cutoff of an earlier settlement (lower cutoff)
// whose period is ≥ p, or 0. L only falls as p grows and changes only at an earlier settlement's
// period, so it is a staircase of a few steps: step k holds the periods after step k − 1's up to
// `upto[k]`, from `from[k]`. The first step (the old months) is read by number, the others (the
// months after the previous settlement's) by period — see charges_in_range in the migration.

export interface ChargeRanges {
  /** The settlement's cutoff: every charge it covers is numbered below it. */
  below: number
  /** Step k covers the periods after upto[k − 1] (all before, for k = 0) up to upto[k]; the last is the settlement's period. */
  upto: string[]
  /** The lowest charge number of step k. */
  from: number[]
}

export function chargeRanges(period: string, below: number, earlier: ReadonlyArray<{ period: string; below: number }>): ChargeRanges {
  const prior = earlier.filter((e) => e.below < below)
  const floor = (p: string): number => prior.reduce((max, e) => (e.period >= p && e.below > max ? e.below : max), 0)
  const breaks = [...new Set(prior.map((e) => e.period).filter((p) => p < period))].sort()
  const upto: string[] = []
  const from: number[] = []
  for (const p of [...breaks, period]) {
    const f = floor(p)
    // A step with the floor of the next one merges into it (the same charges either way).
    if (from.length > 0 && from[from.length - 1] === f) upto[upto.length - 1] = p
    else {
      upto.push(p)
      from.push(f)
    }
  }
  return { below, upto, from }
}
