// Decoding a large image or PDF is synchronous work that can take many seconds. The review worker
// runs it in a worker thread with a memory limit and a time limit, so the worker's event loop stays
// free (BullMQ keeps renewing the job's lock) and a hostile file cannot take the process down. It
// never falls back to the main thread: without the thread's entry file the check refuses to run.
//
// The threads are long-lived (issue 13): starting a thread and loading pdf.js cost ~100 ms of CPU
// per document, parsing a one-page PDF a fraction of a millisecond. A small pool keeps its threads
// and replaces one only when it breaches a limit (time-out, out of memory, crash), so a hostile file
// still costs its own thread and nothing else.
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

interface Task {
  contentType: AllowedContentType
  bytes: Buffer
  timeoutMs: number
  resolve: (result: IntegrityResult) => void
}

interface Slot {
  worker: Worker
  busy: boolean
}

/** Long-lived check threads with the same memory limit; at most `size` checks run at once. */
export class IntegrityPool {
  private readonly slots: Slot[] = []
  private readonly queue: Task[] = []
  private nextId = 0
  private closed = false
  /** Threads started over the pool's life: one per slot, plus one per breach (for tests and metrics). */
  threadsStarted = 0

  constructor(
    private readonly size: number,
    private readonly maxHeapMb: number = DEFAULT_ISOLATION.maxHeapMb,
    private readonly thread: URL = INTEGRITY_THREAD,
  ) {}

  check(contentType: AllowedContentType, bytes: Buffer, timeoutMs: number = DEFAULT_ISOLATION.timeoutMs): Promise<IntegrityResult> {
    if (this.closed) return Promise.reject(new Error('the integrity pool is closed'))
    return new Promise((resolve) => {
      this.queue.push({ contentType, bytes, timeoutMs, resolve })
      this.dispatch()
    })
  }

  async close(): Promise<void> {
    this.closed = true
    await Promise.all(this.slots.splice(0).map((s) => s.worker.terminate()))
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => !s.busy)
      if (!slot && this.slots.length < this.size) slot = this.spawn()
      if (!slot) return
      this.run(slot, this.queue.shift()!)
    }
  }

  private spawn(): Slot {
    const worker = new Worker(this.thread, { resourceLimits: { maxOldGenerationSizeMb: this.maxHeapMb } })
    worker.unref()
    this.threadsStarted += 1
    const slot: Slot = { worker, busy: false }
    this.slots.push(slot)
    return slot
  }

  /** A thread that breached a limit is thrown away; the next task gets a fresh one. */
  private retire(slot: Slot): void {
    const i = this.slots.indexOf(slot)
    if (i >= 0) this.slots.splice(i, 1)
    void slot.worker.terminate()
  }

  private run(slot: Slot, task: Task): void {
    slot.busy = true
    const id = this.nextId++
    const { worker } = slot
    const finish = (result: IntegrityResult, healthy: boolean) => {
      clearTimeout(timer)
      worker.off('message', onMessage)
      worker.off('error', onError)
      worker.off('exit', onExit)
      if (healthy) slot.busy = false
      else this.retire(slot)
      task.resolve(result)
      this.dispatch()
    }
    const onMessage = (message: { id: number; result: IntegrityResult }) => {
      if (message.id === id) finish(message.result, true)
    }
    const onError = () => finish({ status: 'unreadable', reason: 'the file could not be checked within the memory limit' }, false)
    const onExit = () => finish({ status: 'unreadable', reason: 'the integrity check stopped unexpectedly' }, false)
    const timer = setTimeout(() => finish({ status: 'unreadable', reason: `the check took longer than ${task.timeoutMs} ms` }, false), task.timeoutMs)
    worker.on('message', onMessage)
    worker.once('error', onError)
    worker.once('exit', onExit)
    const copy = new Uint8Array(task.bytes)
    worker.postMessage({ id, contentType: task.contentType, bytes: copy }, [copy.buffer])
  }
}

const pools = new Map<string, IntegrityPool>()

/** The process's pool of `size` threads (the review queue's concurrency), made on first use. */
export function integrityPool(size = 2, maxHeapMb = DEFAULT_ISOLATION.maxHeapMb, thread: URL = INTEGRITY_THREAD): IntegrityPool {
  const key = `${size}:${maxHeapMb}:${thread.href}`
  let pool = pools.get(key)
  if (!pool) {
    pool = new IntegrityPool(size, maxHeapMb, thread)
    pools.set(key, pool)
  }
  return pool
}

export async function checkIntegrityIsolated(
  contentType: AllowedContentType,
  bytes: Buffer,
  limits: IsolationLimits = DEFAULT_ISOLATION,
  thread: URL = INTEGRITY_THREAD,
): Promise<IntegrityResult> {
  if (!existsSync(fileURLToPath(thread))) throw new IntegrityThreadMissingError(thread)
  return integrityPool(2, limits.maxHeapMb, thread).check(contentType, bytes, limits.timeoutMs)
}
