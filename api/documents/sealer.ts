// What the upload pipeline (upload-pipeline.ts) hands an upload's bytes to once its type is known,
// and the size of the chunks it is fed: shared by the sealer on the event loop and the sealing
// thread (sealing-thread.ts).

/** Socket-sized chunks instead of Node's 16 KiB default: fewer stream turns per megabyte, memory still flat. */
export const UPLOAD_CHUNK_BYTES = 64 * 1024

/**
 * How the bytes of one upload are hashed, encrypted and written once the type is known: on the event
 * loop (`InlineSealer`, any blob store) or on a sealing thread (`ThreadSealer`, a store whose sink
 * has a file descriptor). `push` calls `done` once the chunks may be reused and more can be taken
 * (backpressure), before it returns when it can: most chunks cost no promise and no extra turn;
 * `finish` resolves with the SHA-256 once the tag is written; `abort` once nothing is in flight any
 * more, so the sink can be closed.
 */
export interface Sealer {
  push(chunks: readonly Buffer[], done: (error?: Error | null) => void): void
  finish(): Promise<Buffer>
  abort(): Promise<void>
}
