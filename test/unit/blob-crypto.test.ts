import { randomBytes } from 'node:crypto'
import { Readable, type Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import {
  BLOB_MAGIC,
  BLOB_OVERHEAD_BYTES,
  BlobIntegrityError,
  createDecryptStream,
  createEncryptStream,
  generateDataKey,
  unwrapDataKey,
  wrapDataKey,
} from '../../api/documents/blob-crypto.js'

/** Cuts `data` into pieces of the given sizes (cycled; 0 gives an empty chunk). */
function chunked(data: Buffer, sizes: number[] = [data.length]): Buffer[] {
  const chunks: Buffer[] = []
  let offset = 0
  let i = 0
  while (offset < data.length) {
    const size = sizes.length === 0 ? data.length : (sizes[i++ % sizes.length] ?? 1)
    chunks.push(data.subarray(offset, offset + size))
    offset += size
  }
  return chunks
}

async function through(transform: Transform, chunks: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = []
  await pipeline(Readable.from(chunks), transform, async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) out.push(chunk)
  })
  return Buffer.concat(out)
}

const encrypt = (key: Buffer, plain: Buffer, sizes?: number[]): Promise<Buffer> =>
  through(createEncryptStream(key), chunked(plain, sizes))
const decrypt = (key: Buffer, blob: Buffer, sizes?: number[]): Promise<Buffer> =>
  through(createDecryptStream(key), chunked(blob, sizes))

describe('data key wrapping', () => {
  const masterKey = randomBytes(32)

  it('generates 32 random bytes', () => {
    const a = generateDataKey()
    expect(a).toHaveLength(32)
    expect(a.equals(generateDataKey())).toBe(false)
  })

  it('round-trips through a versioned string', () => {
    const dataKey = generateDataKey()
    const wrapped = wrapDataKey(dataKey, masterKey)
    expect(wrapped).toMatch(/^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/)
    expect(wrapped).not.toContain(dataKey.toString('base64url'))
    expect(unwrapDataKey(wrapped, masterKey).equals(dataKey)).toBe(true)
  })

  it('wraps the same key differently each time (random IV)', () => {
    const dataKey = generateDataKey()
    expect(wrapDataKey(dataKey, masterKey)).not.toBe(wrapDataKey(dataKey, masterKey))
  })

  it('fails to unwrap with the wrong master key', () => {
    const wrapped = wrapDataKey(generateDataKey(), masterKey)
    expect(() => unwrapDataKey(wrapped, randomBytes(32))).toThrow(BlobIntegrityError)
  })

  it('fails to unwrap a tampered or malformed value', () => {
    const wrapped = wrapDataKey(generateDataKey(), masterKey)
    const [version, iv, tag, ct] = wrapped.split('.') as [string, string, string, string]
    const flipped = Buffer.from(ct, 'base64url')
    flipped[0] = (flipped[0] ?? 0) ^ 0x01
    expect(() => unwrapDataKey([version, iv, tag, flipped.toString('base64url')].join('.'), masterKey)).toThrow(
      BlobIntegrityError,
    )
    expect(() => unwrapDataKey(['v2', iv, tag, ct].join('.'), masterKey)).toThrow(BlobIntegrityError)
    expect(() => unwrapDataKey([version, iv, tag].join('.'), masterKey)).toThrow(BlobIntegrityError)
    expect(() => unwrapDataKey('', masterKey)).toThrow(BlobIntegrityError)
  })

  it('refuses keys of the wrong size', () => {
    expect(() => wrapDataKey(randomBytes(16), masterKey)).toThrow(RangeError)
    expect(() => wrapDataKey(generateDataKey(), randomBytes(31))).toThrow(RangeError)
    expect(() => createEncryptStream(randomBytes(24))).toThrow(RangeError)
    expect(() => createDecryptStream(randomBytes(33))).toThrow(RangeError)
  })
})

describe('blob encryption', () => {
  const key = generateDataKey()

  it.each([0, 1, 15, 16, 17, 1000, 65_537])('round-trips %i bytes in the RBB1 format', async (size) => {
    const plain = randomBytes(size)
    const blob = await encrypt(key, plain)
    expect(blob).toHaveLength(size + BLOB_OVERHEAD_BYTES)
    expect(blob.subarray(0, 4).equals(BLOB_MAGIC)).toBe(true)
    expect((await decrypt(key, blob)).equals(plain)).toBe(true)
  })

  it('hides the plaintext and never produces the same blob twice', async () => {
    const plain = Buffer.from('Paspoort NLD — naam: Jansen, BSN 999999990. '.repeat(50))
    const a = await encrypt(key, plain)
    const b = await encrypt(key, plain)
    expect(a.includes(Buffer.from('Jansen'))).toBe(false)
    expect(a.subarray(16, 16 + plain.length).equals(plain)).toBe(false)
    expect(a.equals(b)).toBe(false)
  })

  it('errors when any single byte of the blob is flipped', async () => {
    const blob = await encrypt(key, randomBytes(300))
    // Magic, IV, first/middle/last ciphertext byte, first and last tag byte.
    for (const position of [0, 3, 4, 15, 16, 150, blob.length - 17, blob.length - 16, blob.length - 1]) {
      const tampered = Buffer.from(blob)
      tampered[position] = (tampered[position] ?? 0) ^ 0x80
      await expect(decrypt(key, tampered), `byte ${position}`).rejects.toThrow(BlobIntegrityError)
    }
  })

  it('errors on a truncated or extended blob', async () => {
    const blob = await encrypt(key, randomBytes(100))
    for (const length of [0, 3, 10, 16, 31, 32, 60, blob.length - 1]) {
      await expect(decrypt(key, blob.subarray(0, length)), `length ${length}`).rejects.toThrow(BlobIntegrityError)
    }
    await expect(decrypt(key, Buffer.concat([blob, Buffer.from([0])]))).rejects.toThrow(BlobIntegrityError)
  })

  it('errors with the wrong data key', async () => {
    const blob = await encrypt(key, randomBytes(100))
    await expect(decrypt(generateDataKey(), blob)).rejects.toThrow(BlobIntegrityError)
  })

  it('errors on an empty blob as truncated, not as a valid empty document', async () => {
    await expect(decrypt(key, Buffer.alloc(0))).rejects.toThrow(/truncated/)
  })

  it('decrypt(encrypt(x)) === x for any data and any chunking on either side', async () => {
    const sizes = fc.array(fc.integer({ min: 0, max: 70 }), { maxLength: 8 })
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), sizes, sizes, async (bytes, inSizes, outSizes) => {
        const plain = Buffer.from(bytes)
        const blob = await encrypt(key, plain, inSizes.some((s) => s > 0) ? inSizes : undefined)
        const back = await decrypt(key, blob, outSizes.some((s) => s > 0) ? outSizes : undefined)
        expect(back.equals(plain)).toBe(true)
      }),
      { numRuns: 200 },
    )
  })
})
