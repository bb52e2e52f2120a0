// One uploaded file, streamed: the first bytes are sniffed against the allow-list, every byte is
// hashed (SHA-256) and counted on the way, encrypted under a fresh data key and written to the blob
// store. Nothing is held whole in memory. On any failure no blob is left behind.
import { createHash } from 'node:crypto'
import { Writable, type Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { DomainError } from '../domain/errors.js'
import { blobEncryptor, blobSealing, generateDataKey, wrapDataKey, type BlobEncryptor } from './blob-crypto.js'
import { newBlobName, type BlobSink, type BlobStore } from './blob-store.js'
import { UPLOAD_CHUNK_BYTES, type Sealer } from './sealer.js'
import { sealingThreads, ThreadSealer } from './sealing-thread.js'
import { SNIFF_BYTES, sniffContentType, type AllowedContentType } from './sniff.js'

export interface StoredBlob {
  blobName: string
  wrappedKey: string
  sha256: Buffer
  sizeBytes: number
  contentType: AllowedContentType
}

/**
 * Ciphertext is written in batches of this size (one writev each), at most two per upload in
 * memory: one on its way to the disk, one filling. (The in-thread sealer; the sealing thread
 * writes each slot of the slab, `SLOT_BYTES`, as it seals it.)
 */
export const WRITE_BATCH_BYTES = 256 * 1024

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
    ;(this.sealer as Sealer).push(body, done)
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
      const sealer = this.sealer as Sealer
      if (head.length > 0) await new Promise<void>((resolve, reject) => sealer.push(head, (error) => (error ? reject(error) : resolve())))
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

  push(chunks: readonly Buffer[], done: (error?: Error | null) => void): void {
    try {
      for (const chunk of chunks) {
        this.hash.update(chunk)
        this.queue(this.encryptor.update(chunk))
      }
    } catch (error) {
      return done(error as Error)
    }
    if (this.batchBytes < WRITE_BATCH_BYTES) return done()
    // A full batch: wait for the previous one to be written (backpressure), then send this one.
    this.writing.then(() => {
      this.send()
      done()
    }, done)
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
