import { Queue } from 'bullmq'
import type { Redis } from 'ioredis'
import { DEFAULT_QUEUE_PREFIX, KEEP_COMPLETED_JOBS, QUEUE_NAMES, QUEUE_POLICIES, type QueueName } from './registry.js'

export type Queues = Record<QueueName, Queue>

/** One BullMQ Queue per registry entry, with the queue's retry and retention policy as defaults. */
export function createQueues(connection: Redis, prefix: string = DEFAULT_QUEUE_PREFIX): Queues {
  const entries = QUEUE_NAMES.map((name) => {
    const policy = QUEUE_POLICIES[name]
    const queue = new Queue(name, {
      connection,
      prefix,
      defaultJobOptions: {
        attempts: policy.attempts,
        backoff: { type: 'exponential', delay: policy.backoffMs },
        removeOnComplete: { age: policy.keepCompletedSeconds, count: KEEP_COMPLETED_JOBS },
        removeOnFail: { age: policy.keepFailedSeconds },
      },
    })
    return [name, queue] as const
  })
  return Object.fromEntries(entries) as Queues
}

export async function closeQueues(queues: Queues): Promise<void> {
  await Promise.all(Object.values(queues).map((q) => q.close()))
}
