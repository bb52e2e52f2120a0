// The compiled review check runs in a worker thread with a time limit (api/documents/integrity-isolated.ts).
// Run against dist/, built by the global setup, where the thread's entry file exists.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { PNG } from 'pngjs'
import { describe, expect, it } from 'vitest'
import type { checkIntegrityIsolated as CheckIsolated, IntegrityPool as Pool } from '../../api/documents/integrity-isolated.js'
import { buildPdf } from '../helpers/pdf-fixtures.js'
import { ROOT } from './helpers.js'

const compiled = join(ROOT, 'dist', 'api', 'documents')
const load = async (): Promise<typeof CheckIsolated> =>
  ((await import(join(compiled, 'integrity-isolated.js'))) as { checkIntegrityIsolated: typeof CheckIsolated }).checkIntegrityIsolated

const loadPool = async (): Promise<typeof Pool> =>
  ((await import(join(compiled, 'integrity-isolated.js'))) as { IntegrityPool: typeof Pool }).IntegrityPool

const png = (width: number, height: number): Buffer => {
  const image = new PNG({ width, height })
  image.data.fill(200)
  return PNG.sync.write(image)
}

const pdf = () =>
  buildPdf([
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>',
  ])

describe('the isolated integrity check (compiled, in a worker thread)', () => {
  it('has its thread entry next to it in the build', () => {
    expect(existsSync(join(compiled, 'integrity-thread.js'))).toBe(true)
  })

  it('gives the same answers as the check itself', async () => {
    const check = await load()
    await expect(check('image/png', png(40, 30))).resolves.toMatchObject({ status: 'ok', width: 40, height: 30 })
    await expect(check('application/pdf', pdf())).resolves.toMatchObject({ status: 'ok', pages: 1 })
    const garbage = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(2048, 0x41)])
    await expect(check('application/pdf', garbage)).resolves.toMatchObject({ status: 'unreadable' })
  })

  it('stops a check that runs past its time limit and says so', async () => {
    const check = await load()
    const result = await check('image/png', png(2000, 2000), { timeoutMs: 1, maxHeapMb: 512 })
    expect(result).toEqual({ status: 'unreadable', reason: 'the check took longer than 1 ms' })
  })

  it('keeps its threads: twenty checks on a pool of two start two threads', async () => {
    const pool = new (await loadPool())(2, 512)
    try {
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => pool.check('image/png', png(10 + i, 10))))
      expect(results.map((r) => r.status)).toEqual(Array(20).fill('ok'))
      expect(results.map((r) => (r.status === 'ok' ? r.width : 0))).toEqual(Array.from({ length: 20 }, (_, i) => 10 + i))
      expect(pool.threadsStarted).toBe(2)
    } finally {
      await pool.close()
    }
  })

  it('replaces only the thread that breached its time limit; the others and later checks go on', async () => {
    const pool = new (await loadPool())(2, 512)
    try {
      const [slow, quick] = await Promise.all([pool.check('image/png', png(2000, 2000), 1), pool.check('application/pdf', pdf(), 60_000)])
      expect(slow).toEqual({ status: 'unreadable', reason: 'the check took longer than 1 ms' })
      expect(quick).toMatchObject({ status: 'ok', pages: 1 })
      // Two at once again: the kept thread and one fresh thread in place of the retired one.
      const again = await Promise.all([pool.check('image/png', png(30, 20), 60_000), pool.check('image/png', png(31, 20), 60_000)])
      expect(again).toMatchObject([{ status: 'ok', width: 30 }, { status: 'ok', width: 31 }])
      expect(pool.threadsStarted).toBe(3)
    } finally {
      await pool.close()
    }
  })
})
