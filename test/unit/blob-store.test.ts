import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable, pipeline as pipelineCallback } from 'node:stream'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createDecryptStream, createEncryptStream, generateDataKey } from '../../api/documents/blob-crypto.js'
import { FilesystemBlobStore, InvalidBlobNameError, newBlobName } from '../../api/documents/blob-store.js'
import { collect, filesUnder } from '../helpers/blob-files.js'

let root: string
let store: FilesystemBlobStore

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'regiobalie-blobs-'))
  store = new FilesystemBlobStore(root)
})

afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

/** What the upload path does: plaintext → encrypt → store, with errors carried to the store. */
function encrypted(source: Readable, key: Buffer): Readable {
  return pipelineCallback(source, createEncryptStream(key), () => {})
}

/** Yields `good` bytes in 64 KiB pieces, then fails (or just stops) like an aborted upload. */
function failingSource(good: number, failure: Error | 'destroy'): Readable {
  let sent = 0
  return new Readable({
    read() {
      if (sent >= good) {
        if (failure === 'destroy') this.destroy()
        else this.destroy(failure)
        return
      }
      const size = Math.min(65_536, good - sent)
      sent += size
      this.push(randomBytes(size))
    },
  })
}

describe('FilesystemBlobStore with blob encryption', () => {
  it.each([
    ['0 bytes', 0],
    ['1 byte', 1],
    ['5 MiB', 5 * 1024 * 1024],
  ])('round-trips %s through encrypt → store → read → decrypt', async (_label, size) => {
    const key = generateDataKey()
    const plain = randomBytes(size)
    const name = newBlobName()
    const { bytes } = await store.write(name, encrypted(Readable.from(chunksOf(plain, 100_003)), key))
    expect(bytes).toBe(size + 32)

    const onDisk = join(root, name.slice(0, 2), name)
    const stored = await readFile(onDisk)
    expect(stored).toHaveLength(size + 32)
    if (size >= 16) expect(stored.includes(plain.subarray(0, 16))).toBe(false)
    expect((await stat(onDisk)).mode & 0o777).toBe(0o600)
    expect(await filesUnder(root)).toEqual([onDisk])

    const back = await collect(store.read(name).pipe(createDecryptStream(key)))
    expect(back.equals(plain)).toBe(true)
  })

  it('stores two encryptions of the same document differently', async () => {
    const plain = randomBytes(10_000)
    const [a, b] = [newBlobName(), newBlobName()]
    await store.write(a, encrypted(Readable.from([plain]), generateDataKey()))
    await store.write(b, encrypted(Readable.from([plain]), generateDataKey()))
    expect((await collect(store.read(a))).equals(await collect(store.read(b)))).toBe(false)
  })

  it('makes decryption fail when a stored byte is flipped', async () => {
    const key = generateDataKey()
    const name = newBlobName()
    await store.write(name, encrypted(Readable.from([randomBytes(200_000)]), key))
    const onDisk = join(root, name.slice(0, 2), name)
    const stored = await readFile(onDisk)
    stored[100_000] = (stored[100_000] ?? 0) ^ 0x01
    await writeFile(onDisk, stored)
    await expect(collect(store.read(name).pipe(createDecryptStream(key)))).rejects.toThrow(/authentication/)
  })

  it('makes decryption fail when the stored blob is truncated', async () => {
    const key = generateDataKey()
    const name = newBlobName()
    await store.write(name, encrypted(Readable.from([randomBytes(200_000)]), key))
    await truncate(join(root, name.slice(0, 2), name), 150_000)
    await expect(collect(store.read(name).pipe(createDecryptStream(key)))).rejects.toThrow()
  })
})

function chunksOf(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = []
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size))
  return out
}

describe('FilesystemBlobStore writes all or nothing', () => {
  it('leaves no blob and no temporary file when the source errors half way', async () => {
    const name = newBlobName()
    const boom = new Error('client went away')
    await expect(store.write(name, failingSource(1_000_000, boom))).rejects.toBe(boom)
    expect(await store.exists(name)).toBe(false)
    expect(await filesUnder(root)).toEqual([])
  })

  it('leaves nothing when the source errors half way behind the encryption stream', async () => {
    const name = newBlobName()
    const boom = new Error('file too large')
    await expect(store.write(name, encrypted(failingSource(300_000, boom), generateDataKey()))).rejects.toBe(boom)
    expect(await filesUnder(root)).toEqual([])
  })

  it('leaves nothing when the source is destroyed without an error', async () => {
    await expect(store.write(newBlobName(), failingSource(200_000, 'destroy'))).rejects.toThrow()
    expect(await filesUnder(root)).toEqual([])
  })

  it('leaves nothing when the source fails before the first byte', async () => {
    const boom = new Error('early')
    const source = new Readable({ read() {} })
    const writing = store.write(newBlobName(), source)
    source.destroy(boom)
    await expect(writing).rejects.toBe(boom)
    expect(await filesUnder(root)).toEqual([])
  })

  it('overwrites nothing on failure: an existing blob stays intact', async () => {
    const name = newBlobName()
    await store.write(name, Readable.from([Buffer.from('first')]))
    await expect(store.write(name, failingSource(100_000, new Error('x')))).rejects.toThrow('x')
    expect((await collect(store.read(name))).toString()).toBe('first')
    expect(await filesUnder(root)).toHaveLength(1)
  })
})

describe('FilesystemBlobStore names', () => {
  it('makes names that match its own rule and do not repeat', () => {
    const names = new Set(Array.from({ length: 1000 }, () => newBlobName()))
    expect(names.size).toBe(1000)
    for (const name of names) expect(name).toMatch(/^[a-z0-9][a-z0-9-]{15,80}$/)
  })

  it.each([
    '../etc/passwd',
    '../../../../../../etc/passwd',
    'aa/../../etc/passwd',
    '',
    'short',
    '-leadingdash1234567',
    'UPPERCASE0123456789',
    '0123456789abcdef.tmp',
    '.tmp-0123456789abcdef',
    '0123456789abcdef\u0000',
    `a${'b'.repeat(81)}`,
  ])('refuses %j everywhere', async (bad) => {
    const source = Readable.from([Buffer.from('x')])
    await expect(store.write(bad, source)).rejects.toThrow(InvalidBlobNameError)
    expect(source.destroyed).toBe(true)
    expect(() => store.read(bad)).toThrow(InvalidBlobNameError)
    await expect(store.delete(bad)).rejects.toThrow(InvalidBlobNameError)
    await expect(store.exists(bad)).rejects.toThrow(InvalidBlobNameError)
    expect(await filesUnder(root)).toEqual([])
  })

  it('shards into two-character folders', async () => {
    const name = newBlobName()
    await store.write(name, Readable.from([Buffer.from('x')]))
    expect(await readdir(root)).toEqual([name.slice(0, 2)])
  })
})

describe('FilesystemBlobStore exists, read and delete', () => {
  it('reports existence and deletes idempotently', async () => {
    const name = newBlobName()
    expect(await store.exists(name)).toBe(false)
    await store.write(name, Readable.from([Buffer.from('hello')]))
    expect(await store.exists(name)).toBe(true)
    await store.delete(name)
    expect(await store.exists(name)).toBe(false)
    await expect(store.delete(name)).resolves.toBeUndefined()
    await expect(store.delete(newBlobName())).resolves.toBeUndefined()
  })

  it('errors with ENOENT on the stream when reading a missing blob', async () => {
    await expect(collect(store.read(newBlobName()))).rejects.toMatchObject({ code: 'ENOENT' })
  })
})
