// One uploaded file, streamed: the first bytes are sniffed against the allow-list, every byte is
// hashed (SHA-256) and counted on the way, encrypted under a fresh data key and written to the blob
// store. Nothing is held whole in memory. On any failure no blob is left behind.
import { createHash } from 'node:crypto'
import { Writable, type Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { DomainError } from '../domain/errors.js'
import { blobEncryptor, generateDataKey, wrapDataKey, type BlobEncryptor } from './blob-crypto.js'
import { newBlobName, type BlobSink, type BlobStore } from './blob-store.js'
import { SNIFF_BYTES, sniffContentType, type AllowedContentType } from './sniff.js'

export interface StoredBlob {
  blobName: string
  wrappedKey: string
  sha256: Buffer
  sizeBytes: number
  contentType: AllowedContentType
}

/**
 * The one stage between the multipart parser and the disk (issue 13): holds back the first bytes
 * until the type is known and refuses anything off the allow-list (415); hashes and counts every
 * byte; encrypts into the blob format and hands the ciphertext to the blob store in batches of
 * WRITE_BATCH_BYTES, one writev each, with one batch on its way to the disk while the next fills.
 * Its `_final` makes the blob durable (the store's commit); its `_destroy` removes whatever was
 * written, so a refused, truncated or aborted upload leaves nothing.
 */
class SealingWriter extends Writable {
  contentType: AllowedContentType | null = null
  readonly hash = createHash('sha256')
  bytes = 0
  private sink: BlobSink | null = null
  private committed = false
  private head: Buffer[] = []
  private headBytes = 0
  private batch: Buffer[] = []
  private batchBytes = 0
  /** The batch being written; it carries its own error until someone awaits it. */
  private writing: Promise<void> = Promise.resolve()

  constructor(
    private readonly store: BlobStore,
    private readonly blobName: string,
    private readonly encryptor: BlobEncryptor,
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
    // Let the batch on its way settle, then remove the temporary file before reporting the error.
    void this.writing.catch(() => {}).then(() => sink.abort()).then(() => done(error))
  }

  private take(chunks: Buffer[], done: (error?: Error | null) => void): void {
    try {
      for (const chunk of chunks) this.absorb(chunk)
    } catch (error) {
      return done(error as Error)
    }
    if (this.batchBytes < WRITE_BATCH_BYTES) return done()
    // A full batch: wait for the previous one to be written (backpressure), then send this one.
    const batch = this.takeBatch()
    this.writing.then(() => {
      this.send(batch)
      done()
    }, done)
  }

  private absorb(chunk: Buffer): void {
    this.hash.update(chunk)
    this.bytes += chunk.length
    if (this.contentType) return this.queue(this.encryptor.update(chunk))
    this.head.push(chunk)
    this.headBytes += chunk.length
    if (this.headBytes >= SNIFF_BYTES) this.decide()
  }

  private decide(): void {
    const head = Buffer.concat(this.head)
    this.head = []
    this.contentType = sniffContentType(head)
    if (!this.contentType) throw new DomainError('unsupported-media-type', 'unsupported-media-type', 'only PDF, JPEG and PNG files are accepted')
    this.queue(this.encryptor.header)
    this.queue(this.encryptor.update(head))
  }

  private queue(bytes: Buffer): void {
    if (bytes.length === 0) return
    this.batch.push(bytes)
    this.batchBytes += bytes.length
  }

  private takeBatch(): Buffer[] {
    const batch = this.batch
    this.batch = []
    this.batchBytes = 0
    return batch
  }

  private send(batch: Buffer[]): void {
    this.writing = (this.sink as BlobSink).write(batch)
    // Awaited by the next batch, by `_final` or by `_destroy`; never an unhandled rejection.
    this.writing.catch(() => {})
  }

  private async finish(): Promise<void> {
    if (!this.contentType) this.decide()
    this.queue(this.encryptor.final())
    await this.writing
    this.send(this.takeBatch())
    await this.writing
    await (this.sink as BlobSink).commit()
    this.committed = true
  }
}

/** Socket-sized chunks instead of Node's 16 KiB default: fewer stream turns per megabyte, memory still flat. */
export const UPLOAD_CHUNK_BYTES = 64 * 1024
/**
 * Ciphertext is written in batches of this size (one writev each), at most two per upload in
 * memory: one on its way to the disk, one filling.
 */
export const WRITE_BATCH_BYTES = 256 * 1024

export async function storeEncrypted(store: BlobStore, source: Readable, masterKey: Buffer): Promise<StoredBlob> {
  const blobName = newBlobName()
  const dataKey = generateDataKey()
  const wrappedKey = wrapDataKey(dataKey, masterKey)
  const sealer = new SealingWriter(store, blobName, blobEncryptor(dataKey))
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
  return { blobName, wrappedKey, sha256: sealer.hash.digest(), sizeBytes: sealer.bytes, contentType: sealer.contentType as AllowedContentType }
}
