// Issue 13: the upload pipeline seals (hashes, encrypts, writes) on a sealing thread when the blob
// store's sink has a file descriptor, and on the event loop when it has not. Both must produce the
// same blob format, the same SHA-256 and size, and leave nothing behind on failure; the thread's
// shared slab must not mix up uploads when many wait for its slots at once.
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { BLOB_OVERHEAD_BYTES, createDecryptStream, unwrapDataKey } from '../../api/documents/blob-crypto.js'
import { FilesystemBlobStore, type BlobSink, type BlobStore } from '../../api/documents/blob-store.js'
import { storeEncrypted } from '../../api/documents/upload-pipeline.js'
import { collect, filesUnder } from '../helpers/blob-files.js'

const masterKey = randomBytes(32)
const PDF = Buffer.from('%PDF-1.7\n', 'latin1')
let root: string
let store: FilesystemBlobStore

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'regiobalie-sealer-'))
  store = new FilesystemBlobStore(root)
})
afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

function source(data: Buffer, size: number, failAfter?: number): Readable {
  let sent = 0
  return new Readable({
    read() {
      if (failAfter !== undefined && sent >= failAfter) return this.destroy(new Error('client went away'))
      if (sent >= data.length) return this.push(null)
      const piece = data.subarray(sent, sent + size)
      sent += piece.length
      this.push(piece)
    },
  })
}

/** The same store, but its sinks hide their descriptor: the pipeline must seal on the event loop. */
function withoutDescriptors(inner: BlobStore): BlobStore {
  return {
    write: (name, s) => inner.write(name, s),
    read: (name) => inner.read(name),
    delete: (name) => inner.delete(name),
    exists: (name) => inner.exists(name),
    async create(name) {
      const sink = await inner.create(name)
      const plain: BlobSink = { write: (chunks) => sink.write(chunks), commit: () => sink.commit(), abort: () => sink.abort() }
      return plain
    },
  }
}

async function expectStored(s: BlobStore, plain: Buffer, stored: Awaited<ReturnType<typeof storeEncrypted>>): Promise<void> {
  expect(stored.sizeBytes).toBe(plain.length)
  expect(stored.sha256.toString('hex')).toBe(createHash('sha256').update(plain).digest('hex'))
  expect(stored.contentType).toBe('application/pdf')
  const blob = await collect(s.read(stored.blobName))
  expect(blob.length).toBe(plain.length + BLOB_OVERHEAD_BYTES)
  const back = await collect(s.read(stored.blobName).pipe(createDecryptStream(unwrapDataKey(stored.wrappedKey, masterKey))))
  expect(back.equals(plain)).toBe(true)
}

describe('sealing', () => {
  it.each([
    ['on the sealing thread (the sink has a descriptor)', false],
    ['on the event loop (the sink has none)', true],
  ])('%s: the blob decrypts to the bytes, hash and size those of the bytes', async (_label, hide) => {
    const s = hide ? withoutDescriptors(store) : store
    for (const [size, chunk] of [[9, 9], [100_000, 3_000], [1_000_003, 65_536]] as const) {
      const plain = Buffer.concat([PDF, randomBytes(size - PDF.length)])
      await expectStored(s, plain, await storeEncrypted(s, source(plain, chunk), masterKey))
    }
  })

  it.each([
    ['on the sealing thread', false],
    ['on the event loop', true],
  ])('%s: a source failing half way leaves no blob and no temporary file', async (_label, hide) => {
    const s = hide ? withoutDescriptors(store) : store
    const plain = Buffer.concat([PDF, randomBytes(2_000_000)])
    await expect(storeEncrypted(s, source(plain, 65_536, 1_000_000), masterKey)).rejects.toThrow('client went away')
    expect(await filesUnder(root)).toEqual([])
  })

  it('more uploads than the slab has slots, at once: each gets its own bytes back', async () => {
    const files = Array.from({ length: 40 }, (_, i) => Buffer.concat([PDF, randomBytes(400_000 + i * 1_111)]))
    const stored = await Promise.all(files.map((f, i) => storeEncrypted(store, source(f, i % 2 === 0 ? 65_536 : 10_007), masterKey)))
    for (const [i, s] of stored.entries()) await expectStored(store, files[i]!, s)
    expect(await filesUnder(root)).toHaveLength(40)
  })

  it('uploads failing while others wait for slots leave nothing, and the others are intact', async () => {
    const files = Array.from({ length: 30 }, () => Buffer.concat([PDF, randomBytes(600_000)]))
    const results = await Promise.allSettled(files.map((f, i) => storeEncrypted(store, source(f, 65_536, i % 3 === 0 ? 300_000 : undefined), masterKey)))
    const kept = results.flatMap((r, i) => (r.status === 'fulfilled' ? [{ stored: r.value, plain: files[i]! }] : []))
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(10)
    for (const { stored, plain } of kept) await expectStored(store, plain, stored)
    expect(await filesUnder(root)).toHaveLength(20)
  })
})
