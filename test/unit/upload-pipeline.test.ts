// Issue 13: the upload pipeline writes ciphertext through a blob sink in large batches (one writev
// each, one fdatasync per blob). The batches must not change the blob format, and a failure at any
// point — before the type is known, after batches reached the disk, at the very end — leaves nothing.
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { BLOB_OVERHEAD_BYTES, createDecryptStream, unwrapDataKey } from '../../api/documents/blob-crypto.js'
import { FilesystemBlobStore, newBlobName } from '../../api/documents/blob-store.js'
import { storeEncrypted, WRITE_BATCH_BYTES } from '../../api/documents/upload-pipeline.js'
import { collect, filesUnder } from '../helpers/blob-files.js'

const masterKey = randomBytes(32)
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
let root: string
let store: FilesystemBlobStore

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'regiobalie-pipeline-'))
  store = new FilesystemBlobStore(root)
})
afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

/** `data` in pieces of `size`, then an error (or not), like a multipart file stream. */
function source(data: Buffer, size: number, failAfter?: { bytes: number; error: Error }): Readable {
  let sent = 0
  return new Readable({
    read() {
      if (failAfter && sent >= failAfter.bytes) return this.destroy(failAfter.error)
      if (sent >= data.length) return this.push(null)
      const piece = data.subarray(sent, sent + size)
      sent += piece.length
      this.push(piece)
    },
  })
}

describe('storeEncrypted', () => {
  it.each([
    ['one chunk under a batch', 1000, 1000],
    ['exactly one batch', WRITE_BATCH_BYTES, 65_536],
    ['many batches in odd chunks', 3 * WRITE_BATCH_BYTES + 12_345, 70_001],
    ['many batches in tiny chunks', WRITE_BATCH_BYTES + 5, 1000],
  ])('%s: the blob decrypts to exactly the bytes, hash and size those of the bytes', async (_label, size, chunk) => {
    const plain = Buffer.concat([PNG, randomBytes(size - PNG.length)])
    const stored = await storeEncrypted(store, source(plain, chunk), masterKey)
    expect(stored.contentType).toBe('image/png')
    expect(stored.sizeBytes).toBe(plain.length)
    expect(stored.sha256.equals(createHash('sha256').update(plain).digest())).toBe(true)
    const blob = await collect(store.read(stored.blobName))
    expect(blob.length).toBe(plain.length + BLOB_OVERHEAD_BYTES)
    const back = await collect(store.read(stored.blobName).pipe(createDecryptStream(unwrapDataKey(stored.wrappedKey, masterKey))))
    expect(back.equals(plain)).toBe(true)
    // Only the blob itself: no temporary file left beside it.
    expect(await filesUnder(root)).toEqual([join(root, stored.blobName.slice(0, 2), stored.blobName)])
  })

  it('sniffs across chunks smaller than the signature', async () => {
    const plain = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(10_000)])
    const stored = await storeEncrypted(store, source(plain, 3), masterKey)
    expect(stored.contentType).toBe('application/pdf')
  })

  it.each([
    ['a GIF', Buffer.concat([Buffer.from('GIF89a'), randomBytes(WRITE_BATCH_BYTES * 2)])],
    ['an empty file', Buffer.alloc(0)],
    ['a file shorter than any signature', Buffer.from('%PD')],
  ])('refuses %s with 415 and leaves no file at all', async (_label, bytes) => {
    await expect(storeEncrypted(store, source(bytes, 65_536), masterKey)).rejects.toMatchObject({ kind: 'unsupported-media-type' })
    expect(await filesUnder(root)).toEqual([])
  })

  it('an upload failing after several batches reached the disk leaves no blob and no temporary file', async () => {
    const plain = Buffer.concat([PNG, randomBytes(4 * WRITE_BATCH_BYTES)])
    const boom = new Error('client went away')
    await expect(storeEncrypted(store, source(plain, 65_536, { bytes: 3 * WRITE_BATCH_BYTES, error: boom }), masterKey)).rejects.toBe(boom)
    expect(await filesUnder(root)).toEqual([])
  })

  it('a source destroyed without an error leaves nothing either', async () => {
    const plain = Buffer.concat([PNG, randomBytes(2 * WRITE_BATCH_BYTES)])
    let sent = 0
    const s = new Readable({
      read() {
        if (sent > WRITE_BATCH_BYTES) return this.destroy()
        this.push(plain.subarray(sent, sent + 65_536))
        sent += 65_536
      },
    })
    await expect(storeEncrypted(store, s, masterKey)).rejects.toThrow()
    expect(await filesUnder(root)).toEqual([])
  })

  it('fifty at once, each its own blob, all decrypting', async () => {
    const files = Array.from({ length: 50 }, () => Buffer.concat([PNG, randomBytes(WRITE_BATCH_BYTES + 777)]))
    const stored = await Promise.all(files.map((f) => storeEncrypted(store, source(f, 65_536), masterKey)))
    for (const [i, s] of stored.entries()) {
      const back = await collect(store.read(s.blobName).pipe(createDecryptStream(unwrapDataKey(s.wrappedKey, masterKey))))
      expect(back.equals(files[i]!)).toBe(true)
    }
    expect(await filesUnder(root)).toHaveLength(50)
  })
})

describe('FilesystemBlobStore sinks', () => {
  it('nothing is visible under the name before commit; after commit exactly the bytes, in order', async () => {
    const name = newBlobName()
    const sink = await store.create(name)
    await sink.write([Buffer.from('ab'), Buffer.alloc(0), Buffer.from('cd')])
    await sink.write([Buffer.from('ef')])
    expect(await store.exists(name)).toBe(false)
    expect(await sink.commit()).toEqual({ bytes: 6 })
    expect((await collect(store.read(name))).toString()).toBe('abcdef')
    await sink.abort() // after a commit: a no-op, the blob stays
    expect(await store.exists(name)).toBe(true)
    expect(await filesUnder(root)).toHaveLength(1)
  })

  it('abort removes the temporary file, twice is fine, and the sink takes no more bytes', async () => {
    const sink = await store.create(newBlobName())
    await sink.write([randomBytes(100_000)])
    expect(await filesUnder(root)).toHaveLength(1)
    await sink.abort()
    await sink.abort()
    expect(await filesUnder(root)).toEqual([])
    await expect(sink.write([Buffer.from('x')])).rejects.toThrow()
    await expect(sink.commit()).rejects.toThrow()
  })
})
