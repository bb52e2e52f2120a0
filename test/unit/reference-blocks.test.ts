// Issue 13: a hub's reference blocks grow while they are used up quickly (fewer reservations at a
// high submission rate) and start small again when they are not; never beyond the maximum, which
// bounds the gap a restart leaves.
import { describe, expect, it } from 'vitest'
import { MAX_REFERENCE_BLOCK_SIZE, nextBlockSize, REFERENCE_BLOCK_SIZE } from '../../api/cases/reference-numbers.js'

describe('the size of the next reference block', () => {
  it('is the first size without a previous block, or when the previous one lasted a second or more', () => {
    expect(nextBlockSize(undefined, 1_000_000)).toBe(REFERENCE_BLOCK_SIZE)
    expect(nextBlockSize({ size: 160, reservedAt: 0 }, 1_000)).toBe(REFERENCE_BLOCK_SIZE)
  })

  it('doubles when the previous block went within a second, up to the maximum', () => {
    let size = REFERENCE_BLOCK_SIZE
    const sizes: number[] = []
    for (let i = 0; i < 6; i += 1) {
      size = nextBlockSize({ size, reservedAt: 0 }, 999)
      sizes.push(size)
    }
    expect(sizes).toEqual([40, 80, 160, 320, 320, 320])
    expect(MAX_REFERENCE_BLOCK_SIZE).toBe(320)
  })
})
