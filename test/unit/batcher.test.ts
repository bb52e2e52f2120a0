// The group commit of the workers (workers/batcher.ts): items of one key added together run as one
// batch, later ones wait for a free place and go together, keys do not wait on each other, and
// each item gets its own result or error.
import { describe, expect, it } from 'vitest'
import { KeyedBatcher, type Outcome } from '../../workers/batcher.js'

/** A batcher whose runs wait until released, recording what each run got. */
function recording(options = { maxBatch: 3, maxInFlightPerKey: 1 }) {
  const runs: Array<{ key: string; items: number[]; release: () => void }> = []
  let running = 0
  let peak = 0
  const batcher = new KeyedBatcher<number, number>(async (key, items): Promise<Outcome<number>[]> => {
    running += 1
    peak = Math.max(peak, running)
    await new Promise<void>((release) => runs.push({ key, items, release }))
    running -= 1
    return items.map((i) => (i < 0 ? { ok: false, error: new Error(`bad ${i}`) } : { ok: true, value: i * 10 }))
  }, options)
  return { batcher, runs, peak: () => peak }
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve))

describe('KeyedBatcher', () => {
  it('runs the items added in one turn as batches of at most maxBatch, one batch of a key at a time', async () => {
    const { batcher, runs, peak } = recording()
    const answers = [1, 2, 3, 4, 5].map((i) => batcher.add('a', i))
    await tick()
    expect(runs.map((r) => r.items)).toEqual([[1, 2, 3]])
    const late = batcher.add('a', 6)
    runs[0]!.release()
    await tick()
    // The waiting items and the late one go together in the next batch.
    expect(runs.map((r) => r.items)).toEqual([[1, 2, 3], [4, 5, 6]])
    runs[1]!.release()
    expect(await Promise.all([...answers, late])).toEqual([10, 20, 30, 40, 50, 60])
    expect(peak()).toBe(1)
  })

  it('lets another key run beside a busy one', async () => {
    const { batcher, runs, peak } = recording()
    const a = batcher.add('a', 1)
    await tick()
    const b = batcher.add('b', 2)
    await tick()
    expect(runs.map((r) => [r.key, r.items])).toEqual([['a', [1]], ['b', [2]]])
    expect(peak()).toBe(2)
    runs.forEach((r) => r.release())
    expect(await Promise.all([a, b])).toEqual([10, 20])
  })

  it('rejects only the items the run failed, and every item when the run itself throws', async () => {
    const { batcher, runs } = recording()
    const answers = Promise.allSettled([batcher.add('a', 1), batcher.add('a', -1), batcher.add('a', 2)])
    await tick()
    runs[0]!.release()
    expect((await answers).map((a) => a.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])

    const throwing = new KeyedBatcher<number, number>(() => Promise.reject(new Error('database away')), { maxBatch: 10, maxInFlightPerKey: 1 })
    const all = await Promise.allSettled([throwing.add('a', 1), throwing.add('a', 2)])
    expect(all.map((a) => (a.status === 'rejected' ? (a.reason as Error).message : 'ok'))).toEqual(['database away', 'database away'])
  })
})
