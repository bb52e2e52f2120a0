// Decoding a large image or PDF is synchronous work that can take many seconds. The review worker
// runs it in a worker thread with a memory limit and a time limit, so the worker's event loop stays
// free (BullMQ keeps renewing the job's lock) and a hostile file cannot take the process down. It
// never falls back to the main thread: without the thread's entry file the check refuses to run.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { IntegrityResult } from './integrity.js'
import type { AllowedContentType } from './sniff.js'

export interface IsolationLimits {
  timeoutMs: number
  maxHeapMb: number
}

export const DEFAULT_ISOLATION: IsolationLimits = { timeoutMs: 120_000, maxHeapMb: 2048 }

/** The thread's entry, compiled next to this module (dist/api/documents/integrity-thread.js). */
export const INTEGRITY_THREAD = new URL('./integrity-thread.js', import.meta.url)

export class IntegrityThreadMissingError extends Error {
  constructor(thread: URL) {
    super(`the integrity check's worker thread ${fileURLToPath(thread)} is missing: run the compiled build (npm run build); the check never runs on the main thread`)
    this.name = 'IntegrityThreadMissingError'
  }
}

export async function checkIntegrityIsolated(
  contentType: AllowedContentType,
  bytes: Buffer,
  limits: IsolationLimits = DEFAULT_ISOLATION,
  thread: URL = INTEGRITY_THREAD,
): Promise<IntegrityResult> {
  if (!existsSync(fileURLToPath(thread))) throw new IntegrityThreadMissingError(thread)
  const copy = new Uint8Array(bytes)
  const worker = new Worker(thread, {
    workerData: { contentType, bytes: copy },
    transferList: [copy.buffer],
    resourceLimits: { maxOldGenerationSizeMb: limits.maxHeapMb },
  })
  return new Promise<IntegrityResult>((resolve) => {
    const finish = (result: IntegrityResult) => {
      clearTimeout(timer)
      void worker.terminate()
      resolve(result)
    }
    const timer = setTimeout(() => finish({ status: 'unreadable', reason: `the check took longer than ${limits.timeoutMs} ms` }), limits.timeoutMs)
    worker.once('message', (result: IntegrityResult) => finish(result))
    worker.once('error', () => finish({ status: 'unreadable', reason: 'the file could not be checked within the memory limit' }))
    worker.once('exit', (code) => {
      if (code !== 0) finish({ status: 'unreadable', reason: 'the integrity check stopped unexpectedly' })
    })
  })
}
