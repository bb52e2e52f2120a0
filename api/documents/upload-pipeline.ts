// One uploaded file, streamed: the first bytes are sniffed against the allow-list, every byte is
// hashed (SHA-256) and counted on the way, encrypted under a fresh data key and written to the blob
// store. Nothing is held whole in memory. On any failure no blob is left behind.
import { createHash } from 'node:crypto'
import { Transform, type Readable, type TransformCallback } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { DomainError } from '../domain/errors.js'
import { blobEncryptor, generateDataKey, wrapDataKey, type BlobEncryptor } from './blob-crypto.js'
import { newBlobName, type BlobStore } from './blob-store.js'
import { SNIFF_BYTES, sniffContentType, type AllowedContentType } from './sniff.js'

export interface StoredBlob {
  blobName: string
  wrappedKey: string
  sha256: Buffer
  sizeBytes: number
  contentType: AllowedContentType
}

/**
 * One transform for the whole way from upload to blob (issue 13: three chained streams cost more
 * than their work): holds back the first bytes until the type is known and refuses anything off
 * the allow-list (415); hashes and counts every byte; encrypts into the blob format, whose bytes
 * it hands on to the blob store.
 */
class SealingTransform extends Transform {
  contentType: AllowedContentType | null = null
  readonly hash = createHash('sha256')
  bytes = 0
  private head: Buffer[] = []
  private headBytes = 0

  constructor(private readonly encryptor: BlobEncryptor) {
    super({ highWaterMark: UPLOAD_CHUNK_BYTES })
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk)
    this.bytes += chunk.length
    if (this.contentType) return done(null, this.encryptor.update(chunk))
    this.head.push(chunk)
    this.headBytes += chunk.length
    if (this.headBytes < SNIFF_BYTES) return done()
    this.decide(done)
  }

  override _flush(done: TransformCallback): void {
    if (!this.contentType) {
      this.decide((err) => (err ? done(err) : done(null, this.encryptor.final())))
      return
    }
    done(null, this.encryptor.final())
  }

  private decide(done: TransformCallback): void {
    const head = Buffer.concat(this.head)
    this.head = []
    this.contentType = sniffContentType(head)
    if (!this.contentType) return done(new DomainError('unsupported-media-type', 'unsupported-media-type', 'only PDF, JPEG and PNG files are accepted'))
    done(null, Buffer.concat([this.encryptor.header, this.encryptor.update(head)]))
  }
}

/** Socket-sized chunks instead of Node's 16 KiB default: fewer stream turns per megabyte, memory still flat. */
export const UPLOAD_CHUNK_BYTES = 64 * 1024

export async function storeEncrypted(store: BlobStore, source: Readable, masterKey: Buffer): Promise<StoredBlob> {
  const blobName = newBlobName()
  const dataKey = generateDataKey()
  const wrappedKey = wrapDataKey(dataKey, masterKey)
  const sealer = new SealingTransform(blobEncryptor(dataKey))
  // Wait for both sides to settle before answering: a refusal must not go out while the store is
  // still removing its temporary file.
  const [piped, written] = await Promise.allSettled([pipeline(source, sealer), store.write(blobName, sealer)])
  dataKey.fill(0)
  if (piped.status === 'rejected' || written.status === 'rejected') {
    await store.delete(blobName)
    throw piped.status === 'rejected' ? piped.reason : (written as PromiseRejectedResult).reason
  }
  if (!sealer.contentType) throw new DomainError('unsupported-media-type', 'unsupported-media-type', 'only PDF, JPEG and PNG files are accepted')
  return { blobName, wrappedKey, sha256: sealer.hash.digest(), sizeBytes: sealer.bytes, contentType: sealer.contentType }
}
