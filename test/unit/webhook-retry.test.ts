// Issue 11: the retry schedule (≈ 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h) with ±10 % jitter, and
// the five-day rule.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { failedTooLong, MAX_ATTEMPTS, nextAttemptAt, RETRY_DELAYS_MS } from '../../api/domain/webhook-retry.js'

const T0 = new Date('2026-12-01T09:00:00.000Z')
const after = (attempts: number, random: number) => nextAttemptAt(attempts, T0, random)!.getTime() - T0.getTime()

describe('nextAttemptAt', () => {
  it('follows the schedule of API.md without jitter (random = 0.5)', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => after(n, 0.5))).toEqual([5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000])
  })

  it('has no attempt after the eighth: the delivery is dead', () => {
    expect(MAX_ATTEMPTS).toBe(8)
    expect(nextAttemptAt(8, T0, 0.5)).toBeNull()
    expect(nextAttemptAt(9, T0, 0.5)).toBeNull()
    expect(() => nextAttemptAt(0, T0, 0.5)).toThrow(RangeError)
  })

  it('spreads every delay within ±10 %, and more chance means later', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 7 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (n, r1, r2) => {
        const base = RETRY_DELAYS_MS[n - 1]!
        const d = after(n, r1)
        expect(d).toBeGreaterThanOrEqual(Math.floor(base * 0.9))
        expect(d).toBeLessThanOrEqual(Math.ceil(base * 1.1))
        if (r1 < r2) expect(d).toBeLessThanOrEqual(after(n, r2))
      }),
    )
  })

  it('delays grow: each retry waits at least as long as the one before, whatever the jitter', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (n, a, b) => {
        if (RETRY_DELAYS_MS[n]! > RETRY_DELAYS_MS[n - 1]!) expect(after(n + 1, b)).toBeGreaterThan(after(n, a))
      }),
    )
  })
})

describe('failedTooLong', () => {
  it('is true from five days of failures on', () => {
    expect(failedTooLong(T0, new Date(T0.getTime() + 5 * 86_400_000 - 1))).toBe(false)
    expect(failedTooLong(T0, new Date(T0.getTime() + 5 * 86_400_000))).toBe(true)
  })
})
