// Envelope encryption for document blobs (ARCHITECTURE.md, "Documents"). Every document gets its
// own random data key; only the data key wrapped by the master key is stored (in the database).
// Deleting the wrapped key crypto-shreds the document, wherever copies of the blob ended up.
//
// Stored blob format, written in one pass so nothing is buffered whole:
//
//   [magic "RBB1" (4)] [IV (12)] [AES-256-GCM ciphertext (n)] [GCM tag (16)]
//
// The magic is also the GCM additional authenticated data, so a blob cannot be passed off under
// another format version. The tag comes last because GCM only knows it once all data has passed.

import { createCipheriv, createDecipheriv, randomBytes, type DecipherGCM } from 'node:crypto'
import { Transform, type TransformCallback } from 'node:stream'

const KEY_BYTES = 32
const IV_BYTES = 12
const TAG_BYTES = 16
const ALGORITHM = 'aes-256-gcm'

export const BLOB_MAGIC = Buffer.from('RBB1', 'latin1')
export const BLOB_HEADER_BYTES = BLOB_MAGIC.length + IV_BYTES
/** Bytes a stored blob is larger than the document it holds. */
export const BLOB_OVERHEAD_BYTES = BLOB_HEADER_BYTES + TAG_BYTES

const WRAP_VERSION = 'v1'
// Binds a wrapped key to its purpose: a value wrapped for something else with the same master key
// does not unwrap as a data key.
const WRAP_AAD = Buffer.from('regiobalie:document-data-key:v1', 'latin1')

/** A blob or wrapped key that fails authentication: tampered, truncated, or the wrong key. */
export class BlobIntegrityError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'BlobIntegrityError'
  }
}

function assertKey(key: Buffer, what: string): void {
  if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) {
    throw new RangeError(`${what} must be ${KEY_BYTES} bytes`)
  }
}

export function generateDataKey(): Buffer {
  return randomBytes(KEY_BYTES)
}

/** `v1.<iv>.<tag>.<ciphertext>`, each base64url: safe in a text column, log-free, versioned. */
export function wrapDataKey(dataKey: Buffer, masterKey: Buffer): string {
  assertKey(dataKey, 'data key')
  assertKey(masterKey, 'master key')
  const iv = randomBytes(IV_BYTES)
  const cipher = createCipheriv(ALGORITHM, masterKey, iv)
  cipher.setAAD(WRAP_AAD)
  const ciphertext = Buffer.concat([cipher.update(dataKey), cipher.final()])
  return [WRAP_VERSION, iv, cipher.getAuthTag(), ciphertext]
    .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
    .join('.')
}

export function unwrapDataKey(wrapped: string, masterKey: Buffer): Buffer {
  assertKey(masterKey, 'master key')
  const parts = wrapped.split('.')
  if (parts.length !== 4 || parts[0] !== WRAP_VERSION) {
    throw new BlobIntegrityError('wrapped data key has an unknown format')
  }
  const [iv, tag, ciphertext] = parts.slice(1).map((p) => Buffer.from(p, 'base64url'))
  if (iv?.length !== IV_BYTES || tag?.length !== TAG_BYTES || ciphertext?.length !== KEY_BYTES) {
    throw new BlobIntegrityError('wrapped data key has an unknown format')
  }
  const decipher = createDecipheriv(ALGORITHM, masterKey, iv)
  decipher.setAAD(WRAP_AAD)
  decipher.setAuthTag(tag)
  try {
    return Buffer.concat([decipher.update(ciphertext), decipher.final()])
  } catch (cause) {
    throw new BlobIntegrityError('data key does not unwrap with this master key', { cause })
  }
}

/** The blob format's encryption step by step: the header first, then ciphertext, then rest and tag. */
export interface BlobEncryptor {
  readonly header: Buffer
  update(plaintext: Buffer): Buffer
  /** The last ciphertext bytes and the authentication tag. */
  final(): Buffer
}

/**
 * The parameters of one blob's encryption, for code that runs the cipher itself (the upload
 * pipeline's sealing thread): the algorithm, a fresh IV, the header to write first and the AAD.
 * A stream sealed with them is exactly what `blobEncryptor` produces.
 */
export interface BlobSealing {
  readonly algorithm: typeof ALGORITHM
  readonly iv: Buffer
  readonly header: Buffer
  readonly aad: Buffer
}

/**
 * One data key is used with exactly one random IV per document; GCM's 64 GiB per-IV limit is far
 * above the upload cap.
 */
export function blobSealing(): BlobSealing {
  const iv = randomBytes(IV_BYTES)
  return { algorithm: ALGORITHM, iv, header: Buffer.concat([BLOB_MAGIC, iv]), aad: BLOB_MAGIC }
}

export function blobEncryptor(dataKey: Buffer): BlobEncryptor {
  assertKey(dataKey, 'data key')
  const { iv, header } = blobSealing()
  const cipher = createCipheriv(ALGORITHM, dataKey, iv)
  cipher.setAAD(BLOB_MAGIC)
  return {
    header,
    update: (plaintext) => cipher.update(plaintext),
    final: () => Buffer.concat([cipher.final(), cipher.getAuthTag()]),
  }
}

/**
 * Encrypts a plaintext stream into the blob format. The header is the first chunk out, the tag
 * the last (on flush), so the output can be piped straight into `BlobStore.write`.
 */
export function createEncryptStream(dataKey: Buffer): Transform {
  const encryptor = blobEncryptor(dataKey)
  let headerSent = false
  const sendHeader = (stream: Transform): void => {
    if (headerSent) return
    headerSent = true
    stream.push(encryptor.header)
  }
  return new Transform({
    transform(this: Transform, chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      try {
        sendHeader(this)
        const out = encryptor.update(chunk)
        callback(null, out.length > 0 ? out : undefined)
      } catch (error) {
        callback(error as Error)
      }
    },
    flush(this: Transform, callback: TransformCallback) {
      try {
        sendHeader(this)
        callback(null, encryptor.final())
      } catch (error) {
        callback(error as Error)
      }
    },
  })
}

/**
 * Decrypts a blob stream. The last 16 bytes are always held back, since until the source ends
 * nobody knows which bytes are the tag; the tag is checked on flush.
 *
 * GCM hands out plaintext *before* the tag is verified, so a tampered or truncated blob yields
 * (partly wrong) bytes first and a `BlobIntegrityError` only at the end. Consumers must treat a
 * late error as fatal for everything already received: the HTTP download must abort the response
 * (destroy the socket, never end it cleanly) so the client sees a failed transfer rather than a
 * complete file, and a worker must not act on the bytes until the stream has ended without error.
 */
export function createDecryptStream(dataKey: Buffer): Transform {
  assertKey(dataKey, 'data key')
  let header: Buffer = Buffer.alloc(0)
  let decipher: DecipherGCM | undefined
  let tail: Buffer = Buffer.alloc(0)

  const startDecipher = (): void => {
    if (!header.subarray(0, BLOB_MAGIC.length).equals(BLOB_MAGIC)) {
      throw new BlobIntegrityError('not a blob in a known format')
    }
    decipher = createDecipheriv(ALGORITHM, dataKey, header.subarray(BLOB_MAGIC.length, BLOB_HEADER_BYTES))
    decipher.setAAD(BLOB_MAGIC)
  }

  return new Transform({
    transform(this: Transform, chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      try {
        let body = chunk
        if (decipher === undefined) {
          header = Buffer.concat([header, chunk])
          if (header.length < BLOB_HEADER_BYTES) return callback()
          body = header.subarray(BLOB_HEADER_BYTES)
          header = header.subarray(0, BLOB_HEADER_BYTES)
          startDecipher()
        }
        const active = decipher as NonNullable<typeof decipher>
        if (body.length >= TAG_BYTES) {
          // The previous tail is certainly ciphertext now; avoid copying the (large) chunk.
          const fromTail = tail.length > 0 ? active.update(tail) : Buffer.alloc(0)
          const fromBody = active.update(body.subarray(0, body.length - TAG_BYTES))
          // Copy so the held-back bytes do not pin the whole chunk in memory.
          tail = Buffer.from(body.subarray(body.length - TAG_BYTES))
          const out = fromTail.length === 0 ? fromBody : Buffer.concat([fromTail, fromBody])
          return callback(null, out.length > 0 ? out : undefined)
        }
        const pending = Buffer.concat([tail, body])
        const release = Math.max(0, pending.length - TAG_BYTES)
        tail = pending.subarray(release)
        const out = release > 0 ? active.update(pending.subarray(0, release)) : Buffer.alloc(0)
        callback(null, out.length > 0 ? out : undefined)
      } catch (error) {
        callback(error as Error)
      }
    },
    flush(this: Transform, callback: TransformCallback) {
      if (decipher === undefined || tail.length !== TAG_BYTES) {
        return callback(new BlobIntegrityError('blob is truncated'))
      }
      try {
        decipher.setAuthTag(tail)
        const rest = decipher.final()
        callback(null, rest.length > 0 ? rest : undefined)
      } catch (cause) {
        callback(new BlobIntegrityError('blob failed authentication (tampered, truncated or wrong key)', { cause }))
      }
    },
  })
}
