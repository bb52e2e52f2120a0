// Entry point of a long-lived worker thread that checks documents one at a time for the pool in
// integrity-isolated.ts: one message in ({id, contentType, bytes}), one message out ({id, result}).
import { parentPort } from 'node:worker_threads'
import type { AllowedContentType } from './sniff.js'
import { checkIntegrity } from './integrity.js'

parentPort?.on('message', (task: { id: number; contentType: AllowedContentType; bytes: Uint8Array }) => {
  const bytes = Buffer.from(task.bytes.buffer, task.bytes.byteOffset, task.bytes.byteLength)
  checkIntegrity(task.contentType, bytes).then(
    (result) => parentPort?.postMessage({ id: task.id, result }),
    () => parentPort?.postMessage({ id: task.id, result: { status: 'unreadable', reason: 'the integrity check failed' } }),
  )
})
