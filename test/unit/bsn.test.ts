import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { bsnInvalidReason, isValidBsn } from '../../api/domain/bsn.js'

const WEIGHTS = [9, 8, 7, 6, 5, 4, 3, 2, -1]

// A valid BSN built from 8 random digits: the 9th is the one that makes the weighted sum ≡ 0 mod 11
// (impossible when that would be 10, so those draws are filtered out).
const validBsn = fc
  .array(fc.integer({ min: 0, max: 9 }), { minLength: 8, maxLength: 8 })
  .map((digits) => {
    const partial = digits.reduce((sum, d, i) => sum + d * WEIGHTS[i]!, 0)
    return [...digits, partial % 11]
  })
  .filter((digits) => digits[8]! <= 9 && digits.some((d) => d !== 0))
  .map((digits) => digits.join(''))

describe('isValidBsn', () => {
  // Sums worked by hand: 111222333 → 9+8+7+12+10+8+9+6−3 = 66 = 6·11;
  // 123456782 → 9+16+21+24+25+24+21+16−2 = 154 = 14·11 (DOMAIN.md §4);
  // 100000010 → 9+2−0 = 11 (a BSN may end in 0).
  it.each(['111222333', '123456782', '249566758', '555555021', '100000010'])('accepts %s', (bsn) => {
    expect(isValidBsn(bsn)).toBe(true)
    expect(bsnInvalidReason(bsn)).toBeNull()
  })

  // 123456789 → 147, 111222334 → 65, 123456783 → 153: none divisible by 11.
  it.each(['123456789', '111222334', '123456783', '999999999', '000000001'])('rejects %s by the 11-proef', (bsn) => {
    expect(isValidBsn(bsn)).toBe(false)
    expect(bsnInvalidReason(bsn)).toMatch(/11-proef/)
  })

  it('rejects 000000000 although its sum is 0', () => {
    expect(isValidBsn('000000000')).toBe(false)
    expect(bsnInvalidReason('000000000')).toMatch(/zeros/)
  })

  it.each([
    ['8 digits', '12345678'],
    ['10 digits', '1234567820'],
    ['a letter', '12345678a'],
    ['leading space', ' 123456782'],
    ['trailing newline', '123456782\n'],
    ['a dot', '12345.782'],
    ['a minus sign', '-23456782'],
    ['empty', ''],
    ['full-width digits', '１２３４５６７８２'],
    ['Arabic-Indic digits', '١٢٣٤٥٦٧٨٢'],
    ['a separator', '1234-56782'],
  ])('rejects a value with %s', (_what, value) => {
    expect(isValidBsn(value)).toBe(false)
    expect(bsnInvalidReason(value)).toMatch(/9 digits/)
  })

  it('does not pad 8-digit numbers with a leading zero', () => {
    // 012345672 → 0+8+14+18+20+20+18+14−2 = 110 = 10·11, so padding would make the 8 digits valid.
    expect(isValidBsn('012345672')).toBe(true)
    expect(isValidBsn('12345672')).toBe(false)
  })

  it('never repeats the value in its reason', () => {
    for (const value of ['123456789', '12345678', '000000000', '12345678a', '1234567820']) {
      const reason = bsnInvalidReason(value)
      expect(reason).not.toBeNull()
      expect(reason).not.toContain(value)
    }
  })

  it('property: the generator only yields valid numbers', () => {
    fc.assert(fc.property(validBsn, (bsn) => isValidBsn(bsn)))
  })

  it('property: changing one digit of a valid BSN makes it invalid', () => {
    fc.assert(
      fc.property(validBsn, fc.integer({ min: 0, max: 8 }), fc.integer({ min: 1, max: 9 }), (bsn, index, shift) => {
        const digit = (Number(bsn[index]) + shift) % 10
        const changed = bsn.slice(0, index) + String(digit) + bsn.slice(index + 1)
        expect(changed).not.toBe(bsn)
        expect(isValidBsn(changed)).toBe(false)
      }),
    )
  })

  it('property: swapping two different adjacent digits makes it invalid', () => {
    fc.assert(
      fc.property(validBsn, fc.integer({ min: 0, max: 7 }), (bsn, index) => {
        fc.pre(bsn[index] !== bsn[index + 1])
        const swapped = bsn.slice(0, index) + bsn[index + 1]! + bsn[index]! + bsn.slice(index + 2)
        expect(isValidBsn(swapped)).toBe(false)
      }),
    )
  })

  it('property: agrees with a straightforward reference for any 9 digits', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 9, maxLength: 9 }), (digits) => {
        const value = digits.join('')
        const sum = digits.reduce((s, d, i) => s + d * WEIGHTS[i]!, 0)
        const expected = value !== '000000000' && sum % 11 === 0
        expect(isValidBsn(value)).toBe(expected)
        expect(bsnInvalidReason(value) === null).toBe(expected)
      }),
    )
  })
})
