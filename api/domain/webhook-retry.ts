// When a failed webhook delivery is tried again (API.md "Webhooks"): about 5 s, 5 min, 30 min, 2 h,
// 5 h, 10 h and 10 h after the attempts before, each delay spread by ±10 % so that receivers that
// came back up are not hit by every retry at the same instant. After the last one a delivery is
// dead (listed, redeliverable). A subscription whose attempts failed for five days on end is disabled.

const SECOND = 1_000
const MINUTE = 60 * SECOND
const HOUR = 60 * MINUTE

export const RETRY_DELAYS_MS = [5 * SECOND, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR] as const
/** The first attempt and one per retry. */
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1
export const JITTER = 0.1
export const DISABLE_AFTER_FAILING_MS = 5 * 24 * HOUR

/**
 * The time of the next attempt after `attempts` attempts have failed, or null when there is none
 * left (the delivery is dead). `random` is a number in [0, 1), injected so tests pin it.
 */
export function nextAttemptAt(attempts: number, failedAt: Date, random: number): Date | null {
  if (!Number.isInteger(attempts) || attempts < 1) throw new RangeError('attempts counts the failed attempts, from 1')
  const base = RETRY_DELAYS_MS[attempts - 1]
  if (base === undefined) return null
  const factor = 1 - JITTER + 2 * JITTER * Math.min(Math.max(random, 0), 1)
  return new Date(failedAt.getTime() + Math.round(base * factor))
}

/** Whether a run of failures that began at `failingSince` has lasted long enough to disable. */
export const failedTooLong = (failingSince: Date, now: Date): boolean => now.getTime() - failingSince.getTime() >= DISABLE_AFTER_FAILING_MS
