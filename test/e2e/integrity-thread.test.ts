// The compiled review check runs in a worker thread with a time limit (api/documents/integrity-isolated.ts).
// Run against dist/, built by the global setup, where the thread's entry file exists.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { PNG } from 'pngjs'
import { describe, expect, it } from 'vitest'
import type { checkIntegrityIsolated as CheckIsolated } from '../../api/documents/integrity-isolated.js'
import { buildPdf } from '../helpers/pdf-fixtures.js'
import { ROOT } from './helpers.js'

const compiled = join(ROOT, 'dist', 'api', 'documents')
const load = async (): Promise<typeof CheckIsolated> =>
  ((await import(join(compiled, 'integrity-isolated.js'))) as { checkIntegrityIsolated: typeof CheckIsolated }).checkIntegrityIsolated

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
})
