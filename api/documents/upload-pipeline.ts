// One uploaded file, streamed: the first bytes are sniffed against the allow-list, every byte is
// hashed (SHA-256) and counted on the way, encrypted under a fresh data key and written to the blob
// store. Nothing is held whole in memory. On any failure no blob is left behind.
import { createHash } from 'node:crypto'
import { availableParallelism } from 'node:os'
import { Writable, type Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { Worker } from 'node:worker_threads'
import type * as NodeCrypto from 'node:crypto'
import type * as NodeFs from 'node:fs'
import type * as NodeWorkerThreads from 'node:worker_threads'
import { DomainError } from '../domain/errors.js'
import { blobEncryptor, blobSealing, generateDataKey, wrapDataKey, type BlobEncryptor, type BlobSealing } from './blob-crypto.js'
import { newBlobName, type BlobSink, type BlobStore } from './blob-store.js'
import { SNIFF_BYTES, sniffContentType, type AllowedContentType } from './sniff.js'

export interface StoredBlob {
  blobName: string
  wrappedKey: string
  sha256: Buffer
  sizeBytes: number
  contentType: AllowedContentType
}

/** Socket-sized chunks instead of Node's 16 KiB default: fewer stream turns per megabyte, memory still flat. */
export const UPLOAD_CHUNK_BYTES = 64 * 1024
/**
 * Ciphertext is written in batches of this size (one writev each), at most two per upload in
 * memory: one on its way to the disk, one filling. (The in-thread sealer; the sealing thread
 * coalesces whatever is queued for an upload while its previous write is on its way.)
 */
export const WRITE_BATCH_BYTES = 256 * 1024

/**
 * How the bytes of one upload are hashed, encrypted and written once the type is known: on the event
 * loop (`InlineSealer`, any blob store) or on a sealing thread (`ThreadSealer`, a store whose sink
 * has a file descriptor). `push` resolves once the chunks may be reused and more can be taken
 * (backpressure); `finish` resolves with the SHA-256 once the tag is written; `abort` once nothing
 * is in flight any more, so the sink can be closed.
 */
interface Sealer {
  push(chunks: readonly Buffer[]): Promise<void>
  finish(): Promise<Buffer>
  abort(): Promise<void>
}

/**
 * The one stage between the multipart parser and the disk (issue 13): holds back the first bytes
 * until the type is known and refuses anything off the allow-list (415); counts every byte and hands
 * them to the sealer. Its `_final` makes the blob durable (the store's commit); its `_destroy`
 * removes whatever was written, so a refused, truncated or aborted upload leaves nothing.
 */
class SealingWriter extends Writable {
  contentType: AllowedContentType | null = null
  sha256: Buffer | null = null
  bytes = 0
  private sink: BlobSink | null = null
  private sealer: Sealer | null = null
  private committed = false
  private head: Buffer[] = []
  private headBytes = 0

  constructor(
    private readonly store: BlobStore,
    private readonly blobName: string,
    private readonly dataKey: Buffer,
  ) {
    super({ highWaterMark: UPLOAD_CHUNK_BYTES })
  }

  override _construct(done: (error?: Error | null) => void): void {
    this.store.create(this.blobName).then(
      (sink) => {
        this.sink = sink
        done()
      },
      (error: Error) => done(error),
    )
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.take([chunk], done)
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, done: (error?: Error | null) => void): void {
    this.take(
      chunks.map((c) => c.chunk),
      done,
    )
  }

  override _final(done: (error?: Error | null) => void): void {
    void this.finish().then(() => done(), (error: Error) => done(error))
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    if (this.committed || !this.sink) return done(error)
    const sink = this.sink
    // Let whatever is on its way to the disk settle, then remove the temporary file before
    // reporting the error.
    const settled = this.sealer ? this.sealer.abort() : Promise.resolve()
    void settled.then(() => sink.abort()).then(() => done(error))
  }

  private take(chunks: Buffer[], done: (error?: Error | null) => void): void {
    let body: Buffer[]
    try {
      body = this.absorb(chunks)
    } catch (error) {
      return done(error as Error)
    }
    if (body.length === 0) return done()
    ;(this.sealer as Sealer).push(body).then(() => done(), done)
  }

  /** Counts the chunks and returns those that may go to the sealer (the type is known for them). */
  private absorb(chunks: Buffer[]): Buffer[] {
    for (const chunk of chunks) this.bytes += chunk.length
    if (this.contentType) return chunks
    this.head.push(...chunks)
    for (const chunk of chunks) this.headBytes += chunk.length
    return this.headBytes >= SNIFF_BYTES ? this.decide() : []
  }

  /** The type from the first bytes; from here on the bytes go to the sealer, the held-back ones first. */
  private decide(): Buffer[] {
    const head = this.head
    this.head = []
    this.contentType = sniffContentType(Buffer.concat(head))
    if (!this.contentType) throw new DomainError('unsupported-media-type', 'unsupported-media-type', 'only PDF, JPEG and PNG files are accepted')
    const sink = this.sink as BlobSink
    this.sealer =
      sink.fd !== undefined
        ? new ThreadSealer(sealingThreads.pick(), sink.fd, this.dataKey, blobSealing(), (error) => this.destroy(error))
        : new InlineSealer(sink, blobEncryptor(this.dataKey))
    return head
  }

  private async finish(): Promise<void> {
    if (!this.contentType) {
      const head = this.decide()
      if (head.length > 0) await (this.sealer as Sealer).push(head)
    }
    this.sha256 = await (this.sealer as Sealer).finish()
    await (this.sink as BlobSink).commit()
    this.committed = true
  }
}

/**
 * Hashes, encrypts and batches on the event loop: the ciphertext goes to the sink in batches of
 * WRITE_BATCH_BYTES, one writev each, with one batch on its way to the disk while the next fills.
 */
class InlineSealer implements Sealer {
  private readonly hash = createHash('sha256')
  private batch: Buffer[] = []
  private batchBytes = 0
  /** The batch being written; it carries its own error until someone awaits it. */
  private writing: Promise<void> = Promise.resolve()

  constructor(
    private readonly sink: BlobSink,
    private readonly encryptor: BlobEncryptor,
  ) {
    this.queue(encryptor.header)
  }

  async push(chunks: readonly Buffer[]): Promise<void> {
    for (const chunk of chunks) {
      this.hash.update(chunk)
      this.queue(this.encryptor.update(chunk))
    }
    if (this.batchBytes < WRITE_BATCH_BYTES) return
    // A full batch: wait for the previous one to be written (backpressure), then send this one.
    await this.writing
    this.send()
  }

  async finish(): Promise<Buffer> {
    this.queue(this.encryptor.final())
    await this.writing
    this.send()
    await this.writing
    return this.hash.digest()
  }

  async abort(): Promise<void> {
    await this.writing.catch(() => {})
  }

  private queue(bytes: Buffer): void {
    if (bytes.length === 0) return
    this.batch.push(bytes)
    this.batchBytes += bytes.length
  }

  private send(): void {
    const batch = this.batch
    this.batch = []
    this.batchBytes = 0
    this.writing = this.sink.write(batch)
    // Awaited by the next batch, by `finish` or by `abort`; never an unhandled rejection.
    this.writing.catch(() => {})
  }
}

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
// ---------------------------------------------------------------------------------------------

/** One slot: the size of a multipart chunk (`fileHwm`). */
const SLOT_BYTES = UPLOAD_CHUNK_BYTES
/** Slots per thread: 2 MiB of plaintext (and as much ciphertext) for all uploads together. */
const SLOTS_PER_THREAD = 32
/** No one upload takes more of the slab than this, so the others keep moving. */
const SLOTS_PER_UPLOAD = 4

type ToThread =
  | { t: 'open'; id: number; fd: number; key: Uint8Array; algorithm: string; iv: Uint8Array; aad: Uint8Array; header: Uint8Array }
  | { t: 'data'; id: number; slot: number; length: number }
  | { t: 'end'; id: number }
  | { t: 'abort'; id: number }

type FromThread =
  | { t: 'free'; id: number; slots: number[] }
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
    queue: Array<{ slot: number; length: number }>
    writing: boolean
    ending: boolean
    aborted: boolean
  }
  const jobs = new Map<number, Job>()
  const post = (message: FromThread): void => port.postMessage(message)
  // Ciphertext is dead once written, but the thread's garbage collector would only notice after
  // tens of megabytes (external memory, not heap) and RSS would grow by that much. Transferring a
  // buffer's memory to a closed port detaches it and frees it at once.
  const drain = new threads.MessageChannel()
  drain.port2.close()
  const release = (buffers: Buffer[]): void => {
    for (const b of buffers) {
      if (b.byteOffset !== 0 || b.byteLength !== b.buffer.byteLength || b.buffer instanceof SharedArrayBuffer) continue
      try {
        drain.port1.postMessage(null, [b.buffer])
      } catch {
        // Not transferable (a pooled buffer): the collector frees it.
      }
    }
  }

  /** Appends all of `buffers` at the file's position, continuing after a short write. */
  const writeAll = (fd: number, buffers: Buffer[], done: (error: NodeJS.ErrnoException | null) => void): void => {
    fs.writev(fd, buffers, (error, written) => {
      if (error) return done(error)
      let rest = written
      while (buffers.length > 0 && rest >= buffers[0]!.length) rest -= buffers.shift()!.length
      if (buffers.length > 0 && rest > 0) buffers[0] = buffers[0]!.subarray(rest)
      if (buffers.length === 0) return done(null)
      writeAll(fd, buffers, done)
    })
  }

  const fail = (id: number, error: unknown): void => {
    jobs.delete(id)
    const e = error as NodeJS.ErrnoException
    post({ t: 'failed', id, message: e instanceof Error ? e.message : String(error), code: e?.code })
  }

  const pump = (id: number, job: Job): void => {
    if (job.writing || job.aborted) return
    const out: Buffer[] = []
    const slots: number[] = []
    let last = false
    try {
      if (job.header) {
        out.push(job.header)
        job.header = null
      }
      for (const { slot, length } of job.queue) {
        const plain = slab.subarray(slot * slotBytes, slot * slotBytes + length)
        job.hash.update(plain)
        out.push(job.cipher.update(plain))
        slots.push(slot)
      }
      job.queue = []
      if (job.ending) {
        out.push(job.cipher.final(), job.cipher.getAuthTag())
        last = true
      }
    } catch (error) {
      if (slots.length > 0) post({ t: 'free', id, slots })
      return fail(id, error)
    }
    if (out.length === 0) return
    job.writing = true
    writeAll(job.fd, [...out], (error) => {
      job.writing = false
      release(out)
      // The plaintext slots are free once their ciphertext is in the file.
      if (slots.length > 0) post({ t: 'free', id, slots })
      if (error) return fail(id, error)
      if (job.aborted) {
        jobs.delete(id)
        return post({ t: 'closed', id })
      }
      if (last) {
        jobs.delete(id)
        return post({ t: 'done', id, sha256: job.hash.digest() })
      }
      pump(id, job)
    })
  }

  port.on('message', (message: ToThread) => {
    const id = message.id
    if (message.t === 'open') {
      const key = Buffer.from(message.key)
      try {
        const cipher = crypto.createCipheriv(message.algorithm as NodeCrypto.CipherGCMTypes, key, Buffer.from(message.iv))
        cipher.setAAD(Buffer.from(message.aad))
        jobs.set(id, { fd: message.fd, cipher, hash: crypto.createHash('sha256'), header: Buffer.from(message.header), queue: [], writing: false, ending: false, aborted: false })
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
      if (!job) return post({ t: 'closed', id })
      job.aborted = true
      const slots = job.queue.map((q) => q.slot)
      job.queue = []
      if (slots.length > 0) post({ t: 'free', id, slots })
      if (!job.writing) {
        jobs.delete(id)
        post({ t: 'closed', id })
      }
      return
    }
    if (!job) {
      // The job failed before (it said so); give back what still arrives for it.
      if (message.t === 'data') post({ t: 'free', id, slots: [message.slot] })
      return
    }
    if (message.t === 'data') job.queue.push({ slot: message.slot, length: message.length })
    else job.ending = true
    pump(id, job)
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
  private readonly waiters: SlotWaiter[] = []
  private readonly jobs = new Map<number, ThreadSealer>()
  private dead: Error | null = null

  constructor() {
    const shared = new SharedArrayBuffer(SLOT_BYTES * SLOTS_PER_THREAD)
    this.slab = Buffer.from(shared)
    this.free = Array.from({ length: SLOTS_PER_THREAD }, (_, i) => i)
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

  /** A free slot for `sealer`, at once or after those who asked before it; null if it gave up. */
  acquire(sealer: ThreadSealer): Promise<number | null> {
    if (this.dead) return Promise.reject(this.dead)
    if (this.waiters.length === 0 && this.free.length > 0 && sealer.inFlight < SLOTS_PER_UPLOAD) {
      sealer.inFlight += 1
      return Promise.resolve(this.free.pop()!)
    }
    return new Promise((resolve) => {
      this.waiters.push({ sealer, resolve })
      this.wake()
    })
  }

  /** Gives up the waits of `sealer` (it is being aborted). */
  cancel(sealer: ThreadSealer): void {
    for (let i = this.waiters.length - 1; i >= 0; i -= 1) {
      if (this.waiters[i]!.sealer === sealer) this.waiters.splice(i, 1)[0]!.resolve(null)
    }
  }

  private wake(): void {
    for (let i = 0; i < this.waiters.length && this.free.length > 0; ) {
      const waiter = this.waiters[i]!
      if (waiter.sealer.inFlight >= SLOTS_PER_UPLOAD) {
        i += 1
        continue
      }
      this.waiters.splice(i, 1)
      waiter.sealer.inFlight += 1
      waiter.resolve(this.free.pop()!)
    }
  }

  private receive(message: FromThread): void {
    const sealer = this.jobs.get(message.id)
    if (message.t === 'free') {
      this.free.push(...message.slots)
      if (sealer) sealer.inFlight -= message.slots.length
      return this.wake()
    }
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

const sealingThreads = new SealingThreads()

let nextJobId = 0

/** One upload on a sealing thread: copies its chunks into slots of the slab and sends them over. */
class ThreadSealer implements Sealer {
  readonly id = (nextJobId += 1)
  /** Slots of this upload not yet given back by the thread. */
  inFlight = 0
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

  async push(chunks: readonly Buffer[]): Promise<void> {
    this.open()
    for (const chunk of chunks) {
      for (let offset = 0; offset < chunk.length; ) {
        const slot = await this.thread.acquire(this)
        if (this.failure) throw this.failure
        if (slot === null) throw new Error('the upload was aborted')
        const length = Math.min(SLOT_BYTES, chunk.length - offset)
        const start = slot * SLOT_BYTES
        // `fill` with a value as long as the range copies it once, with memcpy; `copy` and `set`
        // into shared memory take V8's slower element-wise path.
        this.thread.slab.fill(length === chunk.length ? chunk : chunk.subarray(offset, offset + length), start, start + length)
        offset += length
        this.thread.post({ t: 'data', id: this.id, slot, length })
      }
    }
  }

  finish(): Promise<Buffer> {
    if (this.failure) return Promise.reject(this.failure)
    this.open()
    return new Promise((resolve, reject) => {
      this.ended = { resolve, reject }
      if (this.outcome) return this.settle(this.outcome)
      this.thread.post({ t: 'end', id: this.id })
    })
  }

  abort(): Promise<void> {
    this.aborting ??= new Promise<void>((resolve) => {
      this.thread.cancel(this)
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
      if (this.ended) this.ended.reject(error)
      else this.onFailure(error)
    } else if (message.t === 'done' && this.ended) {
      this.ended.resolve(Buffer.from(message.sha256))
    }
    this.closed?.()
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

export async function storeEncrypted(store: BlobStore, source: Readable, masterKey: Buffer): Promise<StoredBlob> {
  const blobName = newBlobName()
  const dataKey = generateDataKey()
  const wrappedKey = wrapDataKey(dataKey, masterKey)
  const sealer = new SealingWriter(store, blobName, dataKey)
  try {
    await pipeline(source, sealer)
  } catch (error) {
    // When the source fails, `pipeline` settles before the sealer has closed. Wait for it: its
    // temporary file is gone then, so a refusal never goes out while the store is still removing it.
    if (!sealer.closed) {
      const closed = new Promise((resolve) => sealer.once('close', resolve))
      sealer.destroy()
      await closed
    }
    throw error
  } finally {
    dataKey.fill(0)
  }
  return { blobName, wrappedKey, sha256: sealer.sha256 as Buffer, sizeBytes: sealer.bytes, contentType: sealer.contentType as AllowedContentType }
}
