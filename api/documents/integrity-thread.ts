// Entry point of the worker thread that checks one document (see integrity-isolated.ts).
import { parentPort, workerData } from 'node:worker_threads'
import type { AllowedContentType } from './sniff.js'
import { checkIntegrity } from './integrity.js'

const { contentType, bytes } = workerData as { contentType: AllowedContentType; bytes: Uint8Array }
checkIntegrity(contentType, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).then(
  (result) => parentPort?.postMessage(result),
  () => parentPort?.postMessage({ status: 'unreadable', reason: 'the integrity check failed' }),
)
