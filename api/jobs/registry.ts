// The typed job registry (STYLE.md §14–16): queue → job name → payload. Payloads carry ids and the
// tenant id only — Redis keeps job data in clear text, so never a BSN, a name or file bytes.

export interface JobRegistry {
  maintenance: {
    /** Deletes outbox rows that were dispatched longer ago than the retention window. */
    'purge-dispatched-outbox': Record<string, never>
  }
}

export type QueueName = keyof JobRegistry
export type JobName<Q extends QueueName> = keyof JobRegistry[Q] & string
export type JobPayload<Q extends QueueName, N extends JobName<Q>> = JobRegistry[Q][N]

export const QUEUE_NAMES = ['maintenance'] as const satisfies readonly QueueName[]

// Compile-time check that QUEUE_NAMES lists every queue of the registry.
type Missing = Exclude<QueueName, (typeof QUEUE_NAMES)[number]>
const _allQueuesListed: Missing extends never ? true : never = true
void _allQueuesListed

export interface QueuePolicy {
  attempts: number
  backoffMs: number
  /** Completed jobs are kept this long so a re-dispatch of the same outbox row is deduplicated. */
  keepCompletedSeconds: number
  keepFailedSeconds: number
  concurrency: number
}

export const QUEUE_POLICIES: Record<QueueName, QueuePolicy> = {
  maintenance: { attempts: 3, backoffMs: 10_000, keepCompletedSeconds: 7 * 86_400, keepFailedSeconds: 30 * 86_400, concurrency: 1 },
}

/** Deterministic BullMQ job id for an outbox row: no ':' and not digits only (STYLE.md §16). */
export const outboxJobId = (outboxId: number | string): string => `outbox-${outboxId}`

/** Key prefix of every BullMQ key; a hash tag keeps a queue on one Redis Cluster slot. */
export const DEFAULT_QUEUE_PREFIX = '{regiobalie}'
