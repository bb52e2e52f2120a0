// Where encrypted document blobs live (ARCHITECTURE.md, "Documents"): the local filesystem under
// BLOB_DIR, behind `BlobStore` so another store can take its place; `blobStoreFrom(config)` is the
// one place it is chosen. Blobs are already encrypted when they arrive here, so the store never sees
// plaintext or keys.

import { randomBytes, randomUUID } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, open, rename, rm, stat, type FileHandle } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { Readable } from 'node:stream'
import type { Config } from '../config.js'

/**
 * One blob being written, bytes appended in order: nothing is visible under the blob's name until
 * `commit`, and `abort` (or a failed `commit`) leaves nothing behind. The upload pipeline writes
 * through a sink so that it can hand over large coalesced batches (issue 13).
 */
export interface BlobSink {
  /** Appends the chunks, in order; resolves once the store has them (not yet durable). */
  write(chunks: readonly Buffer[]): Promise<void>
  /** Makes the bytes durable, then the blob visible under its name (all or nothing). */
  commit(): Promise<{ bytes: number }>
  /** Removes what was written. Idempotent, never rejects; a no-op after a successful commit. */
  abort(): Promise<void>
  /**
   * A store on the local filesystem hands out the open file's descriptor, so that the upload
   * pipeline's sealing thread can append to it directly (issue 13) instead of passing ciphertext
   * back to the event loop. Whoever writes through it must have no write in flight when `commit` or
   * `abort` is called; `commit` counts the bytes in the file, however they got there.
   */
  readonly fd?: number
}

export interface BlobStore {
  /**
   * Stores the whole of `source` under `name`, or nothing: a source that errors or is destroyed
   * half way leaves no blob and no temporary file, and the error is rethrown.
   */
  write(name: string, source: Readable): Promise<{ bytes: number }>
  /** A sink for the blob `name`; `write` above is a sink fed from a stream. */
  create(name: string): Promise<BlobSink>
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
    // Until the loop below reads the source, an error from it would be an uncaught exception that
    // takes the process down. The stream remembers the error, and the loop rethrows it.
    const holdError = (): void => {}
    source.on('error', holdError)
    let sink: BlobSink
    try {
      sink = await this.create(name)
    } catch (error) {
      // The caller handed the source over; leaving it unconsumed would stall the upload.
      source.destroy()
      throw error
    } finally {
      source.off('error', holdError)
    }
    try {
      for await (const chunk of source) await sink.write([Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array)])
      return await sink.commit()
    } catch (error) {
      await sink.abort()
      throw error
    }
  }

  async create(name: string): Promise<BlobSink> {
    assertBlobName(name)
    const dir = this.shardOf(name)
    await mkdir(dir, { recursive: true, mode: 0o700 })
    // Same folder as the target so the rename is atomic (one filesystem); readers never see a
    // half-written blob under its real name.
    const temporary = join(dir, `${TEMPORARY_PREFIX}${randomBytes(12).toString('hex')}`)
    // `wx`: never follow or reuse something already there.
    return new FileSink(await open(temporary, 'wx', 0o600), temporary, join(dir, name))
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

/** A temporary file in the blob's shard, renamed into place once it is on the disk. */
class FileSink implements BlobSink {
  private bytes = 0
  private state: 'open' | 'committed' | 'aborted' = 'open'

  constructor(
    private readonly file: FileHandle,
    private readonly temporary: string,
    private readonly target: string,
  ) {}

  get fd(): number {
    return this.file.fd
  }

  async write(chunks: readonly Buffer[]): Promise<void> {
    if (this.state !== 'open') throw new Error('blob sink is closed')
    const pending = chunks.filter((c) => c.length > 0)
    // One writev for the batch; a short write (rare for a regular file) continues where it stopped.
    while (pending.length > 0) {
      let { bytesWritten } = await this.file.writev(pending)
      this.bytes += bytesWritten
      while (pending.length > 0 && bytesWritten >= pending[0]!.length) bytesWritten -= pending.shift()!.length
      if (bytesWritten > 0) pending[0] = pending[0]!.subarray(bytesWritten)
    }
  }

  async commit(): Promise<{ bytes: number }> {
    if (this.state !== 'open') throw new Error('blob sink is closed')
    try {
      // One fdatasync, as `dd conv=fdatasync` does: a blob renamed into place survives a power cut.
      await this.file.datasync()
      // The file's size, not only what went through `write`: the sealing thread writes through `fd`.
      const { size } = await this.file.stat()
      await this.file.close()
      await rename(this.temporary, this.target)
      this.state = 'committed'
      return { bytes: Math.max(size, this.bytes) }
    } catch (error) {
      await this.abort()
      throw error
    }
  }

  async abort(): Promise<void> {
    if (this.state !== 'open') return
    this.state = 'aborted'
    await this.file.close().catch(() => {})
    await rm(this.temporary, { force: true }).catch(() => {})
  }
}

/** The blob store of a deployment, from its configuration: API and workers build it here alone. */
export const blobStoreFrom = (config: Pick<Config, 'blobDir'>): BlobStore => new FilesystemBlobStore(config.blobDir)
