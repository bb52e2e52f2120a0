// One uploaded file, streamed: the first bytes are sniffed against the allow-list, every byte is
// hashed (SHA-256) and counted on the way, encrypted under a fresh data key and written to the blob
// store. Nothing is held whole in memory. On any failure no blob is left behind.
import { createHash } from 'node:crypto'
import { Transform, type Readable, type TransformCallback } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { DomainError } from '../domain/errors.js'
import { createEncryptStream, generateDataKey, wrapDataKey } from './blob-crypto.js'
import { newBlobName, type BlobStore } from './blob-store.js'
import { SNIFF_BYTES, sniffContentType, type AllowedContentType } from './sniff.js'

export interface StoredBlob {
  blobName: string
  wrappedKey: string
  sha256: Buffer
  sizeBytes: number
  contentType: AllowedContentType
}

/** Holds back the first bytes until the type is known; refuses anything off the allow-list (415). */
class SniffGate extends Transform {
  contentType: AllowedContentType | null = null
  private head: Buffer[] = []
  private headBytes = 0

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.contentType) return done(null, chunk)
    this.head.push(chunk)
    this.headBytes += chunk.length
    if (this.headBytes < SNIFF_BYTES) return done()
    this.decide(done)
  }

  override _flush(done: TransformCallback): void {
    if (this.contentType) return done()
    this.decide(done)
  }

  private decide(done: TransformCallback): void {
    const head = Buffer.concat(this.head)
    this.head = []
    this.contentType = sniffContentType(head)
    if (!this.contentType) return done(new DomainError('unsupported-media-type', 'unsupported-media-type', 'only PDF, JPEG and PNG files are accepted'))
    done(null, head)
  }
}

/** Counts and hashes what passes through. */
class Meter extends Transform {
  readonly hash = createHash('sha256')
  bytes = 0

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk)
    this.bytes += chunk.length
    done(null, chunk)
  }
}

export async function storeEncrypted(store: BlobStore, source: Readable, masterKey: Buffer): Promise<StoredBlob> {
  const blobName = newBlobName()
  const dataKey = generateDataKey()
  const wrappedKey = wrapDataKey(dataKey, masterKey)
  const gate = new SniffGate()
  const meter = new Meter()
  const encrypted = createEncryptStream(dataKey)
  // Wait for both sides to settle before answering: a refusal must not go out while the store is
  // still removing its temporary file.
  const [piped, written] = await Promise.allSettled([pipeline(source, gate, meter, encrypted), store.write(blobName, encrypted)])
  dataKey.fill(0)
  if (piped.status === 'rejected' || written.status === 'rejected') {
    await store.delete(blobName)
    throw piped.status === 'rejected' ? piped.reason : (written as PromiseRejectedResult).reason
  }
  if (!gate.contentType) throw new DomainError('unsupported-media-type', 'unsupported-media-type', 'only PDF, JPEG and PNG files are accepted')
  return { blobName, wrappedKey, sha256: meter.hash.digest(), sizeBytes: meter.bytes, contentType: gate.contentType }
}
