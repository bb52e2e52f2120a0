// The sealing thread of the upload pipeline (upload-pipeline.ts): a long-lived worker thread that
// hashes, encrypts and writes the uploads' bytes, fed through a shared slab.
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import type * as NodeCrypto from 'node:crypto'
import type * as NodeFs from 'node:fs'
import type * as NodeWorkerThreads from 'node:worker_threads'
import type { BlobSealing } from './blob-crypto.js'
import { UPLOAD_CHUNK_BYTES, type Sealer } from './sealer.js'

// ---------------------------------------------------------------------------------------------
// The sealing thread (issue 13). On the event loop, hashing and encrypting cost about as much as
// all the HTTP and multipart handling together, and every ciphertext chunk is a fresh buffer that
// the main heap's garbage collector has to account for: at 50 concurrent uploads the external-memory
// pressure alone started a full mark-compact of the API's heap every few hundred milliseconds.
// So the bytes are copied into a fixed shared slab (no allocation on the event loop) and a
// long-lived thread hashes, encrypts and appends them to the blob's file through its descriptor.
// A slot of the slab is given back only once its ciphertext is written, so the slab bounds what all
// uploads of the process hold in memory, however many are in flight: an upload that finds no free
// slot waits, and its socket is not read meanwhile (TCP backpressure).
//
// What it costs besides the cryptography is counted per slot, not per byte: a message each way, a
// cipher call, a write, a buffer freed. So an upload packs its chunks (socket-sized, 64 KiB at
// most) into a slot four times that size, and sends it once full; a slot partly filled goes at the
// end of the event loop's turn (or at `finish`), so a slow client never holds one idle. The thread
// writes with `writevSync`: a write to the page cache is a memory copy, and doing it in place
// spares a trip through libuv's pool (and a wake-up of this thread when it returns) per slot, and
// the slot is free again as soon as its message is handled. Freed slots are reported once per turn
// of the thread's loop, in one message.
// ---------------------------------------------------------------------------------------------

/** One slot: four multipart chunks (`fileHwm`). */
const SLOT_BYTES = 4 * UPLOAD_CHUNK_BYTES
/** Slots per thread: 4 MiB of plaintext (and as much ciphertext) for all uploads together. */
const SLOTS_PER_THREAD = 16
/** No one upload takes more of the slab than this (one filling, one on the thread), so the others keep moving. */
const SLOTS_PER_UPLOAD = 2

type ToThread =
  | { t: 'open'; id: number; fd: number; key: Uint8Array; algorithm: string; iv: Uint8Array; aad: Uint8Array; header: Uint8Array }
  | { t: 'data'; id: number; slot: number; length: number }
  | { t: 'end'; id: number }
  | { t: 'abort'; id: number }

type FromThread =
  | { t: 'free'; slots: number[] }
  | { t: 'done'; id: number; sha256: Uint8Array }
  | { t: 'failed'; id: number; message: string; code: string | undefined }
  | { t: 'closed'; id: number }

interface ThreadModules {
  crypto: typeof NodeCrypto
  fs: typeof NodeFs
  threads: typeof NodeWorkerThreads
}

/**
 * The thread's code. It runs in a worker started with `eval` (so the same code runs from the
 * sources under test and from the build) and must not refer to anything outside itself: the modules
 * come in as the argument.
 */
function sealingThreadMain({ crypto, fs, threads }: ThreadModules): void {
  const port = threads.parentPort as NodeWorkerThreads.MessagePort
  const { slab: shared, slotBytes } = threads.workerData as { slab: SharedArrayBuffer; slotBytes: number }
  const slab = Buffer.from(shared)
  interface Job {
    fd: number
    cipher: NodeCrypto.CipherGCM
    hash: NodeCrypto.Hash
    header: Buffer | null
  }
  const jobs = new Map<number, Job>()
  const post = (message: FromThread): void => port.postMessage(message)
  // Ciphertext is dead once written, but the thread's garbage collector would only notice after
  // tens of megabytes (external memory, not heap) and RSS would grow by that much. Transferring a
  // buffer's memory to a closed port detaches it and frees it at once.
  const drain = new threads.MessageChannel()
  drain.port2.close()
  const release = (buffer: Buffer): void => {
    if (buffer.byteOffset !== 0 || buffer.byteLength !== buffer.buffer.byteLength || buffer.buffer instanceof SharedArrayBuffer) return
    try {
      drain.port1.postMessage(null, [buffer.buffer])
    } catch {
      // Not transferable (a pooled buffer): the collector frees it.
    }
  }

  // Slots whose plaintext is sealed and written: reported in one message once the messages queued
  // now are handled, or at once before a job's last word (so the other side counts them first).
  let freed: number[] = []
  let reporting = false
  const report = (): void => {
    reporting = false
    if (freed.length === 0) return
    const slots = freed
    freed = []
    post({ t: 'free', slots })
  }
  const free = (slot: number): void => {
    freed.push(slot)
    if (reporting) return
    reporting = true
    setImmediate(report)
  }
  const last = (message: FromThread): void => {
    report()
    post(message)
  }

  /** Appends all of `buffers` at the file's position, continuing after a short write. */
  const writeAll = (fd: number, buffers: Buffer[]): void => {
    while (buffers.length > 0) {
      let rest = fs.writevSync(fd, buffers)
      while (buffers.length > 0 && rest >= buffers[0]!.length) rest -= buffers.shift()!.length
      if (buffers.length > 0 && rest > 0) buffers[0] = buffers[0]!.subarray(rest)
    }
  }

  const fail = (id: number, error: unknown): void => {
    jobs.delete(id)
    const e = error as NodeJS.ErrnoException
    last({ t: 'failed', id, message: e instanceof Error ? e.message : String(error), code: e?.code })
  }

  /** Hashes, encrypts and writes one slot of a job; the slot is free again when this returns. */
  const seal = (id: number, job: Job, slot: number, length: number): void => {
    try {
      const plain = slab.subarray(slot * slotBytes, slot * slotBytes + length)
      job.hash.update(plain)
      const out = job.cipher.update(plain)
      if (job.header) {
        writeAll(job.fd, [job.header, out])
        job.header = null
      } else {
        writeAll(job.fd, [out])
      }
      release(out)
    } catch (error) {
      free(slot)
      return fail(id, error)
    }
    free(slot)
  }

  const end = (id: number, job: Job): void => {
    try {
      writeAll(job.fd, [...(job.header ? [job.header] : []), job.cipher.final(), job.cipher.getAuthTag()])
    } catch (error) {
      return fail(id, error)
    }
    jobs.delete(id)
    last({ t: 'done', id, sha256: job.hash.digest() })
  }

  port.on('message', (message: ToThread) => {
    const id = message.id
    if (message.t === 'open') {
      const key = Buffer.from(message.key)
      try {
        const cipher = crypto.createCipheriv(message.algorithm as NodeCrypto.CipherGCMTypes, key, Buffer.from(message.iv))
        cipher.setAAD(Buffer.from(message.aad))
        jobs.set(id, { fd: message.fd, cipher, hash: crypto.createHash('sha256'), header: Buffer.from(message.header) })
      } catch (error) {
        fail(id, error)
      } finally {
        key.fill(0)
        message.key.fill(0)
      }
      return
    }
    const job = jobs.get(id)
    if (message.t === 'abort') {
      // Every write is done by the time a message is handled: nothing is in flight.
      jobs.delete(id)
      return last({ t: 'closed', id })
    }
    if (!job) {
      // The job failed before (it said so); give back what still arrives for it.
      if (message.t === 'data') free(message.slot)
      return
    }
    if (message.t === 'data') seal(id, job, message.slot, message.length)
    else end(id, job)
  })
}

const THREAD_SOURCE = `(${sealingThreadMain.toString()})({ crypto: require('node:crypto'), fs: require('node:fs'), threads: require('node:worker_threads') })`

interface SlotWaiter {
  sealer: ThreadSealer
  resolve: (slot: number | null) => void
}

/** One long-lived sealing thread, its slab, and the uploads it seals. */
class SealingThread {
  readonly slab: Buffer
  private readonly worker: Worker
  private readonly free: number[]
  /** Who holds each slot (filling it, or waiting for the thread to give it back). */
  private readonly holders: Array<ThreadSealer | null>
  private readonly waiters: SlotWaiter[] = []
  private readonly jobs = new Map<number, ThreadSealer>()
  /** Uploads with a slot partly filled, sent at the end of this turn of the event loop. */
  private readonly filling = new Set<ThreadSealer>()
  private flushing = false
  private dead: Error | null = null

  constructor() {
    const shared = new SharedArrayBuffer(SLOT_BYTES * SLOTS_PER_THREAD)
    this.slab = Buffer.from(shared)
    this.free = Array.from({ length: SLOTS_PER_THREAD }, (_, i) => i)
    this.holders = Array.from({ length: SLOTS_PER_THREAD }, () => null)
    this.worker = new Worker(THREAD_SOURCE, { eval: true, workerData: { slab: shared, slotBytes: SLOT_BYTES } })
    // Only uploads in flight keep the process alive (see `register`).
    this.worker.unref()
    this.worker.on('message', (message: FromThread) => this.receive(message))
    this.worker.on('error', (error) => this.die(error))
    this.worker.on('exit', (code) => this.die(new Error(`the upload sealing thread stopped (exit ${code})`)))
  }

  get alive(): boolean {
    return this.dead === null
  }

  get load(): number {
    return this.jobs.size
  }

  register(sealer: ThreadSealer): void {
    if (this.dead) throw this.dead
    if (this.jobs.size === 0) this.worker.ref()
    this.jobs.set(sealer.id, sealer)
  }

  unregister(sealer: ThreadSealer): void {
    if (!this.jobs.delete(sealer.id)) return
    if (this.jobs.size === 0) this.worker.unref()
  }

  post(message: ToThread): void {
    if (this.dead) throw this.dead
    this.worker.postMessage(message)
  }

  /** A free slot for `sealer` if one can be had at once (nobody asked before it), else null. */
  take(sealer: ThreadSealer): number | null {
    if (this.dead) throw this.dead
    if (this.waiters.length > 0 || this.free.length === 0 || sealer.inFlight >= SLOTS_PER_UPLOAD) return null
    return this.hand(sealer)
  }

  /** A free slot for `sealer`, after those who asked before it; null if it gave up. */
  acquire(sealer: ThreadSealer): Promise<number | null> {
    if (this.dead) return Promise.reject(this.dead)
    return new Promise((resolve) => {
      this.waiters.push({ sealer, resolve })
      this.wake()
    })
  }

  /** A slot `sealer` took but never sent (it is being aborted, or failed). */
  giveBack(slot: number): void {
    this.returned(slot)
    this.wake()
  }

  /** Gives up the waits of `sealer` (it is being aborted). */
  cancel(sealer: ThreadSealer): void {
    this.filling.delete(sealer)
    for (let i = this.waiters.length - 1; i >= 0; i -= 1) {
      if (this.waiters[i]!.sealer === sealer) this.waiters.splice(i, 1)[0]!.resolve(null)
    }
  }

  /** `sealer` has a slot partly filled: it goes to the thread at the end of this turn at the latest. */
  pending(sealer: ThreadSealer): void {
    this.filling.add(sealer)
    if (this.flushing) return
    this.flushing = true
    setImmediate(() => {
      this.flushing = false
      const filling = [...this.filling]
      this.filling.clear()
      for (const s of filling) s.flush()
    })
  }

  private hand(sealer: ThreadSealer): number {
    const slot = this.free.pop()!
    this.holders[slot] = sealer
    sealer.inFlight += 1
    return slot
  }

  private returned(slot: number): void {
    const holder = this.holders[slot]
    if (holder) holder.inFlight -= 1
    this.holders[slot] = null
    this.free.push(slot)
  }

  private wake(): void {
    for (let i = 0; i < this.waiters.length && this.free.length > 0; ) {
      const waiter = this.waiters[i]!
      if (waiter.sealer.inFlight >= SLOTS_PER_UPLOAD) {
        i += 1
        continue
      }
      this.waiters.splice(i, 1)
      waiter.resolve(this.hand(waiter.sealer))
    }
  }

  private receive(message: FromThread): void {
    if (message.t === 'free') {
      for (const slot of message.slots) this.returned(slot)
      return this.wake()
    }
    const sealer = this.jobs.get(message.id)
    if (!sealer) return
    this.unregister(sealer)
    sealer.settle(message)
  }

  private die(error: Error): void {
    if (this.dead) return
    this.dead = error
    for (const waiter of this.waiters.splice(0)) waiter.resolve(null)
    for (const sealer of [...this.jobs.values()]) {
      this.unregister(sealer)
      sealer.settle({ t: 'failed', id: sealer.id, message: error.message, code: undefined })
    }
  }
}

/** The sealing threads of this process, started on first use; a thread that died is replaced. */
class SealingThreads {
  private readonly threads: SealingThread[] = []
  // Leave a core to the event loop: one thread on a two-core machine.
  private readonly size = Math.max(1, Math.min(4, availableParallelism() - 1))

  pick(): SealingThread {
    for (let i = this.threads.length - 1; i >= 0; i -= 1) if (!this.threads[i]!.alive) this.threads.splice(i, 1)
    if (this.threads.length < this.size) {
      const thread = new SealingThread()
      this.threads.push(thread)
      return thread
    }
    return this.threads.reduce((a, b) => (b.load < a.load ? b : a))
  }
}

export const sealingThreads = new SealingThreads()

let nextJobId = 0

/**
 * One upload on a sealing thread: packs its chunks into slots of the slab and sends each over once
 * full (or at the end of the turn). Copying into a free slot needs no promise: `push` calls back
 * before it returns unless it has to wait for a slot.
 */
export class ThreadSealer implements Sealer {
  readonly id = (nextJobId += 1)
  /** Slots of this upload not yet given back by the thread (the one being filled included). */
  inFlight = 0
  /** The slot being filled, and how much of it is. */
  private slot: number | null = null
  private filled = 0
  private opened = false
  private aborting: Promise<void> | null = null
  private failure: Error | null = null
  private ended: { resolve: (sha256: Buffer) => void; reject: (error: Error) => void } | null = null
  private closed: (() => void) | null = null
  private outcome: FromThread | null = null

  constructor(
    private readonly thread: SealingThread,
    private readonly fd: number,
    private readonly dataKey: Buffer,
    private readonly sealing: BlobSealing,
    private readonly onFailure: (error: Error) => void,
  ) {}

  push(chunks: readonly Buffer[], done: (error?: Error | null) => void): void {
    try {
      this.open()
    } catch (error) {
      return done(error as Error)
    }
    this.pack(chunks, 0, 0, done)
  }

  /** Sends the slot being filled, if any; the thread seals slots of one upload in the order sent. */
  flush(): void {
    if (this.slot === null || this.failure || this.aborting) return
    const slot = this.slot
    this.slot = null
    try {
      this.thread.post({ t: 'data', id: this.id, slot, length: this.filled })
    } catch {
      // The thread died: it fails this upload (`die`), whoever is waiting hears of it.
    }
  }

  finish(): Promise<Buffer> {
    if (this.failure) return Promise.reject(this.failure)
    // A throw in here (the thread is dead) rejects the promise.
    return new Promise((resolve, reject) => {
      this.open()
      this.flush()
      this.ended = { resolve, reject }
      if (this.outcome) return this.settle(this.outcome)
      this.thread.post({ t: 'end', id: this.id })
    })
  }

  abort(): Promise<void> {
    this.aborting ??= new Promise<void>((resolve) => {
      this.thread.cancel(this)
      this.dropSlot()
      // Nothing was sent, or the thread is done with this upload: no write can be in flight.
      if (!this.opened || this.outcome) return resolve()
      this.closed = resolve
      try {
        this.thread.post({ t: 'abort', id: this.id })
      } catch {
        resolve()
      }
    })
    return this.aborting
  }

  /** The thread's last word on this upload. */
  settle(message: FromThread): void {
    this.outcome = message
    if (message.t === 'failed') {
      const error = Object.assign(new Error(message.message), message.code ? { code: message.code } : {})
      this.failure = error
      this.thread.cancel(this)
      this.dropSlot()
      if (this.ended) this.ended.reject(error)
      else this.onFailure(error)
    } else if (message.t === 'done' && this.ended) {
      this.ended.resolve(Buffer.from(message.sha256))
    }
    this.closed?.()
  }

  /** Copies `chunks` from `index` (at `offset` in it) into slots, waiting for one when none is free. */
  private pack(chunks: readonly Buffer[], index: number, offset: number, done: (error?: Error | null) => void): void {
    const slab = this.thread.slab
    for (let i = index, at = offset; i < chunks.length; ) {
      if (this.failure) return done(this.failure)
      if (this.aborting) return done(new Error('the upload was aborted'))
      const chunk = chunks[i]!
      if (at === chunk.length) {
        i += 1
        at = 0
        continue
      }
      if (this.slot === null) {
        let slot: number | null
        try {
          slot = this.thread.take(this)
        } catch (error) {
          return done(error as Error)
        }
        if (slot === null) return this.wait(chunks, i, at, done)
        this.slot = slot
        this.filled = 0
      }
      const length = Math.min(SLOT_BYTES - this.filled, chunk.length - at)
      const start = this.slot * SLOT_BYTES + this.filled
      // `fill` with a value as long as the range copies it once, with memcpy; `copy` and `set`
      // into shared memory take V8's slower element-wise path.
      slab.fill(length === chunk.length ? chunk : chunk.subarray(at, at + length), start, start + length)
      this.filled += length
      at += length
      if (this.filled === SLOT_BYTES) this.flush()
      else this.thread.pending(this)
    }
    done()
  }

  private wait(chunks: readonly Buffer[], index: number, offset: number, done: (error?: Error | null) => void): void {
    this.thread.acquire(this).then((slot) => {
      if (slot !== null && (this.failure || this.aborting)) this.thread.giveBack(slot)
      if (this.failure) return done(this.failure)
      if (slot === null || this.aborting) return done(new Error('the upload was aborted'))
      this.slot = slot
      this.filled = 0
      this.pack(chunks, index, offset, done)
    }, done)
  }

  /** Gives back the slot being filled, unsent. */
  private dropSlot(): void {
    if (this.slot === null) return
    const slot = this.slot
    this.slot = null
    this.thread.giveBack(slot)
  }

  private open(): void {
    if (this.opened) return
    this.opened = true
    this.thread.register(this)
    const { algorithm, iv, header, aad } = this.sealing
    // A copy of the key crosses over (postMessage clones it at once); the thread wipes its copies
    // once the cipher has the key, and this side wipes its own.
    const key = new Uint8Array(this.dataKey)
    try {
      this.thread.post({ t: 'open', id: this.id, fd: this.fd, key, algorithm, iv, aad, header })
    } finally {
      key.fill(0)
    }
  }
}
