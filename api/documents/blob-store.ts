// Where encrypted document blobs live (ARCHITECTURE.md, "Documents"): the local filesystem under
// BLOB_DIR, behind `BlobStore` so another store can take its place; `blobStoreFrom(config)` is the
// one place it is chosen. Blobs are already encrypted when they arrive here, so the store never sees
// plaintext or keys.

import { randomBytes, randomUUID } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, rename, rm, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { Config } from '../config.js'

export interface BlobStore {
  /**
   * Stores the whole of `source` under `name`, or nothing: a source that errors or is destroyed
   * half way leaves no blob and no temporary file, and the error is rethrown.
   */
  write(name: string, source: Readable): Promise<{ bytes: number }>
  /** A missing blob surfaces as an error on the stream (code `ENOENT` for the filesystem). */
  read(name: string): Readable
  /** Idempotent: deleting a blob that is not there succeeds. */
  delete(name: string): Promise<void>
  exists(name: string): Promise<boolean>
}

// Names are server ids, never client input, so anything else is a bug or an attack. No dots and no
// separators means a name can never climb out of the store's root or hit a temporary file.
const BLOB_NAME = /^[a-z0-9][a-z0-9-]{15,80}$/

export function assertBlobName(name: string): void {
  if (typeof name !== 'string' || !BLOB_NAME.test(name)) throw new InvalidBlobNameError()
}

export class InvalidBlobNameError extends Error {
  constructor() {
    // The name itself stays out of the message: it may be attacker-chosen and end up in logs.
    super('invalid blob name')
    this.name = 'InvalidBlobNameError'
  }
}

/** 32 lowercase hex characters: unguessable, and uniform in its first two for even sharding. */
export function newBlobName(): string {
  return randomUUID().replaceAll('-', '')
}

/** Prefix of in-flight writes; anything left with it after a crash can be swept. */
export const TEMPORARY_PREFIX = '.tmp-'

export class FilesystemBlobStore implements BlobStore {
  private readonly root: string

  constructor(root: string) {
    this.root = resolve(root)
  }

  async write(name: string, source: Readable): Promise<{ bytes: number }> {
    try {
      assertBlobName(name)
    } catch (error) {
      // The caller handed the source over; leaving it unconsumed would stall the upload.
      source.destroy()
      throw error
    }
    const dir = this.shardOf(name)
    // Until `pipeline` listens, an error from the source would be an uncaught exception that takes
    // the process down. The stream remembers the error, and `pipeline` rejects with it below.
    const holdError = (): void => {}
    source.on('error', holdError)
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 })
    } catch (error) {
      source.destroy()
      throw error
    } finally {
      source.off('error', holdError)
    }
    // Same folder as the target so the rename is atomic (one filesystem); readers never see a
    // half-written blob under its real name.
    const temporary = join(dir, `${TEMPORARY_PREFIX}${randomBytes(12).toString('hex')}`)
    // `wx`: never follow or reuse something already there; `flush`: fsync before close, so a
    // blob that was renamed into place also survives a power cut.
    const sink = createWriteStream(temporary, { flags: 'wx', mode: 0o600, flush: true })
    try {
      await pipeline(source, sink)
      await rename(temporary, join(dir, name))
      return { bytes: sink.bytesWritten }
    } catch (error) {
      await rm(temporary, { force: true })
      throw error
    }
  }

  read(name: string): Readable {
    assertBlobName(name)
    return createReadStream(this.pathOf(name))
  }

  async delete(name: string): Promise<void> {
    assertBlobName(name)
    await rm(this.pathOf(name), { force: true })
  }

  async exists(name: string): Promise<boolean> {
    assertBlobName(name)
    try {
      return (await stat(this.pathOf(name))).isFile()
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false
      throw error
    }
  }

  // Two-character subfolders keep any one directory small (36² shards for a few million blobs).
  private shardOf(name: string): string {
    return join(this.root, name.slice(0, 2))
  }

  private pathOf(name: string): string {
    return join(this.shardOf(name), name)
  }
}

/** The blob store of a deployment, from its configuration: API and workers build it here alone. */
export const blobStoreFrom = (config: Pick<Config, 'blobDir'>): BlobStore => new FilesystemBlobStore(config.blobDir)
