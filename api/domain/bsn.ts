// BSN (burgerservicenummer) validation — the 11-proef (elfproef), DOMAIN.md §0 and §4 [S54][S55][S56].
// The same check applies to an RSIN, so this module serves both.
//
// Only the 9-digit form is accepted: DOMAIN.md §4 notes that old 8-digit numbers are written with a
// leading zero, and that padding is left to whoever collects the number — silently padding here
// would turn a typo (a dropped digit) into a different, possibly valid, person.

// Weights left to right; the −1 on the last digit (not +1 as for old bank-account numbers) makes a
// mistyped bank account fail the check (DOMAIN.md §4).
const WEIGHTS = [9, 8, 7, 6, 5, 4, 3, 2, -1] as const

const NINE_DIGITS = /^[0-9]{9}$/

/**
 * Why `value` is not a valid BSN, or null when it is. The reason never repeats the value, so it
 * can go into a 400 `invalidParams` entry or a log line without leaking the number.
 */
export function bsnInvalidReason(value: string): string | null {
  if (typeof value !== 'string' || !NINE_DIGITS.test(value)) {
    return 'must be exactly 9 digits (0-9)'
  }
  // 000000000 passes the arithmetic but is never issued (DOMAIN.md §4, implementation advice).
  if (value === '000000000') return 'must not be all zeros'
  let sum = 0
  for (let i = 0; i < WEIGHTS.length; i++) {
    sum += (value.charCodeAt(i) - 48) * WEIGHTS[i]!
  }
  if (sum % 11 !== 0) return 'fails the 11-proef (elfproef) check'
  return null
}

/** True for 9 digits that pass the 11-proef and are not all zeros. Passing does not prove the number was issued. */
export function isValidBsn(value: string): boolean {
  return bsnInvalidReason(value) === null
}
